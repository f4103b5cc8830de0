// spec.onDelete, as CoreWeave's "Remove from workspace": deleting a SlackIntegration revokes its token or
// uninstalls the app, held by a finalizer until Slack answered, and released anyway when Slack cannot be reached
// (here after --slack-removal-timeout=4s instead of 2 minutes). Checked from outside: Slack's own answer to the
// token afterwards, the object gone, the Events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useOperatorEnvironment } from '../support/environment.ts';
import { eventually, kube } from '../support/kube.ts';
import {
  createIntegration,
  createTokenSecret,
  getIntegration,
  startOperator,
  waitForCondition,
  type OperatorProcess,
} from '../support/operator.ts';

const env = useOperatorEnvironment({ startOperator: false });
let operator: OperatorProcess;
const SCOPES = ['chat:write', 'channels:read', 'channels:join', 'groups:read'];
const GROUP = { group: 'jobherald.dev', version: 'v1alpha1', plural: 'slackintegrations' };

beforeAll(async () => {
  operator = await startOperator({ namespace: env.opNs, args: ['--slack-removal-timeout=4s'] });
  await operator.waitReady();
  await kube().core.createNamespacedSecret({
    namespace: env.opNs,
    body: { metadata: { name: 'slack-app' }, stringData: { 'client-secret': 'demo-client-secret' } },
  });
}, 120_000);
afterAll(async () => {
  await operator?.stop();
});

const authTest = async (token: string): Promise<{ ok: boolean; error?: string }> => {
  const response = await fetch(`${env.slack.apiUrl}auth.test`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.json()) as { ok: boolean; error?: string };
};

const remove = (name: string) =>
  kube().custom.deleteNamespacedCustomObject({ ...GROUP, namespace: env.opNs, name });

const gone = (name: string, timeoutMs = 30_000) =>
  eventually(
    `${name} to be deleted`,
    async () =>
      (await getIntegration(env.opNs, name).catch(() => undefined)) === undefined ? true : undefined,
    timeoutMs,
  );

async function events(name: string): Promise<{ reason?: string; type?: string; message?: string }[]> {
  const list = await kube().core.listNamespacedEvent({
    namespace: env.opNs,
    fieldSelector: `involvedObject.name=${name},involvedObject.kind=SlackIntegration`,
  });
  return list.items;
}

async function integrationWithToken(name: string, spec: Record<string, unknown>): Promise<string> {
  const token = `xoxb-${name}-token`;
  await env.slack.control.addToken({ token, type: 'bot', scopes: SCOPES });
  await createTokenSecret(env.opNs, `${name}-token`, token);
  await createIntegration(env.opNs, name, { apiURL: env.slack.apiUrl, ...spec });
  await waitForCondition(() => getIntegration(env.opNs, name), { status: 'True' });
  return token;
}

describe('spec.onDelete', () => {
  it('Keep (the default) puts no finalizer on and leaves the token alone', async () => {
    const token = await integrationWithToken('kept', {});
    expect((await getIntegration(env.opNs, 'kept')).metadata.finalizers ?? []).toEqual([]);
    await remove('kept');
    await gone('kept');
    expect((await authTest(token)).ok).toBe(true);
  });

  it('RevokeToken holds the deletion with a finalizer until the bot token is revoked', async () => {
    const token = await integrationWithToken('revoked', { onDelete: 'RevokeToken' });
    await eventually('the removal finalizer', async () =>
      (await getIntegration(env.opNs, 'revoked')).metadata.finalizers?.includes('jobherald.dev/slack-removal')
        ? true
        : undefined,
    );
    await remove('revoked');
    await gone('revoked');
    expect(await authTest(token)).toEqual({ ok: false, error: 'token_revoked' });
    expect((await events('revoked')).map((e) => e.reason)).toContain('RemovedFromSlack');
  });

  it('lets the deletion go after the timeout when Slack cannot be reached, and says so', async () => {
    await integrationWithToken('unreachable', { onDelete: 'RevokeToken' });
    await eventually('the removal finalizer', async () =>
      (await getIntegration(env.opNs, 'unreachable')).metadata.finalizers?.length ? true : undefined,
    );
    const fault = await env.slack.control.injectFault({
      method: 'auth.revoke',
      action: { kind: 'http', status: 503 },
    });
    try {
      const started = Date.now();
      await remove('unreachable');
      await gone('unreachable', 30_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000); // it waited for Slack first
      const reasons = (await events('unreachable')).map((e) => e.reason);
      expect(reasons).toContain('SlackRemovalRetrying');
      expect(reasons).toContain('SlackRemovalGaveUp');
    } finally {
      await env.slack.control.removeFault(fault);
    }
  });

  it('UninstallApp needs spec.oauth, and uninstalls the app: every token of it dies', async () => {
    await createTokenSecret(env.opNs, 'no-oauth-token', 'xoxb-demo');
    await createIntegration(env.opNs, 'no-oauth', { apiURL: env.slack.apiUrl, onDelete: 'UninstallApp' });
    await waitForCondition(() => getIntegration(env.opNs, 'no-oauth'), {
      status: 'False',
      reason: 'InvalidSpec',
    });

    const token = await integrationWithToken('uninstalled', {
      onDelete: 'UninstallApp',
      oauth: { clientID: '1000000001.2000000001', clientSecretRef: { name: 'slack-app' } },
    });
    await eventually('the removal finalizer', async () =>
      (await getIntegration(env.opNs, 'uninstalled')).metadata.finalizers?.length ? true : undefined,
    );
    await remove('uninstalled');
    await gone('uninstalled');
    expect(await authTest(token)).toEqual({ ok: false, error: 'account_inactive' });
    expect(await authTest('xoxb-demo')).toEqual({ ok: false, error: 'account_inactive' }); // the whole app
    await env.slack.control.reset();
  });
});
