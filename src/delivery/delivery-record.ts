// The delivery record kept on each Job (annotation jobherald.dev/delivered): which rules have handled which of
// the Job's outcomes. Pure: parse and format only; the Kubernetes layer reads and writes it.
//
// Format (docs/adr/0010-delivery-record-on-the-job.md): "v1" then one token per (rule, event), sorted:
//   v1 3f2a9c1b07e4:F 77aa12bc90de:C 77aa12bc90de:S
// - the rule is the first 12 hex digits of its UID (48 bits: a collision among the few rules matching one Job is
//   ~10⁻¹³), so renaming a rule keeps its record and a rule deleted and re-created under the same name is new;
// - the event is S, F or C (Succeeded, Failed, Cancelled);
// - a token means "every destination of that rule was answered for that outcome" (Delivered or finally
//   Failed): the record is written once, after the last destination, in the same patch that releases the
//   finalizer. A destination added to the rule later therefore gets no alert about Jobs the rule already
//   handled, just as a new rule gets none about Jobs that finished before it existed.
import type { EventType } from '../api/types.ts';

export const RECORD_VERSION = 'v1';

/** One handled (rule, event): "<rule id>:<S|F|C>". */
export type RecordEntry = `${string}:${'S' | 'F' | 'C'}`;

const EVENT_CODE: Record<EventType, 'S' | 'F' | 'C'> = { Succeeded: 'S', Failed: 'F', Cancelled: 'C' };

/** The short, stable id of a rule in records: the first 12 hex digits of its UID. */
export function ruleRecordId(ruleUID: string): string {
  const hex = ruleUID.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  // A UID that is not a UUID (tests, hand-made objects) still gets a stable id of its own characters.
  return hex.length >= 12 ? hex.slice(0, 12) : ruleUID.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'x';
}

export const recordEntry = (ruleUID: string, event: EventType): RecordEntry =>
  `${ruleRecordId(ruleUID)}:${EVENT_CODE[event]}`;

const TOKEN = /^[0-9a-zA-Z]{1,12}:[SFC]$/;

/**
 * The entries of an annotation value. Never throws: an absent or unreadable value (someone edited it, a
 * future version) yields the entries it can read and `problem` says what was wrong, so the caller can log it.
 * An unknown version is read as empty: alerting again is better than staying silent.
 */
export function parseRecord(value: string | undefined): { entries: Set<RecordEntry>; problem?: string } {
  const entries = new Set<RecordEntry>();
  if (value === undefined || value.trim() === '') return { entries };
  const [version, ...tokens] = value.trim().split(/\s+/);
  if (version !== RECORD_VERSION) {
    return { entries, problem: `unknown delivery record version ${JSON.stringify(version?.slice(0, 16))}` };
  }
  let bad = 0;
  for (const token of tokens) {
    if (TOKEN.test(token)) entries.add(token as RecordEntry);
    else bad++;
  }
  return bad === 0 ? { entries } : { entries, problem: `${bad} unreadable delivery record entries ignored` };
}

/** The annotation value for a set of entries (sorted, so equal sets give equal text). */
export function formatRecord(entries: Iterable<RecordEntry>): string {
  return [RECORD_VERSION, ...[...new Set(entries)].sort()].join(' ');
}
