import { describe, expect, it } from 'vitest';
import { detectOutcome, terminalOutcome } from '../../../src/domain/outcome.ts';
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

describe('detectOutcome on upserts', () => {
  const running = job({ startTime: T1, active: 1 });

  it('reports the terminal outcome when it appears', () => {
    const done = job({
      startTime: T1,
      succeeded: 1,
      conditions: [cond('Complete', 'True', 'CompletionsReached', T2)],
    });
    expect(detectOutcome(running, done, 'upsert', SEEN)).toEqual({
      event: 'Succeeded',
      reason: 'CompletionsReached',
      at: T2,
    });
  });

  it('reports a finished Job seen for the first time (initial list after a restart)', () => {
    const failed = job({ startTime: T1, conditions: [cond('Failed', 'True', 'DeadlineExceeded', T2)] });
    expect(detectOutcome(undefined, failed, 'upsert', SEEN)?.event).toBe('Failed');
  });

  it('reports nothing again when a finished Job changes otherwise (labels, TTL controller)', () => {
    const failed = job({ startTime: T1, conditions: [cond('Failed', 'True', 'DeadlineExceeded', T2)] });
    const relabelled = { ...failed, labels: { app: 'etl', extra: 'x' }, resourceVersion: '9' };
    expect(detectOutcome(failed, relabelled, 'upsert', SEEN)).toBeUndefined();
  });

  it('reports nothing for interim conditions', () => {
    const target = job({
      startTime: T1,
      conditions: [cond('FailureTarget', 'True', 'BackoffLimitExceeded')],
    });
    expect(detectOutcome(running, target, 'upsert', SEEN)).toBeUndefined();
    const met = job({
      startTime: T1,
      conditions: [cond('SuccessCriteriaMet', 'True', 'CompletionsReached')],
    });
    expect(detectOutcome(running, met, 'upsert', SEEN)).toBeUndefined();
  });

  it('reports nothing when a pod fails and is retried', () => {
    expect(detectOutcome(running, { ...running, failed: 1 }, 'upsert', SEEN)).toBeUndefined();
  });

  it('reports Cancelled/Suspended when a started Job is suspended, even though the controller clears startTime', () => {
    const suspending = job({ suspend: true, startTime: T1, active: 1 });
    const suspended = job({
      suspend: true,
      conditions: [cond('Suspended', 'True', 'JobSuspended', T2, 'Job suspended')],
    });
    expect(detectOutcome(suspending, suspended, 'upsert', SEEN)).toEqual({
      event: 'Cancelled',
      reason: 'Suspended',
      cancellation: 'Suspended',
      message: 'Job suspended',
      at: T2,
    });
  });

  it('reports Cancelled/Suspended when the previous state had active pods but no startTime', () => {
    const suspended = job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended', T2)] });
    expect(detectOutcome(job({ active: 1 }), suspended, 'upsert', SEEN)?.event).toBe('Cancelled');
  });

  it('does not report a Job created suspended', () => {
    const created = job({ suspend: true });
    const suspended = job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended', T2)] });
    expect(detectOutcome(created, suspended, 'upsert', SEEN)).toBeUndefined();
    expect(detectOutcome(undefined, suspended, 'upsert', SEEN)).toBeUndefined();
  });

  it('does not repeat the suspension on later updates, but reports the Job finishing after a resume', () => {
    const suspended = job({
      suspend: true,
      startTime: T1,
      conditions: [cond('Suspended', 'True', 'JobSuspended', T2)],
    });
    expect(detectOutcome(suspended, { ...suspended, resourceVersion: '3' }, 'upsert', SEEN)).toBeUndefined();
    const done = job({
      startTime: T3,
      succeeded: 1,
      conditions: [
        cond('Suspended', 'False', 'JobResumed', T3),
        cond('Complete', 'True', 'CompletionsReached', T3),
      ],
    });
    expect(detectOutcome(suspended, done, 'upsert', SEEN)?.event).toBe('Succeeded');
  });

  it('does not treat a pending deletion (deletionTimestamp, finalizers) as a cancellation yet', () => {
    expect(detectOutcome(running, { ...running, deletionTimestamp: T2 }, 'upsert', SEEN)).toBeUndefined();
  });
});

describe('detectOutcome on deletions', () => {
  it('reports Cancelled/Deleted at observedAt for a Job deleted while running', () => {
    const running = job({ startTime: T1, active: 1 });
    expect(detectOutcome(running, running, 'deleted', SEEN)).toEqual({
      event: 'Cancelled',
      reason: 'Deleted',
      cancellation: 'Deleted',
      at: SEEN,
    });
  });

  it('uses the previous state to know the Job had started', () => {
    const previous = job({ startTime: T1, active: 1 });
    const last = job(); // e.g. a final state that lost its status
    expect(detectOutcome(previous, last, 'deleted', SEEN)?.event).toBe('Cancelled');
  });

  it('reports nothing for a Job deleted before it ever started', () => {
    expect(detectOutcome(undefined, job(), 'deleted', SEEN)).toBeUndefined();
    const suspended = job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended')] });
    expect(detectOutcome(suspended, suspended, 'deleted', SEEN)).toBeUndefined();
  });

  it('reports the terminal outcome, not a cancellation, for a finished Job that is deleted (TTL, history limit)', () => {
    const done = job({
      startTime: T1,
      succeeded: 1,
      conditions: [cond('Complete', 'True', 'CompletionsReached', T2)],
    });
    expect(detectOutcome(done, done, 'deleted', SEEN)).toEqual(
      detectOutcome(undefined, done, 'upsert', SEEN),
    );
  });

  it('keeps the suspension as the outcome when a suspended Job is deleted', () => {
    const suspended = job({ suspend: true, conditions: [cond('Suspended', 'True', 'JobSuspended', T2)] });
    const before = job({ suspend: true, startTime: T1, active: 1 });
    expect(detectOutcome(before, suspended, 'deleted', SEEN)?.reason).toBe('Suspended');
  });

  it('counts succeeded or failed pods as proof the Job had started', () => {
    expect(detectOutcome(undefined, job({ failed: 1 }), 'deleted', SEEN)?.event).toBe('Cancelled');
    expect(detectOutcome(undefined, job({ succeeded: 2 }), 'deleted', SEEN)?.event).toBe('Cancelled');
  });
});
