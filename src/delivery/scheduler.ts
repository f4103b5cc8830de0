// Who sends next: hands the integration's send slots and workspace tokens to its channel queues, and says when
// a waiting queue could send (for the dispatcher's timer). The dispatcher owns the queues' lifecycle, the
// requests and their results; this decides only order, and whether a send is a single or a digest.
//
// Two regimes, chosen at every pump from what waits against what the workspace budget holds
// (WorkspaceBudget.isShort):
//
// - ample: as before the budget existed. Channels take turns round-robin, each send is the head alone unless
//   more than `digestThreshold` items wait for that channel (per-channel pressure). A quiet channel's first
//   alert goes out at once: P1.
// - short: the waiting channels cannot all be served now. Each workspace token goes to the channel that has
//   waited longest (its oldest alert, or its last send if that is later, so a busy channel goes to the back of
//   the line after every message and can starve no one), and that channel sends everything it holds (up to
//   `digestCapacity`) as one digest, once the burst looks complete (WorkspaceBudget.gatheredAt). A burst of 10
//   alerts into each of 100 channels thus drains as 100 messages — ~50 from the burst at once, the rest at the
//   refill rate — where singles first would need ~150 and starve the last channels behind the first ones'
//   leftovers.
//
// The per-channel bucket applies in both regimes: a token never goes to a channel Slack would refuse.
import { ChannelQueue } from './channel-queue.ts';
import type { DeliveryLimits } from './limits.ts';
import type { DeliveryItem } from './types.ts';
import type { WorkspaceBudget } from './workspace-budget.ts';

/** A channel queue with what the scheduler needs besides: the size of its send in flight, its last send. */
export class PacedQueue<I extends DeliveryItem> extends ChannelQueue<I> {
  /** items in the request in flight (they stay in the queue until Slack answers) */
  sending = 0;
  /** clock time of the last send, for the oldest-first order while short */
  lastSentAt = Number.NEGATIVE_INFINITY;

  /** items not yet in a request */
  get waiting(): number {
    return this.length - this.sending;
  }
}

export interface Turn<I extends DeliveryItem> {
  queue: PacedQueue<I>;
  /** fold the queue's items into a digest when more than this many wait (ChannelQueue.nextBatch) */
  digestThreshold: number;
}

export class Scheduler<I extends DeliveryItem> {
  readonly #limits: Readonly<DeliveryLimits>;
  readonly #budget: WorkspaceBudget;
  #roundRobin = 0;
  #short = false;

  constructor(limits: Readonly<DeliveryLimits>, budget: WorkspaceBudget) {
    this.#limits = limits;
    this.#budget = budget;
  }

  /** Whether the last call of turns() found the budget short. */
  get short(): boolean {
    return this.#short;
  }

  /**
   * The sends to start now, at most `slots` of them, in order; takes their channel and workspace tokens.
   * `queues` are every queue of the integration (in a stable order), `sendable` says which may send now
   * (something waits, nothing in flight, not parked, not pausing).
   */
  turns(
    queues: readonly PacedQueue<I>[],
    now: number,
    slots: number,
    sendable: (q: PacedQueue<I>) => boolean,
  ): Turn<I>[] {
    // Demand: every channel that will want a token now or as soon as its request in flight returns.
    let demand = 0;
    for (const q of queues) if (q.waiting > 0 && !q.parked && q.notBefore <= now) demand++;
    this.#short = this.#budget.isShort(demand);
    return this.#short
      ? this.#oldestFirst(queues, now, slots, sendable)
      : this.#roundRobinTurns(queues, slots, sendable);
  }

  #roundRobinTurns(
    queues: readonly PacedQueue<I>[],
    slots: number,
    sendable: (q: PacedQueue<I>) => boolean,
  ): Turn<I>[] {
    const turns: Turn<I>[] = [];
    // Each queue at most once per call: none of them is in flight before the dispatcher starts the turns.
    const start = this.#roundRobin;
    for (let i = 0; i < queues.length && turns.length < slots; i++) {
      const index = (start + i) % queues.length;
      const q = queues[index];
      if (!q || !sendable(q)) continue;
      if (this.#budget.waitMs() > 0) break;
      if (!q.bucket.tryTake()) continue;
      this.#budget.tryTake();
      this.#roundRobin = index + 1;
      turns.push({ queue: q, digestThreshold: this.#limits.digestThreshold });
    }
    return turns;
  }

  #oldestFirst(
    queues: readonly PacedQueue<I>[],
    now: number,
    slots: number,
    sendable: (q: PacedQueue<I>) => boolean,
  ): Turn<I>[] {
    const candidates = queues
      .filter((q) => sendable(q) && this.#gatheredAt(q) <= now && q.bucket.waitMs() === 0)
      .sort((a, b) => waitingSince(a) - waitingSince(b)); // stable: ties keep the queues' order
    const turns: Turn<I>[] = [];
    for (const q of candidates) {
      if (turns.length >= slots || !this.#budget.tryTake()) break;
      q.bucket.tryTake();
      turns.push({ queue: q, digestThreshold: 1 });
    }
    return turns;
  }

  /**
   * When a queue that waits (nothing in flight, not parked) could send, by the rules of the last turns():
   * its own Retry-After or backoff, its channel bucket, the workspace budget and, while short, the gathering.
   */
  readyAt(q: PacedQueue<I>, now: number): number {
    const at = Math.max(q.notBefore, now + q.bucket.waitMs(), now + this.#budget.waitMs());
    return this.#short ? Math.max(at, this.#gatheredAt(q)) : at;
  }

  #gatheredAt(q: PacedQueue<I>): number {
    const head = q.at(0);
    if (!head) return Number.POSITIVE_INFINITY;
    // a queue that already fills a digest gains nothing by waiting
    if (q.waiting >= this.#limits.digestCapacity) return Number.NEGATIVE_INFINITY;
    return this.#budget.gatheredAt(head.enqueuedAt);
  }
}

/** Since when a channel has waited for its turn: its oldest alert, or its last send if that came later. */
const waitingSince = <I extends DeliveryItem>(q: PacedQueue<I>): number =>
  Math.max(q.at(0)?.enqueuedAt ?? Number.POSITIVE_INFINITY, q.lastSentAt);
