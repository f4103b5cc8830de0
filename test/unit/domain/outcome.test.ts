import { describe, expect, it } from 'vitest';
import { currentOutcome, showsStarted, terminalOutcome } from '../../../src/domain/outcome.ts';
import type { JobRecord } from '../../../src/domain/job.ts';
import { cond, job, T1, T2, T3 } from './records.ts';

const SEEN = '2026-11-21T11:00:00Z';

describe('terminalOutcome', () => {
  it('is Succeeded on Complete=True, at its lastTransitionTime, with its reason', () => {
    const j = job({
      startTime: T1,
      succeeded: 1,
      conditions: [cond('Complete', 'True', 'CompletionsReached', T2)],
    });
    expect(terminalOutcome(j)).toEqual({ event: 'Succeeded', reason: 'CompletionsReached', at: T2 });
  });

  it('is Failed on Failed=True with reason and message', () => {
    const j = job({
      startTime: T1,
      failed: 7,
      conditions: [
        cond('FailureTarget', 'True', 'BackoffLimitExceeded', T2),
        cond('Failed', 'True', 'BackoffLimitExceeded', T3, 'Job has reached the specified backoff limit'),
      ],
    });
    expect(terminalOutcome(j)).toEqual({
      event: 'Failed',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      at: T3,
    });
  });

  it.each(['DeadlineExceeded', 'PodFailurePolicy', 'MaxFailedIndexesExceeded', 'FailedIndexes'])(
    'carries the Failed reason %s',
    (reason) => {
      const j = job({ startTime: T1, conditions: [cond('Failed', 'True', reason, T2)] });
      expect(terminalOutcome(j)?.reason).toBe(reason);
    },
  );

  it('ignores the interim conditions SuccessCriteriaMet and FailureTarget', () => {
    expect(terminalOutcome(job({ startTime: T1, conditions: [cond('SuccessCriteriaMet')] }))).toBeUndefined();
    expect(terminalOutcome(job({ startTime: T1, conditions: [cond('FailureTarget')] }))).toBeUndefined();
  });

  it('does not count status.failed > 0 as a failure', () => {
    expect(terminalOutcome(job({ startTime: T1, active: 1, failed: 3 }))).toBeUndefined();
  });

  it('ignores terminal conditions that are not True', () => {
    expect(
      terminalOutcome(job({ conditions: [cond('Complete', 'False'), cond('Failed', 'Unknown')] })),
    ).toBeUndefined();
  });

  it('falls back to completionTime when the condition has no lastTransitionTime', () => {
    const c = cond('Complete');
    delete c.lastTransitionTime;
    expect(terminalOutcome(job({ completionTime: T3, conditions: [c] }))?.at).toBe(T3);
  });

  it('picks the earlier transition if a Job somehow carries both Complete and Failed', () => {
    const j = job({ conditions: [cond('Failed', 'True', 'X', T3), cond('Complete', 'True', 'Y', T2)] });
    expect(terminalOutcome(j)?.event).toBe('Succeeded');
  });

  it('is Cancelled/Suspended for a suspended Job whose status shows it ran', () => {
    const j = job({
      suspend: true,
      startTime: T1,
      conditions: [cond('Suspended', 'True', 'JobSuspended', T2)],
    });
    expect(terminalOutcome(j)).toEqual({
      event: 'Cancelled',
      reason: 'Suspended',
      cancellation: 'Suspended',
      at: T2,
    });
    const ranSome = job({
      suspend: true,
      failed: 1,
      conditions: [cond('Suspended', 'True', 'JobSuspended', T2)],
    });
    expect(terminalOutcome(ranSome)?.event).toBe('Cancelled');
  });

  it('is nothing for a Job created suspended that never ran', () => {
    expect(
      terminalOutcome(job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended')] })),
    ).toBeUndefined();
  });

  it('is nothing for a running Job', () => {
    expect(terminalOutcome(job({ startTime: T1, active: 2 }))).toBeUndefined();
  });
});

/** What the pipeline judges from a DELETED event: the last state, deleted now unless it shows when. */
const deleted = (previous: JobRecord | undefined, last: JobRecord) =>
  currentOutcome(
    { ...last, deletionTimestamp: last.deletionTimestamp ?? SEEN },
    previous !== undefined && showsStarted(previous),
  );

describe('the outcome of a deleted Job', () => {
  it('reports Cancelled/Deleted at observedAt for a Job deleted while running', () => {
    const running = job({ startTime: T1, active: 1 });
    expect(deleted(running, running)).toEqual({
      event: 'Cancelled',
      reason: 'Deleted',
      cancellation: 'Deleted',
      at: SEEN,
    });
  });

  it('uses the previous state to know the Job had started', () => {
    const previous = job({ startTime: T1, active: 1 });
    const last = job(); // e.g. a final state that lost its status
    expect(deleted(previous, last)?.event).toBe('Cancelled');
  });

  it('reports nothing for a Job deleted before it ever started', () => {
    expect(deleted(undefined, job())).toBeUndefined();
    const suspended = job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended')] });
    expect(deleted(suspended, suspended)).toBeUndefined();
  });

  it('reports the terminal outcome, not a cancellation, for a finished Job that is deleted (TTL, history limit)', () => {
    const done = job({
      startTime: T1,
      succeeded: 1,
      conditions: [cond('Complete', 'True', 'CompletionsReached', T2)],
    });
    expect(deleted(done, done)).toEqual(terminalOutcome(done));
  });

  it('calls a suspended Job that is then deleted Cancelled (one Cancelled per rule: the record dedupes)', () => {
    const suspended = job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended', T2)] });
    const before = job({ suspend: true, startTime: T1, active: 1 });
    expect(deleted(before, suspended)?.event).toBe('Cancelled');
  });

  it('counts succeeded or failed pods as proof the Job had started', () => {
    expect(deleted(undefined, job({ failed: 1 }))?.event).toBe('Cancelled');
    expect(deleted(undefined, job({ succeeded: 2 }))?.event).toBe('Cancelled');
  });
});
