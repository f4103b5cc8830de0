// A Dispatcher on a manual clock and a fake SlackPort, recording everything it reports.
import { Dispatcher } from '../../../src/delivery/dispatcher.ts';
import type { DeliveryLimits } from '../../../src/delivery/dispatcher.ts';
import type { DeliveryItem, DeliveryMetrics, SendResult } from '../../../src/delivery/types.ts';
import { ManualClock } from './fake-clock.ts';
import { FakeSlackPort } from './fake-port.ts';
import type { PostCall } from './fake-port.ts';

export interface Reported {
  item: DeliveryItem;
  result: SendResult;
}

export function harness(options: { limits?: Partial<DeliveryLimits>; latencyMs?: number } = {}) {
  const clock = new ManualClock();
  const start = clock.now();
  const port = new FakeSlackPort(clock, options.latencyMs ?? 0);
  const results: Reported[] = [];
  const unavailable: [string, string][] = [];
  const authErrors: string[] = [];
  const counters = {
    rateLimited: 0,
    retries: [] as string[],
    messages: [] as ['single' | 'digest', number][],
    results: [] as [string, 'Delivered' | 'Failed', number, string | undefined][],
  };
  const metrics: DeliveryMetrics = {
    result: (integration, result, latencyMs, error) =>
      counters.results.push([integration, result, latencyMs, error]),
    message: (_i, kind, n) => counters.messages.push([kind, n]),
    rateLimited: () => counters.rateLimited++,
    retry: (_i, code) => counters.retries.push(code),
  };
  let seq = 0;
  const dispatcher = new Dispatcher<DeliveryItem>({
    integration: 'jobherald-system/acme',
    port,
    clock,
    random: () => 0.5,
    metrics,
    ...(options.limits ? { limits: options.limits } : {}),
    renderDigest: (items) => ({ text: `digest:${items.map((i) => i.id).join(',')}` }),
    onResult: (item, result) => results.push({ item, result }),
    onChannelUnavailable: (destination, code) => unavailable.push([destination, code]),
    onAuthError: (code) => authErrors.push(code),
  });

  const item = (destination = 'C1', extra: Partial<DeliveryItem> = {}): DeliveryItem => {
    const n = seq++;
    return {
      id: `i${n}`,
      key: { jobUID: `uid-${n}`, event: 'Failed', destination: 'channel:alerts' },
      rule: { namespace: 'data', name: 'etl-failures', uid: 'rule-uid' },
      job: `data/job-${n}`,
      event: 'Failed',
      outcome: { event: 'Failed', reason: 'BackoffLimitExceeded', at: new Date(clock.now()).toISOString() },
      destination,
      destinationLabel: '#alerts',
      message: { text: `alert:i${n}` },
      observedAt: clock.now(),
      ...extra,
    };
  };

  /** The item ids a call carried: one for a single message, several for a digest. */
  const idsOf = (call: PostCall): string[] => call.message.text.replace(/^(alert|digest):/, '').split(',');
  /** Simulated ms since the harness started. */
  const t = (at: number) => at - start;
  const delivered = () => results.filter((r) => r.result.result === 'Delivered');
  const failed = () => results.filter((r) => r.result.result === 'Failed');

  return {
    clock,
    port,
    dispatcher,
    results,
    unavailable,
    authErrors,
    counters,
    item,
    idsOf,
    t,
    delivered,
    failed,
  };
}
