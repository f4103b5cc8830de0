// Token rotation (a Slack app with rotation on: xoxe.xoxb- tokens that expire after 12 hours, single-use
// refresh tokens) against the real control plane and the emulator, the operator as a process. The emulator's
// clock is moved forward instead of waiting: a token "installed 10 hours ago" is due, one 13 hours old has
// expired. Each refresh is checked from outside: the Secret's keys, Slack's answer to the spent refresh token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useOperatorEnvironment, alertsAbout } from '../support/environment.ts';
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
  getIntegration,
  getRule,
  waitForCondition,
} from '../support/operator.ts';

const env = useOperatorEnvironment();
const HOUR = 3_600_000;
const APP = { client_id: '1000000001.2000000001', client_secret: 'demo-client-secret' };
const SCOPES = [
  'chat:write',
  'channels:read',
  'channels:join',
  'groups:read',
  'users:read',
  'users:read.email',
];

interface Grant {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

/** oauth.v2.access on the emulator, as the app would call it. */
async function oauthAccess(params: Record<string, string>): Promise<Grant & { ok: boolean; error?: string }> {
  const response = await fetch(`${env.slack.apiUrl}oauth.v2.access`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...APP, ...params }).toString(),
  });
  return (await response.json()) as Grant & { ok: boolean; error?: string };
}

/** An install of the app with rotation on: the grant Slack gives for a fresh code. */
async function install(): Promise<Grant> {
  await env.slack.control.setTokenRotation(true);
  const code = await env.slack.control.oauthCode(SCOPES);
  const grant = await oauthAccess({ code });
  expect(grant.ok).toBe(true);
  return grant;
}

const rotatingSecret = (
  name: string,
  grant: Pick<Grant, 'access_token' | 'refresh_token'>,
  expiresAt: number,
) =>
  kube().core.createNamespacedSecret({
    namespace: env.opNs,
    body: {
      metadata: { name },
      stringData: {
        token: grant.access_token,
        'refresh-token': grant.refresh_token,
        'expires-at': new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    },
  });

async function secretData(name: string): Promise<Record<string, string>> {
  const secret = await kube().core.readNamespacedSecret({ namespace: env.opNs, name });
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

beforeAll(async () => {
  await kube().core.createNamespacedSecret({
    namespace: env.opNs,
    body: { metadata: { name: 'slack-app' }, stringData: { 'client-secret': APP.client_secret } },
  });
});

describe('a rotating token in the Secret tokenSecretRef names', () => {
  // one namespace for the whole story: its rule outlives each step
  let rulesNs = '';
  const ns = () => rulesNs;
  beforeAll(async () => {
    rulesNs = await createNamespace(uniqueName('rotate'));
  });
  afterAll(async () => {
    if (rulesNs !== '') await deleteNamespace(rulesNs);
  });
  let installed: Grant;

  it('is refreshed before it expires, stored back with the new refresh token, and the spent one is dead', async () => {
    installed = await install();
    // installed "10 hours ago": 2 hours left, within the refresh margin
    await env.slack.control.advanceClock(10 * HOUR);
    await rotatingSecret('rot-token', installed, Date.now() + 2 * HOUR);
    await createIntegration(env.opNs, 'rot', {
      apiURL: env.slack.apiUrl,
      allowedNamespaces: { from: 'All' },
      oauth: { clientID: APP.client_id, clientSecretRef: { name: 'slack-app' } },
    });
    const ready = await waitForCondition(() => getIntegration(env.opNs, 'rot'), { status: 'True' });
    const stored = await secretData('rot-token');
    expect(stored.token).toMatch(/^xoxe\.xoxb-/);
    expect(stored.token).not.toBe(installed.access_token);
    expect(stored['refresh-token']).not.toBe(installed.refresh_token);
    const expiresAt = Date.parse(stored['expires-at'] ?? '');
    expect(expiresAt - Date.now()).toBeGreaterThan(11 * HOUR);
    expect(ready.status?.token).toMatchObject({ secretName: 'rot-token', expiresAt: stored['expires-at'] });
    expect(Date.parse(ready.status?.token?.refreshAfter ?? '')).toBe(expiresAt - 3 * HOUR);
    expect(ready.status?.token?.refreshedAt).toBeDefined();
    expect(
      (await oauthAccess({ grant_type: 'refresh_token', refresh_token: installed.refresh_token })).error,
    ).toBe('invalid_refresh_token');
    expect(JSON.stringify(ready.status)).not.toMatch(/xoxe/);
  });

  it('alerts with the refreshed token', async () => {
    await createRule(ns(), 'r', {
      integrationRef: { name: 'rot', namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'r'), { status: 'True' });
    const job = `after-refresh-${uniqueName('j')}`;
    await createJob(ns(), job, { exitCode: 1 });
    expect(await alertsAbout(env.slack, 'alerts', [job])).toHaveLength(1);
  });

  it('is refreshed at once when Slack says token_expired, and the alert that met it goes out once', async () => {
    const before = await secretData('rot-token');
    // 13 hours later the stored token has expired, though its expires-at (the operator's clock) says otherwise
    await env.slack.control.advanceClock(13 * HOUR);
    const job = `expired-${uniqueName('j')}`;
    await createJob(ns(), job, { exitCode: 1 });
    expect(await alertsAbout(env.slack, 'alerts', [job], 30_000)).toHaveLength(1);
    const after = await secretData('rot-token');
    expect(after['refresh-token']).not.toBe(before['refresh-token']);
    expect(after.token).not.toBe(before.token);
    await waitForCondition(() => getIntegration(env.opNs, 'rot'), { status: 'True' });
  });

  it('stalls with RefreshTokenInvalid when its refresh token was spent elsewhere; held alerts go out once a token is back', async () => {
    await env.slack.control.advanceClock(13 * HOUR); // the stored token expires again
    const stored = await secretData('rot-token');
    // someone else spends the stored refresh token (and keeps what Slack gave them)
    const elsewhere = await oauthAccess({
      grant_type: 'refresh_token',
      refresh_token: stored['refresh-token']!,
    });
    expect(elsewhere.ok).toBe(true);
    const job = `held-${uniqueName('j')}`;
    await createJob(ns(), job, { exitCode: 1 });
    const stalled = await waitForCondition(
      () => getIntegration(env.opNs, 'rot'),
      { type: 'Authenticated', status: 'False', reason: 'RefreshTokenInvalid' },
      30_000,
    );
    expect(conditionOf(stalled, 'Stalled')?.status).toBe('True');
    expect(conditionOf(stalled, 'Authenticated')?.message).toContain('rot-token');
    expect(
      (await env.slack.control.messages('alerts')).filter((m) => JSON.stringify(m).includes(job)),
    ).toEqual([]);

    // the tokens they got are put into the Secret: the held alert goes out, once
    await kube().core.replaceNamespacedSecret({
      namespace: env.opNs,
      name: 'rot-token',
      body: {
        metadata: { name: 'rot-token' },
        stringData: {
          token: elsewhere.access_token,
          'refresh-token': elsewhere.refresh_token,
          'expires-at': new Date(Date.now() + 12 * HOUR).toISOString(),
        },
      },
    });
    await waitForCondition(() => getIntegration(env.opNs, 'rot'), { status: 'True' });
    expect(await alertsAbout(env.slack, 'alerts', [job], 30_000)).toHaveLength(1);
    expect(env.operator!.logs()).not.toMatch(/xoxe[.-]/);
  });
});

describe('spec.tokenRotation.secretName: a Secret something else owns', () => {
  it('leaves the user’s Secret alone and keeps the refreshed token in a Secret the operator owns', async () => {
    const grant = await install();
    await rotatingSecret('gitops-token', grant, Date.now() + HOUR);
    const created = await createIntegration(env.opNs, 'gitops', {
      apiURL: env.slack.apiUrl,
      tokenSecretRef: { name: 'gitops-token' },
      oauth: { clientID: APP.client_id, clientSecretRef: { name: 'slack-app' } },
      tokenRotation: { secretName: 'gitops-token-rotated' },
    });
    const ready = await waitForCondition(() => getIntegration(env.opNs, 'gitops'), { status: 'True' });
    expect(ready.status?.token?.secretName).toBe('gitops-token-rotated');
    expect((await secretData('gitops-token')).token).toBe(grant.access_token); // untouched
    const owned = await kube().core.readNamespacedSecret({
      namespace: env.opNs,
      name: 'gitops-token-rotated',
    });
    expect(owned.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'SlackIntegration',
        name: 'gitops',
        uid: created.metadata.uid,
        controller: true,
      }),
    ]);
    expect(Buffer.from(owned.data?.token ?? '', 'base64').toString()).not.toBe(grant.access_token);
    expect(owned.metadata?.annotations?.['jobherald.dev/seeded-from']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses tokenRotation.secretName naming tokenSecretRef’s own Secret', async () => {
    await rotatingSecret(
      'same-token',
      { access_token: 'xoxe.xoxb-x', refresh_token: 'xoxe-1-x' },
      Date.now() + HOUR,
    );
    await createIntegration(env.opNs, 'same', {
      apiURL: env.slack.apiUrl,
      tokenSecretRef: { name: 'same-token' },
      oauth: { clientID: APP.client_id, clientSecretRef: { name: 'slack-app' } },
      tokenRotation: { secretName: 'same-token' },
    });
    const got = await waitForCondition(() => getIntegration(env.opNs, 'same'), {
      status: 'False',
      reason: 'InvalidSpec',
    });
    expect(conditionOf(got)?.message).toContain('spec.tokenRotation.secretName');
  });
});

describe('a rotating token without spec.oauth', () => {
  const ns = useNamespace('bare');

  it('works, says in status that it cannot be refreshed, and once Slack says token_expired names the remedy', async () => {
    const grant = await install();
    await rotatingSecret('bare-token', grant, Date.now() + HOUR);
    await createIntegration(env.opNs, 'bare', {
      apiURL: env.slack.apiUrl,
      allowedNamespaces: { from: 'All' },
    });
    const ready = await waitForCondition(() => getIntegration(env.opNs, 'bare'), { status: 'True' });
    expect(ready.status?.token?.refreshError).toContain('spec.oauth');
    expect(ready.status?.token?.refreshAfter).toBeUndefined();
    await createRule(ns(), 'r', {
      integrationRef: { name: 'bare', namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'r'), { status: 'True' });
    await env.slack.control.advanceClock(13 * HOUR);
    // the alert meets token_expired: the integration says so, and the alert waits for a token
    const job = `bare-${uniqueName('j')}`;
    await createJob(ns(), job, { exitCode: 1 });
    const expired = await waitForCondition(
      () => getIntegration(env.opNs, 'bare'),
      { type: 'Authenticated', status: 'False', reason: 'TokenRotationNotConfigured' },
      30_000,
    );
    expect(conditionOf(expired, 'Stalled')?.status).toBe('True');
    expect(conditionOf(expired, 'Authenticated')?.message).toMatch(/expired.*spec\.oauth/);
    expect(
      (await env.slack.control.messages('alerts')).filter((m) => JSON.stringify(m).includes(job)),
    ).toEqual([]);
  });
});
