// With the chart's MutatingAdmissionPolicy in the cluster (rendered by the real Helm, scoped by the ConfigMap
// the operator keeps): Jobs get the delivery finalizer at creation, so even a TTL-0 Job created, finished and
// deleted while the operator is down or failing over is alerted once with its real outcome, and a matched Job
// costs at most one write. operator-vanishing-jobs.test.ts has the same scenarios without the policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertTexts,
  readyRule,
  useOperatorEnvironment,
  useOperatorProcesses,
} from '../support/environment.ts';
import {
  createJob,
  createNamespace,
  deleteNamespace,
  eventually,
  jobMetadata,
  kube,
  uniqueName,
  useNamespace,
  waitFinishedAndDeleted,
  waitForJobCondition,
  waitGone,
  waitHeldAndStarted,
} from '../support/kube.ts';
import {
  installAdmissionPolicy,
  removeAdmissionPolicy,
  waitForAdmission,
  type AdmissionPolicy,
} from '../support/admission.ts';
import { apiServerJobPatches, JobWriteRecorder, patchesSince } from '../support/job-writes.ts';
import { getRule } from '../support/operator.ts';

const env = useOperatorEnvironment({ startOperator: false });
const processes = useOperatorProcesses(env);
let policy: AdmissionPolicy;

beforeAll(async () => {
  policy = await installAdmissionPolicy(env.opNs);
}, 120_000);

afterAll(async () => {
  if (policy !== undefined) await removeAdmissionPolicy(policy);
});

const operator = (opts: { leaderElect?: boolean } = {}) =>
  processes.start({ ...opts, args: [`--admission-params=${policy.params}`] });

const alertsFor = (jobs: string[]) => alertTexts(env.slack, 'alerts', jobs);
const terminating = waitFinishedAndDeleted;
const gone = waitGone;

const TTL0 = { spec: { ttlSecondsAfterFinished: 0 } };

describe('with the admission policy', () => {
  const ns = useNamespace('admit');

  it('TTL-0 Jobs created, finished and deleted while the operator is down are alerted once, with their real outcome', async () => {
    const first = await operator();
    await readyRule(env, ns(), 'all');
    await waitForAdmission(ns(), true); // the operator listed the namespace in the policy's ConfigMap
    const id = uniqueName('a');
    const before = `before-${id}`;
    await createJob(ns(), before, { runFor: '4s', ...TTL0 });
    expect((await jobMetadata(ns(), before))?.held).toBe(true); // held from its creation on
    await processes.kill(first);
    const ok = `ok-${id}`;
    const bad = `bad-${id}`;
    await createJob(ns(), ok, TTL0);
    await createJob(ns(), bad, { exitCode: 2, ...TTL0 });
    for (const j of [before, ok, bad]) expect(await terminating(ns(), j)).toBe('terminating');

    await operator();
    const alerts = await alertsFor([before, ok, bad]);
    expect(alerts.get(before)).toEqual([expect.stringMatching(/Succeeded/)]);
    expect(alerts.get(ok)).toEqual([expect.stringMatching(/Succeeded/)]);
    expect(alerts.get(bad)).toEqual([expect.stringMatching(/Failed/)]);
    for (const j of [before, ok, bad]) await gone(ns(), j);
  });

  it('two replicas: TTL-0 Jobs created and gone while the leader is dead are alerted once by the new leader', async () => {
    const a = await operator({ leaderElect: true });
    const b = await operator({ leaderElect: true });
    const leader = await eventually('a leader', processes.leader);
    await readyRule(env, ns(), 'ha');
    await waitForAdmission(ns(), true);
    await processes.kill(leader);
    const id = uniqueName('h');
    const jobs = [`ok-${id}`, `bad-${id}`];
    await createJob(ns(), jobs[0]!, TTL0);
    await createJob(ns(), jobs[1]!, { exitCode: 1, ...TTL0 });
    for (const j of jobs) expect(await terminating(ns(), j)).toBe('terminating');
    const standby = leader === a ? b : a;
    await eventually(
      'the standby to lead',
      async () => ((await processes.leader()) === standby ? true : undefined),
      40_000,
    );
    const alerts = await alertsFor(jobs);
    expect(alerts.get(jobs[0]!)).toEqual([expect.stringMatching(/Succeeded/)]);
    expect(alerts.get(jobs[1]!)).toEqual([expect.stringMatching(/Failed/)]);
  });

  it('costs at most 1 Job write per matched Job, none for a Job in a namespace no rule reaches', async () => {
    const elsewhere = await createNamespace(uniqueName('unwatched'));
    const recorder = await new JobWriteRecorder(ns()).start();
    const outside = await new JobWriteRecorder(elsewhere).start();
    try {
      await operator();
      await readyRule(env, ns(), 'cancel-only', {
        events: ['Cancelled'],
        selector: { jobSelector: { matchLabels: { app: 'batch' } } },
      });
      await waitForAdmission(ns(), true);
      await waitForAdmission(elsewhere, false);
      const rv = (await getRule(ns(), 'cancel-only')).metadata.resourceVersion;
      const patchesBefore = await apiServerJobPatches();
      const id = uniqueName('c');
      const matched = Array.from({ length: 20 }, (_, i) => `m-${id}-${i}`);
      // in a watched namespace but not selected by the rule: held at admission (the policy's scope is the
      // namespace, ADR 0009), released at once
      const unselected = Array.from({ length: 5 }, (_, i) => `u-${id}-${i}`);
      const away = Array.from({ length: 5 }, (_, i) => `x-${id}-${i}`);
      const cancelled = Array.from({ length: 5 }, (_, i) => `c-${id}-${i}`);
      await Promise.all([
        ...matched.map((j) => createJob(ns(), j, { runFor: '2s', labels: { app: 'batch' } })),
        ...unselected.map((j) => createJob(ns(), j, { runFor: '2s' })),
        ...away.map((j) => createJob(elsewhere, j, { runFor: '2s', labels: { app: 'batch' } })),
        ...cancelled.map((j) => createJob(ns(), j, { runFor: '10m', labels: { app: 'batch' } })),
      ]);
      for (const j of [...matched, ...unselected]) await waitForJobCondition(ns(), j, 'Complete');
      for (const j of away) await waitForJobCondition(elsewhere, j, 'Complete');
      await eventually('every finished Job released', async () => {
        const meta = await Promise.all([...matched, ...unselected].map((j) => jobMetadata(ns(), j)));
        return meta.every((m) => m?.held === false) ? true : undefined;
      });
      // nobody was notified: no rule write
      expect((await getRule(ns(), 'cancel-only')).metadata.resourceVersion).toBe(rv);
      for (const j of cancelled) await waitHeldAndStarted(ns(), j);
      await Promise.all(
        cancelled.map((name) =>
          kube().batch.deleteNamespacedJob({ name, namespace: ns(), propagationPolicy: 'Background' }),
        ),
      );
      await alertsFor(cancelled);
      await eventually('the watch to see the cancelled Jobs deleted', () =>
        Promise.resolve(cancelled.every((j) => recorder.deleted.has(j)) ? true : undefined),
      );
      for (const j of [...matched, ...unselected, ...cancelled]) {
        expect(recorder.heldAtCreation.get(j)).toBe(true);
        expect(recorder.writes.get(j)).toBe(1);
      }
      for (const j of away) {
        expect(outside.heldAtCreation.get(j)).toBe(false);
        expect(outside.writes.get(j)).toBe(0);
      }
      const patches = patchesSince(patchesBefore, await apiServerJobPatches());
      console.log(
        `with the admission policy: ${recorder.total()} Job writes (watched) for ${matched.length + unselected.length + cancelled.length} Jobs in the watched namespace, ${outside.total()} elsewhere; API server PATCHes on Jobs: ${patches.stored} stored, ${patches.refused} refused`,
      );
      // The API server's counter is cluster-wide: the garbage collector PATCHes Jobs too (it removes the
      // foregroundDeletion finalizer of Jobs in namespaces earlier tests deleted), so it bounds from above;
      // the per-Job counts above, from the watches, are the exact ones.
      expect(patches.stored).toBeGreaterThanOrEqual(recorder.total() + outside.total());
    } finally {
      await recorder.stop();
      await outside.stop();
      await deleteNamespace(elsewhere);
    }
  });
});
