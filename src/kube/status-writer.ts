// One coalescing writer for the status of our custom resources. Each object has at most one write in
// flight; updates requested meanwhile are merged into the next write, and a write equal to the last one
// is skipped. So a burst of deliveries for one rule costs a handful of PATCHes, not one per delivery
// (quality-bars P7). Status only: the operator never writes spec (GitOps tools must see no drift).
import { isNotFound, type KubeConnection } from './connection.ts';

export interface StatusTarget {
  /** e.g. /apis/jobherald.dev/v1alpha1/namespaces/ns/notificationrules/name */
  path: string;
}

/** The status to write now, and what to do once it is stored (e.g. mark a ledger revision persisted). */
export type StatusBuild = () => { status: Record<string, unknown>; written?: () => void } | undefined;

interface Slot {
  target: StatusTarget;
  build: StatusBuild;
  dirty: boolean;
  writing: Promise<void> | undefined;
  last: string | undefined;
  failures: number;
}

export class StatusWriter {
  readonly #connection: KubeConnection;
  readonly #slots = new Map<string, Slot>();
  readonly #onError: (path: string, error: unknown) => void;
  readonly #retryMs: number;
  #enabled = true;

  constructor(
    connection: KubeConnection,
    opts: { onError?: (path: string, e: unknown) => void; retryMs?: number } = {},
  ) {
    this.#connection = connection;
    this.#onError = opts.onError ?? (() => undefined);
    this.#retryMs = opts.retryMs ?? 1_000;
  }

  /**
   * Schedules a status write for `target`. `build` is called when the write happens, so it always sends
   * the newest state; returning undefined skips the write. `written` runs once that state is stored.
   */
  request(target: StatusTarget, build: StatusBuild): void {
    if (!this.#enabled) return;
    let slot = this.#slots.get(target.path);
    if (slot === undefined) {
      slot = { target, build, dirty: false, writing: undefined, last: undefined, failures: 0 };
      this.#slots.set(target.path, slot);
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
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const pending = [...this.#slots.values()].map((s) => s.writing).filter((w) => w !== undefined);
      if (pending.length === 0 || Date.now() >= deadline) return;
      const left = deadline - Date.now();
      await Promise.race([
        Promise.all(pending),
        ...(left === Infinity ? [] : [new Promise((resolve) => setTimeout(resolve, left).unref())]),
      ]);
    }
  }

  /** Stop writing (a replica that lost leadership must not write). */
  disable(): void {
    this.#enabled = false;
  }

  async #drain(slot: Slot): Promise<void> {
    // let the current burst of requests land in one write
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (slot.dirty && this.#enabled) {
        slot.dirty = false;
        const next = slot.build();
        if (next === undefined) continue;
        const body = JSON.stringify(next.status);
        if (body === slot.last) {
          next.written?.();
          continue;
        }
        try {
          await this.#connection.mergePatch(`${slot.target.path}/status`, {
            status: nullsForMerge(next.status),
          });
          slot.last = body;
          slot.failures = 0;
          next.written?.();
        } catch (error) {
          if (isNotFound(error)) {
            this.#slots.delete(slot.target.path);
            return;
          }
          this.#onError(slot.target.path, error);
          slot.dirty = true;
          slot.failures++;
          const delay = Math.min(60_000, this.#retryMs * 2 ** (slot.failures - 1));
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    } finally {
      slot.writing = undefined;
      if (slot.dirty && this.#enabled && this.#slots.get(slot.target.path) === slot)
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
