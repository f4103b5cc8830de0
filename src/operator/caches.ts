// The slim records the operator keeps from its watches, one builder per resource. Whole objects are kept
// only for our own custom resources (few and small).
import type { NotificationRule, SlackIntegration } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import { normalizeTime, toJobRecord } from '../kube/job-record.ts';

export interface NamespaceRecord {
  name: string;
  labels: Record<string, string>;
  /** set while the namespace is being deleted: what fails in it from then on was cancelled */
  deletionTimestamp?: string;
}

export interface SecretRecord {
  namespace: string;
  name: string;
  resourceVersion?: string;
  /** base64 values, decoded only when a token is read */
  data: Record<string, string>;
  /** only jobherald.dev/ annotations (what token rotation writes), not a user's */
  annotations?: Record<string, string>;
}

export interface FailedPodRecord {
  namespace: string;
  jobUID: string;
  details: FailedPodDetail[];
}

export function namespaceRecord(o: KubeObject): NamespaceRecord {
  const record: NamespaceRecord = {
    name: o.metadata.name,
    labels: (o.metadata.labels as Record<string, string> | undefined) ?? {},
  };
  const deletion = normalizeTime(o.metadata.deletionTimestamp as string | undefined);
  if (deletion !== undefined) record.deletionTimestamp = deletion;
  return record;
}

export function secretRecord(o: KubeObject): SecretRecord {
  const record: SecretRecord = {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    data: (o.data as Record<string, string> | undefined) ?? {},
  };
  if (typeof o.metadata.resourceVersion === 'string') record.resourceVersion = o.metadata.resourceVersion;
  const ours = Object.entries((o.metadata.annotations as Record<string, string> | undefined) ?? {}).filter(
    ([key]) => key.startsWith('jobherald.dev/'),
  );
  if (ours.length > 0) record.annotations = Object.fromEntries(ours);
  return record;
}

export const jobRecord = (o: KubeObject): JobRecord => toJobRecord(o);

export const integrationRecord = (o: KubeObject): SlackIntegration => o as unknown as SlackIntegration;
export const ruleRecord = (o: KubeObject): NotificationRule => o as unknown as NotificationRule;

interface PodStatusLike {
  containerStatuses?: {
    name: string;
    state?: { terminated?: { exitCode?: number; reason?: string; message?: string } };
    lastState?: { terminated?: { exitCode?: number; reason?: string; message?: string } };
  }[];
}

const MAX_MESSAGE = 1024;

/** Failed pods of Jobs (watched with fieldSelector status.phase=Failed): the containers that failed. */
export function failedPodRecord(o: KubeObject): FailedPodRecord | undefined {
  const labels = (o.metadata.labels as Record<string, string> | undefined) ?? {};
  const jobUID = labels['batch.kubernetes.io/controller-uid'] ?? labels['controller-uid'];
  if (jobUID === undefined) return undefined;
  const status = (o.status as PodStatusLike | undefined) ?? {};
  const details: FailedPodDetail[] = [];
  for (const c of status.containerStatuses ?? []) {
    const t = c.state?.terminated ?? c.lastState?.terminated;
    if (t === undefined || t.exitCode === 0) continue;
    details.push({
      pod: o.metadata.name,
      container: c.name,
      exitCode: t.exitCode,
      reason: t.reason,
      message: t.message?.slice(0, MAX_MESSAGE),
    });
  }
  return { namespace: o.metadata.namespace ?? '', jobUID, details };
}
