// Deliberately bad jobherald resources with the error each must produce. Shared by the unit tests of
// `jobherald validate` (test/unit/api/validate.test.ts) and the e2e suite, which applies the `schema` and
// `cel` ones to the real kube-apiserver and expects it to reject them with the same path and message.
//
// enforcedBy:
//   schema    the API server rejects it through the structural schema; `message` is a substring that both
//             the API server's and jobherald's wording contain
//   cel       the API server rejects it through an x-kubernetes-validations rule; `message` is the rule's
//             message, identical in both
//   operator  the API server accepts it; `jobherald validate` rejects it, and the operator sets
//             Ready=False reason InvalidSpec
import { API_VERSION } from '../../src/api/types.ts';

export type EnforcedBy = 'schema' | 'cel' | 'operator';

export interface BadResource {
  name: string;
  resource: Record<string, unknown>;
  /** path as the API server writes it, e.g. `spec.destinations[0]` */
  path: string;
  message: string;
  enforcedBy: EnforcedBy;
}

type Json = Record<string, unknown>;

/** A valid SlackIntegration; `patch` is deep-merged into spec (a key set to undefined is removed). */
export function integration(spec: Json = {}, name = 'acme'): Json {
  return {
    apiVersion: API_VERSION,
    kind: 'SlackIntegration',
    metadata: { name, namespace: 'jobherald-system' },
    spec: merge({ tokenSecretRef: { name: 'slack-bot' } }, spec),
  };
}

/** A valid NotificationRule; `patch` is deep-merged into spec (a key set to undefined is removed). */
export function rule(spec: Json = {}, name = 'etl-failures'): Json {
  return {
    apiVersion: API_VERSION,
    kind: 'NotificationRule',
    metadata: { name, namespace: 'data' },
    spec: merge(
      {
        integrationRef: { name: 'acme', namespace: 'jobherald-system' },
        events: ['Failed'],
        destinations: [{ channel: 'data-alerts' }],
      },
      spec,
    ),
  };
}

function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof out[key] === 'object' &&
      out[key] !== null &&
      !Array.isArray(out[key])
    ) {
      out[key] = merge(out[key] as Json, value as Json);
    } else out[key] = value;
  }
  return out;
}

const SELECTOR_VALUES =
  'values must be non-empty when operator is In or NotIn, and empty when it is Exists or DoesNotExist';
const CHANNEL =
  "channel must be a channel name (lowercase letters, digits, '-' and '_', optionally prefixed with '#') or a channel ID (C… or G…)";
const USER = 'user must be an email address or a Slack user ID (U… or W…)';
const POLICY_CHANNEL =
  "a channels entry must be a channel name or a glob on it (lowercase letters, digits, '-', '_', '*', '?' and bracket classes such as [a-z], optionally prefixed with '#') or a channel ID (C… or G…)";
const POLICY_GROUP =
  "a userGroups entry must be a user-group handle or a glob on it (lowercase letters, digits, '.', '-', '_', '*', '?' and bracket classes such as [a-z], optionally prefixed with '@') or a user-group ID (S…)";

export const badResources: readonly BadResource[] = [
  // ------------------------------------------------------------------ SlackIntegration
  {
    name: 'integration without tokenSecretRef',
    resource: integration({ tokenSecretRef: undefined }),
    path: 'spec.tokenSecretRef',
    message: 'Required value',
    enforcedBy: 'schema',
  },
  {
    name: 'integration with an invalid Secret name',
    resource: integration({ tokenSecretRef: { name: 'Slack_Bot' } }),
    path: 'spec.tokenSecretRef.name',
    message: 'should match',
    enforcedBy: 'schema',
  },
  {
    name: 'allowedNamespaces from Selector without a selector',
    resource: integration({ allowedNamespaces: { from: 'Selector' } }),
    path: 'spec.allowedNamespaces',
    message: 'selector is required when from is Selector, and must not be set otherwise',
    enforcedBy: 'cel',
  },
  {
    name: 'allowedNamespaces from All with a selector',
    resource: integration({
      allowedNamespaces: { from: 'All', selector: { matchLabels: { team: 'data' } } },
    }),
    path: 'spec.allowedNamespaces',
    message: 'selector is required when from is Selector, and must not be set otherwise',
    enforcedBy: 'cel',
  },
  {
    name: 'allowedNamespaces with a selector but no from (defaults to Same)',
    resource: integration({ allowedNamespaces: { selector: { matchLabels: { team: 'data' } } } }),
    path: 'spec.allowedNamespaces',
    message: 'selector is required when from is Selector, and must not be set otherwise',
    enforcedBy: 'cel',
  },
  {
    name: 'allowedNamespaces from an unknown value',
    resource: integration({ allowedNamespaces: { from: 'Everyone' } }),
    path: 'spec.allowedNamespaces.from',
    message: 'Unsupported value: "Everyone"',
    enforcedBy: 'schema',
  },
  {
    name: 'apiURL with an ftp scheme',
    resource: integration({ apiURL: 'ftp://slack.example.com/api/' }),
    path: 'spec.apiURL',
    message: 'apiURL must be an absolute http:// or https:// URL',
    enforcedBy: 'cel',
  },
  {
    name: 'apiURL that is not a URL',
    resource: integration({ apiURL: 'slack' }),
    path: 'spec.apiURL',
    message: 'apiURL must be an absolute http:// or https:// URL',
    enforcedBy: 'cel',
  },
  {
    name: 'membership.join as a string',
    resource: integration({ membership: { join: 'yes' } }),
    path: 'spec.membership.join',
    message: 'must be of type boolean',
    enforcedBy: 'schema',
  },
  {
    name: 'integration with an unknown field',
    resource: integration({ token: 'xoxb-not-here' }),
    path: 'spec.token',
    message: 'unknown field "spec.token"',
    enforcedBy: 'schema',
  },
  {
    name: 'allowedNamespaces selector: Exists with values',
    resource: integration({
      allowedNamespaces: {
        from: 'Selector',
        selector: { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['data'] }] },
      },
    }),
    path: 'spec.allowedNamespaces.selector.matchExpressions[0]',
    message: SELECTOR_VALUES,
    enforcedBy: 'cel',
  },
  {
    name: 'allowedNamespaces selector: invalid label value',
    resource: integration({
      allowedNamespaces: { from: 'Selector', selector: { matchLabels: { team: 'data team!' } } },
    }),
    path: 'spec.allowedNamespaces.selector.matchLabels.team',
    message: 'a valid label value must be an empty string or consist of alphanumeric characters',
    enforcedBy: 'operator',
  },
  {
    name: 'testNonce too long',
    resource: integration({ testNonce: 'x'.repeat(129) }),
    path: 'spec.testNonce',
    message: 'Too long',
    enforcedBy: 'schema',
  },

  // ------------------------------------------------------------------ SlackIntegration.spec.channelPolicy
  {
    name: 'channelPolicy without allow',
    resource: integration({ channelPolicy: {} }),
    path: 'spec.channelPolicy.allow',
    message: 'Required value',
    enforcedBy: 'schema',
  },
  {
    name: 'channelPolicy entry with neither channels nor userGroups',
    resource: integration({ channelPolicy: { allow: [{ namespaceSelector: {} }] } }),
    path: 'spec.channelPolicy.allow[0]',
    message: 'an allow entry must list channels, userGroups or both',
    enforcedBy: 'cel',
  },
  {
    name: 'channelPolicy channel that is neither a name, a glob nor an ID',
    resource: integration({ channelPolicy: { allow: [{ channels: ['Team Alerts'] }] } }),
    path: 'spec.channelPolicy.allow[0].channels[0]',
    message: POLICY_CHANNEL,
    enforcedBy: 'cel',
  },
  {
    name: 'channelPolicy user group that is neither a handle, a glob nor an ID',
    resource: integration({ channelPolicy: { allow: [{ userGroups: ['<!subteam^S1>'] }] } }),
    path: 'spec.channelPolicy.allow[0].userGroups[0]',
    message: POLICY_GROUP,
    enforcedBy: 'cel',
  },
  {
    name: 'channelPolicy channel glob with a reversed range',
    resource: integration({ channelPolicy: { allow: [{ channels: ['#team-[z-a]'] }] } }),
    path: 'spec.channelPolicy.allow[0].channels[0]',
    message: 'invalid glob: reversed range z-a in character class',
    enforcedBy: 'operator',
  },
  {
    name: 'channelPolicy namespaceSelector with an invalid label key',
    resource: integration({
      channelPolicy: {
        allow: [{ namespaceSelector: { matchLabels: { 'team name': 'a' } }, channels: ['*'] }],
      },
    }),
    path: 'spec.channelPolicy.allow[0].namespaceSelector.matchLabels',
    message: "name part must consist of alphanumeric characters, '-', '_' or '.'",
    enforcedBy: 'operator',
  },
  // ------------------------------------------------------------------ NotificationRule
  {
    name: 'rule without integrationRef',
    resource: rule({ integrationRef: undefined }),
    path: 'spec.integrationRef',
    message: 'Required value',
    enforcedBy: 'schema',
  },
  {
    name: 'rule without events',
    resource: rule({ events: undefined }),
    path: 'spec.events',
    message: 'Required value',
    enforcedBy: 'schema',
  },
  {
    name: 'rule with an empty events list',
    resource: rule({ events: [] }),
    path: 'spec.events',
    message: 'at least one event is required (Succeeded, Failed or Cancelled)',
    enforcedBy: 'cel',
  },
  {
    name: 'rule with an unknown event',
    resource: rule({ events: ['Exploded'] }),
    path: 'spec.events[0]',
    message: 'Unsupported value: "Exploded"',
    enforcedBy: 'schema',
  },
  {
    name: 'rule with a duplicate event',
    resource: rule({ events: ['Failed', 'Failed'] }),
    path: 'spec.events[1]',
    message: 'Duplicate value: "Failed"',
    enforcedBy: 'schema',
  },
  {
    name: 'rule with an empty destinations list',
    resource: rule({ destinations: [] }),
    path: 'spec.destinations',
    message: 'at least one destination is required',
    enforcedBy: 'cel',
  },
  {
    name: 'destination with both channel and user',
    resource: rule({ destinations: [{ channel: 'data-alerts', user: 'alice@example.com' }] }),
    path: 'spec.destinations[0]',
    message: 'exactly one of channel or user must be set',
    enforcedBy: 'cel',
  },
  {
    name: 'destination with neither channel nor user',
    resource: rule({ destinations: [{ channel: 'data-alerts' }, {}] }),
    path: 'spec.destinations[1]',
    message: 'exactly one of channel or user must be set',
    enforcedBy: 'cel',
  },
  {
    name: 'channel name with spaces and capitals',
    resource: rule({ destinations: [{ channel: 'Data Alerts' }] }),
    path: 'spec.destinations[0].channel',
    message: CHANNEL,
    enforcedBy: 'cel',
  },
  {
    name: 'channel name with Slack markup',
    resource: rule({ destinations: [{ channel: '<!channel>' }] }),
    path: 'spec.destinations[0].channel',
    message: CHANNEL,
    enforcedBy: 'cel',
  },
  {
    name: 'destination user that is neither an email nor an ID',
    resource: rule({ destinations: [{ user: 'bob' }] }),
    path: 'spec.destinations[0].user',
    message: USER,
    enforcedBy: 'cel',
  },
  {
    name: 'too many destinations',
    resource: rule({ destinations: Array.from({ length: 21 }, (_, i) => ({ channel: `alerts-${i}` })) }),
    path: 'spec.destinations',
    message: 'Too many: 21: must have at most 20 items',
    enforcedBy: 'schema',
  },
  {
    name: 'mention with both user and group',
    resource: rule({ mentions: [{ user: 'bob@example.com', group: 'data-oncall' }] }),
    path: 'spec.mentions[0]',
    message: 'exactly one of user or group must be set',
    enforcedBy: 'cel',
  },
  {
    name: 'mention group that is not a handle',
    resource: rule({ mentions: [{ group: 'Data Oncall' }] }),
    path: 'spec.mentions[0].group',
    message:
      "group must be a user-group handle (lowercase letters, digits, '.', '-' and '_', optionally prefixed with '@') or a user-group ID (S…)",
    enforcedBy: 'cel',
  },
  {
    name: 'mention user that is not an email',
    resource: rule({ mentions: [{ user: '<@U0BOT>' }] }),
    path: 'spec.mentions[0].user',
    message: USER,
    enforcedBy: 'cel',
  },
  {
    name: 'jobNames glob with characters no Job name has',
    resource: rule({ selector: { jobNames: ['nightly_*'] } }),
    path: 'spec.selector.jobNames[0]',
    message:
      "a jobNames glob may contain only lowercase letters, digits, '-', '.', '*', '?' and bracket classes such as [a-z] or [!0-9]",
    enforcedBy: 'cel',
  },
  {
    name: 'jobNames glob with an unterminated class',
    resource: rule({ selector: { jobNames: ['nightly-[0-9'] } }),
    path: 'spec.selector.jobNames[0]',
    message:
      "a jobNames glob may contain only lowercase letters, digits, '-', '.', '*', '?' and bracket classes such as [a-z] or [!0-9]",
    enforcedBy: 'cel',
  },
  {
    name: 'jobNames glob with a reversed range',
    resource: rule({ selector: { jobNames: ['nightly-[9-0]'] } }),
    path: 'spec.selector.jobNames[0]',
    message: 'invalid glob: reversed range 9-0 in character class',
    enforcedBy: 'operator',
  },
  {
    name: 'namespaces with an invalid name',
    resource: rule({ selector: { namespaces: ['Data'] } }),
    path: 'spec.selector.namespaces[0]',
    message: 'should match',
    enforcedBy: 'schema',
  },
  {
    name: 'jobSelector: NotIn without values',
    resource: rule({ selector: { jobSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn' }] } } }),
    path: 'spec.selector.jobSelector.matchExpressions[0]',
    message: SELECTOR_VALUES,
    enforcedBy: 'cel',
  },
  {
    name: 'jobSelector: unknown operator',
    resource: rule({
      selector: {
        jobSelector: { matchExpressions: [{ key: 'app', operator: 'Contains', values: ['etl'] }] },
      },
    }),
    path: 'spec.selector.jobSelector.matchExpressions[0].operator',
    message: 'Unsupported value: "Contains"',
    enforcedBy: 'schema',
  },
  {
    name: 'jobSelector: invalid label key',
    resource: rule({ selector: { jobSelector: { matchLabels: { 'app name': 'etl' } } } }),
    path: 'spec.selector.jobSelector.matchLabels',
    message: "name part must consist of alphanumeric characters, '-', '_' or '.'",
    enforcedBy: 'operator',
  },
  {
    name: 'namespaceSelector: invalid key prefix',
    resource: rule({
      selector: {
        namespaceSelector: { matchExpressions: [{ key: 'Example.com/team', operator: 'Exists' }] },
      },
    }),
    path: 'spec.selector.namespaceSelector.matchExpressions[0].key',
    message: 'prefix part must be a lowercase RFC 1123 subdomain',
    enforcedBy: 'operator',
  },
  {
    name: 'link url with an ftp scheme',
    resource: rule({ links: [{ text: 'Logs', url: 'ftp://logs.example.com/{name}' }] }),
    path: 'spec.links[0].url',
    message: 'link url must start with http:// or https://',
    enforcedBy: 'cel',
  },
  {
    name: 'link url with javascript:',
    resource: rule({ links: [{ text: 'Logs', url: 'javascript:alert(1)' }] }),
    path: 'spec.links[0].url',
    message: 'link url must start with http:// or https://',
    enforcedBy: 'cel',
  },
  {
    name: 'link with blank text',
    resource: rule({ links: [{ text: '   ', url: 'https://logs.example.com/' }] }),
    path: 'spec.links[0].text',
    message: 'link text must not be empty',
    enforcedBy: 'cel',
  },
  {
    name: 'link without url',
    resource: rule({ links: [{ text: 'Logs' }] }),
    path: 'spec.links[0].url',
    message: 'Required value',
    enforcedBy: 'schema',
  },
  {
    name: 'link url with an unknown placeholder',
    resource: rule({ links: [{ text: 'Logs', url: 'https://logs.example.com/?job={job}' }] }),
    path: 'spec.links[0].url',
    message: 'unknown placeholder {job}',
    enforcedBy: 'operator',
  },
  {
    name: 'link url that is not a URL once expanded',
    resource: rule({ links: [{ text: 'Logs', url: 'https://' }] }),
    path: 'spec.links[0].url',
    message: 'link url is not a valid http(s) URL once its placeholders are filled in',
    enforcedBy: 'operator',
  },
  {
    name: 'suspend as a string',
    resource: rule({ suspend: 'no' }),
    path: 'spec.suspend',
    message: 'must be of type boolean',
    enforcedBy: 'schema',
  },
  {
    name: 'rule with an unknown field',
    resource: rule({ channel: 'data-alerts' }),
    path: 'spec.channel',
    message: 'unknown field "spec.channel"',
    enforcedBy: 'schema',
  },
  {
    name: 'rule with an invalid name',
    resource: { ...rule(), metadata: { name: 'ETL_Failures', namespace: 'data' } },
    path: 'metadata.name',
    message: 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters',
    enforcedBy: 'schema',
  },
];
