// Where the emulator reads the time: message timestamps, rate-limit buckets, token expiry, fault
// durations. Tests pass a clock they advance by hand, so rate-limit refills need no sleeps.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * The system clock plus an offset that only moves forward: the control API's POST /clock advances it, so an
 * out-of-process test can let 13 hours pass for token expiry (and rate-limit refills) without waiting.
 */
export class AdjustableClock implements Clock {
  readonly #base: Clock;
  #offsetMs = 0;

  constructor(base: Clock = systemClock) {
    this.#base = base;
  }

  now(): number {
    return this.#base.now() + this.#offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.#offsetMs += ms;
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }
}
