import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ChannelUnavailableError,
  PermanentError,
  RateLimitedError,
  RetryableError,
} from '../../../src/errors.ts';
import { Dispatcher } from '../../../src/delivery/dispatcher.ts';
import { noMetrics, type DeliveryItem } from '../../../src/delivery/types.ts';
import { ManualClock } from './fake-clock.ts';
import { FakeSlackPort } from './fake-port.ts';
import { harness } from './harness.ts';

const NO_DIGEST = { digestThreshold: Number.POSITIVE_INFINITY };

describe('Dispatcher: pacing', () => {
  it('sends a burst of 3 at once, then 1 message per second per channel', async () => {
    const h = harness({ limits: NO_DIGEST });
    for (let i = 0; i < 6; i++) h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 6);
    expect(h.port.calls.map((c) => h.t(c.at))).toEqual([0, 0, 0, 1000, 2000, 3000]);
    expect(h.delivered().map((r) => r.item.id)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4', 'i5']);
  });

  it('sends the first alert of an idle channel immediately and paces channels independently', async () => {
    const h = harness({ limits: NO_DIGEST });
    for (let i = 0; i < 5; i++) h.dispatcher.enqueue(h.item('C1'));
    await h.clock.advance(100);
    h.dispatcher.enqueue(h.item('C2'));
    await h.clock.runUntil(() => h.results.length === 6);
    expect(h.port.callsTo('C2').map((c) => h.t(c.at))).toEqual([100]);
    expect(h.port.callsTo('C1').map((c) => h.t(c.at))).toEqual([0, 0, 0, 1000, 2000]);
  });

  it('keeps at most one request in flight per channel, so order holds even with slow answers', async () => {
    const h = harness({ limits: NO_DIGEST, latencyMs: 1500 });
    for (let i = 0; i < 4; i++) h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 4);
    expect(h.port.maxInFlight).toBe(1);
    expect(h.port.calls.map((c) => h.t(c.at))).toEqual([0, 1500, 3000, 4500]);
    expect(h.delivered().map((r) => r.item.id)).toEqual(['i0', 'i1', 'i2', 'i3']);
  });

  it('bounds the requests in flight across channels', async () => {
    const h = harness({ latencyMs: 1000 });
    for (let c = 0; c < 50; c++) h.dispatcher.enqueue(h.item(`C${c}`));
    await h.clock.runUntil(() => h.results.length === 50);
    expect(h.port.maxInFlight).toBe(16);
    expect(h.delivered()).toHaveLength(50);
  });

  it('applies the workspace-wide budget', async () => {
    const h = harness({ limits: { workspaceRatePerSecond: 10, workspaceBurst: 5 } });
    for (let c = 0; c < 25; c++) h.dispatcher.enqueue(h.item(`C${c}`));
    const took = await h.clock.runUntil(() => h.results.length === 25);
    // 25 channels for a budget of 5 is short: the burst is given burstQuietMs (200 ms) to complete, then 5 go
    // out at once and one every 100 ms, oldest first
    expect(h.port.calls.slice(0, 6).map((c) => h.t(c.at))).toEqual([200, 200, 200, 200, 200, 300]);
    expect(h.port.calls.map((c) => c.channel)).toEqual(Array.from({ length: 25 }, (_, c) => `C${c}`));
    expect(took).toBe(2200);
  });
});

describe('Dispatcher: rate limits', () => {
  it('pauses only the rate-limited channel, for exactly Retry-After, and counts the 429', async () => {
    const h = harness({ limits: NO_DIGEST });
    h.port.failNext('C1', new RateLimitedError(30_000, { method: 'chat.postMessage', channel: 'C1' }));
    h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C1'));
    for (let i = 0; i < 5; i++) h.dispatcher.enqueue(h.item('C2'));
    await h.clock.runUntil(() => h.results.length === 7);

    expect(h.port.callsTo('C1').map((c) => [h.t(c.at), c.ok])).toEqual([
      [0, false],
      [30_000, true],
      [30_000, true],
    ]);
    expect(h.port.callsTo('C2').map((c) => h.t(c.at))).toEqual([0, 0, 0, 1000, 2000]);
    expect(h.counters.rateLimited).toBe(1);
    expect(
      h
        .delivered()
        .filter((r) => r.item.destination === 'C1')
        .map((r) => r.item.id),
    ).toEqual(['i0', 'i1']);
  });

  it('fails items that stay rate-limited past the delivery deadline, with ratelimited', async () => {
    const h = harness({ limits: { ...NO_DIGEST, maxDeliveryMs: 60_000 } });
    h.port.answerWith(() => new RateLimitedError(45_000, { channel: 'C1' }));
    h.dispatcher.enqueue(h.item('C1'));
    const took = await h.clock.runUntil(() => h.results.length === 1);
    expect(h.results[0]?.result).toMatchObject({ result: 'Failed', error: 'ratelimited', attempts: 2 });
    expect(took).toBe(60_000);
  });
});

describe('Dispatcher: transient errors', () => {
  it('retries 5xx with exponential backoff and jitter, then delivers in order', async () => {
    const h = harness({ limits: NO_DIGEST });
    h.port.failNext(
      'C1',
      new RetryableError('http_503', 'HTTP 503'),
      new RetryableError('http_503', 'HTTP 503'),
      new RetryableError('timeout', 'timed out'),
    );
    for (let i = 0; i < 3; i++) h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 3);
    // random() = 0.5 → 3/4 of 1 s, 2 s, 4 s
    expect(h.port.calls.map((c) => [h.t(c.at), c.ok])).toEqual([
      [0, false],
      [750, false],
      [2250, false],
      [5250, true],
      [5250, true],
      [5250, true],
    ]);
    expect(h.delivered().map((r) => r.item.id)).toEqual(['i0', 'i1', 'i2']);
    expect(h.delivered()[0]?.result.attempts).toBe(4);
    expect(h.counters.retries).toEqual(['http_503', 'http_503', 'timeout']);
  });

  it('honours a retryAfterMs that a transient error carries', async () => {
    const h = harness({ limits: NO_DIGEST });
    h.port.failNext('C1', new RetryableError('http_503', 'HTTP 503', { retryAfterMs: 7_000 }));
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 1);
    expect(h.port.calls.map((c) => h.t(c.at))).toEqual([0, 7_000]);
  });

  it('treats an unknown thrown error as transient, not as a lost alert', async () => {
    const h = harness({ limits: NO_DIGEST });
    h.port.failNext('C1', new TypeError('boom'));
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 1);
    expect(h.results[0]?.result.result).toBe('Delivered');
    expect(h.counters.retries).toEqual(['unexpected_error']);
  });

  it('gives up after the delivery deadline with the last error code, and the channel then recovers', async () => {
    const h = harness({ limits: { ...NO_DIGEST, maxDeliveryMs: 15 * 60_000 } });
    let down = true;
    h.port.answerWith((call) =>
      down && call.channel === 'C1' ? new RetryableError('http_502', 'HTTP 502') : undefined,
    );
    h.dispatcher.enqueue(h.item('C1'));
    const took = await h.clock.runUntil(() => h.results.length === 1);
    expect(took).toBe(15 * 60_000);
    expect(h.results[0]?.result).toMatchObject({ result: 'Failed', error: 'http_502' });
    // backoff doubled up to its 60 s cap
    const gaps = h.port.calls.slice(1).map((c, i) => c.at - (h.port.calls[i]?.at ?? 0));
    expect(Math.max(...gaps)).toBe(45_000);
    down = false;
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 2);
    expect(h.results[1]?.result.result).toBe('Delivered');
  });
});

describe('Dispatcher: permanent errors', () => {
  it('fails the item at once with its code and carries on with the next', async () => {
    const h = harness({ limits: NO_DIGEST });
    h.port.failNext('C1', new PermanentError('invalid_blocks', 'chat.postMessage: invalid_blocks'));
    h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 2);
    expect(h.results[0]).toMatchObject({
      item: { id: 'i0' },
      result: { result: 'Failed', error: 'invalid_blocks', attempts: 1 },
    });
    expect(h.t(h.results[0]?.result.at ?? 0)).toBe(0);
    expect(h.results[1]).toMatchObject({ item: { id: 'i1' }, result: { result: 'Delivered' } });
  });

  it('sends the items of a digest Slack refused one by one', async () => {
    const h = harness();
    for (let i = 0; i < 6; i++) h.dispatcher.enqueue(h.item('C1'));
    h.port.failNext('C1', new PermanentError('invalid_blocks', 'bad digest'));
    await h.clock.runUntil(() => h.results.length === 6);
    expect(h.idsOf(h.port.calls[0]!)).toHaveLength(6);
    expect(h.port.calls.slice(1).map((c) => h.idsOf(c).length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(h.delivered().map((r) => r.item.id)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4', 'i5']);
  });
});

describe('Dispatcher: channel and auth errors', () => {
  it('parks a channel on not_in_channel, asks for a re-check, and sends on resume', async () => {
    const h = harness({ limits: NO_DIGEST });
    h.port.failNext('C1', new ChannelUnavailableError('not_in_channel', 'not_in_channel', { channel: 'C1' }));
    h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C2'));
    await h.clock.advance(60_000);
    expect(h.unavailable).toEqual([['C1', 'not_in_channel']]);
    expect(h.dispatcher.parkedWith('C1')).toBe('not_in_channel');
    expect(h.port.callsTo('C1')).toHaveLength(1);
    expect(h.delivered().map((r) => r.item.id)).toEqual(['i2']);
    expect(h.dispatcher.depth('C1')).toBe(2);

    h.dispatcher.resume('C1');
    await h.clock.runUntil(() => h.results.length === 3);
    expect(h.port.callsTo('C1').map((c) => h.t(c.at))).toEqual([0, 60_000, 60_000]);
    expect(h.delivered().map((r) => r.item.id)).toEqual(['i2', 'i0', 'i1']);
  });

  it('fails the parked items with the channel error when the hold passes without resume', async () => {
    const h = harness({ limits: { ...NO_DIGEST, channelHoldMs: 5 * 60_000 } });
    h.port.failNext('C1', new ChannelUnavailableError('channel_not_found', 'channel_not_found'));
    h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C1'));
    const took = await h.clock.runUntil(() => h.results.length === 2);
    expect(took).toBe(5 * 60_000);
    expect(h.results.map((r) => r.result)).toMatchObject([
      { result: 'Failed', error: 'channel_not_found' },
      { result: 'Failed', error: 'channel_not_found' },
    ]);
    expect(h.port.calls).toHaveLength(1);
    // the queue is usable again afterwards
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 3);
    expect(h.results[2]?.result.result).toBe('Delivered');
  });

  it('parks every queue of the integration on an auth error until resumeIntegration()', async () => {
    const h = harness({ limits: NO_DIGEST, latencyMs: 10 });
    h.port.failNext('C1', new AuthError('token_revoked', 'token_revoked'));
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.advance(5);
    h.dispatcher.enqueue(h.item('C2'));
    h.dispatcher.enqueue(h.item('C3'));
    await h.clock.advance(10 * 60_000);
    expect(h.authErrors).toEqual(['token_revoked']);
    expect(h.dispatcher.integrationParkedWith).toBe('token_revoked');
    // C2 and C3 went out before the answer came back; nothing after it
    expect(h.port.calls.map((c) => c.channel)).toEqual(['C1', 'C2', 'C3']);
    h.dispatcher.enqueue(h.item('C4'));
    await h.clock.advance(60_000);
    expect(h.port.calls).toHaveLength(3);

    h.dispatcher.resumeIntegration();
    await h.clock.runUntil(() => h.results.length === 4);
    expect(
      h
        .delivered()
        .map((r) => r.item.id)
        .sort(),
    ).toEqual(['i0', 'i1', 'i2', 'i3']);
  });

  it('fails items with the auth code when the token stays broken past the deadline', async () => {
    const h = harness({ limits: { ...NO_DIGEST, maxDeliveryMs: 15 * 60_000 } });
    h.port.failNext('C1', new AuthError('invalid_auth', 'invalid_auth'));
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.advance(60_000);
    h.dispatcher.enqueue(h.item('C2'));
    await h.clock.runUntil(() => h.results.length === 2);
    expect(
      h.results.map((r) => [
        r.item.id,
        r.result.result,
        'error' in r.result ? r.result.error : '',
        h.t(r.result.at),
      ]),
    ).toEqual([
      ['i0', 'Failed', 'invalid_auth', 15 * 60_000],
      ['i1', 'Failed', 'invalid_auth', 16 * 60_000],
    ]);
  });
});

describe('Dispatcher: digests', () => {
  it('coalesces a backlog into digests and threads nothing into them', async () => {
    const h = harness({ limits: { digestCapacity: 4 } });
    for (let i = 0; i < 10; i++) h.dispatcher.enqueue(h.item('C1', i === 5 ? { threadTs: '1.000001' } : {}));
    await h.clock.runUntil(() => h.results.length === 10);
    expect(h.port.calls.map((c) => h.idsOf(c))).toEqual([
      ['i0', 'i1', 'i2', 'i3'],
      ['i4'],
      ['i5'],
      ['i6', 'i7', 'i8', 'i9'],
    ]);
    expect(h.port.calls[2]?.threadTs).toBe('1.000001');
    const ts = h.delivered().map((r) => (r.result.result === 'Delivered' ? r.result.ts : ''));
    expect(new Set(ts.slice(0, 4)).size).toBe(1);
    expect(h.delivered()[0]?.result).toMatchObject({ batchSize: 4 });
  });

  it('P3: 1,000 alerts for one channel within 10 s → ≤ 70 messages within 60 s, each delivered once', async () => {
    const h = harness({ latencyMs: 150 });
    for (let i = 0; i < 1000; i++) {
      h.dispatcher.enqueue(h.item('C1'));
      await h.clock.advance(10);
    }
    const after = await h.clock.runUntil(() => h.results.length === 1000);
    const elapsed = 10_000 + after;
    expect(elapsed).toBeLessThanOrEqual(60_000);
    expect(h.port.calls.length).toBeLessThanOrEqual(70);
    expect(h.failed()).toHaveLength(0);
    const ids = h.delivered().map((r) => r.item.id);
    expect(new Set(ids).size).toBe(1000);
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => `i${i}`));
    // every item is in exactly one message
    expect(h.port.calls.flatMap((c) => h.idsOf(c)).sort()).toEqual([...ids].sort());
    // and the channel was never sent faster than its bucket allows: burst 3, then 1 per second
    const first = h.port.calls[0]?.at ?? 0;
    h.port.calls.forEach((c, i) => expect(c.at - first).toBeGreaterThanOrEqual((i - 2) * 1000));
    if (process.env.JOBHERALD_FIGURES) console.info(`P3: ${h.port.calls.length} messages, ${elapsed} ms`);
  });

  it('P4: 1,000 alerts over 100 channels arriving within 1 s are all delivered within 15 s', async () => {
    const h = harness({ latencyMs: 150 });
    for (let i = 0; i < 1000; i++) {
      h.dispatcher.enqueue(h.item(`C${i % 100}`));
      if (i % 10 === 9) await h.clock.advance(10);
    }
    const after = await h.clock.runUntil(() => h.results.length === 1000);
    expect(1000 + after).toBeLessThanOrEqual(15_000);
    if (process.env.JOBHERALD_FIGURES)
      console.info(`P4: ${h.port.calls.length} messages, ${1000 + after} ms`);
    expect(h.delivered()).toHaveLength(1000);
    expect(new Set(h.delivered().map((r) => r.item.id)).size).toBe(1000);
    expect(h.port.maxInFlight).toBeLessThanOrEqual(16);
  });

  it('P4 without digests or workspace budget (alerts trickling in): 1,000 over 100 channels within 15 s', async () => {
    // the bench's "per-channel limits only" row: a workspace that takes ~100 messages per second
    const h = harness({
      latencyMs: 150,
      limits: { ...NO_DIGEST, workspaceRatePerSecond: Number.POSITIVE_INFINITY },
    });
    for (let i = 0; i < 1000; i++) {
      h.dispatcher.enqueue(h.item(`C${i % 100}`));
      if (i % 100 === 99) await h.clock.advance(1000);
    }
    const after = await h.clock.runUntil(() => h.results.length === 1000);
    expect(10_000 + after).toBeLessThanOrEqual(15_000);
    if (process.env.JOBHERALD_FIGURES)
      console.info(`P4 trickle: ${h.port.calls.length} messages, ${10_000 + after} ms`);
    expect(h.port.calls).toHaveLength(1000);
  });
});

describe('Dispatcher: metrics hooks', () => {
  it('reports every final result with its latency, every accepted message, 429s and retries', async () => {
    const h = harness({ latencyMs: 100, limits: { digestCapacity: 10 } });
    h.port.failNext(
      'C1',
      new RateLimitedError(2_000, { channel: 'C1' }),
      new RetryableError('http_500', 'x'),
    );
    h.port.failNext('C2', new PermanentError('invalid_blocks', 'x'));
    for (let i = 0; i < 5; i++) h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C2'));
    await h.clock.runUntil(() => h.results.length === 6);
    expect(h.counters.rateLimited).toBe(1);
    expect(h.counters.retries).toEqual(['http_500']);
    // C2's single failed at 100 ms; C1: 429 at 100, pause 2 s, 500 at 2.2 s, backoff 750 ms, digest ok at 3.05 s
    expect(h.counters.results).toEqual([
      ['jobherald-system/acme', 'Failed', 100, 'invalid_blocks'],
      ...Array.from({ length: 5 }, () => ['jobherald-system/acme', 'Delivered', 3050, undefined]),
    ]);
    expect(h.counters.messages).toEqual([['digest', 5]]);
  });
});

describe('Dispatcher: dispatch latency hook (P1)', () => {
  it('reports observed → first chat.postMessage once per item, for singles and digests, not for retries', async () => {
    const clock = new ManualClock();
    const port = new FakeSlackPort(clock, 100);
    const dispatched: number[] = [];
    const dispatcher = new Dispatcher<DeliveryItem>({
      integration: 'jobherald-system/acme',
      port,
      clock,
      random: () => 0.5,
      metrics: { ...noMetrics, dispatched: (seconds) => dispatched.push(seconds) },
      renderDigest: (items) => ({ text: `digest:${items.length}` }),
      onResult: () => undefined,
    });
    const observed = clock.now();
    const item = (n: number, destination: string): DeliveryItem => ({
      id: `i${n}`,
      key: { jobUID: `uid-${n}`, event: 'Failed', destination: 'channel:alerts' },
      rule: { namespace: 'data', name: 'etl-failures', uid: 'rule-uid' },
      job: `data/job-${n}`,
      event: 'Failed',
      outcome: { event: 'Failed', at: new Date(observed).toISOString() },
      destination,
      destinationLabel: '#alerts',
      message: { text: `alert:i${n}` },
      observedAt: observed,
    });
    port.failNext('C2', new RetryableError('http_500', 'x'));
    await clock.advance(30);
    dispatcher.enqueue(item(0, 'C1'));
    dispatcher.enqueue(item(1, 'C2'));
    await clock.advance(50);
    // while C1's first message is in flight (100 ms), 5 more queue up: they go out as one digest at 100 ms
    for (let n = 2; n < 7; n++) dispatcher.enqueue(item(n, 'C1'));
    await clock.runUntil(() => port.calls.length >= 4 && dispatcher.depth() === 0);
    expect(port.calls.map((c) => [c.channel, c.at - observed, c.message.text])).toEqual([
      ['C1', 30, 'alert:i0'],
      ['C2', 30, 'alert:i1'],
      ['C1', 130, 'digest:5'],
      ['C2', 880, 'alert:i1'], // the retry carries the same item: not a new dispatch
    ]);
    expect(dispatched).toEqual([0.03, 0.03, 0.13, 0.13, 0.13, 0.13, 0.13]);
  });

  it('is optional: a DeliveryMetrics without it still works', async () => {
    const h = harness();
    h.dispatcher.enqueue(h.item('C1'));
    await h.clock.runUntil(() => h.results.length === 1);
    expect(h.delivered()).toHaveLength(1);
  });
});

describe('Dispatcher: lifecycle', () => {
  it('ignores a second enqueue of the same id while it is queued', async () => {
    const h = harness();
    const it1 = h.item('C1');
    expect(h.dispatcher.enqueue(it1)).toBe(true);
    expect(h.dispatcher.enqueue(it1)).toBe(false);
    await h.clock.runUntil(() => h.results.length === 1);
    await h.clock.advance(5_000);
    expect(h.port.calls).toHaveLength(1);
  });

  it('reports queue depth per channel and in total', async () => {
    const h = harness({ limits: NO_DIGEST });
    for (let i = 0; i < 5; i++) h.dispatcher.enqueue(h.item('C1'));
    h.dispatcher.enqueue(h.item('C2'));
    expect(h.dispatcher.depth()).toBe(6);
    await h.clock.advance(0);
    expect(h.dispatcher.depths()).toEqual(new Map([['C1', 2]]));
    expect(h.dispatcher.depth()).toBe(2);
  });

  it('drain() resolves once everything is delivered', async () => {
    const h = harness({ limits: NO_DIGEST });
    for (let i = 0; i < 4; i++) h.dispatcher.enqueue(h.item('C1'));
    let drained = false;
    void h.dispatcher.drain().then(() => (drained = true));
    await h.clock.advance(999);
    expect(drained).toBe(false);
    await h.clock.advance(1);
    expect(drained).toBe(true);
  });

  it('stop() sends nothing new, lets in-flight requests finish and report, and hands back the rest', async () => {
    const h = harness({ limits: NO_DIGEST, latencyMs: 200 });
    for (let i = 0; i < 3; i++) h.dispatcher.enqueue(h.item('C1'));
    await h.clock.advance(100);
    const stopping = h.dispatcher.stop();
    await h.clock.advance(200);
    const left = await stopping;
    expect(h.results.map((r) => [r.item.id, r.result.result])).toEqual([['i0', 'Delivered']]);
    expect(left.map((i) => i.id)).toEqual(['i1', 'i2']);
    expect(h.dispatcher.enqueue(h.item('C1'))).toBe(false);
    await h.clock.advance(10_000);
    expect(h.port.calls).toHaveLength(1);
  });

  it('survives callbacks that throw', async () => {
    const h = harness({ limits: NO_DIGEST });
    let calls = 0;
    const { Dispatcher } = await import('../../../src/delivery/dispatcher.ts');
    const d = new Dispatcher({
      integration: 'x/y',
      port: h.port,
      clock: h.clock,
      renderDigest: () => ({ text: 'd' }),
      onResult: () => {
        calls++;
        throw new Error('status writer exploded');
      },
    });
    d.enqueue(h.item('C1'));
    d.enqueue(h.item('C1'));
    await h.clock.runUntil(() => calls === 2);
    expect(h.port.calls).toHaveLength(2);
  });
});
