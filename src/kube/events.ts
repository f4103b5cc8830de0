// Kubernetes Events on our objects (what `kubectl describe` shows): delivery failures, membership
// problems. Like client-go's recorder, repeats of the same (object, reason, message) within the aggregation
// window bump the existing Event's count instead of creating another. Unlike a fire-and-forget POST per
// call, the API server sees a bounded stream: at most MAX_IN_FLIGHT requests at a time, repeats that arrive
// while an Event's write is pending fold into that write (1,000 identical failures in a burst are one POST
// and one PATCH, not 1,000 requests), and at most MAX_PENDING distinct Events wait; beyond that new ones are
// dropped and counted, never blocking the caller.
import { randomBytes } from 'node:crypto';
import type { KubeConnection } from './connection.ts';

import type { EventSink, InvolvedObject } from '../reconcilers/sinks.ts';

export type { InvolvedObject };

interface Recorded {
  key: string;
  /** a write of this Event is under way: repeats only bump the count, the write's end sends the rest */
  busy: boolean;
  /** the Event's name once created (undefined while its POST is pending) */
  name: string | undefined;
  count: number;
  /** count the API server has (or is being sent) */
  written: number;
  first: string;
  last: number;
  object: InvolvedObject;
  type: string;
  reason: string;
  message: string;
}

const WINDOW_MS = 10 * 60_000;
const MAX_IN_FLIGHT = 4;
const MAX_PENDING = 500;
const MAX_REMEMBERED = 1000;

export class EventRecorder implements EventSink {
  readonly #connection: KubeConnection;
  readonly #component: string;
  readonly #recent = new Map<string, Recorded>();
  /** keys with a write owed, oldest first */
  readonly #pending = new Set<string>();
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;
  #inFlight = 0;
  #enabled = true;
  /** Events not recorded because MAX_PENDING were already waiting */
  dropped = 0;

  constructor(
    connection: KubeConnection,
    opts: { component?: string; onError?: (e: unknown) => void; now?: () => number } = {},
  ) {
    this.#connection = connection;
    this.#component = opts.component ?? 'jobherald';
    this.#onError = opts.onError ?? (() => undefined);
    this.#now = opts.now ?? Date.now;
  }

  disable(): void {
    this.#enabled = false;
    this.#pending.clear();
  }

  /** Best effort: never blocks or fails the caller. */
  record(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.#enabled) return;
    const text = message.slice(0, 1024);
    const key = `${object.namespace}/${object.kind}/${object.name}/${reason}/${text}`;
    const now = this.#now();
    const seen = this.#recent.get(key);
    if (seen !== undefined && now - seen.last < WINDOW_MS) {
      seen.count++;
      seen.last = now;
      if (seen.busy) return;
    } else {
      if (this.#pending.size >= MAX_PENDING) {
        this.dropped++;
        return;
      }
      this.#recent.delete(key); // re-inserted last: the map stays ordered by recency for pruning
      this.#recent.set(key, {
        key,
        busy: false,
        name: undefined,
        count: 1,
        written: 0,
        first: new Date(now).toISOString(),
        last: now,
        object,
        type,
        reason,
        message: text,
      });
      if (this.#recent.size > MAX_REMEMBERED) this.#prune(now);
    }
    this.#pending.add(key);
    this.#pump();
  }

  /** Resolves once nothing is pending or in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight > 0 || this.#pending.size > 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #pump(): void {
    while (this.#enabled && this.#inFlight < MAX_IN_FLIGHT && this.#pending.size > 0) {
      const key = this.#pending.values().next().value as string;
      this.#pending.delete(key);
      const event = this.#recent.get(key);
      if (event === undefined || event.busy || event.written === event.count) continue;
      this.#inFlight++;
      event.busy = true;
      this.#write(event)
        .catch(this.#onError)
        .finally(() => {
          event.busy = false;
          this.#inFlight--;
          // repeats that came while the write was under way are owed one more
          if (this.#enabled && this.#recent.get(event.key) === event && event.count > event.written)
            this.#pending.add(event.key);
          this.#pump();
        });
    }
  }

  async #write(event: Recorded): Promise<void> {
    const base = `/api/v1/namespaces/${event.object.namespace}/events`;
    const count = event.count;
    const lastTimestamp = new Date(event.last).toISOString();
    event.written = count;
    if (event.name !== undefined) {
      await this.#connection.mergePatch(`${base}/${event.name}`, { count, lastTimestamp });
      return;
    }
    const name = `${event.object.name}.${event.last.toString(16)}${randomBytes(2).toString('hex')}`.slice(
      0,
      253,
    );
    try {
      await this.#connection.json('POST', base, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: event.object.namespace },
          involvedObject: event.object,
          type: event.type,
          reason: event.reason,
          message: event.message,
          count,
          firstTimestamp: event.first,
          lastTimestamp,
          source: { component: this.#component },
          reportingComponent: this.#component,
        },
      });
      event.name = name;
    } catch (error) {
      // not created: forget it, so that the next repeat creates it afresh instead of patching nothing
      if (this.#recent.get(event.key) === event) this.#recent.delete(event.key);
      throw error;
    }
  }

  #prune(now: number): void {
    for (const [key, value] of this.#recent) {
      if (this.#recent.size <= MAX_REMEMBERED && now - value.last <= WINDOW_MS) break;
      if (!this.#pending.has(key) && !value.busy) this.#recent.delete(key);
    }
  }
}
