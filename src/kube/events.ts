// Kubernetes Events on our objects (what `kubectl describe` shows): delivery failures, membership
// problems. Repeats of the same (object, reason, message) within the aggregation window bump the
// existing Event's count instead of creating another, like client-go's recorder.
import { randomBytes } from 'node:crypto';
import type { KubeConnection } from './connection.ts';

import type { EventSink, InvolvedObject } from '../reconcilers/sinks.ts';

export type { InvolvedObject };

interface Recorded {
  name: string;
  count: number;
  last: number;
}

const WINDOW_MS = 10 * 60_000;

export class EventRecorder implements EventSink {
  readonly #connection: KubeConnection;
  readonly #component: string;
  readonly #recent = new Map<string, Recorded>();
  readonly #onError: (error: unknown) => void;
  #enabled = true;

  constructor(connection: KubeConnection, opts: { component?: string; onError?: (e: unknown) => void } = {}) {
    this.#connection = connection;
    this.#component = opts.component ?? 'jobherald';
    this.#onError = opts.onError ?? (() => undefined);
  }

  disable(): void {
    this.#enabled = false;
  }

  /** Fire and forget: an Event is best effort and never blocks or fails the caller. */
  record(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.#enabled) return;
    this.#send(object, type, reason, message.slice(0, 1024)).catch(this.#onError);
  }

  async #send(object: InvolvedObject, type: string, reason: string, message: string): Promise<void> {
    const key = `${object.namespace}/${object.kind}/${object.name}/${reason}/${message}`;
    const now = Date.now();
    const base = `/api/v1/namespaces/${object.namespace}/events`;
    const time = new Date(now).toISOString();
    const seen = this.#recent.get(key);
    if (seen !== undefined && now - seen.last < WINDOW_MS) {
      seen.count++;
      seen.last = now;
      await this.#connection.mergePatch(`${base}/${seen.name}`, { count: seen.count, lastTimestamp: time });
      return;
    }
    const name = `${object.name}.${now.toString(16)}${randomBytes(2).toString('hex')}`.slice(0, 253);
    this.#recent.set(key, { name, count: 1, last: now });
    if (this.#recent.size > 1000) this.#prune(now);
    await this.#connection.json('POST', base, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: object.namespace },
        involvedObject: object,
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: time,
        lastTimestamp: time,
        source: { component: this.#component },
        reportingComponent: this.#component,
      },
    });
  }

  #prune(now: number): void {
    for (const [key, value] of this.#recent) if (now - value.last > WINDOW_MS) this.#recent.delete(key);
  }
}
