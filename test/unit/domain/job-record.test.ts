import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import { normalizeTime, toJobRecord } from '../../../src/kube/job-record.ts';
import { loadJobFixtures } from './records.ts';

const plain = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {
    name: 'nightly-etl-29373',
    namespace: 'data',
    uid: 'u-1',
    resourceVersion: '42',
    creationTimestamp: '2026-11-21T10:00:00Z',
    labels: { app: 'etl' },
    ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-me', uid: 'x', controller: false },
      { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly-etl', uid: 'c', controller: true },
    ],
  },
  spec: { suspend: false, ttlSecondsAfterFinished: 600, template: {} },
  status: {
    startTime: '2026-11-21T10:00:01Z',
    completionTime: '2026-11-21T10:04:00Z',
    succeeded: 1,
    failed: 2,
    conditions: [
      {
        type: 'Complete',
        status: 'True',
        reason: 'CompletionsReached',
        message: 'Reached expected number of succeeded pods',
        lastTransitionTime: '2026-11-21T10:04:00Z',
        lastProbeTime: '2026-11-21T10:04:00Z',
      },
    ],
  },
};

describe('toJobRecord', () => {
  it('maps a plain JSON Job from the API', () => {
    expect(toJobRecord(plain)).toEqual({
      uid: 'u-1',
      namespace: 'data',
      name: 'nightly-etl-29373',
      resourceVersion: '42',
      labels: { app: 'etl' },
      cronJob: 'nightly-etl',
      creationTimestamp: '2026-11-21T10:00:00Z',
      suspend: false,
      ttlSecondsAfterFinished: 600,
      startTime: '2026-11-21T10:00:01Z',
      completionTime: '2026-11-21T10:04:00Z',
      active: 0,
      succeeded: 1,
      failed: 2,
      conditions: [
        {
          type: 'Complete',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
          lastTransitionTime: '2026-11-21T10:04:00Z',
        },
      ],
    });
  });

  it('gives the same record for a client-node V1Job with Date objects', () => {
    const withDates = structuredClone(plain) as unknown as V1Job;
    withDates.metadata!.creationTimestamp = new Date('2026-11-21T10:00:00Z');
    withDates.status!.startTime = new Date('2026-11-21T10:00:01.000Z');
    withDates.status!.completionTime = new Date('2026-11-21T10:04:00Z');
    withDates.status!.conditions![0]!.lastTransitionTime = new Date('2026-11-21T10:04:00Z');
    expect(toJobRecord(withDates)).toEqual(toJobRecord(plain));
  });

  it('takes the owning CronJob only from a controller reference of kind CronJob', () => {
    const notController = structuredClone(plain);
    notController.metadata.ownerReferences[1]!.controller = false;
    expect(toJobRecord(notController).cronJob).toBeUndefined();
  });

  it('records deletionTimestamp and suspend', () => {
    const deleting = {
      ...plain,
      metadata: { ...plain.metadata, deletionTimestamp: '2026-11-21T10:05:00Z' },
      spec: { ...plain.spec, suspend: true },
    };
    const record = toJobRecord(deleting);
    expect(record.deletionTimestamp).toBe('2026-11-21T10:05:00Z');
    expect(record.suspend).toBe(true);
  });

  it('copies labels instead of sharing them', () => {
    const record = toJobRecord(plain);
    record.labels['app'] = 'changed';
    expect(plain.metadata.labels.app).toBe('etl');
  });

  it('caps long condition messages', () => {
    const chatty = structuredClone(plain);
    chatty.status.conditions[0]!.message = 'x'.repeat(10_000);
    expect(toJobRecord(chatty).conditions[0]?.message?.length).toBe(1024);
  });

  it('tolerates missing parts, defaulting neutrally', () => {
    const record = toJobRecord({ metadata: { name: 'bare' } });
    expect(record).toMatchObject({
      name: 'bare',
      namespace: 'default',
      uid: '',
      active: 0,
      conditions: [],
      labels: {},
    });
    expect(
      toJobRecord({ metadata: { name: 'x' }, status: { active: -1, conditions: [{ status: 'Weird' }] } }),
    ).toMatchObject({
      active: 0,
      conditions: [{ type: '', status: 'Unknown' }],
    });
  });

  it('throws a clear TypeError for something that is not a Job', () => {
    expect(() => toJobRecord(null as never)).toThrow('toJobRecord: a Job must be an object');
    expect(() => toJobRecord({ metadata: {} })).toThrow('toJobRecord: the Job has no metadata.name');
  });

  it('maps every captured fixture state without losing identity', () => {
    for (const fixture of loadJobFixtures()) {
      for (const state of fixture.sequence) {
        const record = toJobRecord(state);
        expect(record.name).toBe(state.metadata?.name);
        expect(record.uid).toBe(state.metadata?.uid);
        expect(record.conditions).toHaveLength(state.status?.conditions?.length ?? 0);
      }
    }
  });
});

describe('normalizeTime', () => {
  it('normalizes to RFC 3339 UTC seconds', () => {
    expect(normalizeTime('2026-11-21T11:00:00+01:00')).toBe('2026-11-21T10:00:00Z');
    expect(normalizeTime(new Date(Date.UTC(2026, 10, 21, 10, 0, 0, 999)))).toBe('2026-11-21T10:00:00Z');
    expect(normalizeTime(undefined)).toBeUndefined();
    expect(normalizeTime('')).toBeUndefined();
    expect(normalizeTime('not a time')).toBe('not a time');
  });
});
