// Installing the Slack app by OAuth, declared in Git: a SlackIntegration with spec.oauth gets a one-time install
// link in its status; a person opens it (headless Chromium), approves on the emulator's install page, comes
// back to the operator's redirect endpoint, and the token lands in the Secret tokenSecretRef names. Then every
// failure a person can cause: a used link, a cancelled install, an edited or expired link, the wrong workspace.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/cluster/ports.ts';
import { peekState, signState } from '../../src/oauth/state.ts';
import type { SlackIntegration } from '../../src/api/types.ts';
import { useOperatorEnvironment } from '../support/environment.ts';
import { eventually, kube } from '../support/kube.ts';
import {
  conditionOf,
  createIntegration,
  createTokenSecret,
  getIntegration,
  startOperator,
  waitForCondition,
  type OperatorProcess,
} from '../support/operator.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = new URL('../..', import.meta.url).pathname;
const APP = { clientID: '1000000001.2000000001', clientSecret: 'demo-client-secret' };

const env = useOperatorEnvironment({ startOperator: false });
let operator: OperatorProcess;
let publicURL = '';
let browser: BrowserContext;
let userDataDir = '';

beforeAll(async () => {
  const port = await freePort();
  publicURL = `http://127.0.0.1:${port}`;
  operator = await startOperator({
    namespace: env.opNs,
    args: [`--oauth-bind-address=127.0.0.1:${port}`, `--oauth-public-url=${publicURL}`],
  });
  await operator.waitReady();
  await kube().core.createNamespacedSecret({
    namespace: env.opNs,
    body: { metadata: { name: 'slack-app' }, stringData: { 'client-secret': APP.clientSecret } },
  });
  userDataDir = mkdtempSync(join(tmpdir(), 'jobherald-oauth-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
  await operator?.stop();
});

const oauth = { clientID: APP.clientID, clientSecretRef: { name: 'slack-app' } };

async function installLink(name: string): Promise<string> {
  return eventually(
    `${name}'s install link`,
    async () => (await getIntegration(env.opNs, name)).status?.install?.url,
  );
}

/** Follows the link without a browser: the emulator's page approves at once and redirects to the operator. */
async function follow(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

const callback = (params: Record<string, string>) =>
  follow(`${publicURL}/slack/oauth/callback?${new URLSearchParams(params).toString()}`);

async function secretData(name: string): Promise<Record<string, string> | undefined> {
  const secret = await kube()
    .core.readNamespacedSecret({ namespace: env.opNs, name })
    .catch(() => undefined);
  if (secret === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
}

const lastAttempt = (name: string, reason: string) =>
  waitForCondition(() => getIntegration(env.opNs, name), {
    type: 'Installed',
    status: reason === 'Installed' ? 'True' : 'False',
    reason,
  });

describe('an install by OAuth', () => {
  let firstLink = '';

  it('shows a one-time install link while no token exists, and jobherald install-url prints it', async () => {
    await createIntegration(env.opNs, 'oauthed', {
      apiURL: env.slack.apiUrl,
      oauth,
      workspace: { teamID: 'T0DEMO0001' },
    });
    firstLink = await installLink('oauthed');
    const link = new URL(firstLink);
    expect(`${link.origin}${link.pathname}`).toBe(new URL('/oauth/v2/authorize', env.slack.url).toString());
    expect(link.searchParams.get('client_id')).toBe(APP.clientID);
    expect(link.searchParams.get('redirect_uri')).toBe(`${publicURL}/slack/oauth/callback`);
    expect(link.searchParams.get('scope')?.split(',')).toContain('chat:write');
    expect(link.searchParams.get('team')).toBe('T0DEMO0001');
    expect(peekState(link.searchParams.get('state') ?? '')).toMatchObject({
      namespace: env.opNs,
      name: 'oauthed',
    });
    const got = await waitForCondition(() => getIntegration(env.opNs, 'oauthed'), {
      status: 'False',
      reason: 'SecretNotFound',
    });
    expect(conditionOf(got)?.message).toContain('jobherald install-url oauthed');
    expect(JSON.stringify(got.status)).not.toContain(APP.clientSecret);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['src/main.ts', 'install-url', 'oauthed', '-n', env.opNs, `--kubeconfig=${inject('kubeconfig')}`],
      { cwd: ROOT, timeout: 60_000 },
    );
    expect(stdout.trim()).toBe(firstLink);
  });

  it('installs in a browser: approve on Slack’s page, land on a page that says so, the token is stored and the integration Ready', async () => {
    const page = await browser.newPage();
    await page.goto(firstLink);
    await page.getByRole('heading', { name: 'jobherald is installed' }).waitFor({ timeout: 30_000 });
    expect(page.url()).toMatch(new RegExp(`^${publicURL}/slack/oauth/callback\\?`));
    expect(await page.textContent('body')).toContain(
      `kubectl wait --for=condition=Ready slackintegration/oauthed -n ${env.opNs}`,
    );
    await page.close();
    const stored = await secretData('oauthed-token');
    expect(stored?.token).toMatch(/^xoxb-T0DEMO0001-/);
    const ready = await waitForCondition(() => getIntegration(env.opNs, 'oauthed'), { status: 'True' });
    expect(ready.status?.workspace?.id).toBe('T0DEMO0001');
    // the token Secret is written before the attempt is recorded: Ready may come first, Installed follows
    await lastAttempt('oauthed', 'Installed');
    // the link was used up: a fresh one replaces it
    await eventually('a fresh install link', async () => {
      const url = (await getIntegration(env.opNs, 'oauthed')).status?.install?.url;
      return url !== undefined && url !== firstLink ? url : undefined;
    });
    expect(operator.logs()).not.toContain(stored?.token ?? 'no token');
  });

  it('refuses the used link again, with a page and InstallLinkUsed', async () => {
    const before = await secretData('oauthed-token');
    const page = await follow(firstLink);
    expect(page.status).toBe(400);
    expect(page.text).toContain('This install link was used already');
    expect(page.text).toContain('jobherald install-url');
    await lastAttempt('oauthed', 'InstallLinkUsed');
    expect(await secretData('oauthed-token')).toEqual(before);
  });

  it('reports a cancelled install (error=access_denied)', async () => {
    const state = new URL(await installLink('oauthed')).searchParams.get('state')!;
    const page = await callback({ error: 'access_denied', state });
    expect(page.text).toContain('The install was cancelled');
    await lastAttempt('oauthed', 'InstallDenied');
  });

  it('refuses an edited link and an expired one', async () => {
    const state = new URL(await installLink('oauthed')).searchParams.get('state')!;
    const claims = peekState(state)!;
    const edited = signState({ ...claims, nonce: `${claims.nonce}x` }, 'not-the-client-secret');
    expect((await callback({ code: 'x', state: edited })).text).toContain('This install link is not valid');
    await lastAttempt('oauthed', 'InstallLinkInvalid');
    const expired = signState({ ...claims, expiresAt: Date.now() - 1000 }, APP.clientSecret);
    expect((await callback({ code: 'x', state: expired })).text).toContain('This install link has expired');
    await lastAttempt('oauthed', 'InstallLinkExpired');
  });

  it('refuses an install into another workspace than spec.workspace and stores nothing', async () => {
    await createIntegration(env.opNs, 'elsewhere', {
      apiURL: env.slack.apiUrl,
      oauth,
      workspace: { teamID: 'T0OTHER001' },
    });
    const page = await follow(await installLink('elsewhere'));
    expect(page.status).toBe(403);
    expect(page.text).toContain('This is not the workspace this integration is for');
    const got: SlackIntegration = await lastAttempt('elsewhere', 'WrongWorkspace');
    expect(conditionOf(got, 'Installed')?.message).toContain('T0DEMO0001');
    expect(await secretData('elsewhere-token')).toBeUndefined();
  });

  it('over a working token, takes no install while spec.workspace is unset, and the token in use stays', async () => {
    await createTokenSecret(env.opNs, 'unpinned-token', 'xoxb-demo');
    await createIntegration(env.opNs, 'unpinned', { apiURL: env.slack.apiUrl, oauth });
    await waitForCondition(() => getIntegration(env.opNs, 'unpinned'), { status: 'True' });
    const before = await secretData('unpinned-token');
    const page = await follow(await installLink('unpinned'));
    expect(page.status).toBe(403);
    expect(page.text).toContain('Set spec.workspace to install over a working token');
    await lastAttempt('unpinned', 'WrongWorkspace');
    expect(await secretData('unpinned-token')).toEqual(before);
    expect(before?.token).toBe('xoxb-demo');
    const still = await getIntegration(env.opNs, 'unpinned');
    expect(conditionOf(still, 'Ready')?.status).toBe('True');
    expect(conditionOf(still, 'Authenticated')?.status).toBe('True');
  });
});
