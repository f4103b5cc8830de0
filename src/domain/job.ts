// The slim record kept per Job (~1 KB instead of the ~11 KB object): only what outcome detection,
// rule matching and the message need. Built from a batch/v1 Job by src/kube/job-record.ts.

export interface JobConditionRecord {
  type: string; // Complete | Failed | Suspended | SuccessCriteriaMet | FailureTarget | …
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface JobRecord {
  uid: string;
  namespace: string;
  name: string;
  resourceVersion: string;
  labels: Record<string, string>;
  /** name of the owning CronJob (ownerReference kind CronJob, controller=true), if any */
  cronJob?: string;
  creationTimestamp: string;
  /** set once the API server has accepted a delete and finalizers are pending */
  deletionTimestamp?: string;
  /** the Job carries jobherald's delivery finalizer (src/api/job-metadata.ts) */
  held?: boolean;
  /** the raw delivery record annotation (src/delivery/delivery-record.ts), when present */
  delivered?: string;
  /** spec.suspend */
  suspend: boolean;
  ttlSecondsAfterFinished?: number;
  startTime?: string;
  completionTime?: string;
  active: number;
  succeeded: number;
  failed: number;
  /** every condition type the Job carries; interim ones are kept so detection can ignore them explicitly */
  conditions: JobConditionRecord[];
}

/** Details of a failed pod, fetched only when a Failed alert needs them. */
export interface FailedPodDetail {
  pod: string;
  container: string;
  exitCode?: number;
  reason?: string; // e.g. OOMKilled, Error, DeadlineExceeded
  message?: string; // termination message
}

export type JobKey = `${string}/${string}`;
export const jobKey = (job: { namespace: string; name: string }): JobKey => `${job.namespace}/${job.name}`;
