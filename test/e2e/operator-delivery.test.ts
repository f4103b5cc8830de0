// The operator end to end: a real control plane, the real `jobherald controller` process, and the Slack
// emulator as Slack. Each test has its own namespace for rules and Jobs; the integration lives in the
// operator's namespace and admits every namespace.
import { describe, expect, it } from 'vitest';
import { alertsAbout, mentioning, useOperatorEnvironment } from '../support/environment.ts';
import {
  createJob,
  eventually,
  kube,
  uniqueName,
  useNamespace,
  waitForJob,
  waitForJobCondition,
} from '../support/kube.ts';
import type { NotificationRuleSpec } from '../../src/api/types.ts';
import {
  conditionOf,
  patchSpec,
  createRule,
  getIntegration,
  getRule,
  waitForCondition,
} from '../support/operator.ts';

const env = useOperatorEnvironment();
const messagesAbout = (channel: string, jobs: string[], timeoutMs?: number) =>
  alertsAbout(env.slack, channel, jobs, timeoutMs);
const mentionsJob = mentioning;

describe('operator delivery', () => {
  const ns = useNamespace('rules');

  it('alerts each outcome to a public channel it joins itself', async () => {
    await createRule(ns(), 'outcomes', {
      integrationRef: { name: 'acme', namespace: env.opNs },
      events: ['Succeeded', 'Failed', 'Cancelled'],
      destinations: [{ channel: 'alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'outcomes'), { status: 'True' });
    const id = uniqueName('j');
    await createJob(ns(), `ok-${id}`);
    await createJob(ns(), `oom-${id}`, { exitCode: 137, reason: 'OOMKilled', message: 'used 2Gi of 1Gi' });
    await createJob(ns(), `cancel-${id}`, { runFor: '5m' });
    await waitForJob(ns(), `cancel-${id}`, (j) => (j.status?.active ?? 0) > 0);
    await kube().batch.deleteNamespacedJob({
      name: `cancel-${id}`,
      namespace: ns(),
      propagationPolicy: 'Background',
    });

    const messages = await messagesAbout('alerts', [`ok-${id}`, `oom-${id}`, `cancel-${id}`]);
    expect(messages).toHaveLength(3);
    const about = (job: string) => JSON.stringify(messages.find(mentionsJob(job)));
    expect(about(`ok-${id}`)).toMatch(/Succeeded/);
    expect(about(`oom-${id}`)).toMatch(/BackoffLimitExceeded/);
    expect(about(`oom-${id}`)).toMatch(/OOMKilled/);
    expect(about(`oom-${id}`)).toMatch(/137/);
    expect(about(`cancel-${id}`)).toMatch(/Cancelled/);

    const integration = await getIntegration(env.opNs, 'acme');
    expect(integration.status?.channels?.find((c) => c.name === 'alerts')?.state).toBe('Joined');
    const rule = await waitForRuleTotals(ns(), 'outcomes', 3);
    expect(rule.status?.deliveries?.map((d) => d.result)).toEqual(['Delivered', 'Delivered', 'Delivered']);
  });

  it('sends a DM to a user by email, with user and group mentions on failures only', async () => {
    await readyRule(ns(), 'dm', {
      events: ['Succeeded', 'Failed'],
      destinations: [{ user: 'alice@example.com' }],
      mentions: [{ user: 'bob@example.com' }, { group: 'oncall' }],
    });
    const id = uniqueName('j');
    await createJob(ns(), `dm-ok-${id}`);
    await createJob(ns(), `dm-fail-${id}`, { exitCode: 1 });
    const dms = await env.slack.control.waitForMessages({
      timeoutMs: 20_000,
      until: (all) => all.filter(mentionsJob(id)).length >= 2,
    });
    const mine = dms.filter(mentionsJob(id));
    expect(mine.every((m) => m.channel.startsWith('D'))).toBe(true);
    const failed = JSON.stringify(mine.find(mentionsJob(`dm-fail-${id}`)));
    const succeeded = JSON.stringify(mine.find(mentionsJob(`dm-ok-${id}`)));
    expect(failed).toContain('<@U0BOB00001>');
    expect(failed).toContain('<!subteam^S0ONCALL01>');
    expect(succeeded).not.toContain('<@U0BOB00001>');
    const rule = await waitForRuleTotals(ns(), 'dm', 2);
    expect(rule.status?.deliveries?.[0]?.destination).toBe('@alice@example.com');
  });

  it('holds alerts for a private channel it cannot see, and delivers them once the bot is invited', async () => {
    await createRule(ns(), 'private', {
      integrationRef: { name: 'acme', namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'ops-private' }],
    });
    // Slack hides private channels from a bot that is not in them: not found, with the way out.
    const rule = await waitForCondition(() => getRule(ns(), 'private'), {
      status: 'False',
      reason: 'ChannelNotFound',
    });
    expect(conditionOf(rule)?.message).toContain('/invite @jobherald');

    const job = `priv-${uniqueName('j')}`;
    await createJob(ns(), job, { exitCode: 1 });
    // Not delivered while the bot is not in the channel …
    await expect(messagesAbout('ops-private', [job], 3_000)).rejects.toThrow();
    // … and delivered once someone invites it.
    await env.slack.control.setMembership('ops-private', true);
    expect(await messagesAbout('ops-private', [job], 20_000)).toHaveLength(1);
    await waitForCondition(() => getRule(ns(), 'private'), { status: 'True' });
    expect(
      (await getIntegration(env.opNs, 'acme')).status?.channels?.find((c) => c.name === 'ops-private'),
    ).toMatchObject({
      state: 'Member',
      private: true,
    });

    // Kicked out of a private channel it knows: InviteRequired, and alerts wait for the next invite.
    await env.slack.control.setMembership('ops-private', false);
    const second = `priv2-${uniqueName('j')}`;
    await createJob(ns(), second, { exitCode: 1 });
    await waitForCondition(() => getRule(ns(), 'private'), { status: 'False', reason: 'InviteRequired' });
    await expect(messagesAbout('ops-private', [second], 2_000)).rejects.toThrow();
    await env.slack.control.setMembership('ops-private', true);
    expect(await messagesAbout('ops-private', [second], 20_000)).toHaveLength(1);
    await env.slack.control.setMembership('ops-private', false);
  });

  it('fails deliveries to an archived channel visibly, on the rule and in its status', async () => {
    await createRule(ns(), 'archived', {
      integrationRef: { name: 'acme', namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'old-alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'archived'), { status: 'False', reason: 'ChannelArchived' });
    const job = `arch-${uniqueName('j')}`;
    await createJob(ns(), job, { exitCode: 1 });
    const rule = await waitForRuleTotals(ns(), 'archived', 0, 1);
    expect(rule.status?.deliveries?.[0]).toMatchObject({
      result: 'Failed',
      error: 'is_archived',
      job: `${ns()}/${job}`,
    });
    await eventually('a DeliveryFailed Event on the rule', async () => {
      const events = await kube().core.listNamespacedEvent({ namespace: ns() });
      return events.items.find(
        (e) =>
          e.reason === 'DeliveryFailed' && e.involvedObject.name === 'archived' && e.message?.includes(job),
      );
    });
  });

  it('sends nothing for Jobs a rule does not select', async () => {
    await readyRule(ns(), 'selective', {
      events: ['Succeeded', 'Failed'],
      destinations: [{ channel: 'alerts' }],
      selector: { jobSelector: { matchLabels: { team: 'data' } }, jobNames: ['nightly-*'] },
    });
    const id = uniqueName('j');
    await createJob(ns(), `nightly-${id}`, { labels: { team: 'web' } }); // wrong label
    await createJob(ns(), `adhoc-${id}`, { labels: { team: 'data' } }); // wrong name
    await createJob(ns(), `nightly-match-${id}`, { labels: { team: 'data' } });
    await messagesAbout('alerts', [`nightly-match-${id}`]);
    await waitForJob(ns(), `adhoc-${id}`, (j) => (j.status?.succeeded ?? 0) > 0);
    const all = (await env.slack.control.messages('alerts')).filter(mentionsJob(id));
    expect(all).toHaveLength(1);
    const rule = await waitForRuleTotals(ns(), 'selective', 1);
    expect(rule.status?.totals).toEqual({ delivered: 1, failed: 0 });
  });

  it('posts a test message to every channel in use when testNonce changes', async () => {
    await readyRule(ns(), 'tested', { events: ['Failed'], destinations: [{ channel: 'general' }] });
    const nonce = uniqueName('nonce');
    await patchSpec('slackintegrations', env.opNs, 'acme', 'testNonce', nonce);
    const messages = await env.slack.control.waitForMessages({
      channel: 'general',
      timeoutMs: 20_000,
      until: (all) => all.some((m) => JSON.stringify(m).includes(nonce)),
    });
    expect(messages.filter((m) => JSON.stringify(m).includes(nonce))).toHaveLength(1);
    const integration = await eventuallyIntegration((i) => i.status?.lastTest?.nonce === nonce);
    expect(integration.status?.lastTest?.results.find((r) => r.channel === 'general')?.result).toBe(
      'Delivered',
    );
  });

  it('sends nothing through a suspended integration, and reports why on its rules', async () => {
    await readyRule(ns(), 'via-paused', { events: ['Succeeded'], destinations: [{ channel: 'alerts' }] });
    await patchSpec('slackintegrations', env.opNs, 'acme', 'suspend', true);
    try {
      await waitForCondition(() => getIntegration(env.opNs, 'acme'), { status: 'True', reason: 'Suspended' });
      await waitForCondition(() => getRule(ns(), 'via-paused'), {
        status: 'True',
        reason: 'IntegrationSuspended',
      });
      const id = uniqueName('j');
      await createJob(ns(), `unlinked-${id}`);
      // the outcome (Complete), not just a succeeded pod, happens while the integration is suspended
      await waitForJobCondition(ns(), `unlinked-${id}`, 'Complete');
    } finally {
      await patchSpec('slackintegrations', env.opNs, 'acme', 'suspend', false);
    }
    await waitForCondition(() => getRule(ns(), 'via-paused'), { status: 'True', reason: 'Reconciled' });
    const control = `relinked-${uniqueName('j')}`;
    await createJob(ns(), control);
    await messagesAbout('alerts', [control]);
    expect((await env.slack.control.messages('alerts')).filter(mentionsJob('unlinked-'))).toHaveLength(0);
  });

  it('sends nothing through a suspended rule, and again once it is resumed', async () => {
    await readyRule(ns(), 'pausable', { events: ['Succeeded'], destinations: [{ channel: 'alerts' }] });
    await patchSpec('notificationrules', ns(), 'pausable', 'suspend', true);
    await waitForCondition(() => getRule(ns(), 'pausable'), { status: 'True', reason: 'Suspended' });
    const id = uniqueName('j');
    await createJob(ns(), `quiet-${id}`);
    await waitForJobCondition(ns(), `quiet-${id}`, 'Complete');
    await patchSpec('notificationrules', ns(), 'pausable', 'suspend', false);
    await waitForCondition(() => getRule(ns(), 'pausable'), { status: 'True', reason: 'Reconciled' });
    await createJob(ns(), `loud-${id}`);
    await messagesAbout('alerts', [`loud-${id}`]);
    expect((await env.slack.control.messages('alerts')).filter(mentionsJob(`quiet-${id}`))).toHaveLength(0);
  });
});

/** A rule in the test namespace using the shared integration, Ready=True before returning. */
async function readyRule(
  namespace: string,
  name: string,
  spec: Omit<NotificationRuleSpec, 'integrationRef'>,
) {
  await createRule(namespace, name, { integrationRef: { name: 'acme', namespace: env.opNs }, ...spec });
  return waitForCondition(() => getRule(namespace, name), { status: 'True' });
}

async function eventuallyIntegration(predicate: (i: Awaited<ReturnType<typeof getIntegration>>) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const integration = await getIntegration(env.opNs, 'acme');
    if (predicate(integration)) return integration;
    if (Date.now() > deadline) throw new Error(`integration status: ${JSON.stringify(integration.status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForRuleTotals(namespace: string, name: string, delivered: number, failed = 0) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rule = await getRule(namespace, name);
    const totals = rule.status?.totals;
    if ((totals?.delivered ?? 0) >= delivered && (totals?.failed ?? 0) >= failed) return rule;
    if (Date.now() > deadline)
      throw new Error(`rule totals never reached ${delivered}: ${JSON.stringify(rule.status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
