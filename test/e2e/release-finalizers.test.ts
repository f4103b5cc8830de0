// `jobherald release-finalizers` as a child process against the real API server: it removes our finalizer
// and only ours, from every Job across pages of the list; stops the operator first when asked (scales its
// Deployment to 0 and waits until it reports no replicas, releasing nothing on timeout); deletes the
// admission binding first when asked; changes nothing with --dry-run; fails loudly when it cannot patch;
// and, run with the uninstall hook's own arguments and a token of the chart's ServiceAccount, does the
// hook's whole job with the chart's RBAC, against the chart's own Deployment.
//
// The e2e cluster's kube-controller-manager runs neither the deployment nor the ReplicaSet controller
// (src/dev/cluster/control-plane.ts). Tests that need a Deployment's status to hold still play that part
// themselves (they write status.replicas); the others start a second kube-controller-manager running just
// those two controllers, so a Deployment gets its ReplicaSet and Pods, which kwok runs, as in a real cluster.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDeploymentControllers, stopChild } from '../support/deployment-controllers.ts';
import { installCrds } from '../support/operator.ts';
import { DELIVERY_FINALIZER } from '../../src/api/job-metadata.ts';
import { REMOVAL_FINALIZER } from '../../src/api/integration-metadata.ts';
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
import { clusterState, createNamespace, deleteNamespace, eventually, uniqueName } from '../support/kube.ts';

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

const deployments = (ns: string): string => `/apis/apps/v1/namespaces/${ns}/deployments`;
const scalePath = (ns: string, name: string): string => `${deployments(ns)}/${name}/scale`;

/** A Deployment of a made-up image (kwok runs its Pods, nothing pulls it), selecting `app: <name>`. */
async function createDeployment(ns: string, name: string, replicas: number): Promise<void> {
  await adminConnection().json('POST', deployments(ns), {
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'operator', image: 'registry.invalid/jobherald-e2e/made-up:1' }] },
        },
      },
    },
  });
}

/** spec.replicas and status.replicas, as the scale subresource shows them. */
async function replicasOf(ns: string, name: string): Promise<{ spec: number; status: number }> {
  const scale = await adminConnection().get<{ spec?: { replicas?: number }; status?: { replicas?: number } }>(
    scalePath(ns, name),
  );
  return { spec: scale.spec?.replicas ?? 0, status: scale.status?.replicas ?? 0 };
}

/** Writes status.replicas as the deployment controller would: only where none runs for it. */
async function reportReplicas(ns: string, name: string, replicas: number): Promise<void> {
  await adminConnection().mergePatch(`${deployments(ns)}/${name}/status`, { status: { replicas } });
}

interface PodInfo {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { phase?: string };
}
/** The Pods matching `selector`: all of them, and those Running and not being deleted. */
async function podsOf(ns: string, selector: string): Promise<{ all: string[]; running: string[] }> {
  const pods = await adminConnection().get<{ items: PodInfo[] }>(`/api/v1/namespaces/${ns}/pods`, {
    labelSelector: selector,
  });
  return {
    all: pods.items.map((p) => p.metadata.name).sort(),
    running: pods.items
      .filter((p) => p.status?.phase === 'Running' && p.metadata.deletionTimestamp === undefined)
      .map((p) => p.metadata.name)
      .sort(),
  };
}

const integrations = (ns: string): string =>
  `/apis/jobherald.dev/v1alpha1/namespaces/${ns}/slackintegrations`;

/** SlackIntegrations created with: spec.onDelete's finalizer and a foreign one, ours only, none. */
async function createIntegrationMix(ns: string): Promise<void> {
  const create = (name: string, finalizers: string[]) =>
    adminConnection().json('POST', integrations(ns), {
      body: {
        apiVersion: 'jobherald.dev/v1alpha1',
        kind: 'SlackIntegration',
        metadata: { name, namespace: ns, finalizers },
        spec: { tokenSecretRef: { name: 'slack-token' }, onDelete: 'RevokeToken' },
      },
    });
  await create('int-both', [FOREIGN, REMOVAL_FINALIZER]);
  await create('int-ours', [REMOVAL_FINALIZER]);
  await create('int-none', []);
}
async function integrationFinalizers(ns: string): Promise<Record<string, string[]>> {
  const list = await adminConnection().get<{
    items: { metadata: { name: string; finalizers?: string[] } }[];
  }>(integrations(ns));
  return Object.fromEntries(list.items.map((i) => [i.metadata.name, i.metadata.finalizers ?? []]));
}
const INTEGRATIONS_RELEASED = { 'int-both': [FOREIGN], 'int-ours': [], 'int-none': [] };
/** Lets the namespace go: the foreign finalizer has no controller to remove it. */
async function stripIntegrationFinalizers(ns: string): Promise<void> {
  for (const name of Object.keys(await integrationFinalizers(ns).catch(() => ({}))))
    await adminConnection()
      .mergePatch(`${integrations(ns)}/${name}`, { metadata: { finalizers: null } })
      .catch(() => undefined);
}

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

  beforeAll(async () => {
    await installCrds();
    helmBinary();
    tmp = mkdtempSync(join(tmpdir(), 'jobherald-release-'));
  }, HELM_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const policy of policies) await removeAdmissionPolicy(policy);
    await deleteObjects(clusterObjects);
    for (const ns of namespaces) {
      await stripFinalizers(ns);
      await stripIntegrationFinalizers(ns);
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

  it("removes spec.onDelete's finalizer from SlackIntegrations, leaving foreign ones, and says what that means", async () => {
    const ns = await namespace('rf-int');
    await createIntegrationMix(ns);
    const before = await integrationFinalizers(ns);
    const dry = await releaseFinalizers(['--dry-run', `--namespace=${ns}`]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would release SlackIntegration ${ns}/int-both`);
    expect(dry.stdout).toContain(`would release ${REMOVAL_FINALIZER} from 2 SlackIntegration(s)`);
    expect(await integrationFinalizers(ns)).toEqual(before);

    const run = await releaseFinalizers([`--namespace=${ns}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`released SlackIntegration ${ns}/int-ours`);
    expect(run.stdout).toContain(
      `released ${REMOVAL_FINALIZER} from 2 SlackIntegration(s) in namespace ${ns}: deleting them no longer revokes`,
    );
    expect(await integrationFinalizers(ns)).toEqual(INTEGRATIONS_RELEASED);
    // a deleted integration is not held any more: it goes at once
    await adminConnection().json('DELETE', `${integrations(ns)}/int-ours`);
    await eventually('the released integration to be gone', async () =>
      (await status(() => adminConnection().get(`${integrations(ns)}/int-ours`))) === 404 ? true : undefined,
    );
    const again = await releaseFinalizers([`--namespace=${ns}`]);
    expect(again.stdout).not.toContain('SlackIntegration');
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
    // it may not list SlackIntegrations either: said, not hidden
    expect(run.stderr).toMatch(
      /could not list SlackIntegrations \(.*403.*\); any with spec\.onDelete still hold/,
    );

    // and a failure before any patch (the list refused cluster-wide) says nothing was released
    const cluster = await releaseFinalizers([], kubeconfig);
    expect(cluster.code).toBe(1);
    expect(cluster.stderr).toMatch(/403.*no finalizer was released/s);
  });

  it('refuses a --scale-down that is not NAMESPACE/NAME, and a bad or lone --scale-down-timeout', async () => {
    for (const args of [
      ['--scale-down=jobherald'],
      ['--scale-down=a/b/c'],
      ['--scale-down=Jobherald-System/jobherald'],
      ['--scale-down=/jobherald'],
      ['--scale-down=ops/jh', '--scale-down-timeout=0'],
      ['--scale-down=ops/jh', '--scale-down-timeout=1m'],
      ['--scale-down-timeout=5'],
    ]) {
      const run = await releaseFinalizers(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/--scale-down(-timeout)? needs/);
    }
  });

  it('is fine when the Deployment to scale down is gone already (or its namespace)', async () => {
    const ns = await namespace('rf-no-deploy');
    await createMix(ns);
    const run = await releaseFinalizers([`--scale-down=${ns}/jobherald`, `-n`, ns]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Deployment ${ns}/jobherald not found (already gone)`);
    expect(await mixState(ns)).toEqual(RELEASED);

    const nowhere = `${uniqueName('no-such-ns')}/jobherald`;
    const again = await releaseFinalizers([`--scale-down=${nowhere}`, `-n`, ns]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Deployment ${nowhere} not found (already gone)`);
  });

  // No deployment controller runs yet: the test writes status.replicas itself, so it decides when the
  // Deployment stops reporting replicas.
  describe('while the Deployment still reports replicas', () => {
    it('scales it to 0 and releases nothing until it reports none', async () => {
      const ns = await namespace('rf-wait');
      await createDeployment(ns, 'operator', 1);
      await reportReplicas(ns, 'operator', 1);
      await createMix(ns);
      const held = await mixState(ns);

      let done = false;
      const running = releaseFinalizers([`--scale-down=${ns}/operator`, `-n`, ns]).finally(() => {
        done = true;
      });
      await eventually('the Deployment scaled to 0', async () =>
        (await replicasOf(ns, 'operator')).spec === 0 ? true : undefined,
      );
      // well past a few polls (500 ms): still waiting, nothing released
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(done).toBe(false);
      expect(await mixState(ns)).toEqual(held);

      await reportReplicas(ns, 'operator', 0); // its last Pod is terminating
      const run = await running;
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split('\n');
      const at = (text: string): number => lines.findIndex((l) => l.includes(text));
      expect(at(`scaled Deployment ${ns}/operator to 0 replicas`)).toBe(0);
      expect(at(`waiting for Deployment ${ns}/operator to report no replicas (it reports 1)`)).toBe(1);
      expect(at(`Deployment ${ns}/operator reports no replicas`)).toBe(2);
      expect(at(`released ${ns}/ours`)).toBeGreaterThan(2);
      expect(await mixState(ns)).toEqual(RELEASED);
    });

    it('gives up after --scale-down-timeout: exit 1, nothing released, the binding kept', async () => {
      const ns = await namespace('rf-timeout');
      const policy = await installAdmissionPolicy(ns);
      policies.push(policy);
      await createDeployment(ns, 'operator', 2);
      await reportReplicas(ns, 'operator', 2);
      await createMix(ns);
      const held = await mixState(ns);

      const began = Date.now();
      const run = await releaseFinalizers([
        `--scale-down=${ns}/operator`,
        '--scale-down-timeout=2',
        `--delete-admission-binding=${policy.name}`,
        `-n`,
        ns,
      ]);
      expect(run.code).toBe(1);
      expect(Date.now() - began).toBeGreaterThanOrEqual(2_000);
      expect(run.stderr).toContain(
        `Deployment ${ns}/operator still reports 2 replica(s) 2 s after it was scaled to 0`,
      );
      expect(run.stderr).toMatch(/run this again\); no finalizer was released\n$/);
      expect(run.stdout).not.toMatch(/MutatingAdmissionPolicyBinding|released/);
      expect(await mixState(ns)).toEqual(held);
      expect(await status(() => adminConnection().get(`${BINDINGS}/${policy.name}`))).toBe(200);
      expect((await replicasOf(ns, 'operator')).spec).toBe(0); // stays scaled down
    });
  });

  describe('with the deployment and ReplicaSet controllers running, as in a real cluster', () => {
    let controllers: { child: ChildProcess; log: string } | undefined;
    const alive = (): void => {
      if (controllers !== undefined && controllers.child.exitCode !== null)
        throw new Error(
          `kube-controller-manager exited:\n${readFileSync(controllers.log, 'utf8').slice(-2000)}`,
        );
    };
    /** Waits until `replicas` Pods of the selector run (kwok) and the Deployment reports them. */
    const waitRunning = async (ns: string, name: string, selector: string, replicas: number) => {
      await eventually(`${replicas} Pod(s) of ${ns}/${name} Running`, async () => {
        alive();
        const pods = await podsOf(ns, selector);
        const reported = (await replicasOf(ns, name)).status;
        return pods.running.length === replicas && reported === replicas ? pods.running : undefined;
      });
    };

    beforeAll(() => {
      controllers = startDeploymentControllers(tmp);
    });
    afterAll(async () => {
      if (controllers !== undefined) await stopChild(controllers.child);
    });

    it('stops a running Deployment (its Pods Running on kwok) before it releases', async () => {
      const ns = await namespace('rf-stop');
      await createDeployment(ns, 'operator', 2);
      await waitRunning(ns, 'operator', 'app=operator', 2);
      await createMix(ns);

      const run = await releaseFinalizers([`--scale-down=${ns}/operator`, `-n`, ns]);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split('\n');
      const at = (text: string): number => lines.findIndex((l) => l.includes(text));
      expect(at(`scaled Deployment ${ns}/operator to 0 replicas`)).toBe(0);
      expect(at(`Deployment ${ns}/operator reports no replicas`)).toBeGreaterThan(0);
      expect(at(`released ${ns}/ours`)).toBeGreaterThan(at(`Deployment ${ns}/operator reports no replicas`));
      expect(await replicasOf(ns, 'operator')).toEqual({ spec: 0, status: 0 });
      // no Pod runs on; kwok removes the terminating ones at once
      expect((await podsOf(ns, 'app=operator')).running).toEqual([]);
      await eventually('the Pods gone', async () =>
        (await podsOf(ns, 'app=operator')).all.length === 0 ? true : undefined,
      );
      expect(await mixState(ns)).toEqual(RELEASED);
    });

    it('with --dry-run leaves the replicas and their Pods alone', async () => {
      const ns = await namespace('rf-stop-dry');
      await createDeployment(ns, 'operator', 1);
      await waitRunning(ns, 'operator', 'app=operator', 1);
      const pods = await podsOf(ns, 'app=operator');
      await createMix(ns);
      const before = await mixState(ns);

      const run = await releaseFinalizers(['--dry-run', `--scale-down=${ns}/operator`, `-n`, ns]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`would scale Deployment ${ns}/operator to 0 replicas (it reports 1)`);
      expect(run.stdout).not.toContain('waiting for');
      expect(await replicasOf(ns, 'operator')).toEqual({ spec: 1, status: 1 });
      expect(await podsOf(ns, 'app=operator')).toEqual(pods);
      expect(await mixState(ns)).toEqual(before);
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
      // the chart's own Deployment, two replicas, running on kwok (the image is never pulled)
      const deployment = ofKind(rendered, 'Deployment')[0]!;
      expect(deployment.metadata.name).toBe(release);
      await applyObjects([deployment]);
      const selector = `app.kubernetes.io/name=jobherald,app.kubernetes.io/instance=${release}`;
      await waitRunning(releaseNs, release, selector, 2);

      const hook = ofKind(rendered, 'Job')[0] as unknown as {
        metadata: { annotations: Record<string, string> };
        spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
      };
      expect(hook.metadata.annotations['helm.sh/hook']).toBe('pre-delete');
      const args = hook.spec.template.spec.containers[0]!.args;
      expect(args).toEqual([
        'release-finalizers',
        `--scale-down=${releaseNs}/${release}`,
        `--delete-admission-binding=${policy.name}`,
      ]);

      const token = await mintToken(clusterState(), releaseNs, hook.spec.template.spec.serviceAccountName);
      const kubeconfig = writeTokenKubeconfig(clusterState(), token, join(tmp, 'hook'));
      const jobs = await namespace('rf-hook-jobs');
      await createMix(jobs);
      await createIntegrationMix(jobs);

      // a dry run with the same rights: every step allowed, nothing changed
      const dry = await releaseFinalizers([...args.slice(1), '--dry-run'], kubeconfig);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(
        `would scale Deployment ${releaseNs}/${release} to 0 replicas (it reports 2)`,
      );
      expect(await replicasOf(releaseNs, release)).toEqual({ spec: 2, status: 2 });

      const run = await releaseFinalizers(args.slice(1), kubeconfig);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split('\n');
      const at = (text: string): number => lines.findIndex((l) => l.includes(text));
      expect(at(`scaled Deployment ${releaseNs}/${release} to 0 replicas`)).toBe(0);
      const stopped = at(`Deployment ${releaseNs}/${release} reports no replicas`);
      expect(stopped).toBeGreaterThan(0);
      expect(at(`deleted MutatingAdmissionPolicyBinding ${policy.name}`)).toBe(stopped + 1);
      expect(at(`released ${jobs}/ours`)).toBeGreaterThan(stopped + 1);
      expect(await replicasOf(releaseNs, release)).toEqual({ spec: 0, status: 0 });
      expect((await podsOf(releaseNs, selector)).running).toEqual([]);
      expect(await status(() => adminConnection().get(`${BINDINGS}/${policy.name}`))).toBe(404);
      expect(await mixState(jobs)).toEqual(RELEASED);
      expect(await integrationFinalizers(jobs)).toEqual(INTEGRATIONS_RELEASED);

      // that one binding and that one Deployment's scale only; never the Deployment itself
      const other = KubeConnection.load({ kubeconfig });
      expect(await status(() => other.json('DELETE', `${BINDINGS}/${uniqueName('someone-elses')}`))).toBe(
        403,
      );
      await createDeployment(releaseNs, 'someone-elses', 0);
      const toZero = { contentType: 'application/merge-patch+json', body: { spec: { replicas: 0 } } };
      expect(await status(() => other.get(scalePath(releaseNs, 'someone-elses')))).toBe(403);
      expect(await status(() => other.json('PATCH', scalePath(releaseNs, 'someone-elses'), toZero))).toBe(
        403,
      );
      expect(await status(() => other.get(`${deployments(releaseNs)}/${release}`))).toBe(403);
      expect(
        await status(() =>
          other.mergePatch(`${deployments(releaseNs)}/${release}`, { spec: { replicas: 1 } }),
        ),
      ).toBe(403);
      expect(await status(() => other.get(deployments(releaseNs)))).toBe(403);
    });
  });
});
