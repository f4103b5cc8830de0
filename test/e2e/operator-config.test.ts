// Configuration a user can get wrong, and tenancy: each gets a clear condition, never a crash, and never an
// alert where it must not go.
import { describe, expect, it } from 'vitest';
import { mentioning as about, useOperatorEnvironment } from '../support/environment.ts';
import type { NotificationRuleSpec } from '../../src/api/types.ts';
import {
  createJob,
  createNamespace,
  deleteNamespace,
  kube,
  uniqueName,
  useNamespace,
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

const env = useOperatorEnvironment();

const integration = (name: string) => () => getIntegration(env.opNs, name);

describe('integration credentials', () => {
  it('reports an invalid token as Authenticated=False, InvalidAuth, and stalls', async () => {
    await createTokenSecret(env.opNs, 'bogus-token', 'xoxb-not-a-real-token');
    await createIntegration(env.opNs, 'bogus', { apiURL: env.slack.apiUrl });
    const got = await waitForCondition(integration('bogus'), {
      type: 'Authenticated',
      status: 'False',
      reason: 'InvalidAuth',
    });
    expect(conditionOf(got)?.status).toBe('False');
    expect(conditionOf(got, 'Stalled')?.status).toBe('True');
    expect(JSON.stringify(got.status)).not.toContain('xoxb-not-a-real-token');
  });

  it('reports a missing Secret, then recovers when it appears', async () => {
    await createIntegration(env.opNs, 'late', { apiURL: env.slack.apiUrl });
    await waitForCondition(integration('late'), { status: 'False', reason: 'SecretNotFound' });
    // the metric the chart's JobheraldIntegrationNotReady alert reads says what the status says
    const series = new RegExp(`^jobherald_integration_ready\\{integration="${env.opNs}/late"\\} (\\d)$`, 'm');
    const readiness = async () => series.exec(await env.operator!.metrics())?.[1];
    expect(await readiness()).toBe('0');
    await createTokenSecret(env.opNs, 'late-token', 'xoxb-demo');
    const got = await waitForCondition(integration('late'), { status: 'True' });
    expect(got.status?.workspace).toMatchObject({ id: 'T0DEMO0001', name: 'Demo', botUserID: 'U0JOBHERLD' });
    expect(got.status?.scopes).toContain('chat:write');
    expect(await readiness()).toBe('1');
  });

  it('reports a Secret without the token key', async () => {
    await kube().core.createNamespacedSecret({
      namespace: env.opNs,
      body: { metadata: { name: 'keyless-token' }, stringData: { other: 'x' } },
    });
    await createIntegration(env.opNs, 'keyless', { apiURL: env.slack.apiUrl });
    const got = await waitForCondition(integration('keyless'), {
      status: 'False',
      reason: 'SecretKeyMissing',
    });
    expect(conditionOf(got)?.message).toContain('"token"');
  });
});

describe('a token without the scopes a rule needs', () => {
  const ns = useNamespace('scopes');

  it('names the missing scope and the feature on the rule that needs it; the integration and other rules keep working', async () => {
    // enough to post, find and join channels; no usergroups:read
    await env.slack.control.addToken({
      token: 'xoxb-narrow',
      type: 'bot',
      scopes: ['chat:write', 'channels:read', 'channels:join', 'groups:read'],
    });
    await createTokenSecret(env.opNs, 'narrow-token', 'xoxb-narrow');
    await createIntegration(env.opNs, 'narrow', {
      apiURL: env.slack.apiUrl,
      allowedNamespaces: { from: 'All' },
    });
    await createRule(ns(), 'paged', {
      integrationRef: { name: 'narrow', namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
      mentions: [{ group: 'oncall' }],
    });
    await createRule(ns(), 'plain', {
      integrationRef: { name: 'narrow', namespace: env.opNs },
      events: ['Succeeded'],
      destinations: [{ channel: 'alerts' }],
    });
    const paged = await waitForCondition(() => getRule(ns(), 'paged'), {
      status: 'False',
      reason: 'MissingScope',
    });
    expect(conditionOf(paged)?.message).toContain('usergroups:read (mentions of user groups)');
    await waitForCondition(() => getRule(ns(), 'plain'), { status: 'True' });
    const got = await waitForCondition(integration('narrow'), {
      type: 'ScopesGranted',
      status: 'False',
      reason: 'MissingScope',
    });
    expect(conditionOf(got, 'ScopesGranted')?.message).toContain(
      `usergroups:read (mentions of user groups: ${ns()}/paged)`,
    );
    expect(conditionOf(got)?.status).toBe('True'); // the integration itself works
    const id = uniqueName('j');
    await createJob(ns(), `ok-${id}`);
    await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 20_000,
      until: (all) => all.some(about(`ok-${id}`)),
    });
  });
});

describe('a token revoked while running', () => {
  const ns = useNamespace('revoke');

  it('marks the integration not Authenticated, keeps the alert, and delivers it after the token is rotated', async () => {
    const scopes = [
      'chat:write',
      'channels:read',
      'channels:join',
      'groups:read',
      'users:read',
      'users:read.email',
      'usergroups:read',
    ];
    await env.slack.control.addToken({ token: 'xoxb-rotating-1', type: 'bot', scopes });
    await createTokenSecret(env.opNs, 'rotating-token', 'xoxb-rotating-1');
    await createIntegration(env.opNs, 'rotating', {
      apiURL: env.slack.apiUrl,
      allowedNamespaces: { from: 'All' },
    });
    await createRule(ns(), 'r', {
      integrationRef: { name: 'rotating', namespace: env.opNs },
      events: ['Succeeded'],
      destinations: [{ channel: 'alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'r'), { status: 'True' });
    const id = uniqueName('j');
    await createJob(ns(), `before-${id}`);
    await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 20_000,
      until: (all) => all.some(about(`before-${id}`)),
    });

    await env.slack.control.revokeToken('xoxb-rotating-1');
    await createJob(ns(), `during-${id}`);
    const got = await waitForCondition(integration('rotating'), {
      type: 'Authenticated',
      status: 'False',
      reason: 'TokenRevoked',
    });
    expect(conditionOf(got, 'Authenticated')?.message).toContain('token_revoked');
    await waitForCondition(() => getRule(ns(), 'r'), { status: 'False', reason: 'IntegrationNotReady' });
    expect((await env.slack.control.messages('alerts')).filter(about(`during-${id}`))).toHaveLength(0);

    // A new token in the Secret: the held alert goes out, once.
    await env.slack.control.addToken({ token: 'xoxb-rotating-2', type: 'bot', scopes });
    await kube().core.replaceNamespacedSecret({
      name: 'rotating-token',
      namespace: env.opNs,
      body: { metadata: { name: 'rotating-token' }, stringData: { token: 'xoxb-rotating-2' } },
    });
    await waitForCondition(integration('rotating'), { status: 'True' });
    const messages = await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 30_000,
      until: (all) => all.some(about(`during-${id}`)),
    });
    expect(messages.filter(about(`during-${id}`))).toHaveLength(1);
    expect(env.operator!.logs()).not.toContain('xoxb-rotating');
  });
});

describe('tenancy', () => {
  const ns = useNamespace('tenant');

  const rule = (namespace: string, name: string, spec: Partial<NotificationRuleSpec>) =>
    createRule(namespace, name, {
      integrationRef: { name: 'acme', namespace: env.opNs },
      events: ['Succeeded', 'Failed'],
      destinations: [{ channel: 'alerts' }],
      ...spec,
    });

  it('refuses a rule that selects another namespace from an untrusted one, and sends nothing about it', async () => {
    const victim = await createNamespace(uniqueName('victim'));
    try {
      await rule(ns(), 'spy', { selector: { namespaces: [victim] } });
      const got = await waitForCondition(() => getRule(ns(), 'spy'), {
        status: 'False',
        reason: 'CrossNamespaceNotAllowed',
      });
      expect(conditionOf(got)?.message).toContain(victim);
      // A rule in a trusted namespace may select it: its alert proves the Job was seen and the spy's was not sent.
      await rule(env.opNs, `watch-${victim}`, { selector: { namespaces: [victim] } });
      await waitForCondition(() => getRule(env.opNs, `watch-${victim}`), { status: 'True' });
      const job = `secret-${uniqueName('j')}`;
      await createJob(victim, job);
      await env.slack.control.waitForMessages({
        channel: 'alerts',
        timeoutMs: 20_000,
        until: (all) => all.some(about(job)),
      });
      expect((await env.slack.control.messages('alerts')).filter(about(job))).toHaveLength(1);
      expect((await getRule(ns(), 'spy')).status?.totals?.delivered ?? 0).toBe(0);
    } finally {
      await deleteNamespace(victim);
    }
  });

  it('refuses a rule whose namespace the integration does not admit', async () => {
    await createTokenSecret(env.opNs, 'private-token', 'xoxb-demo');
    await createIntegration(env.opNs, 'private', { apiURL: env.slack.apiUrl }); // allowedNamespaces defaults to Same
    await createRule(ns(), 'borrow', {
      integrationRef: { name: 'private', namespace: env.opNs },
      events: ['Succeeded'],
      destinations: [{ channel: 'alerts' }],
    });
    const got = await waitForCondition(() => getRule(ns(), 'borrow'), {
      status: 'False',
      reason: 'NamespaceNotAllowed',
    });
    expect(conditionOf(got)?.message).toContain('Same');
    // A control rule that is admitted sees the same Job: once its alert is there, the refused one would be too.
    await rule(ns(), 'control', {});
    await waitForCondition(() => getRule(ns(), 'control'), { status: 'True' });
    const job = `borrowed-${uniqueName('j')}`;
    await createJob(ns(), job);
    await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 20_000,
      until: (all) => all.some(about(job)),
    });
    expect((await env.slack.control.messages('alerts')).filter(about(job))).toHaveLength(1);
    expect((await getRule(ns(), 'borrow')).status?.totals?.delivered ?? 0).toBe(0);
  });

  it('admits namespaces by label with allowedNamespaces.from: Selector', async () => {
    await createTokenSecret(env.opNs, 'labelled-token', 'xoxb-demo');
    await createIntegration(env.opNs, 'labelled', {
      apiURL: env.slack.apiUrl,
      allowedNamespaces: { from: 'Selector', selector: { matchLabels: { 'slack-access': 'acme' } } },
    });
    const admitted = await createNamespace(uniqueName('granted'), { 'slack-access': 'acme' });
    try {
      await createRule(admitted, 'ok', {
        integrationRef: { name: 'labelled', namespace: env.opNs },
        events: ['Succeeded'],
        destinations: [{ channel: 'alerts' }],
      });
      await createRule(ns(), 'not-ok', {
        integrationRef: { name: 'labelled', namespace: env.opNs },
        events: ['Succeeded'],
        destinations: [{ channel: 'alerts' }],
      });
      await waitForCondition(() => getRule(admitted, 'ok'), { status: 'True' });
      await waitForCondition(() => getRule(ns(), 'not-ok'), {
        status: 'False',
        reason: 'NamespaceNotAllowed',
      });
    } finally {
      await deleteNamespace(admitted);
    }
  });

  it('reports what the API server cannot check as InvalidSpec', async () => {
    await rule(ns(), 'bad-link', { links: [{ text: 'Logs', url: 'https://logs.example.com/?job={job}' }] });
    const got = await waitForCondition(() => getRule(ns(), 'bad-link'), {
      status: 'False',
      reason: 'InvalidSpec',
    });
    expect(conditionOf(got)?.message).toContain('spec.links[0].url');
  });

  it('reports a rule whose integration does not exist', async () => {
    await createRule(ns(), 'orphan', {
      integrationRef: { name: 'nowhere', namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'orphan'), { status: 'False', reason: 'IntegrationNotFound' });
  });
});
