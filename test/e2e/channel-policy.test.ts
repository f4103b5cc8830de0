// Channels are a tenancy boundary too (docs/adr/0013), on the real control plane with the operator as a
// process and the Slack emulator: a SlackIntegration's channelPolicy decides which channels and user groups
// each namespace's rules may use; a refused one is never joined or posted to, and the rule's status says
// nothing about it. And spec.apiURL: https or loopback only, and an answer that is not Slack's is not echoed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationRule, NotificationRuleSpec, SlackIntegrationSpec } from '../../src/api/types.ts';
import { defaultWorkspace, type Workspace } from '../../src/dev/slack-emulator/index.ts';
import { mentioning as about, messageText, useOperatorEnvironment } from '../support/environment.ts';
import {
  createJob,
  createNamespace,
  deleteNamespace,
  eventually,
  kube,
  uniqueName,
} from '../support/kube.ts';
import {
  conditionOf,
  createIntegration,
  createRule,
  createTokenSecret,
  getIntegration,
  getRule,
  waitForCondition,
} from '../support/operator.ts';

const BOT = 'U0JOBHERLD';

/** The demo workspace plus channels of two teams, a public channel nobody may use, and a private one the bot
 * was invited to by another team: what a tenant would most like to post into. */
function workspace(): Workspace {
  const w = defaultWorkspace();
  w.channels.push(
    { id: 'C0TEAMAALR1', name: 'team-a-alerts', members: ['U0ALICE001'] },
    { id: 'C0TEAMBALR1', name: 'team-b-alerts', members: ['U0BOB00001'] },
    { id: 'C0BOARD0001', name: 'board', members: ['U0ALICE001'] },
    { id: 'C0LEADOPS01', name: 'leadership', private: true, members: ['U0ALICE001', BOT] },
  );
  w.userGroups.push({ id: 'S0LEADERS01', handle: 'leadership', name: 'Leadership', users: ['U0ALICE001'] });
  return w;
}

const env = useOperatorEnvironment({ workspace: workspace() });

let teamA = '';
let teamB = '';
const LABEL = 'policy-e2e-team';

beforeAll(async () => {
  teamA = await createNamespace(uniqueName('team-a'), { [LABEL]: 'a' });
  teamB = await createNamespace(uniqueName('team-b'), { [LABEL]: 'b' });
  await createTokenSecret(env.opNs, 'guarded-token', 'xoxb-demo');
  await createIntegration(env.opNs, 'guarded', {
    apiURL: env.slack.apiUrl,
    allowedNamespaces: { from: 'All' },
    channelPolicy: {
      allow: [
        { channels: ['#general'], userGroups: ['oncall'] },
        { namespaceSelector: { matchLabels: { [LABEL]: 'a' } }, channels: ['team-a-*'] },
        // team-b by ID: a rule may still write the name
        { namespaceSelector: { matchLabels: { [LABEL]: 'b' } }, channels: ['C0TEAMBALR1'] },
      ],
    },
  });
});

afterAll(async () => {
  await Promise.all([teamA, teamB].filter((ns) => ns !== '').map((ns) => deleteNamespace(ns)));
});

const guarded = () => getIntegration(env.opNs, 'guarded');

/** A rule that selects only the Jobs `failing()` creates for it: each test reads its own rule's alerts. */
const rule = (namespace: string, name: string, spec: Partial<NotificationRuleSpec>) =>
  createRule(namespace, name, {
    integrationRef: { name: 'guarded', namespace: env.opNs },
    selector: { jobSelector: { matchLabels: { 'policy-e2e-rule': name } } },
    events: ['Failed'],
    destinations: [{ channel: 'general' }],
    ...spec,
  });

/** A failing Job for the rule `name` of its namespace. */
const failing = (namespace: string, ruleName: string, job: string) =>
  createJob(namespace, job, { exitCode: 1, labels: { 'policy-e2e-rule': ruleName } });

/** Waits until the rule's history shows `count` entries about the Job: proof its outcome was handled. */
const historyAbout = (namespace: string, name: string, job: string, count: number) =>
  eventually<NotificationRule>(
    `${count} deliveries of ${namespace}/${name} about ${job}`,
    async () => {
      const got = await getRule(namespace, name);
      const entries = got.status?.deliveries?.filter((d) => d.job === `${namespace}/${job}`) ?? [];
      return entries.length >= count ? got : undefined;
    },
    30_000,
  );

const botIsIn = async (channel: string) =>
  (await env.slack.control.workspace()).channels.find((c) => c.name === channel)?.botIsMember;

describe('channelPolicy', () => {
  it('delivers what a namespace may use, by name or by an ID entry, and joins only that', async () => {
    await rule(teamA, 'ok', { destinations: [{ channel: 'team-a-alerts' }, { channel: '#general' }] });
    await rule(teamB, 'ok', { destinations: [{ channel: 'team-b-alerts' }] }); // allowed by ID
    await waitForCondition(() => getRule(teamA, 'ok'), { status: 'True' });
    await waitForCondition(() => getRule(teamB, 'ok'), { status: 'True' });
    const a = `a-${uniqueName('j')}`;
    const b = `b-${uniqueName('j')}`;
    await failing(teamA, 'ok', a);
    await failing(teamB, 'ok', b);
    for (const [channel, job] of [
      ['team-a-alerts', a],
      ['general', a],
      ['team-b-alerts', b],
    ] as const) {
      const messages = await env.slack.control.waitForMessages({
        channel,
        timeoutMs: 30_000,
        until: (all) => all.some(about(job)),
      });
      expect(messages.filter(about(job)), `${job} in #${channel}`).toHaveLength(1);
    }
    expect(await botIsIn('team-a-alerts')).toBe(true);
    expect(await botIsIn('team-b-alerts')).toBe(true);
  });

  it('refuses a public channel the namespace may not use: ChannelNotAllowed, not joined, nothing posted', async () => {
    // the same channel is allowed to team-a and refused to team-b: a per-namespace decision
    await rule(teamB, 'spy-public', { destinations: [{ channel: 'board' }, { channel: 'team-a-alerts' }] });
    const got = await waitForCondition(() => getRule(teamB, 'spy-public'), {
      status: 'False',
      reason: 'ChannelNotAllowed',
    });
    expect(conditionOf(got, 'Stalled')?.status).toBe('True');
    expect(conditionOf(got)?.message).toContain(
      `channel "board" is not allowed for rules in namespace "${teamB}"`,
    );
    expect(got.status?.destinations).toEqual([
      expect.objectContaining({ destination: 'board', state: 'NotAllowed' }),
      expect.objectContaining({ destination: 'team-a-alerts', state: 'NotAllowed' }),
    ]);

    const job = `spy-${uniqueName('j')}`;
    await failing(teamB, 'spy-public', job);
    const handled = await historyAbout(teamB, 'spy-public', job, 2);
    expect(handled.status?.deliveries?.filter((d) => d.job === `${teamB}/${job}`)).toEqual([
      expect.objectContaining({ result: 'Failed', error: 'channel_not_allowed' }),
      expect.objectContaining({ result: 'Failed', error: 'channel_not_allowed' }),
    ]);
    expect(handled.status?.totals).toEqual({ delivered: 0, failed: 2 });
    expect((await env.slack.control.messages('board')).filter(about(job))).toEqual([]);
    expect((await env.slack.control.messages('team-a-alerts')).filter(about(job))).toEqual([]);
    expect(await botIsIn('board')).toBe(false);
    const integration = await guarded();
    expect(integration.status?.channels?.map((c) => c.name)).not.toContain('board');
    expect(integration.status?.channels?.find((c) => c.name === 'team-a-alerts')?.usedBy).not.toContain(
      `${teamB}/spy-public`,
    );
    // one tenant's refused channel is the rule's problem, not the integration's
    expect(conditionOf(integration)?.status).toBe('True');
    // and a DeliveryFailed Event names the destination as the rule wrote it
    const events = await kube().core.listNamespacedEvent({ namespace: teamB });
    expect(
      events.items.some(
        (e) =>
          e.reason === 'DeliveryFailed' && e.message?.includes(job) && e.message.includes('to board failed'),
      ),
    ).toBe(true);
  });

  it('never posts into a private channel the bot is in, and the rule learns nothing about it', async () => {
    await rule(teamA, 'spy-private', {
      destinations: [{ channel: 'leadership' }, { channel: 'C0LEADOPS01' }, { channel: 'no-such-channel' }],
    });
    const got = await waitForCondition(() => getRule(teamA, 'spy-private'), {
      status: 'False',
      reason: 'ChannelNotAllowed',
    });
    const byName = got.status?.destinations?.find((d) => d.destination === 'leadership');
    const missing = got.status?.destinations?.find((d) => d.destination === 'no-such-channel');
    // no id, no other field: only what the rule wrote and the refusal
    expect(Object.keys(byName ?? {}).sort()).toEqual(['destination', 'message', 'state']);
    expect(byName?.state).toBe('NotAllowed');
    // a private channel the bot is in reads exactly like one that does not exist
    expect(byName?.message?.replace('leadership', 'X')).toBe(
      missing?.message?.replace('no-such-channel', 'X'),
    );
    const text = JSON.stringify(got.status);
    expect(text).not.toMatch(/"private"|InviteRequired|not found|invite|Member|Joined/i);
    // the ID appears only where the rule wrote it, never for the name
    expect(text.replaceAll('"C0LEADOPS01"', '').replaceAll('channel \\"C0LEADOPS01\\"', '')).not.toContain(
      'C0LEADOPS01',
    );

    const job = `priv-${uniqueName('j')}`;
    await failing(teamA, 'spy-private', job);
    await historyAbout(teamA, 'spy-private', job, 3);
    expect((await env.slack.control.messages('leadership')).filter(about(job))).toEqual([]);
    expect(JSON.stringify((await guarded()).status?.channels)).not.toContain('leadership');
  });

  it('leaves a refused user group out of the alert and says so on the rule', async () => {
    await rule(teamA, 'groups', {
      destinations: [{ channel: 'team-a-alerts' }],
      mentions: [{ group: 'oncall' }, { group: '@leadership' }],
    });
    const got = await waitForCondition(() => getRule(teamA, 'groups'), {
      status: 'False',
      reason: 'UserGroupNotAllowed',
    });
    expect(conditionOf(got)?.message).toContain('user group "@leadership" is not allowed');
    const job = `grp-${uniqueName('j')}`;
    await failing(teamA, 'groups', job);
    const [alert] = (
      await env.slack.control.waitForMessages({
        channel: 'team-a-alerts',
        timeoutMs: 30_000,
        until: (all) => all.some(about(job)),
      })
    ).filter(about(job));
    expect(messageText(alert!)).toContain('<!subteam^S0ONCALL01>');
    expect(messageText(alert!)).not.toContain('S0LEADERS01');
  });

  it('follows a namespace label change: the channel is refused once the namespace leaves the team', async () => {
    const moving = await createNamespace(uniqueName('moving'), { [LABEL]: 'a' });
    try {
      await rule(moving, 'r', { destinations: [{ channel: 'team-a-alerts' }] });
      await waitForCondition(() => getRule(moving, 'r'), { status: 'True' });
      await kube().core.patchNamespace({
        name: moving,
        body: [{ op: 'replace', path: `/metadata/labels/${LABEL}`, value: 'c' }],
      });
      await waitForCondition(() => getRule(moving, 'r'), { status: 'False', reason: 'ChannelNotAllowed' });
    } finally {
      await deleteNamespace(moving);
    }
  });

  it('is checked by the API server with the same messages as jobherald validate', async () => {
    const refusal = await createIntegration(env.opNs, 'bad-policy', {
      apiURL: env.slack.apiUrl,
      channelPolicy: { allow: [{ channels: ['Team Alerts'] }, { namespaceSelector: {} }] },
    }).then(
      () => 'created',
      (error: unknown) => String((error as Error).message),
    );
    expect(refusal).toContain('spec.channelPolicy.allow[0].channels[0]');
    expect(refusal).toContain('a channels entry must be a channel name or a glob on it');
    expect(refusal).toContain('spec.channelPolicy.allow[1]');
    expect(refusal).toContain('an allow entry must list channels, userGroups or both');
  });
});

describe('spec.apiURL', () => {
  let page: Server;
  let pageURL = '';

  beforeAll(async () => {
    // what a misconfigured proxy answers: a 200 with an HTML page
    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body><h1>Proxy error</h1><p>upstream marker-4471 is down</p></body></html>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageURL = `http://127.0.0.1:${(page.address() as AddressInfo).port}/api/`;
  });
  afterAll(async () => {
    page.closeAllConnections();
    await new Promise((resolve) => page.close(resolve));
  });

  const make = async (name: string, spec: Partial<SlackIntegrationSpec> & { apiURL: string }) => {
    await createTokenSecret(env.opNs, `${name}-token`, 'xoxb-demo');
    await createIntegration(env.opNs, name, spec);
    return () => getIntegration(env.opNs, name);
  };

  it('refuses plain http to a host that is not loopback: InsecureAPIURL, stalled', async () => {
    const read = await make('cleartext', { apiURL: 'http://slack.example.com/api/' });
    const got = await waitForCondition(read, { status: 'False', reason: 'InsecureAPIURL' });
    expect(conditionOf(got, 'Stalled')?.status).toBe('True');
    expect(conditionOf(got)?.message).toContain('http://slack.example.com is not https and not loopback');
    expect(conditionOf(got)?.message).toContain('--allow-insecure-slack-api-url');
    expect(got.status?.workspace).toBeUndefined();
  });

  it('reports an answer that is not Slack’s without echoing it', async () => {
    const read = await make('proxied', { apiURL: pageURL });
    const got = await waitForCondition(read, {
      type: 'Authenticated',
      status: 'False',
      reason: 'SlackUnavailable',
    });
    expect(conditionOf(got, 'Authenticated')?.message).toContain('not a Slack Web API response');
    expect(JSON.stringify(got.status)).not.toMatch(/marker-4471|<html|Proxy error/);
    expect(conditionOf(got)?.status).toBe('False');
  });
});
