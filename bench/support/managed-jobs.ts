// Jobs the Job controller leaves alone: each carries `spec.managedBy: bench.jobherald.dev/fake`, and the bench
// writes its status itself through the status subresource, at API-server speed (hundreds of Jobs a second, where
// the local control plane runs ~30 real Jobs a second through kwok). Used wherever a figure needs many Jobs in the
// cluster but not their runs: the delivery-state row and the P5/P6 sizes.
//
// The API server validates the status of such Jobs. What it refuses, in its own words:
//   cannot set Complete=True condition without the SuccessCriteriaMet=true condition
//   cannot set Failed=True condition without the FailureTarget=true condition
//   completionTime is required for Complete jobs; startTime is required for finished job
//   cannot set completionTime when there is no Complete=True condition
//   status.startTime: field is immutable for unsuspended job once set
// so a succeeded Job gets startTime, completionTime, succeeded: 1 and SuccessCriteriaMet + Complete; a failed one
// startTime, failed: 1 and FailureTarget + Failed (no completionTime); a running one startTime and active: 1.
import type { ApiClient } from './apiserver.ts';
import { pool } from './kube.ts';

export const MANAGED_BY = 'bench.jobherald.dev/fake';

export interface ManagedJob {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** what the bench writes to …/status right after creating it */
  status: Record<string, unknown>;
}

/** metav1.Time: whole seconds. */
export const rfc3339 = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const condition = (type: string, reason: string, at: string) => ({
  type,
  status: 'True',
  reason,
  message: reason === 'BackoffLimitExceeded' ? 'Job has reached the specified backoff limit' : '',
  lastTransitionTime: at,
  lastProbeTime: at,
});

/** The status of a Job that ran from `startedMs` to `endedMs` and succeeded or failed. */
export function finishedStatus(
  outcome: 'Succeeded' | 'Failed',
  startedMs: number,
  endedMs: number,
): Record<string, unknown> {
  const started = rfc3339(startedMs);
  const ended = rfc3339(endedMs);
  return outcome === 'Failed'
    ? {
        startTime: started,
        failed: 1,
        conditions: [
          condition('FailureTarget', 'BackoffLimitExceeded', ended),
          condition('Failed', 'BackoffLimitExceeded', ended),
        ],
      }
    : {
        startTime: started,
        completionTime: ended,
        succeeded: 1,
        conditions: [
          condition('SuccessCriteriaMet', 'CompletionsReached', ended),
          condition('Complete', 'CompletionsReached', ended),
        ],
      };
}

export const runningStatus = (startedMs: number): Record<string, unknown> => ({
  startTime: rfc3339(startedMs),
  active: 1,
});

export const managedJobBody = (j: Omit<ManagedJob, 'status'>) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: j.name, namespace: j.namespace, labels: j.labels },
  spec: {
    managedBy: MANAGED_BY,
    backoffLimit: 0,
    template: {
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example.com/batch:1' }] },
    },
  },
});

export const jobPath = (namespace: string, name: string): string =>
  `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`;

/** POST each Job, then a merge PATCH of its status; `concurrency` Jobs in flight. */
export async function createManagedJobs(
  api: ApiClient,
  jobs: readonly ManagedJob[],
  concurrency: number,
): Promise<void> {
  await pool(jobs.length, concurrency, async (i) => {
    const j = jobs[i];
    if (j === undefined) return;
    await api.retrying('POST', `/apis/batch/v1/namespaces/${j.namespace}/jobs`, managedJobBody(j), {
      ok: (s) => (s >= 200 && s < 300) || s === 409, // 409: an earlier attempt made it
    });
    await api.retrying(
      'PATCH',
      `${jobPath(j.namespace, j.name)}/status`,
      { status: j.status },
      { contentType: 'application/merge-patch+json' },
    );
  });
}

/**
 * Creates `count` Jobs (`make(i)` for i in [0, count)) in chunks of 1,000, logging the rate every 15 s; returns
 * seconds. Chunks keep the bench's own memory flat at 100,000 Jobs.
 */
export async function createManagedFleet(
  api: ApiClient,
  count: number,
  make: (i: number) => ManagedJob,
  opts: { concurrency: number; log: (line: string) => void; what: string },
): Promise<number> {
  const began = performance.now();
  let lastLog = began;
  const chunk = 1000;
  for (let i = 0; i < count; i += chunk) {
    const jobs = Array.from({ length: Math.min(chunk, count - i) }, (_, k) => make(i + k));
    await createManagedJobs(api, jobs, opts.concurrency);
    const made = Math.min(count, i + chunk);
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      opts.log(`${opts.what}: ${made} Jobs created (${(made / ((lastLog - began) / 1000)).toFixed(0)}/s)`);
    }
  }
  return (performance.now() - began) / 1000;
}
