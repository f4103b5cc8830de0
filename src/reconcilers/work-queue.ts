// A keyed work queue with controller-runtime's semantics: a key waiting in the queue is never queued twice;
// a key is processed by one worker at a time (a key added while it is being processed runs again after);
// the reconcile's result decides what next — done, requeue after a delay, or an error retried with
// per-key exponential backoff. Reconcilers therefore never depend on which event woke them.

import { systemClock, type Clock, type TimerHandle } from '../delivery/clock.ts';

export type ReconcileResult = { requeueAfterMs?: number } | void;

export interface WorkQueueOptions {
  name: string;
  /** time for requeue-after and backoff (tests pass a manual one) */
  clock?: Clock;
  reconcile: (key: string) => Promise<ReconcileResult>;
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  readonly #o: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;
  readonly #clock: Clock;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; handle: TimerHandle }>();
  readonly #failures = new Map<string, number>();
  #workers = 0;
  #stopped = false;
  #idle: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.#o = { concurrency: 2, baseBackoffMs: 500, maxBackoffMs: 60_000, clock: systemClock, ...opts };
    this.#clock = this.#o.clock;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#pump();
  }

  /** Adds the key after `ms` (an earlier pending add for the same key wins). */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const existing = this.#timers.get(key);
    if (existing !== undefined && existing.at <= at) return;
    if (existing !== undefined) this.#clock.clearTimeout(existing.handle);
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    this.#timers.set(key, { at, handle });
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#workers === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const { handle } of this.#timers.values()) this.#clock.clearTimeout(handle);
    this.#timers.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    await this.idle();
  }

  #pump(): void {
    while (this.#workers < this.#o.concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift()!;
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#workers++;
      void this.#process(key);
    }
  }

  async #process(key: string): Promise<void> {
    try {
      const result = await this.#o.reconcile(key);
      this.#failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delay = Math.min(this.#o.maxBackoffMs, this.#o.baseBackoffMs * 2 ** (failures - 1));
      this.#o.onError?.(key, error, delay);
      this.addAfter(key, delay);
    } finally {
      this.#processing.delete(key);
      this.#workers--;
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
      if (this.#queue.length === 0 && this.#workers === 0) {
        for (const resolve of this.#idle.splice(0)) resolve();
      }
    }
  }
}
