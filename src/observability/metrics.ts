// Prometheus metrics. The delivery engine stays library-agnostic (src/delivery/types.ts DeliveryMetrics); this
// binds it to prom-client. Other subsystems (watch health, reconcilers) add their metrics here too.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryMetrics } from '../delivery/types.ts';

/** Anything with a queue depth: a delivery Dispatcher. */
export interface QueueDepthSource {
  readonly integration: string;
  depth(): number;
}

export interface DeliveryMetricSet {
  /** pass to `new Dispatcher({metrics})` */
  hooks: DeliveryMetrics;
  /** report this dispatcher's queue depth on every scrape; returns a function that stops it */
  watchQueue(source: QueueDepthSource): () => void;
}

export function createRegistry(): Registry {
  return new Registry();
}

export function deliveryMetrics(registry: Registry): DeliveryMetricSet {
  const registers = [registry];
  const deliveries = new Counter({
    name: 'jobherald_deliveries_total',
    help: 'Final delivery results, one per (outcome, rule, destination): Delivered or Failed with the Slack error code.',
    labelNames: ['integration', 'result', 'error'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'jobherald_delivery_latency_seconds',
    help: 'From the outcome being observed to Slack accepting the message.',
    labelNames: ['integration'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    registers,
  });
  const messages = new Counter({
    name: 'jobherald_slack_messages_total',
    help: 'Messages Slack accepted: single alerts and digests.',
    labelNames: ['integration', 'kind'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'jobherald_slack_rate_limited_total',
    help: 'Slack answers 429 / ratelimited.',
    labelNames: ['integration'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'jobherald_delivery_retries_total',
    help: 'Transient Slack failures that were retried, by error code.',
    labelNames: ['integration', 'code'] as const,
    registers,
  });
  const sources = new Set<QueueDepthSource>();
  new Gauge({
    name: 'jobherald_delivery_queue_depth',
    help: 'Alerts waiting or in flight, per integration.',
    labelNames: ['integration'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of sources) this.inc({ integration: s.integration }, s.depth());
    },
  });

  return {
    hooks: {
      result(integration, result, latencyMs, error) {
        deliveries.inc({ integration, result, error: error ?? '' });
        if (result === 'Delivered') latency.observe({ integration }, Math.max(0, latencyMs) / 1000);
      },
      message: (integration, kind) => messages.inc({ integration, kind }),
      rateLimited: (integration) => rateLimited.inc({ integration }),
      retry: (integration, code) => retries.inc({ integration, code }),
    },
    watchQueue(source) {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
}
