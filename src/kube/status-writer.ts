// One coalescing writer for the status of our custom resources. Each object has at most one write in
// flight and, after a write, waits `minIntervalMs` before the next; updates requested meanwhile are merged
// into that next write, and a write equal to the last one is skipped. So a burst of deliveries for one rule
// costs one PATCH every few seconds, not one per delivery (quality-bars P7). Status only: the operator never
// writes spec (GitOps tools must see no drift).
import type { Clock } from '../delivery/clock.ts';
import type { StatusSink } from '../reconcilers/sinks.ts';
import { isNotFound, type KubeConnection } from './connection.ts';

/** The status to write now; undefined skips the write. */
export type StatusBuild = () => Record<string, unknown> | undefined;

interface Slot {
  path: string;
  build: StatusBuild;
  dirty: boolean;
  writing: Promise<void> | undefined;
  last: string | undefined;
  lastWriteAt: number;
  failures: number;
}

export interface StatusWriterOptions {
  clock: Clock;
  onError?: (path: string, e: unknown) => void;
  retryMs?: number;
  /** the least time between two writes of one object (default 0: as soon as the previous one is done) */
  minIntervalMs?: number;
}

export class StatusWriter implements StatusSink {
  readonly #connection: KubeConnection;
  readonly #slots = new Map<string, Slot>();
  readonly #onError: (path: string, error: unknown) => void;
  readonly #retryMs: number;
  readonly #minIntervalMs: number;
  readonly #clock: Clock;
  #enabled = true;

  constructor(connection: KubeConnection, opts: StatusWriterOptions) {
    this.#connection = connection;
    this.#clock = opts.clock;
    this.#onError = opts.onError ?? (() => undefined);
    this.#retryMs = opts.retryMs ?? 1_000;
    this.#minIntervalMs = opts.minIntervalMs ?? 0;
  }

  /**
   * Schedules a status write for the object at `path`. `build` is called when the write happens, so it always
   * sends the newest state; returning undefined skips the write.
   */
  request(path: string, build: StatusBuild): void {
    if (!this.#enabled) return;
    let slot = this.#slots.get(path);
    if (slot === undefined) {
      slot = {
        path,
        build,
        dirty: false,
        writing: undefined,
        last: undefined,
        lastWriteAt: -Infinity,
        failures: 0,
      };
      this.#slots.set(path, slot);
    }
    slot.build = build;
    slot.dirty = true;
    slot.writing ??= this.#drain(slot);
  }

  /** Forget an object (it was deleted). */
  forget(path: string): void {
    this.#slots.delete(path);
  }

  /** Waits for every pending write (graceful shutdown, tests), at most `timeoutMs` when given. */
  async flush(timeoutMs?: number): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : this.#clock.now() + timeoutMs;
    for (;;) {
      const pending = [...this.#slots.values()].map((s) => s.writing).filter((w) => w !== undefined);
      if (pending.length === 0 || this.#clock.now() >= deadline) return;
      const left = deadline - this.#clock.now();
      await Promise.race([Promise.all(pending), ...(left === Infinity ? [] : [this.#sleep(left)])]);
    }
  }

  /** Stop writing (a replica that lost leadership must not write). */
  disable(): void {
    this.#enabled = false;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimeout(() => resolve(), ms));
  }

  async #drain(slot: Slot): Promise<void> {
    // let the current burst of requests land in one write, and keep writes of one object apart
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (slot.dirty && this.#enabled) {
        const wait = slot.lastWriteAt + this.#minIntervalMs - this.#clock.now();
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
        slot.dirty = false;
        const status = slot.build();
        if (status === undefined) continue;
        const body = JSON.stringify(status);
        if (body === slot.last) continue;
        try {
          await this.#connection.mergePatch(`${slot.path}/status`, { status: nullsForMerge(status) });
          slot.last = body;
          slot.lastWriteAt = this.#clock.now();
          slot.failures = 0;
        } catch (error) {
          if (isNotFound(error)) {
            this.#slots.delete(slot.path);
            return;
          }
          this.#onError(slot.path, error);
          slot.dirty = true;
          slot.failures++;
          await this.#sleep(Math.min(60_000, this.#retryMs * 2 ** (slot.failures - 1)));
        }
      }
    } finally {
      slot.writing = undefined;
      if (slot.dirty && this.#enabled && this.#slots.get(slot.path) === slot)
        slot.writing = this.#drain(slot);
    }
  }
}

/** In a JSON merge patch, an absent key means "leave it"; explicit nulls remove fields we dropped. */
function nullsForMerge(status: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(status)) out[key] = value === undefined ? null : value;
  return out;
}
