// Slack-like rate limits, on a clock the tests move: chat.postMessage per channel with a small burst
// and a workspace cap, tiers for the other methods, 429 + integer Retry-After + `ratelimited`.
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { RateLimiter, slackRateLimits } from '../../../src/dev/slack-emulator/rate-limits.ts';
import { call, ManualClock } from './raw-call.ts';

let slack: SlackEmulator | undefined;
afterEach(async () => {
  await slack?.stop();
  slack = undefined;
});

describe('RateLimiter', () => {
  it('lets chat.postMessage burst 3 per channel, then 1 per second', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('slack', clock);
    const post = (channel: string) => limiter.admit('chat.postMessage', 'tier4', channel);
    expect([post('C1'), post('C1'), post('C1')].every((a) => a.allowed)).toBe(true);
    expect(post('C1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(post('C2').allowed).toBe(true); // another channel has its own bucket
    clock.advance(999);
    expect(post('C1').allowed).toBe(false);
    clock.advance(1);
    expect(post('C1').allowed).toBe(true);
    expect(post('C1').allowed).toBe(false);
  });

  it('caps chat.postMessage across the workspace', () => {
    const limiter = new RateLimiter('slack', new ManualClock());
    const { burst, perMinute } = slackRateLimits.postMessagePerWorkspace;
    for (let i = 0; i < burst; i++)
      expect(limiter.admit('chat.postMessage', 'tier4', `C${i}`).allowed).toBe(true);
    expect(limiter.admit('chat.postMessage', 'tier4', 'Cnew')).toEqual({
      allowed: false,
      retryAfterSeconds: Math.ceil(60 / perMinute),
    });
  });

  it('limits other methods by tier, per method, with Retry-After rounded up to whole seconds', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('slack', clock);
    for (let i = 0; i < 20; i++)
      expect(limiter.admit('conversations.list', 'tier2', undefined).allowed).toBe(true);
    expect(limiter.admit('conversations.list', 'tier2', undefined)).toEqual({
      allowed: false,
      retryAfterSeconds: 3,
    });
    expect(limiter.admit('usergroups.list', 'tier2', undefined).allowed).toBe(true);
    clock.advance(3000);
    expect(limiter.admit('conversations.list', 'tier2', undefined).allowed).toBe(true);
  });

  it('scales every rate, exempts methods, or turns limits off', () => {
    const scaled = new RateLimiter({ scale: 10 }, new ManualClock());
    for (let i = 0; i < 30; i++) expect(scaled.admit('chat.postMessage', 'tier4', 'C1').allowed).toBe(true);
    expect(scaled.admit('chat.postMessage', 'tier4', 'C1').allowed).toBe(false);
    const exempt = new RateLimiter({ methods: { 'apps.uninstall': 'off' } }, new ManualClock());
    for (let i = 0; i < 5; i++) expect(exempt.admit('apps.uninstall', 'tier1', undefined).allowed).toBe(true);
    const off = new RateLimiter('off', new ManualClock());
    for (let i = 0; i < 100; i++) expect(off.admit('chat.postMessage', 'tier4', 'C1').allowed).toBe(true);
  });
});

describe('rate-limited answers', () => {
  it('are HTTP 429 with an integer Retry-After and {ok:false, error:"ratelimited"}', async () => {
    const clock = new ManualClock();
    slack = await startSlackEmulator({ clock });
    await call(slack.apiUrl, 'conversations.join', { channel: 'alerts' });
    const post = () => call(slack!.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' });
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({ ok: false, error: 'ratelimited' });
    clock.advance(1000);
    expect((await post()).body.ok).toBe(true);
    expect((await slack.control.requestCounts())['chat.postMessage']).toEqual({
      calls: 5,
      ok: 4,
      errors: 0,
      rateLimited: 1,
      failed: 0,
    });
  });

  it("can use chat.postMessage's documented HTTP 200 rate_limited instead", async () => {
    slack = await startSlackEmulator({ clock: new ManualClock(), rateLimits: { style: 'error200' } });
    await call(slack.apiUrl, 'conversations.join', { channel: 'alerts' });
    const post = () => call(slack!.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' });
    for (let i = 0; i < 3; i++) await post();
    expect(await post()).toMatchObject({ status: 200, body: { ok: false, error: 'rate_limited' } });
  });

  it('can be changed at run time through the control API', async () => {
    slack = await startSlackEmulator({ clock: new ManualClock(), rateLimits: 'off' });
    await call(slack.apiUrl, 'conversations.join', { channel: 'alerts' });
    for (let i = 0; i < 10; i++)
      expect(
        (await call(slack.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' })).status,
      ).toBe(200);
    await slack.control.setRateLimits('slack');
    for (let i = 0; i < 3; i++)
      await call(slack.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' });
    expect((await call(slack.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' })).status).toBe(
      429,
    );
  });
});
