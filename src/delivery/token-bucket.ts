// A token bucket in its GCRA form (one "theoretical arrival time" instead of a float token count): integer
// arithmetic, exact waits, O(1) memory. `ratePerSecond` tokens refill per second, up to `burst` at once.
import type { Clock } from './clock.ts';

export interface BucketOptions {
  ratePerSecond: number;
  burst: number;
}

export class TokenBucket {
  readonly #clock: Pick<Clock, 'now'>;
  /** ms between two tokens */
  readonly #interval: number;
  /** how far ahead of now the theoretical arrival time may run: (burst − 1) intervals */
  readonly #tolerance: number;
  #tat = Number.NEGATIVE_INFINITY;

  constructor(options: BucketOptions, clock: Pick<Clock, 'now'>) {
    if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(`invalid bucket: ${options.ratePerSecond}/s, burst ${options.burst}`);
    }
    this.#clock = clock;
    this.#interval = Number.isFinite(options.ratePerSecond) ? 1000 / options.ratePerSecond : 0;
    this.#tolerance = (Math.floor(options.burst) - 1) * this.#interval;
  }

  /** ms until a token is available; 0 when one is available now */
  waitMs(): number {
    return Math.max(0, this.#tat - this.#tolerance - this.#clock.now());
  }

  /** Take a token if one is available now. */
  tryTake(): boolean {
    const now = this.#clock.now();
    if (this.#tat - this.#tolerance > now) return false;
    this.#tat = Math.max(this.#tat, now) + this.#interval;
    return true;
  }

  /** Tokens available right now (Infinity for an unlimited rate). */
  available(): number {
    if (this.#interval === 0) return Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const room = now + this.#tolerance - Math.max(this.#tat, now);
    // the epsilon absorbs float error of non-integer intervals (e.g. 1000/3 ms)
    return Math.max(0, Math.floor(room / this.#interval + 1e-9) + 1);
  }

  /** Empties the bucket: the next token comes one interval from now, and it refills from there. */
  drain(): void {
    if (this.#interval === 0) return;
    this.#tat = Math.max(this.#tat, this.#clock.now() + this.#tolerance + this.#interval);
  }

  /** True when the bucket holds its whole burst again (an idle bucket can be forgotten). */
  isFull(): boolean {
    return this.#tat <= this.#clock.now();
  }
}
