// The channelPolicy end to end inside the operator's process (docs/adr/0013): the real IntegrationRuntime
// (membership, held alerts, its dispatcher), the real RuleRuntime (status) and the real DeliveryPipeline,
// against a scripted Slack workspace. What must never happen: a refused channel joined, listed, tested or
// posted to; a refused group mentioned; a rule's status saying anything about a channel it may not use.
import { describe, expect, it } from 'vitest';
import { NO_TOKEN_ROTATION } from '../delivery/no-token-rotation.ts';
import type {
  Condition,
  NotificationRule,
  NotificationRuleSpec,
  SlackIntegration,
  SlackIntegrationSpec,
} from '../../../src/api/types.ts';
import type { JobRecord } from '../../../src/domain/job.ts';
import type { SlackMessage } from '../../../src/domain/message.ts';
import { DeliveryPipeline } from '../../../src/delivery/pipeline.ts';
import type { DeliveryItem, SendResult } from '../../../src/delivery/types.ts';
import { IntegrationRuntime } from '../../../src/reconcilers/integration-runtime.ts';
import { RuleRuntime } from '../../../src/reconcilers/rule-runtime.ts';
import { silentLog } from '../../../src/slack/logging.ts';
import type { AuthInfo, Conversation, SlackPort } from '../../../src/slack/port.ts';
import { ManualClock, settle } from '../delivery/fake-clock.ts';

const CHANNELS: Conversation[] = [
  { id: 'C0GENERAL1', name: 'general', isPrivate: false, isArchived: false, isMember: false },
  { id: 'C0TEAMA001', name: 'team-a-alerts', isPrivate: false, isArchived: false, isMember: false },
  { id: 'C0BOARD001', name: 'board', isPrivate: false, isArchived: false, isMember: false },
  // private, and another team invited the bot: the one a spy would most like to post into
  { id: 'G0LEADOPS01', name: 'leadership-ops', isPrivate: true, isArchived: false, isMember: true },
];

/** A small workspace: what the bot joins and posts, and what it was asked. */
class Workspace implements SlackPort {
  readonly joined: string[] = [];
  readonly posted: { channel: string; message: SlackMessage }[] = [];
  readonly channels = structuredClone(CHANNELS);
  lists = 0;
  authTest(): Promise<AuthInfo> {
    return Promise.resolve({
      teamId: 'T1',
      team: 'Acme',
      url: 'https://acme.slack.com/',
      userId: 'U0BOT',
      user: 'jobherald',
      scopes: [],
    });
  }
  listConversations(): Promise<Conversation[]> {
    this.lists++;
    return Promise.resolve(this.channels.map((c) => ({ ...c })));
  }
  conversationInfo(): Promise<Conversation> {
    return Promise.reject(new Error('not used'));
  }
  join(id: string): Promise<{ alreadyMember: boolean }> {
    this.joined.push(id);
    const c = this.channels.find((x) => x.id === id);
    if (c) c.isMember = true;
    return Promise.resolve({ alreadyMember: false });
  }
  leave(): Promise<{ wasMember: boolean }> {
    return Promise.resolve({ wasMember: true });
  }
  postMessage(channel: string, message: SlackMessage) {
    this.posted.push({ channel, message });
    return Promise.resolve({ channel, ts: `${1_790_000_000 + this.posted.length}.000100` });
  }
  updateMessage(channel: string) {
    return Promise.resolve({ channel, ts: '1.1' });
  }
  lookupUserByEmail(): Promise<string> {
    return Promise.resolve('U0ALICE001');
  }
  listUserGroups(): Promise<Map<string, string>> {
    return Promise.resolve(
      new Map([
        ['oncall', 'S0ONCALL01'],
        ['leadership', 'S0LEADERS1'],
      ]),
    );
  }
}

const LABELS: Record<string, Record<string, string>> = { 'team-a': { team: 'a' }, 'team-b': { team: 'b' } };

const POLICY: NonNullable<SlackIntegrationSpec['channelPolicy']> = {
  allow: [
    { channels: ['#general'], userGroups: ['oncall'] },
    { namespaceSelector: { matchLabels: { team: 'a' } }, channels: ['team-a-*'] },
  ],
};

function integration(spec: Partial<SlackIntegrationSpec> = {}): SlackIntegration {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'SlackIntegration',
    metadata: { name: 'acme', namespace: 'ops', generation: 1, uid: 'int-uid' },
    spec: {
      tokenSecretRef: { name: 'slack' },
      apiURL: 'https://slack.example.com/api/',
      allowedNamespaces: { from: 'All' },
      channelPolicy: POLICY,
      ...spec,
    },
  };
}

function rule(namespace: string, name: string, spec: Partial<NotificationRuleSpec>): NotificationRule {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'NotificationRule',
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      generation: 1,
      creationTimestamp: '2026-11-21T10:00:05Z',
    },
    spec: {
      integrationRef: { name: 'acme', namespace: 'ops' },
      events: ['Failed'],
      destinations: [{ channel: 'general' }],
      ...spec,
    },
  };
}

const failedJob = (namespace: string, name: string): JobRecord => ({
  uid: `uid-${name}`,
  namespace,
  name,
  resourceVersion: '1',
  labels: {},
  creationTimestamp: '2026-11-21T10:00:50Z',
  suspend: false,
  startTime: '2026-11-21T10:00:51Z',
  active: 0,
  succeeded: 0,
  failed: 1,
  conditions: [
    {
      type: 'Failed',
      status: 'True',
      reason: 'BackoffLimitExceeded',
      lastTransitionTime: '2026-11-21T10:01:00Z',
    },
  ],
});

/** The channels the admitted rules name, as the operator hands them to the integration (operator.ts). */
function desiredOf(rules: NotificationRule[]) {
  const byRef = new Map<string, string[]>();
  for (const r of rules)
    for (const d of r.spec.destinations)
      if (d.channel !== undefined)
        byRef.set(d.channel, [...(byRef.get(d.channel) ?? []), `${r.metadata.namespace}/${r.metadata.name}`]);
  return [...byRef].map(([ref, usedBy]) => ({ ref, usedBy }));
}

function setUp(rules: NotificationRule[], spec: Partial<SlackIntegrationSpec> = {}) {
  const clock = new ManualClock(Date.parse('2026-11-21T10:02:00Z'));
  const slack = new Workspace();
  const clients: { apiURL?: string }[] = [];
  const reported: { item: DeliveryItem; result: SendResult }[] = [];
  const runtimes = rules.map((r) => new RuleRuntime(r));
  const object = integration(spec);
  const runtime = new IntegrationRuntime('ops/acme', {
    log: silentLog,
    onResult: (item, result) => pipeline.onResult(item, result),
    requeue: () => undefined,
    slackTimeoutMs: 1000,
    deliveryLimits: {},
    clock,
    createSlackClient: (options) => (clients.push({ apiURL: options.apiURL }), slack),
    ...NO_TOKEN_ROTATION,
    namespaceLabels: (ns) => LABELS[ns],
  });
  runtime.object = object; // as IntegrationReconciler does before the first reconcile
  const pipeline: DeliveryPipeline = new DeliveryPipeline({
    sources: {
      activeRules: () => runtimes.map((r) => ({ rule: r, integration: runtime })),
      matchContext: () => ({ namespaceLabels: (ns) => LABELS[ns], trustedNamespaces: [] }),
      failedPods: () => [],
      namespaceDeletion: () => undefined,
    },
    jobs: { write: () => Promise.resolve({ result: 'written', resourceVersion: '100' }) },
    report: {
      delivered: (item, result) => {
        reported.push({ item, result });
        runtimes.find((r) => r.uid === item.rule.uid)?.record(item, result, '2026-11-21T10:02:00Z');
      },
    },
    clock,
    finalizers: true,
    clusterName: 'test',
    log: silentLog,
  });
  pipeline.setActive(true);
  const reconcile = (allowInsecureApiURL = false) =>
    runtime.reconcile({
      object,
      served: true,
      secret: (name) =>
        name === object.spec.tokenSecretRef.name
          ? { name, data: { token: Buffer.from('xoxb-test-token').toString('base64') } }
          : undefined,
      desired: desiredOf(rules),
      rules: rules.map((r) => ({ key: `${r.metadata.namespace}/${r.metadata.name}`, spec: r.spec })),
      recheckIntervalMs: 300_000,
      parkedRecheckIntervalMs: 30_000,
      allowInsecureApiURL,
    });
  const ruleStatus = async (r: RuleRuntime) => {
    await r.checkDestinations(runtime);
    if ((r.object.spec.mentions?.length ?? 0) > 0) await r.resolveMentions(runtime);
    r.reconciledGeneration = 1;
    return r.status({ ok: true, health: { state: 'Ready' } }, runtime, '2026-11-21T10:02:00Z');
  };
  return { clock, slack, clients, reported, runtimes, runtime, pipeline, object, reconcile, ruleStatus };
}

const ready = (conditions: Condition[] | undefined, type = 'Ready'): Condition | undefined =>
  conditions?.find((c) => c.type === type);

const teamA = rule('team-a', 'alerts', {
  destinations: [{ channel: 'general' }, { channel: '#team-a-alerts' }, { channel: 'team-a-typo' }],
});
const spy = rule('team-b', 'spy', {
  destinations: [
    { channel: 'general' },
    { channel: 'leadership-ops' },
    { channel: 'G0LEADOPS01' },
    { channel: 'team-a-alerts' },
    { channel: 'board' },
  ],
  mentions: [{ group: 'oncall' }, { group: 'leadership' }],
});

describe('channelPolicy: membership', () => {
  it('never joins, lists or tests a channel for a rule that may not use it', async () => {
    const { slack, runtime, reconcile, object } = setUp([teamA, spy], { testNonce: 'n1' });
    await reconcile();
    // joined: what some allowed rule names; never #board (refused to everyone who names it)
    expect(slack.joined.sort()).toEqual(['C0GENERAL1', 'C0TEAMA001']);
    const status = runtime.status(object, new Date('2026-11-21T10:02:00Z'));
    expect(status.channels?.map((c) => [c.name, c.usedBy])).toEqual([
      ['general', ['team-a/alerts', 'team-b/spy']],
      ['team-a-alerts', ['team-a/alerts']], // the spy's use of it is not counted
      ['team-a-typo', ['team-a/alerts']],
    ]);
    expect(JSON.stringify(status)).not.toMatch(/leadership-ops|G0LEADOPS01|board/);
    // the test message goes to the channels in status only
    expect(new Set(slack.posted.map((p) => p.channel))).toEqual(new Set(['C0GENERAL1', 'C0TEAMA001']));
  });

  it("keeps the integration Ready when a rule's channel does not resolve: that is the rule's and ChannelsReady's", async () => {
    const { runtime, reconcile, object } = setUp([teamA]);
    await reconcile();
    const status = runtime.status(object, new Date('2026-11-21T10:02:00Z'));
    expect(ready(status.conditions)).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(ready(status.conditions, 'ChannelsReady')).toMatchObject({
      status: 'False',
      reason: 'ChannelNotFound',
    });
    expect(ready(status.conditions, 'Stalled')).toBeUndefined();
    expect(status.channelsReady).toBe('2/3');
  });

  it('without a policy behaves as before: every named channel is joined', async () => {
    const { slack, reconcile } = setUp([spy], { channelPolicy: undefined });
    await reconcile();
    expect(slack.joined.sort()).toEqual(['C0BOARD001', 'C0GENERAL1', 'C0TEAMA001']);
  });
});

describe("channelPolicy: a rule's status", () => {
  it('is Ready=False ChannelNotAllowed, stalled, and names the refused destinations as written, nothing more', async () => {
    const { reconcile, runtimes, ruleStatus } = setUp([teamA, spy]);
    await reconcile();
    const status = await ruleStatus(runtimes[1]!);
    expect(ready(status.conditions)).toMatchObject({ status: 'False', reason: 'ChannelNotAllowed' });
    expect(ready(status.conditions, 'Stalled')).toMatchObject({ status: 'True' });
    expect(status.destinations?.map((d) => [d.destination, d.state, d.id])).toEqual([
      ['general', 'Resolved', 'C0GENERAL1'],
      ['leadership-ops', 'NotAllowed', undefined],
      ['G0LEADOPS01', 'NotAllowed', undefined],
      ['team-a-alerts', 'NotAllowed', undefined],
      ['board', 'NotAllowed', undefined],
    ]);
    const refused = status.destinations!.filter((d) => d.state === 'NotAllowed');
    // the private channel the bot is in, by name and by ID, reads exactly like a channel that does not exist
    expect(refused[0]!.message!.replace('leadership-ops', 'X')).toBe(
      refused[3]!.message!.replace('board', 'X'),
    );
    const text = JSON.stringify(status);
    expect(text).not.toMatch(/C0TEAMA001|C0BOARD001|"private"|invite|not found|InviteRequired|Member/i);
    // the destination named by ID says nothing of the name Slack gives it
    expect(refused[1]!.message).not.toContain('leadership-ops');
    expect(ready(status.conditions)?.message).toContain('channel "leadership-ops" is not allowed');
  });

  it('reports a refused user group as UserGroupNotAllowed and leaves it out of the mentions', async () => {
    const groups = rule('team-b', 'groups', { mentions: [{ group: 'oncall' }, { group: '@leadership' }] });
    const { reconcile, runtimes, runtime, ruleStatus } = setUp([groups]);
    await reconcile();
    const status = await ruleStatus(runtimes[0]!);
    expect(runtimes[0]!.mentions).toEqual(['<!subteam^S0ONCALL01>']);
    expect(ready(status.conditions)).toMatchObject({ status: 'False', reason: 'UserGroupNotAllowed' });
    expect(ready(status.conditions)?.message).toContain('user group "@leadership" is not allowed');
    expect(JSON.stringify(status)).not.toContain('S0LEADERS1');
    // the same group by ID is refused too, once Slack's list says which handle it is
    expect(await runtime.userGroupAllowed('team-b', 'S0LEADERS1')).toMatchObject({ allowed: false });
    expect(await runtime.userGroupAllowed('team-b', 'S0ONCALL01')).toEqual({ allowed: true });
  });

  it('resolves mentions again when the policy changes', async () => {
    const groups = rule('team-b', 'groups', { mentions: [{ group: 'leadership' }] });
    const { reconcile, runtimes, runtime } = setUp([groups]);
    await reconcile();
    expect(await runtimes[0]!.resolveMentions(runtime)).toEqual([]);
    // what the next reconcile of the changed integration puts in place
    runtime.object!.spec.channelPolicy = { allow: [{ channels: ['general'], userGroups: ['leadership'] }] };
    expect(await runtimes[0]!.resolveMentions(runtime)).toEqual(['<!subteam^S0LEADERS1>']);
  });
});

describe('channelPolicy: delivery', () => {
  it('posts only to allowed channels; each refused one is a Failed delivery, channel_not_allowed, as written', async () => {
    const { reconcile, pipeline, slack, reported, runtimes, clock } = setUp([teamA, spy]);
    await reconcile();
    slack.posted.length = 0;
    pipeline.onJobChange('modified', failedJob('team-b', 'etl'), undefined);
    await clock.advance(5_000);
    expect(slack.posted.map((p) => p.channel)).toEqual(['C0GENERAL1']);
    // the allowed mention is there, the refused one is not
    expect(slack.posted[0]!.message.text).toContain('<!subteam^S0ONCALL01>');
    expect(JSON.stringify(slack.posted)).not.toContain('S0LEADERS1');
    const failures = reported.filter((r) => r.result.result === 'Failed');
    expect(
      failures.map((f) => [
        f.item.destinationLabel,
        f.item.destination,
        (f.result as { error: string }).error,
      ]),
    ).toEqual([
      ['leadership-ops', '', 'channel_not_allowed'],
      ['G0LEADOPS01', '', 'channel_not_allowed'],
      ['team-a-alerts', '', 'channel_not_allowed'],
      ['board', '', 'channel_not_allowed'],
    ]);
    expect(runtimes[1]!.totals).toEqual({ delivered: 1, failed: 4 });
    expect(runtimes[1]!.deliveries.filter((d) => d.error === 'channel_not_allowed')).toHaveLength(4);
  });

  it("holds an alert Slack's answer must decide per namespace, and releases it only to a namespace allowed it", async () => {
    // Both rules name team-a-alerts by ID; the policy allows team-a by name glob, so only Slack's directory can
    // tell. Before the first reconcile nothing is known: both alerts wait, each under its own namespace.
    const a = rule('team-a', 'by-id', { destinations: [{ channel: 'C0TEAMA001' }] });
    const b = rule('team-b', 'by-id', { destinations: [{ channel: 'C0TEAMA001' }] });
    const { reconcile, pipeline, slack, reported, runtime, clock } = setUp([a, b]);
    pipeline.onJobChange('modified', failedJob('team-a', 'a-job'), undefined);
    pipeline.onJobChange('modified', failedJob('team-b', 'b-job'), undefined);
    await settle();
    expect(runtime.dispatcher.heldRefs().sort()).toEqual(['C0TEAMA001|team-a', 'C0TEAMA001|team-b']);
    expect(slack.posted).toEqual([]);
    await reconcile();
    await clock.advance(5_000);
    expect(slack.joined).toEqual(['C0TEAMA001']);
    expect(slack.posted.map((p) => [p.channel, p.message.text.includes('a-job')])).toEqual([
      ['C0TEAMA001', true],
    ]);
    expect(JSON.stringify(slack.posted)).not.toContain('b-job');
    expect(reported.find((r) => r.item.job === 'team-b/b-job')?.result).toMatchObject({
      result: 'Failed',
      error: 'channel_not_allowed',
    });
    expect(runtime.dispatcher.heldRefs()).toEqual([]);
  });
});

describe('spec.apiURL', () => {
  it('refuses plain http to a host that is not loopback before the token is read: InsecureAPIURL, stalled', async () => {
    const { reconcile, runtime, object, clients } = setUp([], { apiURL: 'http://slack.example.com/api/' });
    await reconcile();
    expect(clients).toEqual([]); // no client, so no request carried the token
    const status = runtime.status(object, new Date('2026-11-21T10:02:00Z'));
    expect(ready(status.conditions)).toMatchObject({ status: 'False', reason: 'InsecureAPIURL' });
    expect(ready(status.conditions, 'Stalled')).toMatchObject({ status: 'True' });
    expect(ready(status.conditions)?.message).toContain('--allow-insecure-slack-api-url');
  });

  it('sends it with --allow-insecure-slack-api-url, and to loopback always', async () => {
    const insecure = setUp([], { apiURL: 'http://slack.example.com/api/' });
    await insecure.reconcile(true);
    expect(insecure.clients).toEqual([{ apiURL: 'http://slack.example.com/api/' }]);
    const loopback = setUp([], { apiURL: 'http://127.0.0.1:8800/api/' });
    await loopback.reconcile();
    expect(loopback.clients).toHaveLength(1);
    expect(ready(loopback.runtime.status(loopback.object, new Date()).conditions)?.status).toBe('True');
  });
});
