// Helpers for e2e tests on the real local control plane: clients, a fresh namespace per test, Jobs whose
// pods behave as asked (kwok stages, see src/dev/cluster/kwok-stages.ts), and waiting on conditions.
import { randomBytes } from 'node:crypto';
import { waitFor } from '../../src/dev/cluster/processes.ts';
import { afterEach, beforeEach, inject } from 'vitest';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Job,
  type V1JobSpec,
} from '@kubernetes/client-node';
import { POD_ANNOTATIONS } from '../../src/dev/cluster/kwok-stages.ts';
import { DELIVERY_FINALIZER, DELIVERY_RECORD_ANNOTATION } from '../../src/api/job-metadata.ts';
import { readState, type ClusterState } from '../../src/dev/cluster/control-plane.ts';

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
}

let cached: Kube | undefined;

export function kube(): Kube {
  if (cached !== undefined) return cached;
  const file = inject('kubeconfig');
  if (file === '') throw new Error('this e2e test needs the control plane; unset JOBHERALD_E2E_NO_CLUSTER');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  cached = {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
  return cached;
}

export function clusterState(): ClusterState {
  const state = readState(inject('clusterName'));
  if (state === undefined) throw new Error('the e2e control plane is not running');
  return state;
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

export async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<string> {
  await kube().core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

/**
 * Deletion is left to the namespace controller in the background: tests do not wait for it. Jobs that still
 * carry jobherald's finalizer (the operator of the test is gone) are released so the namespace can go.
 */
export async function deleteNamespace(name: string): Promise<void> {
  await kube()
    .core.deleteNamespace({ name })
    .catch(() => undefined);
  await releaseJobherald(name).catch(() => undefined);
}

/** A fresh namespace for each test in the calling file; returns a getter for the current one. */
export function useNamespace(prefix = 'e2e'): () => string {
  let current = '';
  beforeEach(async () => {
    current = await createNamespace(uniqueName(prefix));
  });
  afterEach(async () => {
    await deleteNamespace(current);
  });
  return () => current;
}

export interface PodBehaviour {
  /** how long each pod runs before it finishes, as a Go duration ("30s") */
  runFor?: string;
  /** fail the pod with this exit code (non-zero) */
  exitCode?: number;
  reason?: string;
  message?: string;
  container?: string;
}

export interface JobOptions extends PodBehaviour {
  labels?: Record<string, string>;
  podLabels?: Record<string, string>;
  spec?: Partial<V1JobSpec>;
  containers?: string[];
}

export function jobManifest(namespace: string, name: string, opts: JobOptions = {}): V1Job {
  const annotations: Record<string, string> = {};
  if (opts.runFor !== undefined) annotations[POD_ANNOTATIONS.duration] = opts.runFor;
  if (opts.exitCode !== undefined) annotations[POD_ANNOTATIONS.exitCode] = String(opts.exitCode);
  if (opts.reason !== undefined) annotations[POD_ANNOTATIONS.reason] = opts.reason;
  if (opts.message !== undefined) annotations[POD_ANNOTATIONS.message] = opts.message;
  if (opts.container !== undefined) annotations[POD_ANNOTATIONS.container] = opts.container;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels: opts.labels },
    spec: {
      backoffLimit: 0,
      ...opts.spec,
      template: {
        metadata: { annotations, labels: opts.podLabels },
        spec: {
          restartPolicy: 'Never',
          containers: (opts.containers ?? ['main']).map((c) => ({ name: c, image: 'example.com/batch:1' })),
        },
      },
    },
  };
}

export async function createJob(namespace: string, name: string, opts: JobOptions = {}): Promise<V1Job> {
  return kube().batch.createNamespacedJob({ namespace, body: jobManifest(namespace, name, opts) });
}

/** Sets spec.suspend (client-node sends JSON Patch: `add` works whether or not the field is set). */
export async function suspendJob(namespace: string, name: string, suspend = true): Promise<V1Job> {
  return kube().batch.patchNamespacedJob({
    name,
    namespace,
    body: [{ op: 'add', path: '/spec/suspend', value: suspend }],
  });
}

/** Removes jobherald's delivery finalizer from every Job of the namespace that has it; returns how many. */
export async function releaseJobherald(namespace: string): Promise<number> {
  const jobs = await kube().batch.listNamespacedJob({ namespace });
  let released = 0;
  for (const job of jobs.items) {
    const finalizers = job.metadata?.finalizers ?? [];
    if (!finalizers.includes(DELIVERY_FINALIZER)) continue;
    await kube()
      .batch.patchNamespacedJob({
        name: job.metadata!.name!,
        namespace,
        body: [
          { op: 'test', path: '/metadata/finalizers', value: finalizers },
          {
            op: 'replace',
            path: '/metadata/finalizers',
            value: finalizers.filter((f) => f !== DELIVERY_FINALIZER),
          },
        ],
      })
      .then(() => released++)
      .catch(() => undefined);
  }
  return released;
}

/** Whether the Job (as read now) carries jobherald's delivery finalizer, and its delivery record. */
export async function jobMetadata(
  namespace: string,
  name: string,
): Promise<{ held: boolean; record: string | undefined; terminating: boolean } | undefined> {
  const job = await kube()
    .batch.readNamespacedJob({ name, namespace })
    .catch(() => undefined);
  if (job === undefined) return undefined;
  return {
    held: job.metadata?.finalizers?.includes(DELIVERY_FINALIZER) ?? false,
    record: job.metadata?.annotations?.[DELIVERY_RECORD_ANNOTATION],
    terminating: job.metadata?.deletionTimestamp !== undefined,
  };
}

export const hasCondition = (job: V1Job, type: string, status = 'True'): boolean =>
  job.status?.conditions?.some((c) => c.type === type && c.status === status) ?? false;

/** Polls until `predicate(job)` holds; fails with the Job's last status if it does not in time. */
export async function waitForJob(
  namespace: string,
  name: string,
  predicate: (job: V1Job) => boolean,
  timeoutMs = 30_000,
): Promise<V1Job> {
  const deadline = Date.now() + timeoutMs;
  let last: V1Job | undefined;
  for (;;) {
    last = await kube().batch.readNamespacedJob({ name, namespace });
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for Job ${namespace}/${name}; status: ${JSON.stringify(last.status)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const waitForJobCondition = (namespace: string, name: string, type: string, timeoutMs?: number) =>
  waitForJob(namespace, name, (job) => hasCondition(job, type), timeoutMs);

/** Polls an arbitrary probe until it returns a value (not undefined). */
export const eventually = <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> => waitFor(what, probe, { timeoutMs });

/** Waits until the Job carries jobherald's delivery finalizer. */
export const waitHeld = (namespace: string, name: string): Promise<true> =>
  eventually(`${namespace}/${name} to be held`, async () =>
    (await jobMetadata(namespace, name))?.held === true ? true : undefined,
  );

/**
 * Waits until the Job is held and has started (status.startTime): only then is deleting it a cancellation. A
 * Job deleted before it started owes no alert (product.md §3), and the finalizer goes on at creation, before
 * the Job controller has synced it, so waiting for the finalizer alone races the Job controller.
 */
export const waitHeldAndStarted = async (namespace: string, name: string): Promise<true> => {
  await waitForJob(namespace, name, (job) => job.status?.startTime !== undefined);
  return waitHeld(namespace, name);
};

/** Waits until the Job no longer exists. */
export const waitGone = (namespace: string, name: string, timeoutMs = 30_000): Promise<true> =>
  eventually(
    `${namespace}/${name} to be gone`,
    async () => ((await jobMetadata(namespace, name)) === undefined ? true : undefined),
    timeoutMs,
  );

/**
 * Waits until the Job has finished and its deletion was asked (TTL, history limit): 'terminating' while a
 * finalizer keeps it, 'gone' when nothing did.
 */
export const waitFinishedAndDeleted = (namespace: string, name: string): Promise<'gone' | 'terminating'> =>
  eventually(
    `${namespace}/${name} to finish and be deleted`,
    async () => {
      const job = await kube()
        .batch.readNamespacedJob({ name, namespace })
        .catch(() => undefined);
      if (job === undefined) return 'gone' as const;
      const finished = (job.status?.conditions ?? []).some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      return finished && job.metadata?.deletionTimestamp !== undefined ? ('terminating' as const) : undefined;
    },
    60_000,
  );
