// Calls per Web API method and how each ended, so that tests and benchmarks can count what a client did.
export interface MethodCounts {
  /** Every call that reached the method's URL. */
  calls: number;
  ok: number;
  /** HTTP 200 with `ok: false`. */
  errors: number;
  /** Answered 429 (or `rate_limited`), by the rate limiter or an injected fault. */
  rateLimited: number;
  /** Answered with an injected HTTP status or a dropped connection. */
  failed: number;
}

export type Outcome = 'ok' | 'errors' | 'rateLimited' | 'failed';

export class RequestCounts {
  private counts = new Map<string, MethodCounts>();

  record(method: string, outcome: Outcome): void {
    let counts = this.counts.get(method);
    if (counts === undefined) {
      counts = { calls: 0, ok: 0, errors: 0, rateLimited: 0, failed: 0 };
      this.counts.set(method, counts);
    }
    counts.calls += 1;
    counts[outcome] += 1;
  }

  snapshot(): Record<string, MethodCounts> {
    return Object.fromEntries([...this.counts].map(([method, counts]) => [method, { ...counts }]));
  }

  reset(): void {
    this.counts.clear();
  }
}
