// The only writes jobherald makes to Jobs: its delivery finalizer on and off, and the delivery record
// annotation (src/delivery/delivery-record.ts). Never spec, never another finalizer.
//
// - One write per Job at a time; what is asked meanwhile is merged into the next write, so a Job that three
//   rules alert about still costs one patch (quality-bars P7).
// - Strategic merge patches: `finalizers` is a merge list, so adding ours keeps everyone else's, and
//   `$deleteFromPrimitiveList` removes only ours.
// - The annotation written is the union of what the Job shows and the entries asked (the pipeline asks every
//   entry it wrote that the cache may not show yet). No resourceVersion precondition: the Job controller
//   updates running and terminating Jobs often, and a conflict would cost a GET and a second PATCH per Job. A
//   new leader whose cache lags behind the old leader's last write re-delivers what it does not see (at least
//   once), so its union holds those entries too: nothing is lost.
import { DELIVERY_FINALIZER, DELIVERY_RECORD_ANNOTATION } from '../api/job-metadata.ts';
import type { JobRecord } from '../domain/job.ts';
import { formatRecord, parseRecord, type RecordEntry } from '../delivery/delivery-record.ts';
import type { JobChange, JobWriteResult, JobWrites } from '../delivery/pipeline-ports.ts';
import type { Clock } from '../delivery/clock.ts';
import { describe } from '../errors.ts';
import { isConflict, isNotFound, KubeApiError, type KubeConnection } from './connection.ts';

const PATCH = 'application/strategic-merge-patch+json';

interface Pending {
  job: JobRecord;
  entries: Set<RecordEntry>;
  finalizer: JobChange['finalizer'];
  waiters: ((result: JobWriteResult) => void)[];
}

export interface JobWriterOptions {
  clock: Clock;
  log: (level: 'warn' | 'debug', fields: Record<string, unknown>, message: string) => void;
  /** every PATCH sent, for metrics */
  onWrite?: (kind: 'hold' | 'record' | 'release') => void;
  /** attempts for one change before giving up (the pipeline offers the Job again on its next event or sweep) */
  maxAttempts?: number;
  /** PATCHes in flight at once: a sweep over thousands of Jobs must not open thousands of requests */
  concurrency?: number;
}

const jobPath = (job: { namespace: string; name: string }): string =>
  `/apis/batch/v1/namespaces/${job.namespace}/jobs/${job.name}`;

export class JobWriter implements JobWrites {
  readonly #connection: KubeConnection;
  readonly #opts: Required<Pick<JobWriterOptions, 'maxAttempts' | 'concurrency'>> & JobWriterOptions;
  /** uid → the change waiting to be written (one in flight per Job, see #writing) */
  readonly #pending = new Map<string, Pending>();
  readonly #writing = new Set<string>();
  /** Jobs with a pending change waiting for a free writer, in order */
  readonly #ready = new Set<string>();
  #workers = 0;
  #stopped = false;

  constructor(connection: KubeConnection, opts: JobWriterOptions) {
    this.#connection = connection;
    this.#opts = { maxAttempts: 8, concurrency: 16, ...opts };
  }

  /** Stops writing (a replica that lost leadership must not write); pending changes resolve 'failed'. */
  stop(): void {
    this.#stopped = true;
    for (const pending of this.#pending.values())
      for (const w of pending.waiters.splice(0)) w({ result: 'failed' });
    this.#pending.clear();
    this.#ready.clear();
  }

  get inFlight(): number {
    return this.#writing.size + this.#pending.size;
  }

  /** Resolves once no write is pending or under way (or after `timeoutMs`). */
  async idle(timeoutMs = Infinity): Promise<void> {
    const deadline = this.#opts.clock.now() + timeoutMs;
    while (this.inFlight > 0 && !this.#stopped && this.#opts.clock.now() < deadline) {
      await new Promise((resolve) => this.#opts.clock.setTimeout(() => resolve(undefined), 50));
    }
  }

  write(job: JobRecord, change: JobChange): Promise<JobWriteResult> {
    if (this.#stopped) return Promise.resolve({ result: 'failed' });
    return new Promise((resolve) => {
      const pending = this.#pending.get(job.uid);
      if (pending === undefined) {
        this.#pending.set(job.uid, {
          job,
          entries: new Set(change.entries),
          finalizer: change.finalizer,
          waiters: [resolve],
        });
      } else {
        pending.job = job;
        for (const e of change.entries) pending.entries.add(e);
        if (change.finalizer !== 'keep') pending.finalizer = change.finalizer;
        pending.waiters.push(resolve);
      }
      if (!this.#writing.has(job.uid)) this.#ready.add(job.uid);
      this.#pump();
    });
  }

  /** Starts writers for ready Jobs, up to the concurrency. */
  #pump(): void {
    while (this.#workers < this.#opts.concurrency && this.#ready.size > 0 && !this.#stopped) {
      const uid = this.#ready.values().next().value!;
      this.#ready.delete(uid);
      this.#workers++;
      void this.#work(uid).finally(() => {
        this.#workers--;
        this.#pump();
      });
    }
  }

  async #work(uid: string): Promise<void> {
    const next = this.#pending.get(uid);
    if (next === undefined) return;
    this.#pending.delete(uid);
    this.#writing.add(uid);
    try {
      let result: JobWriteResult;
      try {
        result = await this.#apply(next);
      } catch (error) {
        this.#opts.log(
          'warn',
          { job: `${next.job.namespace}/${next.job.name}`, err: error },
          'Job write failed',
        );
        result = { result: 'failed' };
      }
      for (const w of next.waiters) w(result);
    } finally {
      this.#writing.delete(uid);
      // asked again while this write was under way: it goes to the back of the line
      if (this.#pending.has(uid)) this.#ready.add(uid);
    }
  }

  async #apply(change: Pending): Promise<JobWriteResult> {
    const job = change.job;
    for (let attempt = 1; !this.#stopped; attempt++) {
      const body = patchFor(job, change);
      if (body === undefined) return { result: 'written' }; // nothing to change
      try {
        const stored = await this.#connection.json<{ metadata?: { resourceVersion?: string } }>(
          'PATCH',
          jobPath(job),
          { body: body.patch, contentType: PATCH },
        );
        this.#opts.onWrite?.(body.kind);
        return { result: 'written', resourceVersion: stored.metadata?.resourceVersion };
      } catch (error) {
        // 404: gone; 409 or 422 on the UID precondition: deleted and re-created under the same name
        if (isNotFound(error) || isConflict(error) || uidMismatch(error)) return { result: 'gone' };
        if (attempt >= this.#opts.maxAttempts || !retryable(error)) {
          this.#opts.log(
            'warn',
            { job: `${job.namespace}/${job.name}`, err: error },
            'could not write the Job',
          );
          return { result: 'failed' };
        }
        this.#opts.log(
          'debug',
          { job: `${job.namespace}/${job.name}`, attempt, err: describe(error) },
          'retrying a Job write',
        );
        await new Promise((resolve) =>
          this.#opts.clock.setTimeout(() => resolve(undefined), Math.min(30_000, 250 * 2 ** attempt)),
        );
      }
    }
    return { result: 'failed' };
  }
}

/** The API server refuses a patch whose metadata.uid is not the object's (it is immutable). */
function uidMismatch(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 422 && /metadata\.uid/.test(error.message);
}

function retryable(error: unknown): boolean {
  if (!(error instanceof KubeApiError)) return true; // transport failure
  return error.status === 429 || error.status >= 500;
}

/**
 * The patch for the change, or undefined when there is nothing to write. The finalizer directive is sent
 * whenever it is asked, whatever the Job looked like when it was asked (both are idempotent on the server,
 * and the snapshot may be older than a write still under way); only adding it to a Job known to be being
 * deleted is never asked, since the API server refuses it. The UID is always a precondition: a Job deleted
 * and re-created under the same name is another Job.
 */
function patchFor(
  job: JobRecord,
  change: Pending,
): { patch: { metadata: Record<string, unknown> }; kind: 'hold' | 'record' | 'release' } | undefined {
  const metadata: Record<string, unknown> = { uid: job.uid };
  const recorded = parseRecord(job.delivered).entries;
  const missing = [...change.entries].filter((e) => !recorded.has(e));
  if (missing.length > 0) {
    metadata.annotations = { [DELIVERY_RECORD_ANNOTATION]: formatRecord([...recorded, ...missing]) };
  }
  let kind: 'hold' | 'record' | 'release' = 'record';
  if (change.finalizer === 'remove') {
    metadata['$deleteFromPrimitiveList/finalizers'] = [DELIVERY_FINALIZER];
    kind = 'release';
  } else if (change.finalizer === 'add' && job.deletionTimestamp === undefined) {
    metadata.finalizers = [DELIVERY_FINALIZER];
    if (missing.length === 0) kind = 'hold';
  } else if (missing.length === 0) return undefined;
  return { patch: { metadata }, kind };
}
