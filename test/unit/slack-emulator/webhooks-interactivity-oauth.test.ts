// The doors other than the Web API: incoming webhooks, button clicks to a Request URL (signed,
// with a working response_url), and the OAuth install flow with token rotation.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  slackSignature,
  startSlackEmulator,
  type SlackEmulator,
} from '../../../src/dev/slack-emulator/index.ts';
import { call, ManualClock } from './raw-call.ts';

const clock = new ManualClock();
let slack: SlackEmulator;
const HOOK = '/services/T0DEMO0001/B0HOOK0001/demowebhooksecret';

beforeAll(async () => {
  slack = await startSlackEmulator({ rateLimits: 'off', clock });
});
afterAll(() => slack.stop());
beforeEach(() => slack.control.reset());

async function hook(body: unknown, path = HOOK, contentType = 'application/json') {
  const response = await fetch(`${slack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe('incoming webhooks', () => {
  it('answers plain ok and posts into the channel chosen at install, as the bot', async () => {
    expect(await hook({ text: 'hello', channel: '#general', username: 'ignored' })).toEqual({
      status: 200,
      type: 'text/html',
      text: 'ok',
    });
    const [message] = await slack.control.messages('alerts');
    expect(message).toMatchObject({ text: 'hello', poster: { userId: 'U0JOBHERLD', via: 'webhook' } });
    expect(message?.username).toBeUndefined();
  });

  it("answers Slack's error strings with their statuses", async () => {
    expect(await hook({})).toMatchObject({ status: 400, text: 'no_text' });
    expect(await hook('{not json')).toMatchObject({ status: 400, text: 'invalid_payload' });
    expect(await hook({ text: 'x', blocks: [{ type: 'nope' }] })).toMatchObject({
      status: 400,
      text: 'invalid_blocks',
    });
    expect(await hook({ text: 'x' }, '/services/T0DEMO0001/B0HOOK0001/wrong')).toMatchObject({
      status: 404,
      text: 'no_service',
    });
    await slack.control.setArchived('alerts', true);
    expect(await hook({ text: 'x' })).toMatchObject({ status: 410, text: 'channel_is_archived' });
  });

  it('accepts the legacy payload form field, and stops working once the app is uninstalled', async () => {
    const form = new URLSearchParams({ payload: JSON.stringify({ text: 'legacy' }) }).toString();
    expect(await hook(form, HOOK, 'application/x-www-form-urlencoded')).toMatchObject({
      status: 200,
      text: 'ok',
    });
    await slack.control.uninstall();
    expect(await hook({ text: 'x' })).toMatchObject({ status: 404, text: 'no_service' });
  });

  it('can be faulted like a method, under the name "webhook"', async () => {
    await slack.control.injectFault({
      method: 'webhook',
      action: { kind: 'http', status: 500, body: 'rollup_error' },
      count: 1,
    });
    expect(await hook({ text: 'x' })).toMatchObject({ status: 500, text: 'rollup_error' });
    expect((await slack.control.requestCounts()).webhook).toMatchObject({ calls: 1, failed: 1 });
  });
});

describe('interactivity', () => {
  let app: Server;
  let received: { headers: IncomingMessage['headers']; body: string }[] = [];

  beforeAll(async () => {
    app = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => app.close(() => resolve())));
  beforeEach(async () => {
    received = [];
    await slack.control.setRequestUrl(
      `http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/actions`,
    );
    await slack.control.setMembership('alerts', true);
  });

  it('signs like Slack: the published test vector', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  async function postWithButton(): Promise<string> {
    const attachments = [
      {
        color: 'danger',
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: 'Job *backup* failed' } },
          {
            type: 'actions',
            block_id: 'job-actions',
            elements: [
              {
                type: 'button',
                action_id: 'rerun',
                text: { type: 'plain_text', text: 'Re-run' },
                value: 'ns/backup',
                style: 'primary',
              },
            ],
          },
        ],
      },
    ];
    return (
      await call(slack.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: 'failed', attachments })
    ).body.ts as string;
  }

  it('POSTs a signed block_actions payload in one payload field to the Request URL', async () => {
    const ts = await postWithButton();
    const result = await slack.control.clickButton({
      channel: 'alerts',
      ts,
      actionId: 'rerun',
      userId: 'U0BOB00001',
    });
    expect(result.status).toBe(200);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const timestamp = Number(request?.headers['x-slack-request-timestamp']);
    expect(timestamp).toBe(Math.floor(clock.now() / 1000));
    expect(request?.headers['x-slack-signature']).toBe(
      slackSignature('demo-signing-secret', timestamp, request?.body ?? ''),
    );
    const payload = JSON.parse(new URLSearchParams(request?.body).get('payload') ?? '{}') as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0BOB00001', username: 'bob' },
      api_app_id: 'A0JOBHERLD',
      container: { type: 'message', message_ts: ts, channel_id: 'C0ALERTS01' },
      channel: { id: 'C0ALERTS01', name: 'alerts' },
      message: { ts, text: 'failed' },
      actions: [
        { action_id: 'rerun', block_id: 'job-actions', value: 'ns/backup', style: 'primary', type: 'button' },
      ],
    });
    expect(payload.response_url).toMatch(new RegExp(`^${slack.url}/actions/T0DEMO0001/`));
  });

  it('lets the app replace the message through response_url, at most 5 times', async () => {
    const ts = await postWithButton();
    const { payload } = await slack.control.clickButton({ channel: 'alerts', ts, actionId: 'rerun' });
    const respond = (body: unknown) =>
      fetch(String(payload.response_url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await respond({ replace_original: true, text: 'Re-run requested by bob' });
    expect(await first.json()).toEqual({ ok: true });
    expect((await slack.control.messages('alerts'))[0]).toMatchObject({
      ts,
      text: 'Re-run requested by bob',
      updates: 1,
    });
    for (let i = 0; i < 4; i++) expect((await respond({ text: 'ephemeral' })).status).toBe(200);
    const sixth = await respond({ text: 'too many' });
    expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
    const ephemeral = (await slack.control.messages('alerts')).filter((m) => m.ephemeralFor !== undefined);
    expect(ephemeral).toHaveLength(4);
  });

  it('says clearly when no Request URL is configured or the button does not exist', async () => {
    const ts = await postWithButton();
    await expect(slack.control.clickButton({ channel: 'alerts', ts, actionId: 'nope' })).rejects.toThrow(
      'has no element with action_id nope',
    );
    await slack.control.setRequestUrl(undefined);
    await expect(slack.control.clickButton({ channel: 'alerts', ts, actionId: 'rerun' })).rejects.toThrow(
      'no Request URL is configured',
    );
  });
});

describe('OAuth', () => {
  const client = { client_id: '1000000001.2000000001', client_secret: 'demo-client-secret' };

  it('authorize redirects with a code and the state; oauth.v2.access exchanges it once', async () => {
    const authorize = new URL(`${slack.url}/oauth/v2/authorize`);
    authorize.search = new URLSearchParams({
      client_id: client.client_id,
      scope: 'chat:write,channels:read,incoming-webhook',
      redirect_uri: 'https://operator.example/callback',
      state: 'csrf-123',
    }).toString();
    const redirect = await fetch(authorize, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://operator.example/callback');
    expect(location.searchParams.get('state')).toBe('csrf-123');
    const code = location.searchParams.get('code') ?? '';

    const exchange = (params: Record<string, string>) =>
      call(
        slack.apiUrl,
        'oauth.v2.access',
        { ...client, code, redirect_uri: 'https://operator.example/callback', ...params },
        { token: null },
      );
    expect((await exchange({ redirect_uri: 'https://elsewhere.example/' })).body.error).toBe(
      'bad_redirect_uri',
    );
    expect((await exchange({ client_secret: 'wrong' })).body.error).toBe('bad_client_secret');
    const granted = (await exchange({})).body;
    expect(granted).toMatchObject({
      ok: true,
      token_type: 'bot',
      scope: 'chat:write,channels:read,incoming-webhook',
      bot_user_id: 'U0JOBHERLD',
      app_id: 'A0JOBHERLD',
      team: { id: 'T0DEMO0001', name: 'Demo' },
      enterprise: null,
      authed_user: { id: 'U0ALICE001' },
      incoming_webhook: {
        channel_id: 'C0GENERAL1',
        url: expect.stringMatching(`^${slack.url}/services/T0DEMO0001/B`) as unknown,
      },
    });
    expect((await exchange({})).body.error).toBe('invalid_code');
    const token = granted.access_token as string;
    expect((await call(slack.apiUrl, 'auth.test', {}, { token })).body).toMatchObject({
      ok: true,
      bot_id: 'B0JOBHERLD',
    });
    const webhook = (granted.incoming_webhook as { url: string }).url;
    expect((await fetch(webhook, { method: 'POST', body: JSON.stringify({ text: 'hi' }) })).status).toBe(200);
  });

  it('takes client credentials by HTTP Basic too', async () => {
    const code = await slack.control.oauthCode(['chat:write']);
    const response = await fetch(`${slack.apiUrl}oauth.v2.access`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `code=${code}`,
    });
    expect(await response.json()).toMatchObject({ ok: true, token_type: 'bot', scope: 'chat:write' });
  });

  it('rotates tokens: they expire after 12 hours, and a refresh token works once', async () => {
    const rotating = await startSlackEmulator({
      rateLimits: 'off',
      clock,
      workspace: (() => {
        const w = slack.emulator.workspace;
        return { ...w, app: { ...w.app, tokenRotation: true } };
      })(),
    });
    try {
      const code = await rotating.control.oauthCode(['chat:write']);
      const granted = (await call(rotating.apiUrl, 'oauth.v2.access', { ...client, code }, { token: null }))
        .body;
      expect(granted).toMatchObject({
        access_token: expect.stringMatching(/^xoxe\.xoxb-/) as unknown,
        expires_in: 43_200,
      });
      clock.advance(43_200_000);
      const token = granted.access_token as string;
      expect((await call(rotating.apiUrl, 'auth.test', {}, { token })).body.error).toBe('token_expired');
      const refresh = {
        ...client,
        grant_type: 'refresh_token',
        refresh_token: granted.refresh_token as string,
      };
      const refreshed = (await call(rotating.apiUrl, 'oauth.v2.access', refresh, { token: null })).body;
      expect(
        (await call(rotating.apiUrl, 'auth.test', {}, { token: refreshed.access_token as string })).body.ok,
      ).toBe(true);
      expect((await call(rotating.apiUrl, 'oauth.v2.access', refresh, { token: null })).body.error).toBe(
        'invalid_refresh_token',
      );
    } finally {
      await rotating.stop();
    }
  });

  it('apps.uninstall checks the client, then every token dies', async () => {
    const uninstall = (secret: string) =>
      call(slack.apiUrl, 'apps.uninstall', { client_id: client.client_id, client_secret: secret });
    expect((await uninstall('wrong')).body.error).toBe('bad_client_secret');
    expect((await uninstall(client.client_secret)).body).toEqual({ ok: true });
    expect((await call(slack.apiUrl, 'auth.test')).body.error).toBe('account_inactive');
    expect((await call(slack.apiUrl, 'auth.test', {}, { token: 'xoxp-demo-alice' })).body.error).toBe(
      'token_revoked',
    );
  });
});
