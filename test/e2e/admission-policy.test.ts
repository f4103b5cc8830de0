// The chart's MutatingAdmissionPolicy against the real API server (admissionregistration.k8s.io/v1, GA in
// Kubernetes 1.36): a Job created in a namespace listed in the params ConfigMap gets the delivery finalizer
// and keeps its own; no other Job is touched, no update is mutated, and a broken policy never blocks a Job.
// The ConfigMap is written here as the operator would; policy changes reach the API server's admission
// plugin through a watch a moment after they are stored, so each change is waited for with dry-run creates
// (waitForAdmission) before the real Job that is checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_FINALIZER } from '../../src/api/job-metadata.ts';
import { KubeApiError } from '../../src/kube/connection.ts';
import {
  admissionAddsFinalizer,
  createJobWithFinalizers,
  finalizersOf,
  installAdmissionPolicy,
  removeAdmissionPolicy,
  setWatchedNamespaces,
  stripFinalizers,
  waitForAdmission,
  type AdmissionPolicy,
} from '../support/admission.ts';
import {
  adminConnection,
  applyObjects,
  HELM_BUILD_TIMEOUT_MS,
  helmBinary,
  type KubeObject,
} from '../support/chart.ts';
import { createNamespace, deleteNamespace, eventually, uniqueName } from '../support/kube.ts';

const FOREIGN = 'example.com/keep-me';

interface PolicySpec {
  failurePolicy: string;
  reinvocationPolicy: string;
  matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] };
  mutations: { patchType: string; applyConfiguration: { expression: string } }[];
}

describe("the chart's MutatingAdmissionPolicy on the real API server", () => {
  let policy: AdmissionPolicy;
  let releaseNs = '';
  let watched = '';
  let unlisted = '';

  beforeAll(async () => {
    helmBinary(); // builds Helm on the first run on this machine, then cached
    releaseNs = await createNamespace(uniqueName('jh-adm'));
    watched = await createNamespace(uniqueName('adm-watched'));
    unlisted = await createNamespace(uniqueName('adm-unlisted'));
    policy = await installAdmissionPolicy(releaseNs);
  }, HELM_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (policy !== undefined) await removeAdmissionPolicy(policy);
    for (const ns of [releaseNs, watched, unlisted]) {
      if (ns === '') continue;
      await stripFinalizers(ns);
      await deleteNamespace(ns);
    }
  });

  it('is stored as the chart renders it', async () => {
    const stored = await adminConnection().get<{ spec: PolicySpec }>(
      `/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies/${policy.name}`,
    );
    expect(stored.spec).toMatchObject({ failurePolicy: 'Ignore', reinvocationPolicy: 'Never' });
    expect(stored.spec.matchConstraints.resourceRules).toEqual([
      expect.objectContaining({ operations: ['CREATE'], resources: ['jobs'] }),
    ]);
    const binding = await adminConnection().get<{ spec: Record<string, unknown> }>(
      `/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings/${policy.name}`,
    );
    expect(binding.spec).toEqual({
      policyName: policy.name,
      paramRef: { name: policy.params, namespace: releaseNs, parameterNotFoundAction: 'Allow' },
    });
  });

  it('with no ConfigMap, mutates no Job', async () => {
    // in force first, so that the check below is not vacuous
    await setWatchedNamespaces(policy, [watched, releaseNs]);
    await waitForAdmission(watched, true);
    await setWatchedNamespaces(policy, undefined);
    await waitForAdmission(watched, false);
    expect(await createJobWithFinalizers(releaseNs, 'no-params')).toEqual([]);
    expect(await createJobWithFinalizers(watched, 'no-params')).toEqual([]);
  });

  it('adds the finalizer to Jobs created in a listed namespace, keeping the finalizers they had', async () => {
    await setWatchedNamespaces(policy, [watched]);
    await waitForAdmission(watched, true);
    expect(await createJobWithFinalizers(watched, 'plain')).toEqual([DELIVERY_FINALIZER]);
    expect(await createJobWithFinalizers(watched, 'foreign', [FOREIGN])).toEqual([
      FOREIGN,
      DELIVERY_FINALIZER,
    ]);
    // already held: not added twice
    expect(await createJobWithFinalizers(watched, 'held', [DELIVERY_FINALIZER, FOREIGN])).toEqual([
      DELIVERY_FINALIZER,
      FOREIGN,
    ]);
    // stored so, not only answered so
    expect(await finalizersOf(watched, 'foreign')).toEqual([FOREIGN, DELIVERY_FINALIZER]);
  });

  it('leaves Jobs in namespaces not listed alone, the release namespace included', async () => {
    await setWatchedNamespaces(policy, [watched]);
    await waitForAdmission(watched, true);
    expect(await createJobWithFinalizers(unlisted, 'plain')).toEqual([]);
    expect(await createJobWithFinalizers(unlisted, 'foreign', [FOREIGN])).toEqual([FOREIGN]);
    expect(await createJobWithFinalizers(releaseNs, 'plain')).toEqual([]);
  });

  it('mutates creations only: a Job that existed before its namespace was listed is not touched by updates', async () => {
    await setWatchedNamespaces(policy, [watched]);
    expect(await createJobWithFinalizers(unlisted, 'before')).toEqual([]);
    await setWatchedNamespaces(policy, [watched, unlisted]);
    await waitForAdmission(unlisted, true);
    const updated = await adminConnection().mergePatch<{ metadata: { finalizers?: string[] } }>(
      `/apis/batch/v1/namespaces/${unlisted}/jobs/before`,
      { metadata: { labels: { touched: 'yes' } } },
    );
    expect(updated.metadata.finalizers ?? []).toEqual([]);
    expect(await createJobWithFinalizers(unlisted, 'after')).toEqual([DELIVERY_FINALIZER]);
  });

  it('stops when the namespace is no longer listed, or the ConfigMap has no data', async () => {
    await setWatchedNamespaces(policy, [watched, unlisted]);
    await waitForAdmission(unlisted, true);
    await setWatchedNamespaces(policy, [watched]);
    await waitForAdmission(unlisted, false);
    expect(await createJobWithFinalizers(unlisted, 'dropped')).toEqual([]);
    expect(await createJobWithFinalizers(watched, 'still')).toEqual([DELIVERY_FINALIZER]);

    await setWatchedNamespaces(policy, []);
    await waitForAdmission(watched, false);
    expect(await createJobWithFinalizers(watched, 'no-data')).toEqual([]);
  });

  it('never blocks a Job when the policy fails at run time (failurePolicy Ignore)', async () => {
    await setWatchedNamespaces(policy, [watched]);
    await waitForAdmission(watched, true);
    const original = policy.objects.find((o) => o.kind === 'MutatingAdmissionPolicy')!;
    const broken = structuredClone(original) as KubeObject & { spec: PolicySpec };
    // a key the ConfigMap does not hold: an evaluation error on every matching request
    broken.spec.mutations[0]!.applyConfiguration.expression =
      'Object{metadata: Object.metadata{finalizers: [params.data["no-such-key"]]}}';
    try {
      // Control: with failurePolicy Fail the same policy rejects the Job, so the error is real.
      await applyObjects([{ ...broken, spec: { ...broken.spec, failurePolicy: 'Fail' } }]);
      const status = await eventually(
        'the broken policy to reject Jobs under failurePolicy Fail',
        async () => {
          try {
            await admissionAddsFinalizer(watched);
            return undefined;
          } catch (error) {
            if (error instanceof KubeApiError) return error.status;
            throw error;
          }
        },
      );
      expect(status).toBe(403);

      await applyObjects([broken]);
      await eventually('the broken policy with failurePolicy Ignore', async () => {
        try {
          return (await admissionAddsFinalizer(watched)) ? undefined : true;
        } catch {
          return undefined; // still the Fail version
        }
      });
      expect(await createJobWithFinalizers(watched, 'despite-broken-policy')).toEqual([]);
    } finally {
      await applyObjects([original]);
      await waitForAdmission(watched, true);
    }
  });
});
