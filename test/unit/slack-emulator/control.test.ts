// The control API: listing and waiting for messages, reset, membership and archive changes, token
// revocation, injected faults (per method and channel, by count or duration), request counts.
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { call, ManualClock } from './raw-call.ts';

const clock = new ManualClock();
let slack: SlackEmulator;
const api = (method: string, params: Record<string, unknown> = {}) => call(slack.apiUrl, method, params);
const post = (channel: string, text: string) => api('chat.postMessage', { channel, text });

beforeAll(async () => {
  slack = await startSlackEmulator({ rateLimits: 'off', clock });
});
afterAll(() => slack.stop());
beforeEach(async () => {
  await slack.control.reset();
  await slack.control.setMembership('alerts', true);
  await slack.control.setMembership('general', true);
});

describe('messages', () => {
  it('lists every channel in posting order, or one channel by name or ID', async () => {
    await post('C0ALERTS01', 'a1');
    await post('C0GENERAL1', 'g1');
    await post('C0ALERTS01', 'a2');
    expect((await slack.control.messages()).map((m) => m.text)).toEqual(['a1', 'g1', 'a2']);
    expect((await slack.control.messages('alerts')).map((m) => m.text)).toEqual(['a1', 'a2']);
    expect((await slack.control.messages('#general')).map((m) => m.text)).toEqual(['g1']);
    await expect(slack.control.messages('nope')).rejects.toThrow('unknown channel nope');
  });

  it('waitForMessages resolves when a post arrives after the wait began', async () => {
    const waiting = slack.control.waitForMessages({ channel: 'alerts', count: 2, timeoutMs: 5000 });
    await post('C0ALERTS01', 'first');
    await post('C0GENERAL1', 'elsewhere');
    await post('C0ALERTS01', 'second');
    expect((await waiting).map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('waitForMessages waits on a predicate, e.g. for an update', async () => {
    const ts = (await post('C0ALERTS01', 'running')).body.ts as string;
    const waiting = slack.control.waitForMessages({ channel: 'alerts', until: (m) => m[0]?.text === 'done' });
    await api('chat.update', { channel: 'C0ALERTS01', ts, text: 'done' });
    expect((await waiting)[0]).toMatchObject({ text: 'done', updates: 1 });
  });

  it('waitForMessages times out with what it saw', async () => {
    await post('C0ALERTS01', 'only one');
    await expect(
      slack.control.waitForMessages({ channel: 'alerts', count: 2, timeoutMs: 200 }),
    ).rejects.toThrow(/timed out waiting for messages in alerts; saw 1:\n {2}C0ALERTS01 \d+\.\d+: only one/);
  });

  it('reset clears messages and brings back the workspace as loaded', async () => {
    await post('C0ALERTS01', 'x');
    await slack.control.revokeToken('xoxb-demo');
    await slack.control.reset();
    expect(await slack.control.messages()).toEqual([]);
    expect((await api('auth.test')).body.ok).toBe(true);
    expect((await slack.control.workspace()).channels.find((c) => c.name === 'alerts')?.botIsMember).toBe(
      false,
    );
  });
});

describe('reset and rate limits', () => {
  it('reset brings back the rate limits the emulator started with', async () => {
    await slack.control.setRateLimits('slack');
    for (let i = 0; i < 3; i++) await post('C0ALERTS01', 'x');
    expect((await post('C0ALERTS01', 'x')).status).toBe(429);
    await slack.control.reset();
    await slack.control.setMembership('alerts', true);
    for (let i = 0; i < 10; i++) expect((await post('C0ALERTS01', 'x')).status).toBe(200);
  });
});

describe('workspace changes at run time', () => {
  it('kicks the bot out of a channel', async () => {
    await slack.control.setMembership('alerts', false);
    expect((await post('C0ALERTS01', 'x')).body.error).toBe('not_in_channel');
  });

  it('archives and unarchives a channel', async () => {
    await slack.control.setArchived('C0ALERTS01', true);
    expect((await post('C0ALERTS01', 'x')).body.error).toBe('is_archived');
    await slack.control.setArchived('C0ALERTS01', false);
    expect((await post('C0ALERTS01', 'x')).body.ok).toBe(true);
  });

  it('revokes a token with the error of choice', async () => {
    await slack.control.revokeToken('xoxb-demo', 'account_inactive');
    expect((await api('auth.test')).body.error).toBe('account_inactive');
    await expect(slack.control.revokeToken('xoxb-unknown')).rejects.toThrow('unknown token');
  });
});

describe('faults', () => {
  it('forces an error on one method and channel, for a number of calls', async () => {
    await slack.control.injectFault({
      method: 'chat.postMessage',
      channel: 'alerts',
      action: { kind: 'error', error: 'fatal_error' },
      count: 2,
    });
    expect((await post('C0GENERAL1', 'x')).body.ok).toBe(true);
    expect((await post('C0ALERTS01', 'x')).body).toEqual({ ok: false, error: 'fatal_error' });
    expect((await post('#alerts', 'x')).body.error).toBe('fatal_error');
    expect((await post('C0ALERTS01', 'x')).body.ok).toBe(true);
  });

  it('storms 429s with the chosen Retry-After for a duration', async () => {
    await slack.control.injectFault({
      method: '*',
      action: { kind: 'ratelimit', retryAfter: 7 },
      durationMs: 60_000,
    });
    for (const method of ['auth.test', 'conversations.list']) {
      const response = await api(method);
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
    }
    clock.advance(60_000);
    expect((await api('auth.test')).status).toBe(200);
  });

  it('answers with a 5xx status', async () => {
    await slack.control.injectFault({
      method: 'auth.test',
      action: { kind: 'http', status: 503, body: 'down' },
      count: 1,
    });
    const response = await api('auth.test');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ raw: 'down' });
    expect((await api('auth.test')).status).toBe(200);
  });

  it('drops the connection', async () => {
    await slack.control.injectFault({ method: 'auth.test', action: { kind: 'drop' }, count: 1 });
    await expect(api('auth.test')).rejects.toThrow('fetch failed');
    expect((await api('auth.test')).body.ok).toBe(true);
  });

  it('adds latency', async () => {
    await slack.control.injectFault({ method: 'auth.test', action: { kind: 'latency', ms: 150 }, count: 1 });
    const started = performance.now();
    expect((await api('auth.test')).body.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('lists, removes and clears faults', async () => {
    const id = await slack.control.injectFault({
      method: 'auth.test',
      action: { kind: 'error', error: 'fatal_error' },
    });
    await slack.control.removeFault(id);
    expect((await api('auth.test')).body.ok).toBe(true);
    await slack.control.injectFault({ action: { kind: 'error', error: 'fatal_error' } });
    await slack.control.clearFaults();
    expect((await api('auth.test')).body.ok).toBe(true);
    await expect(slack.control.injectFault({ action: { kind: 'ratelimit' } as never })).rejects.toThrow(
      'retryAfter',
    );
  });
});

describe('request counts', () => {
  it('counts calls per method and how they ended', async () => {
    await post('C0ALERTS01', 'ok');
    await post('C0OPSPRIV1', 'not found');
    await api('nope.nothing');
    const counts = await slack.control.requestCounts();
    expect(counts['chat.postMessage']).toEqual({ calls: 2, ok: 1, errors: 1, rateLimited: 0, failed: 0 });
    expect(counts['nope.nothing']?.errors).toBe(1);
    await slack.control.resetRequestCounts();
    expect(await slack.control.requestCounts()).toEqual({});
  });
});

describe('lifecycle', () => {
  it('listens on the port asked for and frees it on stop', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const other = await startSlackEmulator({ port });
    expect(other.url).toBe(`http://127.0.0.1:${port}`);
    expect(other.apiUrl).toBe(`http://127.0.0.1:${port}/api/`);
    await other.stop();
    const again = await startSlackEmulator({ port });
    await again.stop();
  });
});

describe('clock and token rotation', () => {
  const client = { client_id: '1000000001.2000000001', client_secret: 'demo-client-secret' };

  it("advances the emulator's own clock, forward only, so a rotating token expires without waiting", async () => {
    const own = await startSlackEmulator({ rateLimits: 'off' });
    try {
      await own.control.setTokenRotation(true);
      const code = await own.control.oauthCode(['chat:write']);
      const granted = (await call(own.apiUrl, 'oauth.v2.access', { ...client, code }, { token: null })).body;
      const token = granted.access_token as string;
      expect(token).toMatch(/^xoxe\.xoxb-/);
      expect((await call(own.apiUrl, 'auth.test', {}, { token })).body.ok).toBe(true);
      expect(await own.control.advanceClock(11 * 3_600_000)).toBe(11 * 3_600_000);
      expect((await call(own.apiUrl, 'auth.test', {}, { token })).body.ok).toBe(true);
      await own.control.advanceClock(3_600_000);
      expect((await call(own.apiUrl, 'auth.test', {}, { token })).body.error).toBe('token_expired');
      await expect(own.control.advanceClock(-1)).rejects.toThrow('advanceMs');
      // reset restores the start-up setting: plain tokens again
      await own.control.reset();
      const plain = await own.control.oauthCode(['chat:write']);
      const after = (await call(own.apiUrl, 'oauth.v2.access', { ...client, code: plain }, { token: null }))
        .body;
      expect(after.access_token).toMatch(/^xoxb-/);
      expect(after).not.toHaveProperty('refresh_token');
    } finally {
      await own.stop();
    }
  });

  it('refuses to move a clock the caller passed in', async () => {
    await expect(slack.control.advanceClock(1000)).rejects.toThrow('clock of its caller');
  });
});
