// currentOutcome: the outcome a Job's state shows now, deletions in progress included (the pipeline's detect
// stage). Hand-built states for each rule, then every captured fixture replayed through it.
import { describe, expect, it } from 'vitest';
import { currentOutcome, isFinished, isRunning } from '../../../src/domain/outcome.ts';
import { toJobRecord } from '../../../src/kube/job-record.ts';
import { cond, job, loadJobFixtures, T0, T1, T2, T3 } from './records.ts';

const started = { startTime: T1, active: 1 };

describe('currentOutcome', () => {
  it('is the terminal condition of a finished Job', () => {
    expect(currentOutcome(job({ conditions: [cond('Complete')] }), false)).toMatchObject({
      event: 'Succeeded',
      at: T2,
    });
    expect(
      currentOutcome(job({ conditions: [cond('Failed', 'True', 'DeadlineExceeded')] }), false),
    ).toMatchObject({
      event: 'Failed',
      reason: 'DeadlineExceeded',
    });
  });

  it('is nothing for a running Job, or one with interim conditions only', () => {
    expect(currentOutcome(job(started), true)).toBeUndefined();
    expect(currentOutcome(job({ ...started, conditions: [cond('FailureTarget')] }), true)).toBeUndefined();
    expect(
      currentOutcome(job({ ...started, conditions: [cond('SuccessCriteriaMet')] }), true),
    ).toBeUndefined();
  });

  it('keeps the real outcome of a Job that finished before (or in the second) its deletion was asked', () => {
    const ttl = job({ conditions: [cond('Complete', 'True', undefined, T2)], deletionTimestamp: T2 });
    expect(currentOutcome(ttl, false)).toMatchObject({ event: 'Succeeded', at: T2 });
    const later = job({
      conditions: [cond('Failed', 'True', 'BackoffLimitExceeded', T2)],
      deletionTimestamp: T3,
    });
    expect(currentOutcome(later, false)).toMatchObject({ event: 'Failed' });
  });

  it('is Cancelled at the deletion for a started Job deleted before it finished, even if it failed after', () => {
    expect(currentOutcome(job({ ...started, deletionTimestamp: T2 }), true)).toEqual({
      event: 'Cancelled',
      reason: 'Deleted',
      cancellation: 'Deleted',
      at: T2,
    });
    const killed = job({
      startTime: T1,
      conditions: [cond('Failed', 'True', 'BackoffLimitExceeded', T3)],
      deletionTimestamp: T2,
    });
    expect(currentOutcome(killed, true)).toMatchObject({ event: 'Cancelled', at: T2 });
  });

  it('is nothing for a Job deleted before it ever ran', () => {
    expect(currentOutcome(job({ suspend: true, deletionTimestamp: T2 }), false)).toBeUndefined();
  });

  it('is Cancelled (Suspended) for a Job suspended after it started, proven by its status or by having been seen running', () => {
    const suspended = cond('Suspended', 'True', 'JobSuspended', T2);
    expect(
      currentOutcome(job({ startTime: T1, suspend: true, conditions: [suspended] }), false),
    ).toMatchObject({
      event: 'Cancelled',
      cancellation: 'Suspended',
      at: T2,
    });
    // the Job controller clears startTime on suspension: only having seen it running tells
    expect(currentOutcome(job({ suspend: true, conditions: [suspended] }), true)).toMatchObject({
      cancellation: 'Suspended',
    });
    expect(currentOutcome(job({ suspend: true, conditions: [suspended] }), false)).toBeUndefined();
  });

  it('is Cancelled for a Job that failed once its namespace was being deleted; a completion then is real', () => {
    const failed = job({ startTime: T1, conditions: [cond('Failed', 'True', 'BackoffLimitExceeded', T2)] });
    expect(currentOutcome(failed, true, T2)).toMatchObject({
      event: 'Cancelled',
      at: T2,
      message: 'its namespace data was deleted',
    });
    expect(currentOutcome(failed, true, T3)).toMatchObject({ event: 'Failed' }); // failed before the deletion
    const complete = job({ startTime: T1, conditions: [cond('Complete', 'True', undefined, T3)] });
    expect(currentOutcome(complete, true, T2)).toMatchObject({ event: 'Succeeded' });
  });

  it('isRunning and isFinished', () => {
    expect(isRunning(job(started))).toBe(true);
    expect(isRunning(job({ creationTimestamp: T0 }))).toBe(false);
    expect(isFinished(job({ conditions: [cond('Complete')] }))).toBe(true);
    expect(isRunning(job({ ...started, conditions: [cond('Complete')] }))).toBe(false);
  });
});

describe('currentOutcome on captured Job fixtures', () => {
  const fixtures = loadJobFixtures().filter((f) => f.deleted !== true);
  it.each(fixtures.map((f) => [f.file, f] as const))(
    '%s: the last state shows the expected outcome',
    (_file, fixture) => {
      const records = fixture.sequence.map((j) => toJobRecord(j));
      const seenRunning = records.some(isRunning);
      const outcome = currentOutcome(records.at(-1)!, seenRunning);
      if (fixture.expected === null) expect(outcome).toBeUndefined();
      else expect({ event: outcome?.event, reason: outcome?.reason }).toEqual(fixture.expected);
    },
  );
});
