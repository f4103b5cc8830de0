// A manual clock for the delivery tests: time moves only when a test says so, timers fire in order, and the
// promise chains they start settle before the next one fires. No test sleeps.
import type { Clock, TimerHandle } from '../../../src/delivery/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Let every pending promise continuation run (microtasks drain before a macrotask). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start = Date.parse('2026-11-21T10:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }

  #next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers)
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }

  #fire(timer: Timer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
    this.#now = Math.max(this.#now, timer.at);
    timer.fn();
  }

  /** Move time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#next();
      if (!next || next.at > target) break;
      this.#fire(next);
    }
    this.#now = target;
    await settle();
  }

  /**
   * Fire timers one by one until `done()` holds; throws if it does not within `limitMs` of simulated time.
   * Returns the simulated ms that passed.
   */
  async runUntil(done: () => boolean, limitMs = 24 * 3600_000): Promise<number> {
    const start = this.#now;
    for (;;) {
      await settle();
      if (done()) return this.#now - start;
      const next = this.#next();
      if (!next || next.at - start > limitMs) {
        throw new Error(
          `condition not reached within ${limitMs} ms of simulated time (${this.#timers.length} timers)`,
        );
      }
      this.#fire(next);
    }
  }
}
