// The Slack client and the dispatcher against the project's Slack emulator (src/dev/slack-emulator): real
// WebClient, real HTTP, Slack's error shapes, membership, faults and rate limits.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { Dispatcher } from '../../../src/delivery/dispatcher.ts';
import type { DeliveryItem, SendResult } from '../../../src/delivery/types.ts';
import { AuthError, ChannelUnavailableError, PermanentError, RateLimitedError } from '../../../src/errors.ts';
import { createSlackClient } from '../../../src/slack/client.ts';
import type { SlackPort } from '../../../src/slack/port.ts';

const TOKEN = 'xoxb-demo';
const ALERTS = 'C0ALERTS01';
const PRIVATE = 'C0OPSPRIV1';
const ARCHIVED = 'C0OLDALRT1';

let slack: SlackEmulator;
let port: SlackPort;

beforeAll(async () => {
  slack = await startSlackEmulator({ rateLimits: 'off' });
});
afterAll(async () => {
  await slack.stop();
});
beforeEach(async () => {
  await slack.control.reset();
  await slack.control.setRateLimits('off');
  port = createSlackClient({ token: TOKEN, apiURL: slack.apiUrl, timeoutMs: 5_000 });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('Slack client against the emulator', () => {
  it('authenticates and reports the bot, team and scopes', async () => {
    const auth = await port.authTest();
    expect(auth).toMatchObject({ teamId: 'T0DEMO0001', userId: 'U0JOBHERLD', botId: 'B0JOBHERLD' });
    expect(auth.scopes).toContain('chat:write');
  });

  it('gets not_in_channel before joining, joins (idempotently), posts, and leaves', async () => {
    const before = await rejection(port.postMessage(ALERTS, { text: 'hello' }));
    expect(before).toBeInstanceOf(ChannelUnavailableError);
    expect((before as ChannelUnavailableError).code).toBe('not_in_channel');

    expect(await port.join(ALERTS)).toEqual({ alreadyMember: false });
    expect(await port.join(ALERTS)).toEqual({ alreadyMember: true });
    const posted = await port.postMessage(ALERTS, { text: 'Job failed: data/nightly' });
    expect(posted.channel).toBe(ALERTS);
    const messages = await slack.control.messages(ALERTS);
    expect(messages.map((m) => [m.ts, m.text])).toEqual([[posted.ts, 'Job failed: data/nightly']]);

    // leaving needs channels:manage, which the demo token lacks (leaveUnused is opt-in)
    const noScope = await rejection(port.leave(ALERTS));
    expect(noScope).toBeInstanceOf(PermanentError);
    expect(noScope).toMatchObject({ code: 'missing_scope' });
    expect(noScope.message).toContain('channels:manage');
    await slack.control.addToken({
      token: 'xoxb-demo-manage',
      type: 'bot',
      scopes: ['chat:write', 'channels:read', 'channels:join', 'channels:manage'],
    });
    const manager = createSlackClient({ token: 'xoxb-demo-manage', apiURL: slack.apiUrl });
    expect(await manager.leave(ALERTS)).toEqual({ wasMember: true });
    expect(await manager.leave(ALERTS)).toEqual({ wasMember: false });
  });

  it('maps a private channel without the bot and an archived channel to ChannelUnavailableError', async () => {
    expect(await rejection(port.postMessage(PRIVATE, { text: 'x' }))).toMatchObject({
      code: 'channel_not_found',
    });
    const archived = await rejection(port.join(ARCHIVED));
    expect(archived).toBeInstanceOf(ChannelUnavailableError);
    expect(archived).toMatchObject({ code: 'is_archived' });
  });

  it('lists conversations, looks users up and resolves user groups', async () => {
    const channels = await port.listConversations({ types: ['public_channel', 'private_channel'] });
    expect(channels.map((c) => c.id)).toEqual(expect.arrayContaining([ALERTS, ARCHIVED]));
    expect(channels.find((c) => c.id === ARCHIVED)?.isArchived).toBe(true);
    const active = await port.listConversations({ types: ['public_channel'], excludeArchived: true });
    expect(active.map((c) => c.id)).not.toContain(ARCHIVED);
    expect(await port.lookupUserByEmail('alice@example.com')).toBe('U0ALICE001');
    const missing = await rejection(port.lookupUserByEmail('nobody@example.com'));
    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing).toMatchObject({ code: 'users_not_found' });
    expect((await port.listUserGroups()).get('oncall')).toBe('S0ONCALL01');
  });

  it('maps a revoked token to AuthError and a 429 to RateLimitedError', async () => {
    await port.join(ALERTS);
    await slack.control.injectFault({
      method: 'chat.postMessage',
      channel: ALERTS,
      action: { kind: 'ratelimit', retryAfter: 4 },
      count: 1,
    });
    const limited = await rejection(port.postMessage(ALERTS, { text: 'x' }));
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(4_000);

    await slack.control.revokeToken(TOKEN, 'account_inactive');
    const dead = await rejection(port.postMessage(ALERTS, { text: 'x' }));
    expect(dead).toBeInstanceOf(AuthError);
    expect(dead).toMatchObject({ code: 'account_inactive' });
    expect(dead.message).not.toContain(TOKEN);
  });
});

describe('Dispatcher against the emulator', () => {
  const item = (n: number, destination: string): DeliveryItem => ({
    id: `i${n}`,
    key: { jobUID: `uid-${n}`, event: 'Failed', destination: 'channel:alerts' },
    rule: { namespace: 'data', name: 'etl-failures', uid: 'rule-uid' },
    job: `data/job-${n}`,
    event: 'Failed',
    outcome: { event: 'Failed', at: new Date().toISOString() },
    destination,
    destinationLabel: '#alerts',
    message: { text: `alert ${n}` },
    observedAt: Date.now(),
  });

  it('joins on not_in_channel through the hook, survives a 429 and a 503, and delivers each alert once in order', async () => {
    await slack.control.injectFault({
      method: 'chat.postMessage',
      action: { kind: 'ratelimit', retryAfter: 0 },
      count: 1,
    });
    await slack.control.injectFault({
      method: 'chat.postMessage',
      action: { kind: 'http', status: 503 },
      count: 1,
    });
    const results: [string, SendResult][] = [];
    const dispatcher: Dispatcher = new Dispatcher({
      integration: 'jobherald-system/demo',
      port,
      // a burst of 5 so the failed attempts do not make this real-time test wait for the bucket
      limits: { backoffBaseMs: 10, digestCapacity: 40, channelBurst: 5 },
      renderDigest: (items) => ({ text: `digest ${items.map((i) => i.id).join(',')}` }),
      onResult: (i, r) => results.push([i.id, r]),
      // what the integration reconciler does: re-check membership, join, resume
      onChannelUnavailable: (channel) => {
        void port.join(channel).then(() => dispatcher.resume(channel));
      },
    });
    // the first alert meets the 429, then the 503, then not_in_channel; the rest pile up behind it
    for (let n = 0; n < 12; n++) dispatcher.enqueue(item(n, ALERTS));
    await dispatcher.drain();

    expect(results.map(([id]) => id)).toEqual(Array.from({ length: 12 }, (_, n) => `i${n}`));
    expect(results.every(([, r]) => r.result === 'Delivered')).toBe(true);
    const texts = (await slack.control.messages(ALERTS)).map((m) => m.text);
    const carried = texts.flatMap((t) => t.replace(/^(digest |alert )/, '').split(','));
    expect(carried.map((s) => (s.startsWith('i') ? s : `i${s}`))).toEqual(results.map(([id]) => id));
    expect(texts.length).toBeLessThan(12); // the backlog went out as a digest
    const counts = await slack.control.requestCounts();
    expect(counts['chat.postMessage']).toMatchObject({
      rateLimited: 1,
      failed: 1,
      errors: 1,
      ok: texts.length,
    });
    expect(counts['conversations.join']).toMatchObject({ ok: 1 });
  });
});
