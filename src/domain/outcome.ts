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

function trueCondition(job: JobRecord, type: string): JobConditionRecord | undefined {
  return job.conditions.find((c) => c.type === type && c.status === 'True');
}

/** Whether the Job ran at some point, as far as this one state shows. */
export function showsStarted(job: JobRecord): boolean {
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

/**
 * The outcome a Job's current state shows, a deletion in progress included: what the pipeline re-evaluates on
 * every change, so one function decides, whichever event woke it.
 *
 * - A Job being deleted (deletionTimestamp set, held by a finalizer) that finished no later than the deletion
 *   was requested shows its real outcome: TTL cleanup, CronJob history limits and a user's delete of a finished
 *   Job are never a cancellation. Both times come from the cluster's clocks and have whole seconds; a finish in
 *   the same second as the deletion counts as finished.
 * - A Job being deleted that had started and had not finished is Cancelled (Deleted) at the deletion time.
 * - Otherwise the terminal outcome, or Cancelled (Suspended) for a started Job now suspended.
 * - A Job that failed once its namespace was being deleted was cancelled: the namespace controller deletes its
 *   pods before the Job, so the Job controller marks it Failed (BackoffLimitExceeded) on the way out. A Job that
 *   completed then really did finish.
 *
 * `seenRunning` says the caller saw this Job running: the Job controller clears startTime when it suspends a
 * Job, so the Job's own status no longer proves it had started. `namespaceDeletion` is the deletionTimestamp of
 * the Job's namespace, when it is being deleted.
 */
export function currentOutcome(
  job: JobRecord,
  seenRunning: boolean,
  namespaceDeletion?: string,
): Outcome | undefined {
  const started = showsStarted(job) || seenRunning;
  const finished = finishedOutcome(job);
  if (
    namespaceDeletion !== undefined &&
    finished?.event === 'Failed' &&
    !(Date.parse(finished.at) < Date.parse(namespaceDeletion))
  ) {
    return {
      event: 'Cancelled',
      reason: 'Deleted',
      cancellation: 'Deleted',
      at: namespaceDeletion,
      message: `its namespace ${job.namespace} was deleted`,
    };
  }
  const deletion = job.deletionTimestamp;
  if (deletion !== undefined) {
    if (finished !== undefined && !(Date.parse(finished.at) > Date.parse(deletion))) return finished;
    if (!started) return undefined;
    const outcome: Outcome = { event: 'Cancelled', reason: 'Deleted', cancellation: 'Deleted', at: deletion };
    if (namespaceDeletion !== undefined) outcome.message = `its namespace ${job.namespace} was deleted`;
    return outcome;
  }
  return finished ?? suspendedOutcome(job, started, job.creationTimestamp);
}

/** Complete=True or Failed=True: the Job will not change outcome any more. */
export function isFinished(job: JobRecord): boolean {
  return finishedOutcome(job) !== undefined;
}

/** Started and not finished: the state in which a deletion or suspension is a cancellation. */
export function isRunning(job: JobRecord): boolean {
  return !isFinished(job) && (job.startTime !== undefined || job.active > 0);
}
