import { describe, expect, it } from 'vitest';
import { createRegistry, deliveryMetrics } from '../../../src/observability/metrics.ts';
import { RateLimitedError } from '../../../src/errors.ts';
import { Dispatcher } from '../../../src/delivery/dispatcher.ts';
import { ManualClock } from './fake-clock.ts';
import { FakeSlackPort } from './fake-port.ts';

describe('delivery metrics (prom-client)', () => {
  it('counts results, messages, 429s and retries, observes latency and reports queue depth', async () => {
    const registry = createRegistry();
    const m = deliveryMetrics(registry);
    const clock = new ManualClock();
    const port = new FakeSlackPort(clock, 250);
    port.failNext('C1', new RateLimitedError(1_000, { channel: 'C1' }));
    const d = new Dispatcher({
      integration: 'ops/acme',
      port,
      clock,
      metrics: m.hooks,
      limits: { digestThreshold: Number.POSITIVE_INFINITY },
      renderDigest: () => ({ text: 'digest' }),
      onResult: () => {},
    });
    const stop = m.watchQueue(d);
    const item = (n: number) => ({
      id: `i${n}`,
      key: { jobUID: `u${n}`, event: 'Failed' as const, destination: 'channel:a' },
      rule: { namespace: 'data', name: 'r', uid: 'r1' },
      job: `data/j${n}`,
      event: 'Failed' as const,
      outcome: { event: 'Failed' as const, at: new Date(clock.now()).toISOString() },
      destination: 'C1',
      destinationLabel: '#a',
      message: { text: `m${n}` },
      observedAt: clock.now(),
    });
    d.enqueue(item(1));
    d.enqueue(item(2));
    expect(await registry.getSingleMetricAsString('jobherald_delivery_queue_depth')).toContain(
      'jobherald_delivery_queue_depth{integration="ops/acme"} 2',
    );
    await clock.runUntil(() => d.depth() === 0);
    const text = await registry.metrics();
    expect(text).toContain(
      'jobherald_deliveries_total{integration="ops/acme",result="Delivered",error=""} 2',
    );
    expect(text).toContain('jobherald_slack_messages_total{integration="ops/acme",kind="single"} 2');
    expect(text).toContain('jobherald_slack_rate_limited_total{integration="ops/acme"} 1');
    // first item: 250 ms answer (429) + 1 s pause + 250 ms → 1.5 s; the second follows at once (burst) → 1.75 s
    expect(text).toContain('jobherald_delivery_latency_seconds_bucket{le="1",integration="ops/acme"} 0');
    expect(text).toContain('jobherald_delivery_latency_seconds_bucket{le="2",integration="ops/acme"} 2');
    expect(text).toContain('jobherald_delivery_latency_seconds_sum{integration="ops/acme"} 3.25');
    expect(text).toContain('jobherald_delivery_queue_depth{integration="ops/acme"} 0');
    stop();
    expect(await registry.getSingleMetricAsString('jobherald_delivery_queue_depth')).not.toContain(
      'ops/acme',
    );
  });
});
