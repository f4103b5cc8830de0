// `jobherald release-finalizers` as a child process against the real API server: it removes our finalizer
// and only ours, from every Job across pages of the list; deletes the admission binding first when asked;
// changes nothing with --dry-run; fails loudly when it cannot patch; and, run with the uninstall hook's own
// arguments and a token of the chart's ServiceAccount, does the hook's whole job with the chart's RBAC.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DELIVERY_FINALIZER } from '../../src/api/job-metadata.ts';
import { mintToken, writeTokenKubeconfig } from '../../src/dev/cluster/control-plane.ts';
import { KubeApiError, KubeConnection } from '../../src/kube/connection.ts';
import {
  createJobWithFinalizers,
  finalizersOf,
  installAdmissionPolicy,
  removeAdmissionPolicy,
  stripFinalizers,
  type AdmissionPolicy,
} from '../support/admission.ts';
import {
  adminConnection,
  applyObjects,
  deleteObjects,
  HELM_BUILD_TIMEOUT_MS,
  helmBinary,
  helmTemplate,
  ofKind,
  parseDocuments,
  ROOT,
  type KubeObject,
} from '../support/chart.ts';
import { clusterState, createNamespace, deleteNamespace, uniqueName } from '../support/kube.ts';

const FOREIGN = 'example.com/keep-me';
const BINDINGS = '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function releaseFinalizers(args: string[], kubeconfig = inject('kubeconfig')): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['src/main.ts', 'release-finalizers', `--kubeconfig=${kubeconfig}`, ...args],
      { cwd: ROOT, timeout: 90_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const status = async (call: () => Promise<unknown>): Promise<number> => {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof KubeApiError) return error.status;
    throw error;
  }
};

describe('jobherald release-finalizers', () => {
  const namespaces: string[] = [];
  const clusterObjects: KubeObject[] = [];
  const policies: AdmissionPolicy[] = [];
  let tmp = '';

  const namespace = async (prefix: string): Promise<string> => {
    const ns = await createNamespace(uniqueName(prefix));
    namespaces.push(ns);
    return ns;
  };

  /** Jobs created with: ours only, ours and a foreign one, a foreign one only, none. */
  const createMix = async (ns: string): Promise<void> => {
    await createJobWithFinalizers(ns, 'ours', [DELIVERY_FINALIZER]);
    await createJobWithFinalizers(ns, 'both', [FOREIGN, DELIVERY_FINALIZER]);
    await createJobWithFinalizers(ns, 'foreign', [FOREIGN]);
    await createJobWithFinalizers(ns, 'none');
  };
  const mixState = async (ns: string): Promise<Record<string, string[]>> =>
    Object.fromEntries(
      await Promise.all(
        ['ours', 'both', 'foreign', 'none'].map(
          async (name) => [name, await finalizersOf(ns, name)] as const,
        ),
      ),
    );
  const RELEASED = { ours: [], both: [FOREIGN], foreign: [FOREIGN], none: [] };

  beforeAll(() => {
    helmBinary();
    tmp = mkdtempSync(join(tmpdir(), 'jobherald-release-'));
  }, HELM_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const policy of policies) await removeAdmissionPolicy(policy);
    await deleteObjects(clusterObjects);
    for (const ns of namespaces) {
      await stripFinalizers(ns);
      await deleteNamespace(ns);
    }
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('prints its usage with --help', async () => {
    const run = await releaseFinalizers(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--delete-admission-binding NAME');
    expect(run.stdout).toContain(DELIVERY_FINALIZER);
  });

  it('with --dry-run changes nothing and says what it would do', async () => {
    const ns = await namespace('rf-dry');
    await createMix(ns);
    const before = await mixState(ns);
    const run = await releaseFinalizers(['--dry-run', `--namespace=${ns}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`would release ${ns}/ours`);
    expect(run.stdout).toContain(`would release ${ns}/both`);
    expect(run.stdout).not.toContain(`${ns}/foreign`);
    expect(run.stdout).toContain(`would release ${DELIVERY_FINALIZER} from 2 Job(s) in namespace ${ns}`);
    expect(await mixState(ns)).toEqual(before);
  });

  it('removes only its own finalizer, leaving foreign ones', async () => {
    const ns = await namespace('rf-mix');
    await createMix(ns);
    const run = await releaseFinalizers([`--namespace=${ns}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`released ${DELIVERY_FINALIZER} from 2 Job(s) in namespace ${ns}`);
    expect(await mixState(ns)).toEqual(RELEASED);
    // nothing left to do: a second run is a no-op
    const again = await releaseFinalizers([`--namespace=${ns}`]);
    expect(again.stdout).toContain('from 0 Job(s)');
  });

  it('covers every namespace and every page of the list (more than 500 Jobs)', async () => {
    const a = await namespace('rf-page-a');
    const b = await namespace('rf-page-b');
    const names = Array.from({ length: 505 }, (_, i) => `j-${i}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map((name) => createJobWithFinalizers(a, name, [DELIVERY_FINALIZER, FOREIGN])),
      );
    }
    await createMix(b);
    const run = await releaseFinalizers([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/released jobherald\.dev\/delivery from \d+ Job\(s\)\n/);
    const released = Number(/from (\d+) Job/.exec(run.stdout)?.[1]);
    expect(released).toBeGreaterThanOrEqual(507);
    const left = await adminConnection().get<{ items: { metadata: { finalizers?: string[] } }[] }>(
      `/apis/batch/v1/namespaces/${a}/jobs`,
    );
    expect(left.items).toHaveLength(505);
    expect(
      left.items.filter((j) => JSON.stringify(j.metadata.finalizers) !== JSON.stringify([FOREIGN])),
    ).toEqual([]);
    expect(await mixState(b)).toEqual(RELEASED);
  });

  it('deletes the named admission binding first, and is fine when it is gone already', async () => {
    const releaseNs = await namespace('rf-binding');
    const policy = await installAdmissionPolicy(releaseNs);
    policies.push(policy);
    const jobs = await namespace('rf-binding-jobs');
    await createMix(jobs);

    const dry = await releaseFinalizers([
      '--dry-run',
      `--delete-admission-binding=${policy.name}`,
      `-n`,
      jobs,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would delete MutatingAdmissionPolicyBinding ${policy.name}`);
    expect(await status(() => adminConnection().get(`${BINDINGS}/${policy.name}`))).toBe(200);

    const run = await releaseFinalizers([`--delete-admission-binding=${policy.name}`, `-n`, jobs]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`deleted MutatingAdmissionPolicyBinding ${policy.name}`);
    expect(await status(() => adminConnection().get(`${BINDINGS}/${policy.name}`))).toBe(404);
    expect(await mixState(jobs)).toEqual(RELEASED);

    const again = await releaseFinalizers([`--delete-admission-binding=${policy.name}`, `-n`, jobs]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `MutatingAdmissionPolicyBinding ${policy.name} not found (already deleted)`,
    );
  });

  it('exits 1 naming each Job it could not release', async () => {
    const ns = await namespace('rf-denied');
    await createMix(ns);
    // may list Jobs there, not patch them
    await applyObjects([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'lister', namespace: ns } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'lister', namespace: ns },
        rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'lister', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lister' },
        subjects: [{ kind: 'ServiceAccount', name: 'lister', namespace: ns }],
      },
    ]);
    const kubeconfig = writeTokenKubeconfig(
      clusterState(),
      await mintToken(clusterState(), ns, 'lister'),
      join(tmp, 'lister'),
    );
    const run = await releaseFinalizers([`--namespace=${ns}`], kubeconfig);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`could not release ${ns}/ours`);
    expect(run.stderr).toContain(`could not release ${ns}/both`);
    expect(run.stderr).toMatch(/403/);
    expect(run.stderr).toContain(`2 Job(s) still hold ${DELIVERY_FINALIZER}`);
    expect((await mixState(ns)).both).toEqual([FOREIGN, DELIVERY_FINALIZER]);

    // and a failure before any patch (the list refused cluster-wide) says nothing was released
    const cluster = await releaseFinalizers([], kubeconfig);
    expect(cluster.code).toBe(1);
    expect(cluster.stderr).toMatch(/403.*no finalizer was released/s);
  });

  it("does the uninstall hook's job with the hook's own arguments and exactly the chart's RBAC", async () => {
    const releaseNs = await namespace('jh-hook');
    const release = uniqueName('jobherald');
    const rendered = parseDocuments(
      helmTemplate({ release, namespace: releaseNs, values: { 'admissionPolicy.enabled': true } }),
    );
    const rbac = ofKind(
      rendered,
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
    );
    clusterObjects.push(...rbac.filter((o) => o.metadata.namespace === undefined));
    await applyObjects(rbac);
    const policy = await installAdmissionPolicy(releaseNs, release);
    policies.push(policy);

    const hook = ofKind(rendered, 'Job')[0] as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
    };
    expect(hook.metadata.annotations['helm.sh/hook']).toBe('pre-delete');
    const args = hook.spec.template.spec.containers[0]!.args;
    expect(args).toEqual(['release-finalizers', `--delete-admission-binding=${policy.name}`]);

    const token = await mintToken(clusterState(), releaseNs, hook.spec.template.spec.serviceAccountName);
    const kubeconfig = writeTokenKubeconfig(clusterState(), token, join(tmp, 'hook'));
    const jobs = await namespace('rf-hook-jobs');
    await createMix(jobs);

    const run = await releaseFinalizers(args.slice(1), kubeconfig);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`deleted MutatingAdmissionPolicyBinding ${policy.name}`);
    expect(await status(() => adminConnection().get(`${BINDINGS}/${policy.name}`))).toBe(404);
    expect(await mixState(jobs)).toEqual(RELEASED);

    // that one binding only
    const other = KubeConnection.load({ kubeconfig });
    expect(await status(() => other.json('DELETE', `${BINDINGS}/${uniqueName('someone-elses')}`))).toBe(403);
  });
});
