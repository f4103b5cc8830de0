// batch/v1 Job → JobRecord, the slim per-Job record the store keeps (src/domain/job.ts). Pure mapping.
// Accepts a V1Job from @kubernetes/client-node (times are Date objects) or the plain JSON the API returns
// (times are RFC 3339 strings); every time is normalized to RFC 3339 UTC with second precision
// ("2026-11-21T10:00:00Z"), so records built either way compare equal.
import type { V1Job } from '@kubernetes/client-node';
import type { JobConditionRecord, JobRecord } from '../domain/job.ts';
import { rfc3339 } from '../domain/time.ts';
import { DELIVERY_FINALIZER, DELIVERY_RECORD_ANNOTATION } from '../api/job-metadata.ts';

/** Condition messages are capped so that one chatty controller cannot bloat the store. */
export const MAX_CONDITION_MESSAGE = 1024;

type Time = Date | string | undefined | null;

interface JobLike {
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string> | null;
    creationTimestamp?: Time;
    deletionTimestamp?: Time;
    finalizers?: string[] | null;
    annotations?: Record<string, string> | null;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean | null }[] | null;
  } | null;
  spec?: { suspend?: boolean | null; ttlSecondsAfterFinished?: number | null } | null;
  status?: {
    startTime?: Time;
    completionTime?: Time;
    active?: number | null;
    succeeded?: number | null;
    failed?: number | null;
    conditions?:
      | {
          type?: string;
          status?: string;
          reason?: string | null;
          message?: string | null;
          lastTransitionTime?: Time;
        }[]
      | null;
  } | null;
}

/** A Date or an RFC 3339 string as "YYYY-MM-DDTHH:MM:SSZ"; unparseable strings are kept as they are. */
export function normalizeTime(time: Time): string | undefined {
  if (time === undefined || time === null || time === '') return undefined;
  const date = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(date.getTime())) return typeof time === 'string' ? time : undefined;
  return rfc3339(date);
}

const count = (value: number | null | undefined): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;

function conditionStatus(status: string | undefined): JobConditionRecord['status'] {
  return status === 'True' || status === 'False' ? status : 'Unknown';
}

/**
 * The JobRecord of `job`. Throws a TypeError only when the input is not an object or has no metadata.name;
 * everything else missing gets a neutral default (namespace "default", uid "", counts 0).
 */
export function toJobRecord(job: V1Job | JobLike): JobRecord {
  if (typeof job !== 'object' || job === null) throw new TypeError('toJobRecord: a Job must be an object');
  const { metadata, spec, status } = job;
  const name = metadata?.name;
  if (typeof name !== 'string' || name === '')
    throw new TypeError('toJobRecord: the Job has no metadata.name');
  const owner = (metadata?.ownerReferences ?? []).find((o) => o.kind === 'CronJob' && o.controller === true);
  const record: JobRecord = {
    uid: metadata?.uid ?? '',
    namespace: metadata?.namespace ?? 'default',
    name,
    resourceVersion: metadata?.resourceVersion ?? '',
    labels: { ...(metadata?.labels ?? {}) },
    creationTimestamp: normalizeTime(metadata?.creationTimestamp) ?? '',
    suspend: spec?.suspend === true,
    active: count(status?.active),
    succeeded: count(status?.succeeded),
    failed: count(status?.failed),
    conditions: (status?.conditions ?? []).map((c) => {
      const condition: JobConditionRecord = { type: c.type ?? '', status: conditionStatus(c.status) };
      if (typeof c.reason === 'string' && c.reason !== '') condition.reason = c.reason;
      if (typeof c.message === 'string' && c.message !== '') {
        condition.message =
          c.message.length > MAX_CONDITION_MESSAGE
            ? `${c.message.slice(0, MAX_CONDITION_MESSAGE - 1)}…`
            : c.message;
      }
      const at = normalizeTime(c.lastTransitionTime);
      if (at !== undefined) condition.lastTransitionTime = at;
      return condition;
    }),
  };
  if (owner?.name !== undefined) record.cronJob = owner.name;
  const deletion = normalizeTime(metadata?.deletionTimestamp);
  if (deletion !== undefined) record.deletionTimestamp = deletion;
  if (metadata?.finalizers?.includes(DELIVERY_FINALIZER) === true) record.held = true;
  const delivered = metadata?.annotations?.[DELIVERY_RECORD_ANNOTATION];
  if (typeof delivered === 'string') record.delivered = delivered.slice(0, 4096);
  if (typeof spec?.ttlSecondsAfterFinished === 'number')
    record.ttlSecondsAfterFinished = spec.ttlSecondsAfterFinished;
  const start = normalizeTime(status?.startTime);
  if (start !== undefined) record.startTime = start;
  const completion = normalizeTime(status?.completionTime);
  if (completion !== undefined) record.completionTime = completion;
  return record;
}
