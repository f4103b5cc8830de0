// e2e support for the Helm chart: a Helm binary (built once from the Go module proxy by
// deploy/build-helm.sh and cached), `helm template` of charts/jobherald, and applying or deleting the
// rendered objects on the test cluster with the admin kubeconfig.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { isNotFound, KubeConnection } from '../../src/kube/connection.ts';
import { eventually } from './kube.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const CHART = join(ROOT, 'charts/jobherald');

/** Building Helm cold takes about 3 minutes on 2 cores; a hook that may build it needs this long. */
export const HELM_BUILD_TIMEOUT_MS = 15 * 60_000;

let helm: string | undefined;

/** The helm binary: $JOBHERALD_HELM, else the cached build of deploy/build-helm.sh (built if missing). */
export function helmBinary(): string {
  if (helm !== undefined) return helm;
  const fromEnv = process.env.JOBHERALD_HELM;
  if (fromEnv !== undefined && fromEnv !== '') return (helm = fromEnv);
  const dir = execFileSync(join(ROOT, 'deploy/build-helm.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: HELM_BUILD_TIMEOUT_MS,
  }).trim();
  return (helm = join(dir, 'helm'));
}

export function runHelm(args: string[]): string {
  return execFileSync(helmBinary(), args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

export interface TemplateOptions {
  release: string;
  namespace: string;
  /** --set-json key=value pairs (values are JSON-encoded) */
  values?: Record<string, unknown>;
  includeCrds?: boolean;
  /** --show-only, e.g. templates/rbac.yaml */
  showOnly?: string[];
  /** include the `helm test` hook (default: left out, as in deploy/jobherald.yaml: it is not applied on install) */
  includeTests?: boolean;
}

/** `helm template` of charts/jobherald: the rendered text. */
export function helmTemplate(opts: TemplateOptions): string {
  const args = ['template', opts.release, CHART, '--namespace', opts.namespace];
  if (opts.includeCrds === true) args.push('--include-crds');
  if (opts.includeTests !== true) args.push('--skip-tests');
  for (const [key, value] of Object.entries(opts.values ?? {}))
    args.push('--set-json', `${key}=${JSON.stringify(value)}`);
  for (const template of opts.showOnly ?? []) args.push('--show-only', template);
  return runHelm(args);
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** A rendered chart object, typed as far as the chart tests read it. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  spec?: Record<string, unknown>;
}

export function parseDocuments(text: string): KubeObject[] {
  return loadAll(text).filter((d): d is KubeObject => typeof d === 'object' && d !== null);
}

export const ofKind = (objects: KubeObject[], ...kinds: string[]): KubeObject[] =>
  objects.filter((o) => kinds.includes(o.kind));

// Raw REST, not client-node's typed clients: those serialize through generated models that drop every key
// they do not model under its JSON name (`enum`, `default`, `x-kubernetes-validations` in a CRD's schema).
let connection: KubeConnection | undefined;
export const adminConnection = (): KubeConnection =>
  (connection ??= KubeConnection.load({ kubeconfig: inject('kubeconfig') }));

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  Service: 'services',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Job: 'jobs',
  MutatingAdmissionPolicy: 'mutatingadmissionpolicies',
  MutatingAdmissionPolicyBinding: 'mutatingadmissionpolicybindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  Deployment: 'deployments',
  PodDisruptionBudget: 'poddisruptionbudgets',
  SlackIntegration: 'slackintegrations',
  NotificationRule: 'notificationrules',
};

/** The REST path of an object (its collection when `name` is false). */
export function objectPath(
  object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>,
  name = true,
): string {
  const plural = PLURALS[object.kind];
  if (plural === undefined) throw new Error(`objectPath: no plural known for kind ${object.kind}`);
  const group = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
  const ns = object.metadata.namespace === undefined ? '' : `/namespaces/${object.metadata.namespace}`;
  return `${group}${ns}/${plural}${name ? `/${object.metadata.name}` : ''}`;
}

/** Server-side applies each object, in order, with the admin kubeconfig (`dryRun`: validate only). */
export async function applyObjects(list: KubeObject[], opts: { dryRun?: boolean } = {}): Promise<void> {
  for (const object of list) {
    await adminConnection().json('PATCH', objectPath(object), {
      query: {
        fieldManager: 'jobherald-e2e',
        force: true,
        fieldValidation: 'Strict',
        dryRun: opts.dryRun === true ? 'All' : undefined,
      },
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
  }
}

/** Deletes each object in reverse order (bindings before roles), ignoring those already gone. */
export async function deleteObjects(list: KubeObject[]): Promise<void> {
  for (const object of [...list].reverse()) {
    await adminConnection()
      .json('DELETE', objectPath(object))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
}

/** The chart's CRDs (charts/jobherald/crds), as objects. */
export function chartCrds(): KubeObject[] {
  const dir = join(CHART, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseDocuments(readFileSync(join(dir, f), 'utf8')));
}

/**
 * Applies the chart's CRDs as they are and waits until both are Established and the API server enforces
 * their current schema (an update reaches the serving handlers a moment after it is stored): a dry-run
 * create of a document only the full schema rejects must fail.
 */
export async function installChartCrds(): Promise<void> {
  const crds = chartCrds();
  await applyObjects(crds);
  for (const crd of crds) {
    await eventually(`CRD ${crd.metadata.name} Established`, async () => {
      const got = await adminConnection().get<{
        status?: { conditions?: { type: string; status: string }[] };
      }>(objectPath(crd));
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    });
  }
  const sentinels: KubeObject[] = [
    {
      apiVersion: 'jobherald.dev/v1alpha1',
      kind: 'SlackIntegration',
      metadata: { name: 'schema-sentinel', namespace: 'default' },
      spec: { tokenSecretRef: { name: 'x' }, allowedNamespaces: { from: 'Everyone' } },
    },
    {
      apiVersion: 'jobherald.dev/v1alpha1',
      kind: 'NotificationRule',
      metadata: { name: 'schema-sentinel', namespace: 'default' },
      spec: { integrationRef: { name: 'x' }, events: [], destinations: [{ channel: 'x' }] },
    },
  ];
  for (const sentinel of sentinels) {
    await eventually(`the API server to enforce the ${sentinel.kind} schema`, async () => {
      const response = await adminConnection().send('POST', objectPath(sentinel, false), {
        query: { dryRun: 'All' },
        body: sentinel,
      });
      await response.text();
      return response.status === 422 ? true : undefined;
    });
  }
}
