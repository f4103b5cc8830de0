// Replays real Job objects captured from the local control plane (test/fixtures/jobs/*.json, written by
// test/support/capture-job-fixtures.ts): each file is { description, expected, sequence, deleted? }, the
// states of one Job in watch order, the last one delivered as a DELETED event when `deleted` is true.
import { describe, expect, it } from 'vitest';
import { currentOutcome, isRunning, showsStarted, terminalOutcome } from '../../../src/domain/outcome.ts';
import { toJobRecord } from '../../../src/kube/job-record.ts';
import type { Outcome } from '../../../src/domain/outcome-types.ts';
import type { JobRecord } from '../../../src/domain/job.ts';
import { loadJobFixtures } from './records.ts';

const fixtures = loadJobFixtures();
const OBSERVED_AT = '2030-01-01T00:00:00Z';

/**
 * The outcomes the pipeline's detect stage shows along the sequence: every state judged on its own, with
 * whether a running state was seen before, the last one as a deletion when the Job was deleted.
 */
function replay(sequence: JobRecord[], deleted: boolean): Outcome[] {
  const outcomes: Outcome[] = [];
  let seenRunning = false;
  sequence.forEach((current, i) => {
    const gone = deleted && i === sequence.length - 1;
    const state = gone
      ? { ...current, deletionTimestamp: current.deletionTimestamp ?? OBSERVED_AT }
      : current;
    const started = seenRunning || (gone && i > 0 && showsStarted(sequence[i - 1]!));
    const outcome = currentOutcome(state, started);
    if (outcome !== undefined) outcomes.push(outcome);
    seenRunning ||= isRunning(current);
  });
  return outcomes;
}

describe('outcome detection on captured Job fixtures', () => {
  it('has the captured fixtures (at least 8)', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', (_file, fixture) => {
    const records = fixture.sequence.map((j) => toJobRecord(j));
    const outcomes = replay(records, fixture.deleted === true);
    if (fixture.expected === null) {
      expect(outcomes).toEqual([]);
      return;
    }
    expect(outcomes.length).toBeGreaterThan(0);
    // every outcome reported along the way is the same one (a re-report on deletion is deduped downstream)
    for (const outcome of outcomes) {
      expect({ event: outcome.event, reason: outcome.reason }).toEqual({
        event: fixture.expected.event,
        reason: fixture.expected.reason,
      });
      expect(outcome.at).toBe(outcomes[0]?.at);
    }
  });

  it.each(fixtures.filter((f) => f.expected?.event !== 'Cancelled').map((f) => [f.file, f] as const))(
    '%s: a relist of the last state alone (after a restart) sees the same terminal outcome',
    (_file, fixture) => {
      const last = toJobRecord(fixture.sequence.at(-1)!);
      const outcome = terminalOutcome(last);
      expect(outcome?.event).toBe(fixture.expected?.event);
      if (fixture.expected !== null) expect(outcome?.reason).toBe(fixture.expected.reason);
    },
  );
});
