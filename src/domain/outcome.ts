// Job outcome detection (product.md §2), from the slim JobRecord only.
//
//   Succeeded  condition Complete=True.
//   Failed     condition Failed=True, with its reason (BackoffLimitExceeded, DeadlineExceeded,
//              PodFailurePolicy, MaxFailedIndexesExceeded, …) and message.
//   Cancelled  the Job stopped before a terminal condition, after it had started:
//              - deleted while unfinished (reason "Deleted"), or
//              - Suspended=True (reason "Suspended").
//              A Job created suspended that never ran is not cancelled, by deletion or by suspension.
// Interim conditions (SuccessCriteriaMet, FailureTarget) are not outcomes, and status.failed > 0 is not a
// failure: a retried pod is not a failed Job.
import type { JobConditionRecord, JobRecord } from './job.ts';
import type { Outcome } from './outcome-types.ts';

export type JobEvent = 'upsert' | 'deleted';

function trueCondition(job: JobRecord, type: string): JobConditionRecord | undefined {
  return job.conditions.find((c) => c.type === type && c.status === 'True');
}

/** Whether the Job ran at some point, as far as this one state shows. */
function showsStarted(job: JobRecord): boolean {
  return job.startTime !== undefined || job.active > 0 || job.succeeded > 0 || job.failed > 0;
}

function fromCondition(
  event: Outcome['event'],
  condition: JobConditionRecord,
  fallbackAt: string,
  cancellation?: Outcome['cancellation'],
): Outcome {
  const outcome: Outcome = { event, at: condition.lastTransitionTime ?? fallbackAt };
  const reason = cancellation ?? condition.reason;
  if (reason !== undefined) outcome.reason = reason;
  if (condition.message !== undefined) outcome.message = condition.message;
  if (cancellation !== undefined) outcome.cancellation = cancellation;
  return outcome;
}

/** Complete=True or Failed=True as an outcome; if both are somehow set, the earlier transition wins. */
function finishedOutcome(job: JobRecord): Outcome | undefined {
  const complete = trueCondition(job, 'Complete');
  const failed = trueCondition(job, 'Failed');
  const fallback = job.completionTime ?? job.creationTimestamp;
  if (complete !== undefined && failed !== undefined) {
    const completeFirst = (complete.lastTransitionTime ?? '') < (failed.lastTransitionTime ?? '');
    return completeFirst
      ? fromCondition('Succeeded', complete, fallback)
      : fromCondition('Failed', failed, fallback);
  }
  if (complete !== undefined) return fromCondition('Succeeded', complete, fallback);
  if (failed !== undefined) return fromCondition('Failed', failed, fallback);
  return undefined;
}

function suspendedOutcome(job: JobRecord, started: boolean, observedAt: string): Outcome | undefined {
  const suspended = trueCondition(job, 'Suspended');
  if (suspended === undefined || !started) return undefined;
  return fromCondition('Cancelled', suspended, observedAt, 'Suspended');
}

/**
 * The outcome one state of a Job shows on its own, with no history: what a relist after a restart sees.
 * A suspended Job counts as cancelled only when its own status proves it had started (startTime is kept
 * while a Job is suspended, and is never set on a Job created suspended that never ran).
 */
export function terminalOutcome(job: JobRecord): Outcome | undefined {
  return finishedOutcome(job) ?? suspendedOutcome(job, showsStarted(job), job.creationTimestamp);
}

function sameOutcome(a: Outcome | undefined, b: Outcome | undefined): boolean {
  return a !== undefined && b !== undefined && a.event === b.event && a.at === b.at && a.reason === b.reason;
}

/**
 * The outcome revealed by one watch event on a Job, or undefined.
 *
 * - `previous` is the last state the store held (undefined: first sight, e.g. the initial list after a
 *   restart; the terminal outcome is then returned and the ledger decides whether it was already sent).
 * - `current` is the new state; for `deleted` it is the final state the DELETED event carried.
 * - `observedAt` (RFC 3339) is when the event was seen; it is the `at` of a deletion.
 *
 * An upsert returns an outcome only when it differs from the one `previous` already showed, so a label
 * change on a finished Job returns nothing. A deletion returns the Job's terminal outcome if it had one
 * (idempotent: the ledger dedupes), Cancelled/Deleted if it had started but not finished, and nothing for
 * a Job that never ran. An upsert carrying deletionTimestamp (finalizers pending) is not yet a deletion.
 */
export function detectOutcome(
  previous: JobRecord | undefined,
  current: JobRecord,
  event: JobEvent,
  observedAt: string,
): Outcome | undefined {
  const started = showsStarted(current) || (previous !== undefined && showsStarted(previous));

  if (event === 'deleted') {
    const finished =
      finishedOutcome(current) ?? (previous !== undefined ? finishedOutcome(previous) : undefined);
    if (finished !== undefined) return finished;
    const suspended = suspendedOutcome(current, started, observedAt);
    if (suspended !== undefined) return suspended;
    if (!started) return undefined;
    return { event: 'Cancelled', reason: 'Deleted', cancellation: 'Deleted', at: observedAt };
  }

  const now = finishedOutcome(current) ?? suspendedOutcome(current, started, observedAt);
  if (now === undefined) return undefined;
  const before =
    previous === undefined
      ? undefined
      : (finishedOutcome(previous) ?? suspendedOutcome(previous, true, observedAt));
  return sameOutcome(now, before) ? undefined : now;
}
