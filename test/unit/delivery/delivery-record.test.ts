// The record on the Job (annotation jobherald.dev/delivered) and the 0.1 ledger reader: formats that must
// round-trip, tolerate what people or older versions wrote, and never throw.
import { describe, expect, it } from 'vitest';
import {
  formatRecord,
  parseRecord,
  recordEntry,
  ruleRecordId,
} from '../../../src/delivery/delivery-record.ts';
import { readLegacyLedger } from '../../../src/delivery/legacy-ledger.ts';
import { destinationId, destinationRef } from '../../../src/delivery/destination.ts';

const UID = '3f2a9c1b-07e4-4c1e-9a2b-000000000001';

describe('the delivery record', () => {
  it('names a rule by the first 12 hex digits of its UID and an event by its letter', () => {
    expect(ruleRecordId(UID)).toBe('3f2a9c1b07e4');
    expect(recordEntry(UID, 'Failed')).toBe('3f2a9c1b07e4:F');
    expect(recordEntry(UID, 'Cancelled')).toBe('3f2a9c1b07e4:C');
    expect(ruleRecordId('not-a-uuid')).toBe('notauuid');
  });

  it('round-trips, sorted and without repeats, so equal sets are equal text', () => {
    const text = formatRecord([
      recordEntry(UID, 'Succeeded'),
      recordEntry(UID, 'Cancelled'),
      recordEntry(UID, 'Cancelled'),
    ]);
    expect(text).toBe('v1 3f2a9c1b07e4:C 3f2a9c1b07e4:S');
    expect([...parseRecord(text).entries]).toEqual(['3f2a9c1b07e4:C', '3f2a9c1b07e4:S']);
    expect(parseRecord(text).problem).toBeUndefined();
  });

  it('reads an absent or empty annotation as nothing delivered', () => {
    expect(parseRecord(undefined).entries.size).toBe(0);
    expect(parseRecord('  ').entries.size).toBe(0);
  });

  it('keeps what it can read of an edited record and says what it skipped', () => {
    const parsed = parseRecord('v1 3f2a9c1b07e4:F garbage 77aa12bc90de:X 77aa12bc90de:S');
    expect([...parsed.entries]).toEqual(['3f2a9c1b07e4:F', '77aa12bc90de:S']);
    expect(parsed.problem).toBe('2 unreadable delivery record entries ignored');
  });

  it('reads an unknown version as empty: alerting again beats staying silent', () => {
    const parsed = parseRecord('v9 3f2a9c1b07e4:F');
    expect(parsed.entries.size).toBe(0);
    expect(parsed.problem).toMatch(/unknown delivery record version "v9"/);
  });
});

describe('the 0.1 ledger in rule status', () => {
  const alerts = destinationId(destinationRef({ channel: '#Alerts' }));

  it('is absent for rules that never had one', () => {
    expect(readLegacyLedger(undefined)).toBeUndefined();
    expect(readLegacyLedger(null)).toBeUndefined();
  });

  it('reads the floor, the sent deliveries by (Job, event) and the armed Jobs', () => {
    const ledger = readLegacyLedger({
      v: 1,
      floor: '2026-11-21T10:00:00Z',
      sent: [
        `uid-1 F ${alerts} mh8k2t`,
        `uid-1 F ${destinationId('user:a@x')} mh8k2t`,
        'uid-2 S Zq81LmN0 mh8k2u',
      ],
      armed: ['uid-3 data/nightly-1 nightly 1', 'uid-4 data/adhoc - 0'],
    })!;
    expect(ledger.floor).toBe(Date.parse('2026-11-21T10:00:00Z'));
    expect([...ledger.sent.get('uid-1 F')!]).toEqual([alerts, destinationId('user:a@x')]);
    expect(ledger.sent.has('uid-2 S')).toBe(true);
    expect(ledger.armed).toEqual([
      { uid: 'uid-3', job: 'data/nightly-1', cronJob: 'nightly', ttl: true },
      { uid: 'uid-4', job: 'data/adhoc', ttl: false },
    ]);
    expect(ledger.problems).toEqual([]);
  });

  it('reports what it cannot read instead of throwing', () => {
    expect(readLegacyLedger('nonsense')?.problems).toEqual(['status.ledger unreadable; ignored']);
    expect(readLegacyLedger({ v: 2, floor: '2026-11-21T10:00:00Z' })?.problems).toEqual([
      'status.ledger unreadable; ignored',
    ]);
    const partly = readLegacyLedger({
      v: 1,
      floor: '2026-11-21T10:00:00Z',
      sent: ['bad', 7],
      armed: ['also bad'],
    });
    expect(partly?.problems).toEqual(['3 unreadable status.ledger entries ignored']);
  });
});
