// Captures real Job objects, in watch order, from the local control plane into test/fixtures/jobs/, one
// file per case: { description, expected, sequence: [Job…], deleted? }. The outcome unit tests replay them.
// Run against a dev cluster:  npx node src/main.ts dev-cluster up && \
//   KUBECONFIG=~/.cache/jobherald/clusters/dev/kubeconfig npx node test/support/capture-job-fixtures.ts [case…]
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BatchV1Api, CoreV1Api, KubeConfig, Watch, type V1Job } from '@kubernetes/client-node';
import { jobManifest, type JobOptions } from './kube.ts';
import { POD_ANNOTATIONS } from '../../src/dev/cluster/kwok-stages.ts';

const kc = new KubeConfig();
kc.loadFromDefault();
const batch = kc.makeApiClient(BatchV1Api);
const core = kc.makeApiClient(CoreV1Api);
const HOLD = 'jobherald.dev/test-hold'; // a pod finalizer that keeps a deleted pod terminating

interface Expected {
  event: 'Succeeded' | 'Failed' | 'Cancelled';
  reason?: string;
}

interface Case {
  description: string;
  expected: Expected | null;
  job: JobOptions;
  /** drive the Job after creation; resolves when the capture is complete */
  drive: (ctx: Ctx) => Promise<void>;
}

interface Ctx {
  ns: string;
  name: string;
  last: () => V1Job | undefined;
  until: (what: string, predicate: (job: V1Job) => boolean, timeoutMs?: number) => Promise<void>;
  deleted: () => boolean;
}

const cond = (job: V1Job, type: string): boolean =>
  job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
const terminal = (job: V1Job): boolean => cond(job, 'Complete') || cond(job, 'Failed');
const active = (job: V1Job): boolean => (job.status?.active ?? 0) > 0;

async function pods(ns: string, name: string) {
  return (await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${name}` })).items;
}
async function patchPod(ns: string, pod: string, patch: unknown[]): Promise<void> {
  await core.patchNamespacedPod({ name: pod, namespace: ns, body: patch });
}
async function releaseHeldPods(ns: string, name: string): Promise<void> {
  for (const pod of await pods(ns, name)) {
    const finalizers = pod.metadata?.finalizers ?? [];
    const index = finalizers.indexOf(HOLD);
    if (index >= 0)
      await patchPod(ns, pod.metadata!.name!, [{ op: 'remove', path: `/metadata/finalizers/${index}` }]);
  }
}

const cases: Record<string, Case> = {
  complete: {
    description: 'a one-pod Job that completes (SuccessCriteriaMet then Complete)',
    expected: { event: 'Succeeded', reason: 'CompletionsReached' },
    job: {},
    drive: ({ until }) => until('Complete', (j) => cond(j, 'Complete')),
  },
  'backoff-limit-exceeded': {
    description: 'backoffLimit 0 and a pod that exits 1: FailureTarget then Failed/BackoffLimitExceeded',
    expected: { event: 'Failed', reason: 'BackoffLimitExceeded' },
    job: { exitCode: 1, reason: 'Error', message: 'exit status 1' },
    drive: ({ until }) => until('Failed', (j) => cond(j, 'Failed')),
  },
  'oom-killed': {
    description: 'a pod OOMKilled with exit code 137, backoffLimit 0',
    expected: { event: 'Failed', reason: 'BackoffLimitExceeded' },
    job: { exitCode: 137, reason: 'OOMKilled', message: 'container used 2Gi, limit 1Gi' },
    drive: ({ until }) => until('Failed', (j) => cond(j, 'Failed')),
  },
  'deadline-exceeded': {
    description: 'a pod that outlives activeDeadlineSeconds: 2',
    expected: { event: 'Failed', reason: 'DeadlineExceeded' },
    job: { runFor: '5m', spec: { activeDeadlineSeconds: 2 } },
    drive: ({ until }) => until('Failed', (j) => cond(j, 'Failed')),
  },
  'pod-failure-policy': {
    description: 'podFailurePolicy FailJob on exit code 42',
    expected: { event: 'Failed', reason: 'PodFailurePolicy' },
    job: {
      exitCode: 42,
      spec: {
        backoffLimit: 6,
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] },
      },
    },
    drive: ({ until }) => until('Failed', (j) => cond(j, 'Failed')),
  },
  'max-failed-indexes': {
    description: 'Indexed Job, backoffLimitPerIndex 0, maxFailedIndexes 0, a failing index',
    expected: { event: 'Failed', reason: 'MaxFailedIndexesExceeded' },
    job: {
      exitCode: 3,
      spec: {
        completionMode: 'Indexed',
        completions: 2,
        parallelism: 2,
        backoffLimit: undefined, // per-index limits replace the Job-wide one
        backoffLimitPerIndex: 0,
        maxFailedIndexes: 0,
      },
    },
    drive: ({ until }) => until('Failed', (j) => cond(j, 'Failed')),
  },
  'failed-indexes': {
    description: 'Indexed Job, backoffLimitPerIndex 0, every index fails: Failed/FailedIndexes',
    expected: { event: 'Failed', reason: 'FailedIndexes' },
    job: {
      exitCode: 3,
      spec: {
        completionMode: 'Indexed',
        completions: 2,
        parallelism: 2,
        backoffLimit: undefined,
        backoffLimitPerIndex: 0,
      },
    },
    drive: ({ until }) => until('Failed', (j) => cond(j, 'Failed')),
  },
  'retried-then-succeeded': {
    description:
      'backoffLimit 3; the first pod fails (status.failed=1), the replacement succeeds: not a failure',
    expected: { event: 'Succeeded', reason: 'CompletionsReached' },
    job: { runFor: '4s', spec: { backoffLimit: 3 } },
    drive: async ({ ns, name, until }) => {
      await until('a running pod', active);
      const [first] = await pods(ns, name);
      await patchPod(ns, first!.metadata!.name!, [
        {
          op: 'add',
          path: `/metadata/annotations/${POD_ANNOTATIONS.exitCode.replace('/', '~1')}`,
          value: '1',
        },
        {
          op: 'add',
          path: `/metadata/annotations/${POD_ANNOTATIONS.duration.replace('/', '~1')}`,
          value: '0s',
        },
      ]);
      await until('Complete after a retry', (j) => cond(j, 'Complete'), 60_000);
    },
  },
  'suspended-after-start': {
    description: 'a running Job suspended (spec.suspend=true): Suspended=True, pods stopped',
    expected: { event: 'Cancelled', reason: 'Suspended' },
    job: { runFor: '5m' },
    drive: async ({ ns, name, until }) => {
      await until('a running pod', active);
      await batch.patchNamespacedJob({
        name,
        namespace: ns,
        body: [{ op: 'add', path: '/spec/suspend', value: true }],
      });
      await until('Suspended and no active pod', (j) => cond(j, 'Suspended') && !active(j));
    },
  },
  'created-suspended': {
    description: 'a Job created with spec.suspend=true that never ran (e.g. queued by Kueue): not cancelled',
    expected: null,
    job: { spec: { suspend: true } },
    drive: ({ until }) => until('Suspended', (j) => cond(j, 'Suspended')),
  },
  'created-suspended-then-resumed': {
    description: 'created suspended, resumed, then completes',
    expected: { event: 'Succeeded', reason: 'CompletionsReached' },
    job: { spec: { suspend: true } },
    drive: async ({ ns, name, until }) => {
      await until('Suspended', (j) => cond(j, 'Suspended'));
      await batch.patchNamespacedJob({
        name,
        namespace: ns,
        body: [{ op: 'add', path: '/spec/suspend', value: false }],
      });
      await until('Complete', (j) => cond(j, 'Complete'));
    },
  },
  'deleted-while-running': {
    description: 'a running Job deleted with propagationPolicy Background',
    expected: { event: 'Cancelled', reason: 'Deleted' },
    job: { runFor: '5m' },
    drive: async ({ ns, name, until, deleted }) => {
      await until('a running pod', active);
      await batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: 'Background' });
      await waitUntil('the DELETED event', deleted);
    },
  },
  'deleted-after-complete': {
    description:
      'a completed Job deleted later: its outcome was Succeeded, the deletion is not a cancellation',
    expected: { event: 'Succeeded', reason: 'CompletionsReached' },
    job: {},
    drive: async ({ ns, name, until, deleted }) => {
      await until('Complete', (j) => cond(j, 'Complete'));
      await batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: 'Background' });
      await waitUntil('the DELETED event', deleted);
    },
  },
  'failure-target-interim': {
    description:
      'deadline exceeded while a pod is held terminating: FailureTarget=True without Failed (interim)',
    expected: null,
    job: { runFor: '5m', spec: { activeDeadlineSeconds: 2 } },
    drive: async ({ ns, name, until }) => {
      await until('FailureTarget', (j) => cond(j, 'FailureTarget'), 30_000);
      // Stop here: the last captured state is the interim one. Release the pod so the namespace can go.
      await new Promise((r) => setTimeout(r, 1500));
      await releaseHeldPods(ns, name);
    },
  },
  'success-criteria-met-interim': {
    description:
      'successPolicy met while another index is held terminating: SuccessCriteriaMet=True without Complete',
    expected: null,
    job: {
      runFor: '1s',
      spec: {
        completionMode: 'Indexed',
        completions: 2,
        parallelism: 2,
        successPolicy: { rules: [{ succeededIndexes: '0' }] },
      },
    },
    drive: async ({ ns, name, until }) => {
      // slow index 1 down before it finishes, so index 0 alone meets the success policy
      await until('running pods', (j) => (j.status?.active ?? 0) === 2);
      const slow = (await pods(ns, name)).find(
        (p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '1',
      );
      await patchPod(ns, slow!.metadata!.name!, [
        {
          op: 'replace',
          path: `/metadata/annotations/${POD_ANNOTATIONS.duration.replace('/', '~1')}`,
          value: '5m',
        },
      ]);
      await until('SuccessCriteriaMet', (j) => cond(j, 'SuccessCriteriaMet'), 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      await releaseHeldPods(ns, name);
    },
  },
};

/** Cases whose pods carry the HOLD finalizer so a deleted pod stays terminating. */
const held = new Set(['failure-target-interim', 'success-criteria-met-interim']);

async function waitUntil(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function slim(job: V1Job): V1Job {
  const copy = JSON.parse(JSON.stringify(job)) as V1Job;
  delete copy.metadata?.managedFields;
  return copy;
}

async function capture(id: string, c: Case): Promise<void> {
  const ns = `fixture-${randomBytes(3).toString('hex')}`;
  const name = id.slice(0, 40);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const sequence: V1Job[] = [];
  let deleted = false;
  const watch = await new Watch(kc).watch(
    `/apis/batch/v1/namespaces/${ns}/jobs`,
    {},
    (type: string, obj: V1Job) => {
      if (obj.metadata?.name !== name) return;
      if (type === 'DELETED') deleted = true;
      else sequence.push(slim(obj));
    },
    () => undefined,
  );
  try {
    const manifest = jobManifest(ns, name, c.job);
    if (held.has(id)) manifest.spec!.template.metadata!.finalizers = [HOLD];
    await batch.createNamespacedJob({ namespace: ns, body: manifest });
    const ctx: Ctx = {
      ns,
      name,
      last: () => sequence.at(-1),
      deleted: () => deleted,
      until: (what, predicate, timeoutMs) =>
        waitUntil(
          what,
          () => {
            const last = sequence.at(-1);
            return last !== undefined && predicate(last);
          },
          timeoutMs,
        ),
    };
    await c.drive(ctx);
    await new Promise((r) => setTimeout(r, 300)); // let trailing updates of the same transition arrive
  } finally {
    watch.abort();
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
  if (held.has(id)) {
    // keep the sequence up to the interim state: later states (after the release) are another case
    const firstTerminal = sequence.findIndex(terminal);
    if (firstTerminal >= 0) sequence.length = firstTerminal;
  }
  const file = new URL(`../fixtures/jobs/${id}.json`, import.meta.url);
  const body = {
    description: c.description,
    expected: c.expected,
    ...(deleted ? { deleted: true } : {}),
    sequence,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  console.log(`${id}: ${sequence.length} states${deleted ? ' + DELETED' : ''}`);
}

const wanted = process.argv.slice(2);
const selected = Object.entries(cases).filter(([id]) => wanted.length === 0 || wanted.includes(id));
await Promise.all(selected.map(([id, c]) => capture(id, c)));
