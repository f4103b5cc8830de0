import { describe, expect, it } from 'vitest';
import {
  DeliveryLedger,
  destinationId,
  destinationRef,
  type DeliveryKey,
  type LedgerJSON,
} from '../../../src/delivery/ledger.ts';

const CREATED = '2026-11-21T10:00:00Z';
const UID = (n: number) => `0f3c2a9e-5b7d-4c1e-9a2b-${String(n).padStart(12, '0')}`;
const key = (
  n: number,
  destination = 'channel:data-alerts',
  event: DeliveryKey['event'] = 'Failed',
): DeliveryKey => ({
  jobUID: UID(n),
  event,
  destination,
});
const at = (minutes: number, seconds = 0) =>
  new Date(Date.parse(CREATED) + minutes * 60_000 + seconds * 1000).toISOString().replace('.000Z', 'Z');

/** A restart: only what was serialized survives. */
const restart = (json: LedgerJSON, now?: string) =>
  DeliveryLedger.parse(JSON.parse(JSON.stringify(json)), {
    ruleCreationTimestamp: CREATED,
    ...(now ? { now } : {}),
  });

describe('DeliveryLedger: first install', () => {
  it('starts at the rule creation time, so Jobs that finished before the rule are never alerted', () => {
    const { ledger, problems } = DeliveryLedger.parse(undefined, { ruleCreationTimestamp: CREATED });
    expect(problems).toEqual([]);
    expect(ledger.floor).toBe(CREATED);
    expect(ledger.shouldDeliver(key(1), at(-60))).toBe(false);
    expect(ledger.shouldDeliver(key(1), at(0, -1))).toBe(false);
    expect(ledger.shouldDeliver(key(1), CREATED)).toBe(true);
    expect(ledger.shouldDeliver(key(1), at(5))).toBe(true);
    expect(ledger.dirty).toBe(true); // the initial floor must be written
  });
});

describe('DeliveryLedger: dedupe', () => {
  it('offers each (job, event, destination) once: pending in memory, then recorded', () => {
    const ledger = DeliveryLedger.create(CREATED);
    expect(ledger.begin(key(1), at(1))).toBe(true);
    expect(ledger.begin(key(1), at(1))).toBe(false); // a resync sees it again while queued
    expect(ledger.isPending(key(1))).toBe(true);
    ledger.markSent(key(1), at(1));
    expect(ledger.isPending(key(1))).toBe(false);
    expect(ledger.begin(key(1), at(1))).toBe(false);
    // other events, destinations and Jobs are other deliveries
    expect(ledger.begin(key(1, 'channel:data-alerts', 'Cancelled'), at(1))).toBe(true);
    expect(ledger.begin(key(1, 'user:alice@example.com'), at(1))).toBe(true);
    expect(ledger.begin(key(2), at(1))).toBe(true);
  });

  it('release() forgets a pending delivery so it can be offered again', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.begin(key(1), at(1));
    ledger.release(key(1));
    expect(ledger.begin(key(1), at(1))).toBe(true);
  });

  it('treats spellings of the same destination as one', () => {
    expect(destinationRef({ channel: '#Data-Alerts' })).toBe('channel:data-alerts');
    expect(destinationRef({ channel: 'data-alerts' })).toBe('channel:data-alerts');
    expect(destinationRef({ channel: 'C0123ABCDE' })).toBe('channel:C0123ABCDE');
    expect(destinationRef({ user: ' Alice@Example.com ' })).toBe('user:alice@example.com');
    expect(destinationId('channel:data-alerts')).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(destinationId('channel:data-alerts')).not.toBe(destinationId('channel:data-alert'));
  });
});

describe('DeliveryLedger: crashes', () => {
  it('is at least once: what Slack accepted and was persisted is not repeated; what was in flight is', () => {
    const ledger = DeliveryLedger.create(CREATED);
    for (const n of [1, 2, 3]) ledger.begin(key(n), at(1));
    ledger.markSent(key(1), at(1));
    const persisted = ledger.serialize();
    ledger.markPersisted(ledger.revision);
    ledger.markSent(key(2), at(1)); // Slack said ok, crash before the status write
    // 3 was still in flight

    const { ledger: after, problems } = restart(persisted);
    expect(problems).toEqual([]);
    expect(after.dirty).toBe(false);
    expect(after.shouldDeliver(key(1), at(1))).toBe(false);
    expect(after.shouldDeliver(key(2), at(1))).toBe(true); // repeated: at most what was in flight
    expect(after.shouldDeliver(key(3), at(1))).toBe(true); // never lost
  });

  it('loses nothing that finished while the operator was down', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.advanceFloor(at(30));
    const persisted = ledger.serialize();
    const { ledger: after } = restart(persisted, at(90));
    // a Job that finished at minute 40, during the outage, is found by the relist
    expect(after.shouldDeliver(key(7), at(40))).toBe(true);
  });
});

describe('DeliveryLedger: floor', () => {
  it('advances to watchHealthyUntil − margin, held back by the oldest pending delivery, never backwards', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.begin(key(1), at(3, 30));
    expect(ledger.advanceFloor(at(10), 120_000)).toMatchObject({ moved: true, forced: false });
    expect(ledger.floor).toBe(at(3, 30)); // pending at 3:30 holds it
    ledger.markSent(key(1), at(3, 30));
    ledger.advanceFloor(at(10), 120_000);
    expect(ledger.floor).toBe(at(8)); // 10:00 − 2 min
    expect(ledger.advanceFloor(at(5)).moved).toBe(false);
    expect(ledger.floor).toBe(at(8));
  });

  it('prunes entries below the floor, and pruned outcomes stay handled', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.begin(key(1), at(1, 0.4));
    ledger.markSent(key(1), at(1, 0.4));
    ledger.begin(key(2), at(9));
    ledger.markSent(key(2), at(9));
    const result = ledger.advanceFloor(at(8, 1), 0);
    expect(result).toEqual({ moved: true, pruned: 1, forced: false });
    expect(ledger.stats.sent).toBe(1);
    expect(ledger.shouldDeliver(key(1), at(1, 0.4))).toBe(false);
    expect(ledger.shouldDeliver(key(2), at(9))).toBe(false);
  });

  it('keeps an entry whose sub-second time is just above the floor (stored rounded up)', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.markSent(key(1), at(5, 0.5)); // 10:05:00.500
    ledger.advanceFloor(at(5, 0.7), 0); // floor truncates to 10:05:00
    expect(ledger.floor).toBe(at(5));
    expect(ledger.shouldDeliver(key(1), at(5, 0.5))).toBe(false);
    const { ledger: after } = restart(ledger.serialize());
    expect(after.shouldDeliver(key(1), at(5, 0.5))).toBe(false);
  });

  it('forces the floor forward when sent is over its cap, and says so', () => {
    const ledger = DeliveryLedger.create(CREATED, { maxSent: 3 });
    for (let n = 1; n <= 5; n++) ledger.markSent(key(n), at(n));
    ledger.begin(key(9), at(0, 30)); // an old pending delivery would hold the floor
    const result = ledger.advanceFloor(at(60));
    expect(result.forced).toBe(true);
    expect(ledger.stats.sent).toBe(3);
    expect(ledger.floor).toBe(at(2, 1));
  });
});

describe('DeliveryLedger: armed Jobs', () => {
  it('turns an armed Job missing after a restart into a Cancelled candidate, TTL noted', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.arm({ uid: UID(1), job: 'data/nightly-1', cronJob: 'nightly', ttl: false });
    ledger.arm({ uid: UID(2), job: 'data/adhoc-2', ttl: true });
    ledger.arm({ uid: UID(3), job: 'data/adhoc-3', ttl: false });
    ledger.disarm(UID(3)); // reached a terminal outcome, handled

    const { ledger: after } = restart(ledger.serialize());
    const present = new Set([UID(1)]);
    expect(after.missingAfterRelist((uid) => present.has(uid))).toEqual([
      { uid: UID(2), job: 'data/adhoc-2', ttl: true },
    ]);
    expect(
      after.shouldDeliver({ jobUID: UID(2), event: 'Cancelled', destination: 'channel:x' }, at(90)),
    ).toBe(true);
    expect(after.isArmed(UID(1))).toBe(true);
    expect(after.armedJobs().find((j) => j.uid === UID(1))).toEqual({
      uid: UID(1),
      job: 'data/nightly-1',
      cronJob: 'nightly',
      ttl: false,
    });
  });

  it('bounds armed and reports the overflow', () => {
    const ledger = DeliveryLedger.create(CREATED, { maxArmed: 2 });
    expect(ledger.arm({ uid: UID(1), job: 'a/1', ttl: false })).toBe(true);
    expect(ledger.arm({ uid: UID(2), job: 'a/2', ttl: false })).toBe(true);
    expect(ledger.arm({ uid: UID(3), job: 'a/3', ttl: false })).toBe(false);
    expect(ledger.arm({ uid: UID(1), job: 'a/1', ttl: false })).toBe(true); // re-arming is fine
    expect(ledger.stats).toMatchObject({ armed: 2, armedOverflow: 1 });
    expect(restart(ledger.serialize()).ledger.stats.armedOverflow).toBe(1);
  });
});

describe('DeliveryLedger: format', () => {
  it('serializes compactly (~55 bytes per delivery) and deterministically', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.markSent(key(2), at(2));
    ledger.markSent(key(1), at(1));
    ledger.arm({ uid: UID(4), job: 'data/nightly-29373', cronJob: 'nightly', ttl: true });
    const json = ledger.serialize();
    expect(json.v).toBe(1);
    expect(json.floor).toBe(CREATED);
    expect(json.sent).toHaveLength(2);
    for (const entry of json.sent) {
      expect(entry).toMatch(/^\S+ [SFC] [A-Za-z0-9_-]{8} [0-9a-z]+$/);
      expect(entry.length).toBeLessThanOrEqual(56);
    }
    expect(json.sent[0]?.startsWith(UID(1))).toBe(true); // oldest first
    expect(json.armed).toEqual([`${UID(4)} data/nightly-29373 nightly 1`]);
    expect(JSON.stringify(restart(json).ledger.serialize())).toBe(JSON.stringify(json));
  });

  it('tracks what must be written with a revision', () => {
    const ledger = DeliveryLedger.create(CREATED);
    ledger.markPersisted(ledger.revision);
    expect(ledger.dirty).toBe(false);
    ledger.begin(key(1), at(1)); // pending lives in memory only
    expect(ledger.dirty).toBe(false);
    ledger.markSent(key(1), at(1));
    const rev = ledger.revision;
    ledger.arm({ uid: UID(2), job: 'a/b', ttl: false }); // changed while the write was under way
    ledger.markPersisted(rev);
    expect(ledger.dirty).toBe(true);
    ledger.markPersisted(ledger.revision);
    expect(ledger.dirty).toBe(false);
  });
});

describe('DeliveryLedger: garbage in status', () => {
  const cases: [string, unknown][] = [
    ['a string', 'hello'],
    ['a number', 42],
    ['a list', [1, 2]],
    ['another version', { v: 2, floor: CREATED, sent: [], armed: [] }],
    ['no floor', { v: 1, sent: [] }],
    ['a bad floor', { v: 1, floor: 'yesterday', sent: [], armed: [] }],
  ];
  it.each(cases)('starts from the rule creation time on %s, and says why', (_name, raw) => {
    const { ledger, problems } = DeliveryLedger.parse(raw, { ruleCreationTimestamp: CREATED });
    expect(ledger.floor).toBe(CREATED);
    expect(problems.length).toBeGreaterThan(0);
    expect(ledger.dirty).toBe(true);
  });

  it('keeps the readable entries and drops the rest', () => {
    const good = DeliveryLedger.create(CREATED);
    good.markSent(key(1), at(1));
    const json = good.serialize();
    const raw = {
      ...json,
      sent: [...json.sent, 'garbage', 7, null, `${UID(2)} X abcdefgh 1`],
      armed: ['nope', `${UID(3)} data/job-3 - 0`],
    };
    const { ledger, problems } = DeliveryLedger.parse(raw, { ruleCreationTimestamp: CREATED });
    expect(problems).toEqual(['5 unreadable ledger entries ignored']);
    expect(ledger.shouldDeliver(key(1), at(1))).toBe(false);
    expect(ledger.isArmed(UID(3))).toBe(true);
    expect(ledger.stats.sent).toBe(1);
  });

  it('ignores sent/armed that are not lists', () => {
    const { ledger, problems } = DeliveryLedger.parse(
      { v: 1, floor: at(5), sent: 'x', armed: { a: 1 } },
      { ruleCreationTimestamp: CREATED },
    );
    expect(ledger.floor).toBe(at(5));
    expect(problems).toHaveLength(1);
  });

  it('raises a floor set before the rule existed (no storm) and lowers one in the future (no silence)', () => {
    const early = DeliveryLedger.parse(
      { v: 1, floor: '1970-01-01T00:00:00Z', sent: [], armed: [] },
      { ruleCreationTimestamp: CREATED },
    );
    expect(early.ledger.floor).toBe(CREATED);
    expect(early.problems).toHaveLength(1);
    const late = DeliveryLedger.parse(
      { v: 1, floor: '2099-01-01T00:00:00Z', sent: [], armed: [] },
      { ruleCreationTimestamp: CREATED, now: at(30) },
    );
    expect(late.ledger.floor).toBe(at(30));
    expect(late.problems).toHaveLength(1);
  });
});
