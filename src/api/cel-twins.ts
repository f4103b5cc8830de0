// TypeScript twins of the CRDs' x-kubernetes-validations (CEL) rules, keyed by the exact rule text.
//
// The validator walks the CRD schema and, wherever a node carries a CEL rule, looks its twin up here and
// reports the rule's own `message` from the YAML, so `jobherald validate` and the API server say the same
// thing. A CEL rule without a twin makes the schema loader throw (and test/unit/api/cel-twins.test.ts
// fail), so the two cannot drift apart silently.
//
// A twin receives the value at the rule's node after defaulting, like CEL's `self`. It returns true when
// the rule holds. Values of the wrong type are reported by the structural (ajv) pass, so a twin returns
// true for them rather than guess.
import {
  CHANNEL_POLICY_ENTRY,
  CHANNEL_REF,
  JOB_NAME_GLOB,
  SLACK_USER,
  USERGROUP_POLICY_ENTRY,
  USERGROUP_REF,
} from './patterns.ts';

export type CelTwin = (self: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const has = (value: Record<string, unknown>, key: string): boolean => value[key] !== undefined;

const matches =
  (pattern: RegExp): CelTwin =>
  (self) =>
    typeof self !== 'string' || pattern.test(self);

const nonEmptyList: CelTwin = (self) => !Array.isArray(self) || self.length > 0;

const exactlyOne =
  (a: string, b: string): CelTwin =>
  (self) =>
    !isObject(self) || has(self, a) !== has(self, b);

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

export const celTwins: ReadonlyMap<string, CelTwin> = new Map<string, CelTwin>([
  // label selector requirement: values only with In/NotIn
  [
    "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
    (self) => {
      if (!isObject(self)) return true;
      const values = self['values'];
      const count = Array.isArray(values) ? values.length : values === undefined ? -1 : 0;
      return self['operator'] === 'In' || self['operator'] === 'NotIn' ? count > 0 : count <= 0;
    },
  ],
  // SlackIntegration.spec.allowedNamespaces
  [
    "self.from == 'Selector' ? has(self.selector) : !has(self.selector)",
    (self) => !isObject(self) || (self['from'] === 'Selector') === has(self, 'selector'),
  ],
  [
    "isURL(self) && url(self).getScheme() in ['http', 'https']",
    (self) => typeof self !== 'string' || isHttpUrl(self),
  ],
  // SlackIntegration.spec.channelPolicy
  [`self.matches("${CHANNEL_POLICY_ENTRY.source.replaceAll('\\', '\\\\')}")`, matches(CHANNEL_POLICY_ENTRY)],
  [
    `self.matches("${USERGROUP_POLICY_ENTRY.source.replaceAll('\\', '\\\\')}")`,
    matches(USERGROUP_POLICY_ENTRY),
  ],
  [
    'has(self.channels) || has(self.userGroups)',
    (self) => !isObject(self) || has(self, 'channels') || has(self, 'userGroups'),
  ],
  // NotificationRule.spec
  [`self.matches("${JOB_NAME_GLOB.source.replaceAll('\\', '\\\\')}")`, matches(JOB_NAME_GLOB)],
  [`self.matches("${CHANNEL_REF.source}")`, matches(CHANNEL_REF)],
  [`self.matches("${SLACK_USER.source}")`, matches(SLACK_USER)],
  [`self.matches("${USERGROUP_REF.source}")`, matches(USERGROUP_REF)],
  ['size(self) > 0', nonEmptyList],
  ['has(self.channel) != has(self.user)', exactlyOne('channel', 'user')],
  ['has(self.user) != has(self.group)', exactlyOne('user', 'group')],
  ["self.trim() != ''", (self) => typeof self !== 'string' || self.trim() !== ''],
  [
    "self.startsWith('http://') || self.startsWith('https://')",
    (self) => typeof self !== 'string' || self.startsWith('http://') || self.startsWith('https://'),
  ],
]);
