// e2e support for the chart's MutatingAdmissionPolicy (charts/jobherald/templates/admission-policy.yaml),
// which adds the delivery finalizer to Jobs created in the namespaces listed in its params ConfigMap.
// The policy is rendered by the real Helm, exactly as the chart installs it, and applied with the admin
// connection. Policies and bindings are cluster-scoped: each call uses its own release name, so test runs
// and files do not collide. The API:
//
//   const policy = await installAdmissionPolicy(releaseNamespace);   // release: a fresh `jobherald-xxxxxx`
//   policy.name      the MutatingAdmissionPolicy and its binding
//   policy.params    the params ConfigMap in releaseNamespace: start the operator with
//                    `--admission-params=${policy.params}` (its chart default is the same name)
//   await setWatchedNamespaces(policy, ['team-a']);   // write the ConfigMap yourself (no operator running)
//   await waitForAdmission('team-a', true);           // until a Job created there gets the finalizer
//   await removeAdmissionPolicy(policy);              // in afterAll; the ConfigMap goes with the namespace
//   await stripFinalizers('team-a');                  // before deleting a namespace whose Jobs hold any
//   await createJobWithFinalizers(ns, name, ['example.com/x']) → the finalizers the API server stored
//
// A Kubernetes bug shapes this file (kubernetes/kubernetes#130887, #133827; fix in review, not in 1.36.3):
// the API server shares one ConfigMap informer among all admission policies whose paramKind is ConfigMap,
// and stops it for good the first time no binding of such a policy exists for a refresh tick (1 s). Every
// such policy bound later reads a frozen copy of the ConfigMaps until kube-apiserver restarts. Measured on
// 1.36.3: policy bound, ConfigMap listing w1; binding deleted for 2.5 s and re-created, ConfigMap now listing
// w2: Jobs in w1 still got the finalizer and Jobs in w2 did not, 8 s on; after a restart, right at once.
// Tests delete their bindings, so the first install keeps an inert anchor policy bound for the rest of the
// cluster's life (ensureParamsAnchor) and no deletion here can stop the informer.
//
// installAdmissionPolicy returns once the API server enforces the policy (it takes a moment after the
// objects are stored): it lists the release namespace in the ConfigMap until a dry-run Job there gets the
// finalizer, then leaves the ConfigMap as it found it (absent, unless the operator wrote it) and waits until
// that is in force too. Call it before starting the operator, which rewrites the ConfigMap.
import { DELIVERY_FINALIZER } from '../../src/api/job-metadata.ts';
import { isNotFound } from '../../src/kube/connection.ts';
import { adminConnection, applyObjects, deleteObjects, helmTemplate, parseDocuments } from './chart.ts';
import type { KubeObject } from './chart.ts';
import { eventually, jobManifest, uniqueName } from './kube.ts';

export interface AdmissionPolicy {
  release: string;
  releaseNamespace: string;
  /** the MutatingAdmissionPolicy and its MutatingAdmissionPolicyBinding: `<fullname>-delivery-finalizer` */
  name: string;
  /** the params ConfigMap in releaseNamespace: `<fullname>-watched-namespaces` */
  params: string;
  /** the policy and the binding, as rendered */
  objects: KubeObject[];
}

const configMapPath = (policy: AdmissionPolicy): string =>
  `/api/v1/namespaces/${policy.releaseNamespace}/configmaps/${policy.params}`;

/** The policy and binding as the chart renders them for this release (policy forced on: no discovery). */
export function renderAdmissionPolicy(releaseNamespace: string, release: string): KubeObject[] {
  return parseDocuments(
    helmTemplate({
      release,
      namespace: releaseNamespace,
      values: { 'admissionPolicy.enabled': true },
      showOnly: ['templates/admission-policy.yaml'],
    }),
  );
}

/** Whether a Job created in `namespace` now gets the finalizer: a server-side dry-run create. */
export async function admissionAddsFinalizer(namespace: string): Promise<boolean> {
  const job = jobManifest(namespace, '', { spec: { suspend: true } });
  const probe = { ...job, metadata: { namespace, generateName: 'admission-probe-' } };
  const created = await adminConnection().json<{ metadata: { finalizers?: string[] } }>(
    'POST',
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    { query: { dryRun: 'All' }, body: probe },
  );
  return created.metadata.finalizers?.includes(DELIVERY_FINALIZER) ?? false;
}

/**
 * Polls (dry-run creates, nothing is stored) until Jobs created in `namespace` get the finalizer, or do not,
 * as `expected` says: the API server learns of policy, binding and ConfigMap changes through watches.
 */
export async function waitForAdmission(
  namespace: string,
  expected: boolean,
  timeoutMs = 30_000,
): Promise<void> {
  await eventually(
    `Jobs created in ${namespace} to ${expected ? '' : 'no longer '}get ${DELIVERY_FINALIZER}`,
    async () => ((await admissionAddsFinalizer(namespace)) === expected ? true : undefined),
    timeoutMs,
  );
}

/** The params ConfigMap's data keys, or undefined when it does not exist. */
export async function watchedNamespaces(policy: AdmissionPolicy): Promise<string[] | undefined> {
  try {
    const cm = await adminConnection().get<{ data?: Record<string, string> }>(configMapPath(policy));
    return Object.keys(cm.data ?? {}).sort();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Writes the params ConfigMap as the operator does: one data key per namespace, empty values. `undefined`
 * deletes it; `[]` leaves it without data.
 */
export async function setWatchedNamespaces(
  policy: AdmissionPolicy,
  namespaces: string[] | undefined,
): Promise<void> {
  if (namespaces === undefined) {
    await adminConnection()
      .json('DELETE', configMapPath(policy))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    return;
  }
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: policy.params, namespace: policy.releaseNamespace },
    ...(namespaces.length === 0 ? {} : { data: Object.fromEntries(namespaces.map((ns) => [ns, ''])) }),
  };
  // PUT, not apply: apply would merge data keys with those another manager (the operator) wrote
  await adminConnection()
    .json('PUT', configMapPath(policy), { body: configMap })
    .catch(async (error: unknown) => {
      if (!isNotFound(error)) throw error;
      await adminConnection().json('POST', `/api/v1/namespaces/${policy.releaseNamespace}/configmaps`, {
        body: configMap,
      });
    });
}

/** The anchor's name: one per cluster, shared by every test file and run, never deleted. */
export const PARAMS_ANCHOR = 'jobherald-e2e-configmap-params-anchor';

/**
 * Keeps a ConfigMap-param policy bound at all times, so that the API server never stops its ConfigMap
 * informer (the bug at the top of this file). It matches Job creations but its match condition is false,
 * and its ConfigMap does not exist (Allow): it never mutates anything. Idempotent.
 */
export async function ensureParamsAnchor(): Promise<void> {
  await applyObjects([
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name: PARAMS_ANCHOR },
      spec: {
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        matchConstraints: {
          resourceRules: [
            { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
          ],
        },
        failurePolicy: 'Ignore',
        matchConditions: [{ name: 'never', expression: 'false' }],
        mutations: [
          {
            patchType: 'ApplyConfiguration',
            applyConfiguration: { expression: 'Object{metadata: Object.metadata{labels: {"never": "x"}}}' },
          },
        ],
        reinvocationPolicy: 'Never',
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name: PARAMS_ANCHOR },
      spec: {
        policyName: PARAMS_ANCHOR,
        paramRef: { name: PARAMS_ANCHOR, namespace: 'default', parameterNotFoundAction: 'Allow' },
      },
    },
  ]);
}

/**
 * Renders the chart's policy and binding for `release` in `releaseNamespace`, applies them and waits until
 * the API server enforces them (see the top of this file).
 */
export async function installAdmissionPolicy(
  releaseNamespace: string,
  release = uniqueName('jobherald'),
): Promise<AdmissionPolicy> {
  const objects = renderAdmissionPolicy(releaseNamespace, release);
  const binding = objects.find((o) => o.kind === 'MutatingAdmissionPolicyBinding');
  const spec = binding?.['spec'] as { paramRef?: { name?: string } } | undefined;
  const policy: AdmissionPolicy = {
    release,
    releaseNamespace,
    name: binding?.metadata.name ?? '',
    params: spec?.paramRef?.name ?? '',
    objects,
  };
  if (objects.length !== 2 || policy.name === '' || policy.params === '')
    throw new Error(`the chart rendered no policy and binding for ${release}`);
  await ensureParamsAnchor();
  await applyObjects(objects);
  try {
    await provePolicyInForce(policy);
  } catch (error) {
    await removeAdmissionPolicy(policy); // cluster-scoped: do not leave it to a later test
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}. If the ConfigMap lists the namespace, ` +
        `the API server's ConfigMap param informer may be stopped (kubernetes/kubernetes#130887, see ` +
        `test/support/admission.ts): restart kube-apiserver (jobherald dev-cluster down, then up)`,
      { cause: error },
    );
  }
  return policy;
}

/** Lists the release namespace in the ConfigMap until a Job there gets the finalizer, then restores it. */
async function provePolicyInForce(policy: AdmissionPolicy): Promise<void> {
  const ns = policy.releaseNamespace;
  const before = await watchedNamespaces(policy);
  if (before?.includes(ns) === true) {
    await waitForAdmission(ns, true);
    return;
  }
  if (before === undefined) await setWatchedNamespaces(policy, [ns]);
  else await adminConnection().mergePatch(configMapPath(policy), { data: { [ns]: '' } });
  try {
    await waitForAdmission(ns, true);
  } finally {
    if (before === undefined) await setWatchedNamespaces(policy, undefined);
    else await adminConnection().mergePatch(configMapPath(policy), { data: { [ns]: null } });
  }
  await waitForAdmission(ns, false);
}

/** Deletes the binding and the policy (the params ConfigMap goes with the release namespace). */
export async function removeAdmissionPolicy(policy: AdmissionPolicy): Promise<void> {
  await deleteObjects(policy.objects);
}

/**
 * Creates a suspended Job (no Pods) created with `finalizers`, and returns the finalizers the API server
 * stored: what the admission chain made of them.
 */
export async function createJobWithFinalizers(
  namespace: string,
  name: string,
  finalizers?: string[],
): Promise<string[]> {
  const manifest = jobManifest(namespace, name, { spec: { suspend: true } });
  const created = await adminConnection().json<{ metadata: { finalizers?: string[] } }>(
    'POST',
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    { body: { ...manifest, metadata: { ...manifest.metadata, finalizers } } },
  );
  return created.metadata.finalizers ?? [];
}

/** The finalizers a Job holds now (read back from the API server). */
export async function finalizersOf(namespace: string, name: string): Promise<string[]> {
  const job = await adminConnection().get<{ metadata: { finalizers?: string[] } }>(
    `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`,
  );
  return job.metadata.finalizers ?? [];
}

/**
 * Empties metadata.finalizers of every Job in `namespace`, so that deleting the Jobs or the namespace does
 * not wait for an operator that no longer runs.
 */
export async function stripFinalizers(namespace: string): Promise<void> {
  const list = await adminConnection().get<{
    items: { metadata: { name: string; finalizers?: string[] } }[];
  }>(`/apis/batch/v1/namespaces/${namespace}/jobs`);
  for (const job of list.items) {
    if ((job.metadata.finalizers ?? []).length === 0) continue;
    await adminConnection()
      .mergePatch(`/apis/batch/v1/namespaces/${namespace}/jobs/${job.metadata.name}`, {
        metadata: { finalizers: null },
      })
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
}
