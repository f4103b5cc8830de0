// Test helpers: hand-built JobRecords and the captured Job fixtures (test/fixtures/jobs/*.json).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { V1Job } from '@kubernetes/client-node';
import type { JobConditionRecord, JobRecord } from '../../../src/domain/job.ts';
import type { EventType } from '../../../src/api/types.ts';

export const T0 = '2026-11-21T10:00:00Z';
export const T1 = '2026-11-21T10:01:00Z';
export const T2 = '2026-11-21T10:05:30Z';
export const T3 = '2026-11-21T10:09:00Z';

export function job(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    uid: 'uid-1',
    namespace: 'data',
    name: 'nightly-etl-29373',
    resourceVersion: '1',
    labels: { app: 'etl' },
    creationTimestamp: T0,
    suspend: false,
    active: 0,
    succeeded: 0,
    failed: 0,
    conditions: [],
    ...overrides,
  };
}

export function cond(
  type: string,
  status: JobConditionRecord['status'] = 'True',
  reason?: string,
  lastTransitionTime = T2,
  message?: string,
): JobConditionRecord {
  const c: JobConditionRecord = { type, status, lastTransitionTime };
  if (reason !== undefined) c.reason = reason;
  if (message !== undefined) c.message = message;
  return c;
}

export interface JobFixture {
  file: string;
  description: string;
  expected: { event: EventType; reason?: string } | null;
  sequence: V1Job[];
  deleted?: boolean;
}

export const FIXTURE_DIR = new URL('../../fixtures/jobs/', import.meta.url);

/** Every fixture file, parsed; an empty list when the directory does not exist yet. */
export function loadJobFixtures(): JobFixture[] {
  if (!existsSync(FIXTURE_DIR)) return [];
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      ...(JSON.parse(readFileSync(new URL(file, FIXTURE_DIR), 'utf8')) as Omit<JobFixture, 'file'>),
    }));
}
