// The delivery pipeline: one Job change in, Slack messages and one Job write out. Its stages, in the order a
// Job event meets them (each is a method below, in this order):
//
//   detect   the outcome the Job's state shows now (domain/outcome.ts currentOutcome), deletions included
//   match    the active rules that select the Job (domain/match.ts)
//   claim    per rule wanting that outcome: not in the Job's delivery record, not already under way, not
//            older than the rule → owed
//   resolve  destinations to channel/user IDs, mentions to Slack tokens (the integration's lookups)
//   render   the Block Kit message (domain/render.ts)
//   route    into the integration's per-channel queue, or held until a channel resolves
//   send     the dispatcher (delivery/dispatcher.ts) posts, paces, digests, retries
//   record   once every destination answered: one Job patch adds the record entries and releases the finalizer
//   status   the report: rule history, Events, metrics (the rule reconciler owns what it writes)
//
// The pipeline is re-entrant by design: every change of a Job re-evaluates it from its state, and the record
// (plus what is under way in this process) makes that idempotent, so a sweep after a relist or on becoming
// leader is just the same call for every cached Job. The finalizer rules (docs/adr/0009): a Job that an active
// rule selects and that has not finished is held; it is released as soon as nothing more can be owed.
import type { NotificationRule } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import type { Outcome } from '../domain/outcome-types.ts';
import { currentOutcome, isFinished, isRunning, showsStarted } from '../domain/outcome.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { namespaceIndexedSelector } from '../domain/match.ts';
import { renderAlert } from '../domain/render.ts';
import { rfc3339 } from '../domain/time.ts';
import { AuthError, JobheraldError, RetryableError } from '../errors.ts';
import type { LogSink } from '../slack/logging.ts';
import type { Clock } from './clock.ts';
import { parseRecord, recordEntry, type RecordEntry } from './delivery-record.ts';
import { destinationId, destinationRef } from './destination.ts';
import type {
  ActiveRule,
  DeliveryIntegration,
  DeliveryReport,
  DeliveryRule,
  JobWrites,
  PipelineSources,
} from './pipeline-ports.ts';
import { deliveryItemId, type DeliveryItem, type SendResult } from './types.ts';

/** How long the book of a Job whose write found it gone waits for the Job's DELETED event. */
const GONE_BOOK_MS = 5 * 60_000;
/**
 * Jobs a sweep evaluates before it lets the event loop run: Lease renewals, watch events and Slack's answers
 * share that loop, and a sweep of 50,000 Jobs in one go would hold it for seconds (docs/benchmarks.md).
 */
const SWEEP_SLICE = 500;

/** How long preparing an alert (user and mention lookups) may keep failing transiently before it fails. */
export const MAX_PREPARE_MS = 15 * 60_000;

export interface PipelineOptions {
  sources: PipelineSources;
  jobs: JobWrites;
  report: DeliveryReport;
  clock: Clock;
  /** hold matched Jobs with the delivery finalizer (false: best effort, docs/install.md) */
  finalizers: boolean;
  clusterName: string;
  log: LogSink;
  outcomeSeen?: (event: string) => void;
}

type RuleDestination = NotificationRule['spec']['destinations'][number];

/** One rule owed an alert about one outcome, to these destinations. */
interface Owed {
  active: ActiveRule;
  entry: RecordEntry;
  destinations: RuleDestination[];
}

type Target =
  { id: string; label: string } | { error: string; label: string } | { hold: string; label: string };

/** What this process knows about one Job beyond the cache: only while something is under way. */
interface JobBook {
  job: JobRecord;
  /** entries being delivered → destinations still unanswered */
  inFlight: Map<RecordEntry, number>;
  /** entries answered, not yet written */
  done: Set<RecordEntry>;
  /** entries written (or being written) that the cache may not show yet */
  written: Set<RecordEntry>;
  /** the finalizer change last asked, until the cache shows it */
  finalizer: 'add' | 'remove' | undefined;
  /** the Job's resourceVersion after our last write: a cached state at least this new includes it */
  writtenVersion: string | undefined;
  writes: number;
  /** the Job no longer exists: answers are reported, nothing is written */
  gone: boolean;
}

const codeOf = (error: unknown): string => (error instanceof JobheraldError ? error.code : 'internal_error');

export class DeliveryPipeline {
  readonly #o: PipelineOptions;
  readonly #books = new Map<string, JobBook>();
  /** Jobs seen running that a rule selects: suspension clears startTime, this remembers they had started */
  readonly #seenRunning = new Set<string>();
  /** the selector of the rules' current version (PipelineSources.rulesVersion) */
  #selector: { version: number; select: (job: JobRecord) => ActiveRule[] } | undefined;
  /** sweeps started: a sweep whose number is no longer the last stops at its next turn */
  #sweeps = 0;
  #lastSweep: Promise<void> = Promise.resolve();
  /** leading: deliver and write */
  #active = false;
  /** taking Job changes (false while shutting down: answers of in-flight sends are still recorded) */
  #intake = false;

  constructor(options: PipelineOptions) {
    this.#o = options;
  }

  /** Only the leader delivers and writes. */
  setActive(active: boolean): void {
    this.#active = active;
    this.#intake = active;
  }

  /** Graceful shutdown: no new Job changes; sends under way still have their answers recorded. */
  stopIntake(): void {
    this.#intake = false;
  }

  /** Jobs this process is still delivering about or writing (for tests and shutdown logs). */
  get busy(): number {
    let n = 0;
    for (const b of this.#books.values()) if (b.inFlight.size > 0 || b.writes > 0) n++;
    return n;
  }

  /** A Job was added, modified or deleted (the list-watch's callback). */
  onJobChange(type: 'added' | 'modified' | 'deleted', job: JobRecord, previous: JobRecord | undefined): void {
    if (!this.#intake) return;
    if (type === 'deleted') this.#gone(job, previous);
    else this.#offer(job);
  }

  /**
   * Every cached Job again: on becoming leader, after a relist, when rules or integrations change. In slices of
   * SWEEP_SLICE Jobs with a turn of the event loop between them (the first slice runs at once); a newer sweep
   * supersedes one under way, which stops at its next turn. Resolves when done or superseded. The rules are read
   * afresh after every turn, so a rule deleted meanwhile is not acted on by the rest of the sweep.
   */
  sweep(jobs: Iterable<JobRecord>): Promise<void> {
    const run = this.#sweep(jobs);
    this.#lastSweep = run;
    return run;
  }

  /** Resolves once no sweep is under way: the last one started has finished (not merely been superseded). */
  async sweepsDone(): Promise<void> {
    let run: Promise<void>;
    do {
      run = this.#lastSweep;
      await run;
    } while (run !== this.#lastSweep);
  }

  async #sweep(jobs: Iterable<JobRecord>): Promise<void> {
    if (!this.#intake) return;
    const generation = ++this.#sweeps;
    let select = this.#currentSelector();
    let inSlice = 0;
    for (const job of jobs) {
      if (++inSlice > SWEEP_SLICE) {
        await nextTurn();
        if (generation !== this.#sweeps || !this.#intake) return;
        select = this.#currentSelector();
        inSlice = 1;
      }
      try {
        this.#offer(job, select(job));
      } catch (error) {
        // one Job's bad data must not leave the others unreleased
        this.#o.log.error({ job: `${job.namespace}/${job.name}`, err: error }, 'could not evaluate a Job');
      }
    }
  }

  /**
   * match, for one Job or a sweep: the rules that reach each namespace are found once per namespace, and kept
   * while the rules' version holds (a source without versions gets a fresh selector every time).
   */
  #currentSelector(): (job: JobRecord) => ActiveRule[] {
    const version = this.#o.sources.rulesVersion?.();
    if (version !== undefined && this.#selector?.version === version) return this.#selector.select;
    const select = namespaceIndexedSelector(
      [...this.#o.sources.activeRules()],
      (a) => a.rule.object,
      this.#o.sources.matchContext(),
    );
    this.#selector = version === undefined ? undefined : { version, select };
    return select;
  }

  /**
   * Jobs that a v1alpha1 ledger had armed (running, watched for Cancelled) and that are gone from the cluster:
   * deleted while the previous version was not watching. Alerted once as Cancelled; there is no Job to
   * record it on, which is fine: they will never be seen again.
   */
  offerVanished(
    rule: ActiveRule,
    vanished: { uid: string; job: string; cronJob?: string; ttl: boolean }[],
  ): void {
    if (!this.#intake) return;
    const now = rfc3339(this.#o.clock.now());
    for (const armed of vanished) {
      if (!rule.rule.object.spec.events.includes('Cancelled')) continue;
      const [namespace = '', name = ''] = armed.job.split('/');
      const job: JobRecord = {
        uid: armed.uid,
        namespace,
        name,
        resourceVersion: '',
        labels: {},
        creationTimestamp: now,
        suspend: false,
        active: 0,
        succeeded: 0,
        failed: 0,
        conditions: [],
        ...(armed.cronJob !== undefined ? { cronJob: armed.cronJob } : {}),
      };
      const outcome: Outcome = {
        event: 'Cancelled',
        reason: 'Deleted',
        cancellation: 'Deleted',
        at: now,
        message: unseenDeletion(armed.ttl),
      };
      const book = this.#book(job);
      book.gone = true;
      const entry = recordEntry(rule.rule.uid, 'Cancelled');
      this.#deliver(job, outcome, [
        { active: rule, entry, destinations: rule.rule.object.spec.destinations },
      ]);
    }
  }

  // ------------------------------------------------------------------------------------------- the stages

  /** A Job that exists: detect → match → claim → resolve/render/route, then record what can be recorded. */
  #offer(job: JobRecord, selected?: ActiveRule[]): void {
    const book = this.#books.get(job.uid);
    if (book !== undefined) {
      book.job = job;
      // The cache has caught up with our last write: what it shows about the finalizer is the truth now
      // (someone may have changed it since), not what we last asked.
      if (book.writes === 0 && isAtLeast(job.resourceVersion, book.writtenVersion))
        book.finalizer = undefined;
    }
    const rules = selected ?? this.#match(job);
    if (rules.length > 0 && isRunning(job)) this.#seenRunning.add(job.uid);
    const outcome = this.#detect(job);
    if (outcome !== undefined && rules.length > 0) {
      const owed = this.#claim(job, outcome, rules);
      if (owed.length > 0) this.#deliver(job, outcome, owed);
    }
    this.#record(job, rules.length > 0);
  }

  /** A DELETED event: the Job is gone (no finalizer held it, or ours was just released). */
  #gone(job: JobRecord, previous: JobRecord | undefined): void {
    const book = this.#books.get(job.uid);
    if (book !== undefined) book.gone = true;
    // Judged like a Job being deleted, by the same function: a Job we held shows its deletionTimestamp; one
    // that vanished at once (no finalizer held it, or ours was the last) was deleted now. A relist's synthetic
    // delete carries the last state we saw: the Job may have finished in the gap.
    const synthetic = previous === job;
    const started = this.#seenRunning.has(job.uid) || (previous !== undefined && showsStarted(previous));
    const namespaceDeletion = this.#o.sources.namespaceDeletion(job.namespace);
    // A finished Job deleted at once was deleted after it finished, whatever this process's clock says (only
    // cluster clocks are compared); an unfinished one was deleted now.
    const deletion = job.deletionTimestamp ?? (isFinished(job) ? undefined : rfc3339(this.#o.clock.now()));
    let outcome = currentOutcome(
      deletion === undefined ? job : { ...job, deletionTimestamp: deletion },
      started,
      namespaceDeletion,
    );
    // A held Job can only vanish after a jobherald process released it, having recorded it first: the state a
    // relist remembers may predate that (a failover), so it owes nothing.
    if (synthetic && previous.held === true && this.#o.finalizers) outcome = undefined;
    if (outcome?.cancellation === 'Deleted' && job.deletionTimestamp === undefined && synthetic) {
      outcome = { ...outcome, message: unseenDeletion(job.ttlSecondsAfterFinished !== undefined) };
    }
    const rules = outcome === undefined ? [] : this.#match(job);
    const owed = outcome === undefined ? [] : this.#claim(job, outcome, rules);
    if (outcome !== undefined && owed.length > 0) {
      this.#book(job).gone = true;
      this.#deliver(job, outcome, owed);
    }
    if (book !== undefined && book.inFlight.size === 0) this.#books.delete(job.uid);
    this.#seenRunning.delete(job.uid);
  }

  /** detect: the outcome the Job's state shows now. */
  #detect(job: JobRecord): Outcome | undefined {
    const namespaceDeletion = this.#o.sources.namespaceDeletion(job.namespace);
    return currentOutcome(job, this.#seenRunning.has(job.uid), namespaceDeletion);
  }

  /** match: the active rules that select this Job, whatever its outcome. */
  #match(job: JobRecord): ActiveRule[] {
    return this.#currentSelector()(job);
  }

  /** claim: what each selecting rule is still owed about this outcome. */
  #claim(job: JobRecord, outcome: Outcome, rules: ActiveRule[]): Owed[] {
    const book = this.#books.get(job.uid);
    const parsed = parseRecord(job.delivered);
    if (parsed.problem !== undefined) {
      this.#o.log.warn({ job: `${job.namespace}/${job.name}`, problem: parsed.problem }, 'delivery record');
    }
    const handled = (entry: RecordEntry): boolean =>
      parsed.entries.has(entry) ||
      book?.written.has(entry) === true ||
      book?.done.has(entry) === true ||
      book?.inFlight.has(entry) === true;
    const at = Date.parse(outcome.at);
    const owed: Owed[] = [];
    for (const active of rules) {
      const { rule } = active;
      if (!rule.object.spec.events.includes(outcome.event)) continue;
      const entry = recordEntry(rule.uid, outcome.event);
      if (handled(entry)) continue;
      // Cluster clocks only: the outcome's own time against the rule's creation, and for a Job we never held,
      // against the last spec change of the rule and of its integration (a time in the same second counts as
      // before): no storm on install, none when a rule widens its events or an integration resumes.
      if (at < rule.created) continue;
      if (job.held !== true && !(at > since(active))) continue;
      let destinations = rule.object.spec.destinations;
      const legacy = rule.legacySent?.get(`${job.uid} ${entry.slice(-1)}`);
      if (legacy !== undefined) {
        // the v1alpha1 ledger sent some destinations already: send the others only, then record it all
        destinations = destinations.filter((d) => !legacy.has(destinationId(destinationRef(d))));
        if (destinations.length === 0) {
          this.#book(job).done.add(entry);
          continue;
        }
      }
      owed.push({ active, entry, destinations });
    }
    if (owed.length > 0) {
      this.#o.outcomeSeen?.(outcome.event);
      this.#o.log.debug(
        {
          job: `${job.namespace}/${job.name}`,
          uid: job.uid,
          event: outcome.event,
          reason: outcome.reason,
          at: outcome.at,
          rules: owed.map((o) => o.active.rule.key),
          held: job.held === true,
          deletion: job.deletionTimestamp,
          record: job.delivered,
        },
        'outcome owed',
      );
    }
    return owed;
  }

  /** resolve → render → route, for every owed rule; the Job's book counts what is under way. */
  #deliver(job: JobRecord, outcome: Outcome, owed: Owed[]): void {
    const book = this.#book(job);
    const observedAt = this.#o.clock.now();
    // read now: a Job with ttlSecondsAfterFinished: 0 takes its pods with it while lookups are awaited
    const failedPods = outcome.event === 'Failed' ? this.#o.sources.failedPods(job) : undefined;
    for (const o of owed) {
      book.inFlight.set(o.entry, o.destinations.length);
      this.#prepare({ ...o, job, outcome, observedAt, failedPods }, 0);
    }
  }

  /** resolve and route, retrying transient lookup failures with backoff; a lasting one is a Failed answer. */
  #prepare(p: Preparation, attempt: number): void {
    this.#resolveAndRoute(p).catch((error: unknown) => this.#prepareFailed(p, attempt, error));
  }

  #prepareFailed(p: Preparation, attempt: number, error: unknown): void {
    try {
      const transient = error instanceof RetryableError || error instanceof AuthError;
      const job = `${p.job.namespace}/${p.job.name}`;
      if (transient && this.#o.clock.now() - p.observedAt < MAX_PREPARE_MS) {
        const delay = Math.min(60_000, 1_000 * 2 ** attempt);
        this.#o.log.warn(
          { rule: p.active.rule.key, job, code: codeOf(error), retryInMs: delay },
          'could not prepare an alert; retrying',
        );
        // not active any more: the Job is still held (or unrecorded), so the next leader sends it
        this.#o.clock.setTimeout(() => this.#intake && this.#prepare(p, attempt + 1), delay);
        return;
      }
      this.#o.log.error({ rule: p.active.rule.key, job, err: error }, 'could not prepare an alert');
      for (const destination of p.destinations) {
        this.onResult(this.#item(p, destination, '', labelOf(destination), [], undefined), {
          result: 'Failed',
          error: codeOf(error),
          message: error instanceof Error ? error.message : String(error),
          attempts: attempt + 1,
          at: this.#o.clock.now(),
        });
      }
    } catch (failure) {
      this.#o.log.error({ rule: p.active.rule.key, err: failure }, 'could not report a failed alert');
    }
  }

  async #resolveAndRoute(p: Preparation): Promise<void> {
    const { active, job, outcome } = p;
    const { rule, integration } = active;
    // resolve: every destination before routing any, so a retry never repeats half of them
    const wantsMentions = outcome.event !== 'Succeeded' && (rule.object.spec.mentions?.length ?? 0) > 0;
    const mentions = wantsMentions ? await rule.resolveMentions(integration) : [];
    const targets: Target[] = [];
    for (const destination of p.destinations)
      targets.push(await resolveTarget(integration, rule.namespace, destination));
    // render
    const message = renderAlert({
      job,
      outcome,
      clusterName: integration.clusterName ?? this.#o.clusterName,
      failedPods: p.failedPods,
      mentions,
      links: rule.object.spec.links,
    });
    // route — unless this process stopped taking work meanwhile (the Job stays held or unrecorded: the next
    // leader sends it), or the integration was deleted (a Failed answer, in status: never a silent drop)
    if (!this.#intake) return;
    if (integration.dispatcher.stopped) {
      for (const destination of p.destinations) {
        this.onResult(this.#item(p, destination, '', labelOf(destination), mentions, message), {
          result: 'Failed',
          error: 'integration_stopped',
          message: `the SlackIntegration of rule ${rule.key} was deleted or stopped`,
          attempts: 0,
          at: this.#o.clock.now(),
        });
      }
      return;
    }
    p.destinations.forEach((destination, i) => {
      const target = targets[i]!;
      if ('hold' in target) {
        integration.hold(target.hold, this.#item(p, destination, '', target.label, mentions, message));
      } else if ('error' in target) {
        // a destination that cannot exist right now fails at once, visibly (status, Event, metric)
        this.onResult(this.#item(p, destination, '', target.label, mentions, message), {
          result: 'Failed',
          error: target.error,
          message: target.error,
          attempts: 0,
          at: this.#o.clock.now(),
        });
      } else {
        const item = this.#item(p, destination, target.id, target.label, mentions, message);
        // A duplicate id means the same alert is queued already (its answer will count for both).
        if (!integration.dispatcher.enqueue(item)) this.#answered(item);
      }
    });
  }

  #item(
    p: Preparation,
    destination: RuleDestination,
    queue: string,
    label: string,
    mentions: readonly string[],
    message: DeliveryItem['message'] | undefined,
  ): DeliveryItem {
    const { rule } = p.active;
    const key = { jobUID: p.job.uid, event: p.outcome.event, destination: destinationRef(destination) };
    return {
      id: deliveryItemId(rule.uid, key),
      key,
      rule: { namespace: rule.namespace, name: rule.object.metadata.name, uid: rule.uid },
      job: `${p.job.namespace}/${p.job.name}`,
      cronJob: p.job.cronJob,
      mentions,
      event: p.outcome.event,
      outcome: p.outcome,
      message: message ?? { text: '' },
      destination: queue,
      destinationLabel: label,
      observedAt: p.observedAt,
    };
  }

  /** send happened: the dispatcher (or a hold, or a failed lookup) answered one item. */
  onResult(item: DeliveryItem, result: SendResult): void {
    this.#o.report.delivered(item, result);
    const book = this.#answered(item);
    if (book !== undefined && book.inFlight.size === 0 && this.#active && !book.gone) {
      this.#record(book.job, this.#match(book.job).length > 0);
    }
    if (book?.gone === true && book.inFlight.size === 0) this.#books.delete(item.key.jobUID);
  }

  #answered(item: DeliveryItem): JobBook | undefined {
    const book = this.#books.get(item.key.jobUID);
    if (book === undefined) return undefined;
    const entry = recordEntry(item.rule.uid, item.event);
    const left = (book.inFlight.get(entry) ?? 1) - 1;
    if (left > 0) book.inFlight.set(entry, left);
    else if (book.inFlight.delete(entry)) book.done.add(entry);
    return book;
  }

  /**
   * record: once nothing is under way for the Job, one write brings it where it should be: the answered
   * entries added to its record, and the finalizer on (an active rule selects it and it may still end) or off
   * (finished, being deleted, or no rule selects it any more).
   */
  #record(job: JobRecord, selected: boolean): void {
    const book = this.#books.get(job.uid);
    if (book !== undefined && (book.inFlight.size > 0 || book.gone)) return;
    const final = job.deletionTimestamp !== undefined || isFinished(job) || !selected;
    const held = book?.finalizer !== undefined ? book.finalizer === 'add' : job.held === true;
    const wantHeld = this.#o.finalizers && !final;
    let finalizer: 'add' | 'remove' | 'keep' = 'keep';
    if (held && !wantHeld) finalizer = 'remove';
    else if (!held && wantHeld && job.deletionTimestamp === undefined) finalizer = 'add';
    const fresh = [...(book?.done ?? [])];
    if (finalizer === 'keep' && fresh.length === 0) {
      if (book !== undefined && book.writes === 0 && showsWritten(job, book)) this.#books.delete(job.uid);
      if (final) this.#seenRunning.delete(job.uid);
      return;
    }
    const b = book ?? this.#book(job);
    if (finalizer !== 'keep') b.finalizer = finalizer;
    for (const e of fresh) {
      b.done.delete(e);
      b.written.add(e);
    }
    b.writes++;
    // every entry this process wrote: the cache may not show the earlier ones yet, and the record is a union
    const entries = [...b.written];
    void this.#o.jobs.write(job, { entries, finalizer }).then(({ result, ...stored }) => {
      b.writes--;
      if (result === 'written') {
        if ('resourceVersion' in stored && stored.resourceVersion !== undefined)
          b.writtenVersion = stored.resourceVersion;
      } else if (result === 'failed') {
        // forget what we expected: the next event or sweep of this Job asks again
        for (const e of fresh) {
          b.written.delete(e);
          b.done.add(e);
        }
        b.finalizer = undefined;
      } else {
        // Gone: keep the book (what it wrote, what it sent) until the DELETED event, which may carry the state
        // before our last write and must not make the Job look owed again.
        b.gone = true;
        this.#o.clock.setTimeout(() => {
          if (this.#books.get(job.uid) === b && b.inFlight.size === 0) this.#books.delete(job.uid);
        }, GONE_BOOK_MS);
      }
    });
  }

  #book(job: JobRecord): JobBook {
    let book = this.#books.get(job.uid);
    if (book === undefined) {
      book = {
        job,
        inFlight: new Map(),
        done: new Set(),
        written: new Set(),
        finalizer: undefined,
        writtenVersion: undefined,
        writes: 0,
        gone: false,
      };
      this.#books.set(job.uid, book);
    }
    return book;
  }
}

/** The later of the rule's and its integration's `since` (NaN-safe). */
function since(active: ActiveRule): number {
  const times = [active.rule.since, active.integration.since].filter((t) => !Number.isNaN(t));
  return times.length === 0 ? -Infinity : Math.max(...times);
}

interface Preparation extends Owed {
  job: JobRecord;
  outcome: Outcome;
  observedAt: number;
  failedPods: FailedPodDetail[] | undefined;
}

/** Whether resourceVersion `a` is at least `b` (etcd's are integers; anything else compares as unknown: no). */
function isAtLeast(a: string, b: string | undefined): boolean {
  if (b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length !== b.length ? a.length > b.length : a >= b;
}

/** The cache now shows what this process wrote: its book can go. */
function showsWritten(job: JobRecord, book: JobBook): boolean {
  if (book.done.size > 0) return false;
  if (book.finalizer !== undefined && (job.held === true) !== (book.finalizer === 'add')) return false;
  const recorded = parseRecord(job.delivered).entries;
  for (const e of book.written) if (!recorded.has(e)) return false;
  return true;
}

/** resolve: the queue key for a destination — a channel ID, or a user ID for a DM. */
async function resolveTarget(
  integration: DeliveryIntegration,
  namespace: string,
  destination: RuleDestination,
): Promise<Target> {
  if (destination.user !== undefined) {
    const label = labelOf(destination);
    const user = await integration.userId(destination.user);
    return user.id !== undefined ? { id: user.id, label } : { error: user.error ?? 'users_not_found', label };
  }
  const ref = destination.channel ?? '';
  // The channel policy first: a refused channel fails at once, labelled as the rule wrote it, and nothing
  // about the channel (its name, whether it exists) is looked at (docs/adr/0013).
  const verdict = integration.channelAllowed(namespace, ref);
  if (verdict.allowed === false) return { error: 'channel_not_allowed', label: ref };
  // only Slack's answer decides: wait like a channel that does not resolve (held per namespace, asked again)
  if (verdict.allowed === undefined) return { hold: ref, label: `#${ref.replace(/^#/, '')}` };
  const channel = integration.channelState(ref);
  const label = `#${channel?.name ?? ref.replace(/^#/, '')}`;
  if (channel?.state === 'Archived') return { error: 'is_archived', label };
  if (channel?.id === undefined || channel.state === 'NotFound') return { hold: ref, label };
  return { id: channel.id, label };
}

const labelOf = (destination: RuleDestination): string =>
  destination.user !== undefined
    ? `@${destination.user}`
    : `#${(destination.channel ?? '').replace(/^#/, '')}`;

const unseenDeletion = (ttl: boolean): string =>
  ttl
    ? 'deleted while jobherald was not watching; it had ttlSecondsAfterFinished, so it may have finished and been cleaned up'
    : 'deleted before it finished, while jobherald was not watching';

export type { DeliveryRule };
