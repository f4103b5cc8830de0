// Proof that the local control plane behaves like a real cluster for everything jobherald depends on:
// the real Job and CronJob controllers, the garbage collector, kwok pods that finish as asked, and etcd
// persistence across an API server restart.
import { describe, expect, it } from 'vitest';
import {
  clusterState,
  createJob,
  eventually,
  hasCondition,
  kube,
  suspendJob,
  useNamespace,
  waitForJob,
  waitForJobCondition,
} from '../support/kube.ts';
import { spawn } from 'node:child_process';
import { down, readState, restartComponent, up } from '../../src/dev/cluster/control-plane.ts';
import { isAlive } from '../../src/dev/cluster/processes.ts';

describe('local control plane', () => {
  const ns = useNamespace('cp');

  it('runs a Job to Complete=True', async () => {
    await createJob(ns(), 'ok');
    const job = await waitForJobCondition(ns(), 'ok', 'Complete');
    expect(job.status?.succeeded).toBe(1);
    expect(job.status?.completionTime).toBeDefined();
  });

  it('fails a Job whose pod fails, with backoffLimit 0: Failed=True, BackoffLimitExceeded', async () => {
    await createJob(ns(), 'oom', { exitCode: 137, reason: 'OOMKilled', message: 'used 2Gi of 1Gi' });
    const job = await waitForJobCondition(ns(), 'oom', 'Failed');
    expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(hasCondition(job, 'Complete')).toBe(false);

    const pods = await kube().core.listNamespacedPod({ namespace: ns(), labelSelector: 'job-name=oom' });
    const terminated = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated;
    expect(pods.items[0]?.status?.phase).toBe('Failed');
    expect(terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled', message: 'used 2Gi of 1Gi' });
  });

  it('fails only the named container when a pod has several', async () => {
    await createJob(ns(), 'sidecar', { exitCode: 2, container: 'worker', containers: ['worker', 'logger'] });
    await waitForJobCondition(ns(), 'sidecar', 'Failed');
    const pods = await kube().core.listNamespacedPod({ namespace: ns(), labelSelector: 'job-name=sidecar' });
    const byName = new Map(
      pods.items[0]?.status?.containerStatuses?.map((c) => [c.name, c.state?.terminated]),
    );
    expect(byName.get('worker')?.exitCode).toBe(2);
    expect(byName.get('logger')?.exitCode).toBe(0);
  });

  it('ends a Job whose pod outlives activeDeadlineSeconds with DeadlineExceeded', async () => {
    await createJob(ns(), 'slow', { runFor: '5m', spec: { activeDeadlineSeconds: 2 } });
    const job = await waitForJobCondition(ns(), 'slow', 'Failed');
    expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('DeadlineExceeded');
  });

  it('marks a started Job that is suspended Suspended=True and stops its pods', async () => {
    await createJob(ns(), 'pausable', { runFor: '5m' });
    await waitForJob(ns(), 'pausable', (job) => (job.status?.active ?? 0) === 1);
    await suspendJob(ns(), 'pausable');
    const job = await waitForJobCondition(ns(), 'pausable', 'Suspended');
    expect(job.status?.conditions?.find((c) => c.type === 'Suspended')?.reason).toBe('JobSuspended');
    await waitForJob(ns(), 'pausable', (j) => (j.status?.active ?? 0) === 0);
  });

  it('removes the pods of a running Job deleted with background propagation', async () => {
    await createJob(ns(), 'doomed', { runFor: '5m' });
    await waitForJob(ns(), 'doomed', (job) => (job.status?.active ?? 0) === 1);
    const pods = () => kube().core.listNamespacedPod({ namespace: ns(), labelSelector: 'job-name=doomed' });
    expect((await pods()).items).toHaveLength(1);
    await kube().batch.deleteNamespacedJob({
      name: 'doomed',
      namespace: ns(),
      propagationPolicy: 'Background',
    });
    await eventually('the pods to be garbage-collected', async () =>
      (await pods()).items.length === 0 ? true : undefined,
    );
  });

  it('keeps objects across a kube-apiserver restart', async () => {
    await createJob(ns(), 'durable');
    await waitForJobCondition(ns(), 'durable', 'Complete');
    await restartComponent(clusterState(), 'kube-apiserver');
    const job = await kube().batch.readNamespacedJob({ name: 'durable', namespace: ns() });
    expect(hasCondition(job, 'Complete')).toBe(true);
    // and the controllers still work against the restarted server
    await createJob(ns(), 'after-restart');
    await waitForJobCondition(ns(), 'after-restart', 'Complete');
  });

  // The CronJob controller schedules on whole minutes: this waits up to ~70 s for one firing.
  it('lets a CronJob create a Job that completes', { timeout: 150_000 }, async () => {
    await kube().batch.createNamespacedCronJob({
      namespace: ns(),
      body: {
        metadata: { name: 'nightly' },
        spec: {
          schedule: '* * * * *',
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example.com/x:1' }] },
              },
            },
          },
        },
      },
    });
    const job = await eventually(
      'the CronJob to create a Job',
      async () => {
        const jobs = await kube().batch.listNamespacedJob({ namespace: ns() });
        return jobs.items.find((j) => j.metadata?.ownerReferences?.some((o) => o.kind === 'CronJob'));
      },
      80_000,
    );
    expect(job.metadata?.ownerReferences?.[0]?.name).toBe('nightly');
    await waitForJobCondition(ns(), job.metadata!.name!, 'Complete');
  });
});

describe('dev-cluster up after a run killed half-way', () => {
  it('stops what the killed run left and starts clean', { timeout: 120_000 }, async () => {
    const name = 'e2e-killed';
    const cli = spawn(process.execPath, ['src/main.ts', 'dev-cluster', 'up', `--name=${name}`], {
      cwd: new URL('../../', import.meta.url).pathname,
      stdio: 'ignore',
    });
    try {
      // kill the CLI once it has started etcd and the API server, before the cluster is ready
      const leftover = await eventually('the first run to start two components', () => {
        const state = readState(name);
        return Promise.resolve((state?.components.length ?? 0) >= 2 ? state : undefined);
      });
      cli.kill('SIGKILL');
      const orphans = leftover.components.map((c) => c.pid);
      expect(orphans.some(isAlive)).toBe(true); // they outlive the CLI: that is the mess to clean

      const state = await up({ name });
      expect(orphans.filter(isAlive)).toEqual([]);
      expect(state.components.map((c) => c.name)).toEqual([
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
        'kube-scheduler',
        'kwok',
      ]);
      expect(state.components.every((c) => isAlive(c.pid))).toBe(true);
    } finally {
      cli.kill('SIGKILL');
      await down(name);
    }
    expect(readState(name)).toBeUndefined();
  });
});
