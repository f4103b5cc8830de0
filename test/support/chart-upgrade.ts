// e2e support for upgrading the chart the way docs/install.md tells an admin to: an earlier chart (a fixture
// taken from git history), the real Helm with the admin kubeconfig, the request
// `kubectl apply --server-side` sends for the CRDs, and reading what the API server serves of a CRD. The
// Deployment's Pods come from test/support/deployment-controllers.ts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { isNotFound } from '../../src/kube/connection.ts';
import { adminConnection, helmBinary, type KubeObject } from './chart.ts';
import { eventually } from './kube.ts';

const run = promisify(execFile);

export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real Helm against the e2e cluster with the admin kubeconfig (`--kubeconfig` is added) and its
 * own config, cache and data directories under `home`. Never throws on a non-zero exit: the caller asserts.
 */
export async function helm(args: string[], home: string, timeoutMs = 180_000): Promise<HelmRun> {
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  try {
    const { stdout, stderr } = await run(helmBinary(), [...args, '--kubeconfig', inject('kubeconfig')], {
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
    };
  }
}

export interface HelmRevision {
  revision: number;
  status: string;
  chart: string;
  app_version: string;
  description: string;
}

export async function helmHistory(release: string, namespace: string, home: string): Promise<HelmRevision[]> {
  const out = await helm(['history', release, '--namespace', namespace, '--output', 'json'], home);
  if (out.code !== 0) throw new Error(`helm history ${release}: ${out.stderr}`);
  return JSON.parse(out.stdout) as HelmRevision[];
}

export interface ApplyResult {
  name: string;
  /** HTTP status of the apply request */
  status: number;
  /** the Status message when refused */
  message: string;
}

/**
 * What `kubectl apply --server-side [--force-conflicts] -f <dir>` sends, object by object: an apply patch
 * with field manager `kubectl`, strict field validation (kubectl's default `--validate=strict`), and
 * `force=true` only with `--force-conflicts`. kubectl goes on with the next object when one is refused and
 * exits 1 at the end; so does this, returning each object's result.
 */
export async function applyLikeKubectl(
  objects: KubeObject[],
  opts: { forceConflicts: boolean },
): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const object of objects) {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${object.metadata.name}`;
    const response = await adminConnection().send('PATCH', path, {
      query: { fieldManager: 'kubectl', fieldValidation: 'Strict', force: opts.forceConflicts || undefined },
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
    const text = await response.text();
    let message = '';
    if (response.status >= 300) {
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        message = text;
      }
    }
    results.push({ name: object.metadata.name, status: response.status, message });
  }
  return results;
}

export interface CrdObject {
  metadata: {
    name: string;
    resourceVersion: string;
    generation: number;
    managedFields?: { manager: string; operation: string; subresource?: string }[];
  };
  spec: {
    versions: {
      name: string;
      schema: {
        openAPIV3Schema: { properties: Record<string, { properties?: Record<string, unknown> }> };
      };
    }[];
  };
  status?: { conditions?: { type: string; status: string }[] };
}

export const crdPath = (name: string): string =>
  `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;

export const getCrd = (name: string): Promise<CrdObject> => adminConnection().get<CrdObject>(crdPath(name));

/** The property names the stored CRD's v1alpha1 schema declares under `status`. */
export async function statusProperties(crd: string): Promise<string[]> {
  const got = await getCrd(crd);
  const version = got.spec.versions.find((v) => v.name === 'v1alpha1');
  return Object.keys(version?.schema.openAPIV3Schema.properties['status']?.properties ?? {}).sort();
}

/** The managers of a CRD's spec (not its status subresource), e.g. `helm/Update`, `kubectl/Apply`. */
export async function crdSpecManagers(crd: string): Promise<string[]> {
  const got = await getCrd(crd);
  return (got.metadata.managedFields ?? [])
    .filter((f) => f.subresource === undefined)
    .map((f) => `${f.manager}/${f.operation}`)
    .sort();
}

/** Deletes the CRDs (and with them every object of their kinds) and waits until they are gone. */
export async function deleteCrdsAndWait(names: string[], timeoutMs = 60_000): Promise<void> {
  for (const name of names) {
    await adminConnection()
      .json('DELETE', crdPath(name))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
  for (const name of names) {
    await eventually(
      `CRD ${name} to be gone`,
      async () =>
        (await adminConnection()
          .get(crdPath(name))
          .then(() => false)
          .catch((error: unknown) => {
            if (isNotFound(error)) return true;
            throw error;
          }))
          ? true
          : undefined,
      timeoutMs,
    );
  }
}

export interface PatchResult<T> {
  object: T;
  /** the API server's warnings, decoded from their Warning headers (`unknown field "status.x"` when pruned) */
  warnings: string[];
}

/** A JSON merge patch of an object's status subresource, as the operator's status writer sends it. */
export async function patchStatus<T>(
  path: string,
  status: Record<string, unknown>,
  query: Record<string, string> = {},
): Promise<PatchResult<T>> {
  const response = await adminConnection().send('PATCH', `${path}/status`, {
    query,
    body: { status },
    contentType: 'application/merge-patch+json',
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`PATCH ${path}/status: ${response.status} ${text}`);
  return { object: JSON.parse(text) as T, warnings: decodeWarnings(response.headers.get('warning')) };
}

/** `299 - "unknown field \"status.x\""` (RFC 7234 warn-text, comma-joined when several) → the texts. */
function decodeWarnings(header: string | null): string[] {
  const texts: string[] = [];
  for (const m of (header ?? '').matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g))
    texts.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return texts;
}

export interface DeploymentObject {
  metadata: { name: string; generation: number };
  spec: {
    replicas: number;
    template: { spec: { containers: { name: string; image: string; args: string[] }[] } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
}

export const getDeployment = (namespace: string, name: string): Promise<DeploymentObject> =>
  adminConnection().get<DeploymentObject>(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);

/** `kubectl rollout status`: every replica updated and available, no old one left. */
export const waitRolledOut = (
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<DeploymentObject> =>
  eventually(
    `Deployment ${namespace}/${name} to roll out`,
    async () => {
      const d = await getDeployment(namespace, name);
      const s = d.status ?? {};
      const want = d.spec.replicas;
      return (s.observedGeneration ?? 0) >= d.metadata.generation &&
        s.updatedReplicas === want &&
        s.availableReplicas === want &&
        s.replicas === want
        ? d
        : undefined;
    },
    timeoutMs,
  );
