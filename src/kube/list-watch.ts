// A list-watch (reflector) that keeps a slim record per object, unlike client-node's informer which keeps
// whole objects and stops on most errors. Per the architecture notes:
//   - paginated LIST (limit 500) for the initial state and every relist;
//   - WATCH from the list's resourceVersion with allowWatchBookmarks, so a quiet resource still advances;
//   - 410 Gone (resourceVersion too old) → relist, and diff against the store so consumers see exactly
//     the adds, updates and deletes they missed;
//   - any other failure → reconnect with jittered exponential backoff; no event or bookmark for
//     `silenceMs` → the connection is presumed dead and is replaced.
// Consumers get ordered callbacks; `synced` resolves after the first complete list.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isGone, KubeApiError, type KubeConnection, type Query } from './connection.ts';
import { describe } from '../errors.ts';
import { systemClock, type Clock, type TimerHandle } from '../delivery/clock.ts';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  [key: string]: unknown;
}

export interface KubeObject {
  metadata: ObjectMeta;
  [key: string]: unknown;
}

interface ListResponse {
  metadata: { resourceVersion: string; continue?: string };
  items: KubeObject[];
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

export type ChangeType = 'added' | 'modified' | 'deleted';

export interface ListWatchHandlers<R> {
  /** Called in order. `previous` is the stored record before the change (undefined for added). */
  onChange(type: ChangeType, record: R, previous: R | undefined): void;
  /** After every complete (re)list, with whether it was a relist after a gap. */
  onSynced?(relist: boolean): void;
}

export interface ListWatchMetrics {
  watchRestarts(resource: string, reason: string): void;
  relists(resource: string): void;
}

export interface ListWatchOptions<R> {
  connection: KubeConnection;
  /** e.g. /apis/batch/v1/jobs or /api/v1/namespaces/x/secrets */
  path: string;
  /** a short name for logs and metrics */
  resource: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** builds the slim record kept in the store; undefined drops the object */
  toRecord: (object: KubeObject) => R | undefined;
  keyOf?: (object: KubeObject) => string;
  pageSize?: number;
  /** server-side watch timeout; the watch is re-opened after it (default 5 min, jittered) */
  watchTimeoutSeconds?: number;
  /** no event or bookmark for this long → reconnect (default 2.5 min: bookmarks come about every minute) */
  silenceMs?: number;
  log?: (level: 'info' | 'warn' | 'debug', message: string, fields?: Record<string, unknown>) => void;
  metrics?: ListWatchMetrics;
  /** time for the silence check and the reconnect backoff */
  clock?: Clock;
}

/** Objects applied from a LIST page before the event loop gets a turn. */
const LIST_SLICE = 100;

const defaultKey = (o: KubeObject): string =>
  o.metadata.namespace === undefined ? o.metadata.name : `${o.metadata.namespace}/${o.metadata.name}`;

export class ListWatch<R> {
  readonly store = new Map<string, R>();
  readonly synced: Promise<void>;
  #resolveSynced!: () => void;
  #resourceVersion = '';
  #stopped = false;
  #abort: AbortController | undefined;
  #failures = 0;
  #lastActivity = 0;
  #everSynced = false;
  readonly #clock: Clock;
  readonly #opts: Required<Pick<ListWatchOptions<R>, 'pageSize' | 'watchTimeoutSeconds' | 'silenceMs'>> &
    ListWatchOptions<R>;
  readonly #handlers: ListWatchHandlers<R>;
  #loop: Promise<void> | undefined;

  constructor(opts: ListWatchOptions<R>, handlers: ListWatchHandlers<R>) {
    this.#opts = { pageSize: 500, watchTimeoutSeconds: 300, silenceMs: 150_000, ...opts };
    this.#handlers = handlers;
    this.#clock = opts.clock ?? systemClock;
    this.#lastActivity = this.#clock.now();
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
  }

  get isSynced(): boolean {
    return this.#everSynced;
  }

  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let needList = true;
    while (!this.#stopped) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
        }
        await this.#watch();
        this.#failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        if (isGone(error)) {
          this.#opts.metrics?.relists(this.#opts.resource);
          this.#log('info', 'watch expired (410 Gone): relisting');
          needList = true;
          continue;
        }
        this.#failures++;
        const delay = backoff(this.#failures);
        this.#opts.metrics?.watchRestarts(
          this.#opts.resource,
          error instanceof KubeApiError ? error.code : 'error',
        );
        this.#log('warn', `list/watch failed, retrying in ${delay} ms: ${describe(error)}`, {
          failures: this.#failures,
        });
        // After a long outage a relist is cheaper than hoping the resourceVersion is still in the cache.
        if (this.#failures >= 3) needList = true;
        await this.#sleep(delay);
      }
    }
  }

  async #list(): Promise<void> {
    const relist = this.#everSynced;
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.#opts.connection.get<ListResponse>(this.#opts.path, {
        limit: this.#opts.pageSize,
        continue: continueToken,
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
      } satisfies Query);
      for (const [i, object] of page.items.entries()) {
        // A relist's consumers evaluate every object: let the event loop (Lease renewals) run between slices.
        if (i > 0 && i % LIST_SLICE === 0) await nextTurn();
        const key = (this.#opts.keyOf ?? defaultKey)(object);
        seen.add(key);
        this.#apply('upsert', key, object);
      }
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
      this.#lastActivity = this.#clock.now();
    } while (continueToken !== undefined && !this.#stopped);
    // Whatever the store holds but the list did not is gone: deleted while we were not watching.
    let checked = 0;
    for (const [key, record] of [...this.store]) {
      if (++checked % (LIST_SLICE * 10) === 0) await nextTurn();
      if (!seen.has(key) && this.store.has(key)) {
        this.store.delete(key);
        this.#guard('onChange', () => this.#handlers.onChange('deleted', record, record));
      }
    }
    this.#resourceVersion = resourceVersion;
    this.#everSynced = true;
    this.#guard('onSynced', () => this.#handlers.onSynced?.(relist));
    this.#resolveSynced();
  }

  async #watch(): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    const jitter = Math.round(this.#opts.watchTimeoutSeconds * (0.9 + Math.random() * 0.2));
    // The silence check runs from the request on: a server that never answers is as dead as a quiet one.
    this.#lastActivity = this.#clock.now();
    const every = Math.min(5_000, this.#opts.silenceMs / 2);
    let silence: TimerHandle = undefined;
    const watchSilence = (): void => {
      silence = this.#clock.setTimeout(() => {
        if (this.#clock.now() - this.#lastActivity > this.#opts.silenceMs) {
          this.#log('warn', `no watch event or bookmark for ${this.#opts.silenceMs} ms: reconnecting`);
          this.#opts.metrics?.watchRestarts(this.#opts.resource, 'silence');
          abort.abort();
        } else if (!abort.signal.aborted) watchSilence();
      }, every);
    };
    watchSilence();
    let body: Readable | undefined;
    let lines: ReturnType<typeof createInterface> | undefined;
    try {
      const response = await this.#opts.connection.send('GET', this.#opts.path, {
        query: {
          watch: true,
          allowWatchBookmarks: true,
          resourceVersion: this.#resourceVersion,
          timeoutSeconds: jitter,
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
        },
        signal: abort.signal,
      });
      if (response.status !== 200) {
        const text = await response.text();
        let reason = '';
        try {
          reason = (JSON.parse(text) as { reason?: string }).reason ?? '';
        } catch {
          // not a Status
        }
        throw new KubeApiError(
          response.status,
          reason,
          `watch ${this.#opts.path}: ${response.status} ${text.slice(0, 300)}`,
        );
      }
      body = Readable.fromWeb(response.body as unknown as WebReadableStream);
      // Errors surface through the for-await below; these listeners only keep a late one (after we stopped
      // reading) from becoming an unhandled 'error' event that would kill the process.
      body.on('error', () => undefined);
      lines = createInterface({ input: body, crlfDelay: Infinity });
      lines.on('error', () => undefined);
      for await (const line of lines) {
        if (line === '') continue;
        this.#lastActivity = this.#clock.now();
        this.#onEvent(JSON.parse(line) as WatchEvent);
      }
    } catch (error) {
      if (abort.signal.aborted) return; // silence, or stop(): the loop decides what next
      throw error;
    } finally {
      if (silence !== undefined) this.#clock.clearTimeout(silence);
      // release the connection whatever ended the watch: stop reading first, then cut it
      lines?.close();
      body?.destroy();
      abort.abort();
    }
  }

  #onEvent(event: WatchEvent): void {
    const object = event.object;
    switch (event.type) {
      case 'BOOKMARK':
        this.#resourceVersion = object.metadata.resourceVersion;
        return;
      case 'ERROR':
        throw new KubeApiError(
          object.code ?? 500,
          object.reason ?? '',
          `watch ${this.#opts.path}: ${object.message ?? ''}`,
        );
      case 'ADDED':
      case 'MODIFIED':
        this.#apply('upsert', (this.#opts.keyOf ?? defaultKey)(object), object);
        break;
      case 'DELETED':
        this.#apply('delete', (this.#opts.keyOf ?? defaultKey)(object), object);
        break;
    }
    this.#resourceVersion = object.metadata.resourceVersion;
  }

  #apply(op: 'upsert' | 'delete', key: string, object: KubeObject): void {
    const previous = this.store.get(key);
    const record = this.#opts.toRecord(object);
    if (op === 'delete') {
      this.store.delete(key);
      if (record !== undefined || previous !== undefined) {
        const gone = (record ?? previous) as R;
        this.#guard('onChange', () => this.#handlers.onChange('deleted', gone, previous));
      }
      return;
    }
    if (record === undefined) {
      // filtered out now (e.g. a label changed): to consumers it is as good as deleted
      if (previous !== undefined) {
        this.store.delete(key);
        this.#guard('onChange', () => this.#handlers.onChange('deleted', previous, previous));
      }
      return;
    }
    this.store.set(key, record);
    this.#guard('onChange', () =>
      this.#handlers.onChange(previous === undefined ? 'added' : 'modified', record, previous),
    );
  }

  /** A consumer's exception is logged and contained: it must neither replay the event forever nor stop the watch. */
  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log('warn', `${what} handler failed: ${describe(error)}`);
    }
  }

  /** Waits `ms`, in short steps so that stop() is not held up by a long backoff. */
  async #sleep(ms: number): Promise<void> {
    const until = this.#clock.now() + ms;
    while (!this.#stopped && this.#clock.now() < until) {
      const step = Math.min(200, until - this.#clock.now());
      await new Promise((resolve) => this.#clock.setTimeout(() => resolve(undefined), step));
    }
  }

  #log(level: 'info' | 'warn' | 'debug', message: string, fields: Record<string, unknown> = {}): void {
    this.#opts.log?.(level, message, { resource: this.#opts.resource, ...fields });
  }
}

/** Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … capped at 30 s. */
export function backoff(failures: number): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
