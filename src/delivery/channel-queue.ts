// The state of one destination's FIFO queue. The Dispatcher decides; this only holds and orders.
import type { JobheraldError } from '../errors.ts';
import type { TokenBucket } from './token-bucket.ts';
import type { DeliveryItem } from './types.ts';

export interface Entry<I extends DeliveryItem> {
  item: I;
  enqueuedAt: number;
  /** after this, an item that cannot be sent fails with the last error */
  deadline: number;
  attempts: number;
  /** Slack refused a digest holding this item: send it on its own */
  noDigest: boolean;
}

/** Why a queue stopped sending until told otherwise (or until `until`). */
export interface Park {
  code: string;
  message: string;
  until: number;
}

export class ChannelQueue<I extends DeliveryItem> {
  readonly key: string;
  readonly bucket: TokenBucket;
  #items: Entry<I>[] = [];
  #head = 0;
  inFlight = false;
  /** no send before this clock time (Retry-After, backoff) */
  notBefore = 0;
  /** consecutive transient failures, for the backoff */
  failures = 0;
  /** the error of the last failed attempt, cleared by a success; items expiring in the meantime fail with it */
  lastError: JobheraldError | undefined;
  parked: Park | undefined;

  constructor(key: string, bucket: TokenBucket) {
    this.key = key;
    this.bucket = bucket;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(entry: Entry<I>): void {
    this.#items.push(entry);
  }

  at(index: number): Entry<I> | undefined {
    return this.#items[this.#head + index];
  }

  /** Remove and return the first `n` entries. */
  shift(n = 1): Entry<I>[] {
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#head += out.length;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /** Remove and return everything. */
  clear(): Entry<I>[] {
    return this.shift(this.length);
  }

  /**
   * The next send unit: the head alone, or — when more than `threshold` items wait — a digest of up to `capacity`
   * contiguous items from the head that may be folded (not threaded, not refused in a digest before).
   */
  nextBatch(threshold: number, capacity: number): Entry<I>[] {
    const head = this.at(0);
    if (!head) return [];
    if (this.length <= threshold || capacity < 2) return [head];
    const batch: Entry<I>[] = [];
    for (let i = 0; i < this.length && batch.length < capacity; i++) {
      const e = this.at(i);
      if (!e || e.noDigest || e.item.threadTs !== undefined) break;
      batch.push(e);
    }
    return batch.length >= 2 ? batch : [head];
  }
}
