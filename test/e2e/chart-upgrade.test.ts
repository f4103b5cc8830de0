// Issue 9: the chart's upgrade path, N → N+1 with a CRD change, done the way docs/install.md tells the admin,
// with the real Helm against the e2e control plane.
//
// N is charts/jobherald as of the commit before 0188a98 ("The delivery record moves to the Job"), taken from
// git history with `git archive`; N+1 is the working tree's chart. Between them the NotificationRule CRD gained
// `status.alertsSince`: where the operator keeps a migrated 0.1 ledger's floor when it removes
// `status.ledger` (deprecated, still in the schema so that it can be read once). An API server that still has
// N's CRD prunes `alertsSince` silently, so an operator of N+1 that migrates a ledger there loses the floor.
//
// Two releases of N, in their own namespaces, named at random (the chart's cluster-scoped objects are named
// after the release):
//   - release B is upgraded by `helm upgrade` alone: the upgrade succeeds and leaves N's CRDs, as the doc
//     warns; also, `--reuse-values` fails outright on this upgrade (N+1 added values; Helm reuses N's).
//   - release A gets the documented upgrade: the chart's CRDs by server-side apply, then `helm upgrade`.
//     Without `--force-conflicts` the apply is refused for the changed CRD (`helm install` created it, so
//     Helm's field manager owns `.spec.versions`); with it, the API server serves N+1's schema, the objects
//     made under N are untouched, the Deployment is N+1's, and `helm history` shows two revisions.
//
// The CRDs are shared with the other e2e files: this one deletes them first (so that `helm install` of N
// creates N's, as on a fresh cluster) and re-applies the working tree's at the end. It therefore does not run
// against a developer's reused `dev` cluster (JOBHERALD_E2E_REUSE=1), whose objects deleting the CRDs would
// destroy.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationRule, SlackIntegration } from '../../src/api/types.ts';
import { isNotFound } from '../../src/kube/connection.ts';
import {
  adminConnection,
  CHART,
  chartCrds,
  HELM_BUILD_TIMEOUT_MS,
  helmBinary,
  helmTemplate,
  installChartCrds,
  ofKind,
  parseDocuments,
  ROOT,
  runHelm,
  type KubeObject,
} from '../support/chart.ts';
import {
  applyLikeKubectl,
  crdSpecManagers,
  deleteCrdsAndWait,
  getCrd,
  getDeployment,
  helm,
  helmHistory,
  patchStatus,
  statusProperties,
  waitRolledOut,
  type DeploymentObject,
} from '../support/chart-upgrade.ts';
import { startDeploymentControllers, stopChild } from '../support/deployment-controllers.ts';
import { deleteNamespace, eventually } from '../support/kube.ts';

/** N: the chart just before 0188a98 changed the NotificationRule CRD (status.alertsSince). */
/**
 * Chart N: charts/jobherald as of commit 0188a98^ (ff8b44f), the last before the NotificationRule CRD gained
 * status.alertsSince, kept as a fixture (as a released chart would be fetched from its registry), so the test
 * needs no git history (CI may clone shallowly).
 */
const OLD_REV = '0188a98^';
const OLD_CHART = join(ROOT, 'test/fixtures/chart-n');
const RULES_CRD = 'notificationrules.jobherald.dev';
const INTEGRATIONS_CRD = 'slackintegrations.jobherald.dev';
const CLUSTER_NAME = 'upgrade-e2e';
const GROUP_VERSION = '/apis/jobherald.dev/v1alpha1';

const suffix = randomBytes(3).toString('hex');
/** upgraded as documented */
const A = { release: `up-${suffix}`, namespace: `jh-upgrade-${suffix}` };
/** upgraded by `helm upgrade` alone, without the CRD step */
const B = { release: `skip-${suffix}`, namespace: `jh-skipcrd-${suffix}` };
const fullname = (release: string): string => `${release}-jobherald`;

const rulePath = (ns: string, name: string) => `${GROUP_VERSION}/namespaces/${ns}/notificationrules/${name}`;
const integrationPath = (ns: string, name: string) =>
  `${GROUP_VERSION}/namespaces/${ns}/slackintegrations/${name}`;

const wholeSecond = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A 0.1 ledger as jobherald 0.1 left it in a rule's status (src/delivery/legacy-ledger.ts). */
const FLOOR = wholeSecond(Date.now() - 3_600_000);
const LEDGER = {
  v: 1,
  floor: FLOOR,
  sent: ['9c1f3a52-0000-4000-8000-000000000001 F Abcdefgh 1a2b3c'],
  armed: ['9c1f3a52-0000-4000-8000-000000000002 team/nightly-1 nightly 0'],
};
/** The status merge patch N+1's operator writes once it has migrated a ledger (rule-reconciler migrated()). */
const MIGRATION = { alertsSince: FLOOR, ledger: null };

type Rule = NotificationRule & {
  metadata: { generation: number; resourceVersion: string; uid: string };
  status?: { ledger?: unknown; alertsSince?: string };
};
type Integration = SlackIntegration & { metadata: { generation: number; resourceVersion: string } };

const deploymentOf = (rendered: string): DeploymentObject =>
  ofKind(parseDocuments(rendered), 'Deployment')[0] as unknown as DeploymentObject;
const argsOf = (d: DeploymentObject): string[] => d.spec.template.spec.containers[0]?.args ?? [];

async function create(path: string, object: KubeObject): Promise<void> {
  // strict: a field N's schema does not know would be refused, not dropped
  await adminConnection().json('POST', path, { query: { fieldValidation: 'Strict' }, body: object });
}

async function createUnderN(ns: string): Promise<void> {
  await create(`${GROUP_VERSION}/namespaces/${ns}/slackintegrations`, {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'SlackIntegration',
    metadata: { name: 'acme', namespace: ns },
    spec: { tokenSecretRef: { name: 'slack-bot' }, allowedNamespaces: { from: 'All' }, clusterName: 'prod' },
  });
  await create(`${GROUP_VERSION}/namespaces/${ns}/notificationrules`, {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'NotificationRule',
    metadata: { name: 'legacy', namespace: ns },
    spec: {
      integrationRef: { name: 'acme' },
      selector: { jobNames: ['nightly-*'] },
      events: ['Failed', 'Cancelled'],
      destinations: [{ channel: 'data-alerts' }],
    },
  });
}

const exists = (path: string): Promise<boolean> =>
  adminConnection()
    .get(path)
    .then(() => true)
    .catch((error: unknown) => {
      if (isNotFound(error)) return false;
      throw error;
    });

describe.skipIf(process.env.JOBHERALD_E2E_REUSE === '1')(
  `upgrading the chart from N (${OLD_REV}) to the working tree, with its CRD change`,
  () => {
    let tmp = '';
    let home = '';
    let oldChart = '';
    let controllers: { child: ChildProcess; log: string } | undefined;
    /** what the API server returned for A's objects right after they were made under N */
    let ruleUnderN: Rule | undefined;
    let integrationUnderN: Integration | undefined;

    beforeAll(async () => {
      helmBinary(); // builds Helm on the first run on this machine (about 3 minutes), then cached
      tmp = mkdtempSync(join(tmpdir(), 'jobherald-chart-upgrade-'));
      home = join(tmp, 'helm');
      oldChart = OLD_CHART;
      controllers = startDeploymentControllers(join(tmp, 'logs'));
      // a fresh cluster as far as jobherald goes: `helm install` of N creates N's CRDs
      await deleteCrdsAndWait([RULES_CRD, INTEGRATIONS_CRD]);
    }, HELM_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      for (const r of [A, B]) {
        await helm(['uninstall', r.release, '--namespace', r.namespace, '--wait', '--timeout', '2m'], home);
        await deleteNamespace(r.namespace);
      }
      if (controllers !== undefined) await stopChild(controllers.child);
      // later e2e files expect the working tree's CRDs, served with their current schema
      await installChartCrds();
      if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
    }, 300_000);

    it('installs N with helm install --wait: Helm creates N’s CRDs (no status.alertsSince) and its Deployment', async () => {
      for (const r of [A, B]) {
        const install = await helm(
          [
            'install',
            r.release,
            oldChart,
            '--namespace',
            r.namespace,
            '--create-namespace',
            '--set',
            `clusterName=${CLUSTER_NAME}`,
            '--wait',
            '--timeout',
            '2m',
          ],
          home,
        );
        expect(install.code, install.stderr).toBe(0);
      }
      expect(await statusProperties(RULES_CRD)).toContain('ledger');
      expect(await statusProperties(RULES_CRD)).not.toContain('alertsSince');
      // created by the first `helm install`; the second found them and left them alone
      expect(await crdSpecManagers(RULES_CRD)).toEqual(['helm/Update']);
      expect(await crdSpecManagers(INTEGRATIONS_CRD)).toEqual(['helm/Update']);

      const rendered = deploymentOf(
        runHelm([
          'template',
          A.release,
          oldChart,
          '--namespace',
          A.namespace,
          '--set',
          `clusterName=${CLUSTER_NAME}`,
        ]),
      );
      const live = await waitRolledOut(A.namespace, fullname(A.release));
      expect(argsOf(live)).toEqual(argsOf(rendered));
      expect(argsOf(live).some((a) => a.startsWith('--admission-params='))).toBe(false);
      expect((await helmHistory(A.release, A.namespace, home)).map((h) => h.status)).toEqual(['deployed']);
    });

    it('keeps what N’s CRDs know (a 0.1 ledger) and prunes what they do not (status.alertsSince)', async () => {
      for (const r of [A, B]) {
        await createUnderN(r.namespace);
        const patched = await patchStatus<Rule>(rulePath(r.namespace, 'legacy'), {
          ledger: LEDGER,
          alertsSince: FLOOR,
        });
        expect(patched.object.status?.ledger).toEqual(LEDGER);
        expect(patched.object.status?.alertsSince).toBeUndefined();
        expect(patched.warnings).toEqual(['unknown field "status.alertsSince"']);
      }
      ruleUnderN = await adminConnection().get<Rule>(rulePath(A.namespace, 'legacy'));
      integrationUnderN = await adminConnection().get<Integration>(integrationPath(A.namespace, 'acme'));
    });

    describe('helm upgrade alone (release B: no CRD step)', () => {
      it('with --reuse-values fails: N+1 added values and Helm renders it with N’s', async () => {
        const reuse = await helm(
          ['upgrade', B.release, CHART, '--namespace', B.namespace, '--reuse-values'],
          home,
        );
        expect(reuse.code).not.toBe(0);
        expect(reuse.stderr).toMatch(/UPGRADE FAILED: .*nil pointer evaluating interface \{\}\.enabled/);
        expect((await helmHistory(B.release, B.namespace, home)).map((h) => h.status)).toEqual(['deployed']);
      });

      it('upgrades the Deployment but leaves N’s CRDs: the migration’s floor (status.alertsSince) is lost', async () => {
        const before = await Promise.all([getCrd(RULES_CRD), getCrd(INTEGRATIONS_CRD)]);
        const upgrade = await helm(
          ['upgrade', B.release, CHART, '--namespace', B.namespace, '--reset-then-reuse-values'],
          home,
        );
        expect(upgrade.code, upgrade.stderr).toBe(0);
        const live = await waitRolledOut(B.namespace, fullname(B.release));
        const rendered = deploymentOf(
          helmTemplate({ release: B.release, namespace: B.namespace, values: { clusterName: CLUSTER_NAME } }),
        );
        expect(argsOf(live)).toEqual(argsOf(rendered));

        // the CRDs are not touched at all
        const after = await Promise.all([getCrd(RULES_CRD), getCrd(INTEGRATIONS_CRD)]);
        expect(after.map((c) => c.metadata.resourceVersion)).toEqual(
          before.map((c) => c.metadata.resourceVersion),
        );
        expect(await statusProperties(RULES_CRD)).not.toContain('alertsSince');

        // what N+1's operator writes when it has migrated the ledger: the ledger goes, the floor is pruned
        const migrated = await patchStatus<Rule>(rulePath(B.namespace, 'legacy'), MIGRATION);
        expect(migrated.warnings).toEqual(['unknown field "status.alertsSince"']);
        expect(migrated.object.status?.ledger).toBeUndefined();
        expect(migrated.object.status?.alertsSince).toBeUndefined();
      });
    });

    describe('the documented upgrade (release A)', () => {
      it('kubectl apply --server-side without --force-conflicts is refused for the changed CRD (Helm owns .spec.versions)', async () => {
        const results = await applyLikeKubectl(chartCrds(), { forceConflicts: false });
        const rules = results.find((r) => r.name === RULES_CRD);
        expect(rules?.status).toBe(409);
        expect(rules?.message).toContain('conflict with "helm"');
        expect(rules?.message).toContain('.spec.versions');
        // the SlackIntegration CRD changed since N as well (spec.oauth, onDelete, channelPolicy…): refused alike
        const integrations = results.find((r) => r.name === INTEGRATIONS_CRD);
        expect(integrations?.status).toBe(409);
        expect(integrations?.message).toContain('.spec.versions');
        expect(await statusProperties(RULES_CRD)).not.toContain('alertsSince');
      });

      it('kubectl apply --server-side --force-conflicts, then helm upgrade --reset-then-reuse-values', async () => {
        const results = await applyLikeKubectl(chartCrds(), { forceConflicts: true });
        expect(results.map((r) => [r.name, r.status])).toEqual(
          chartCrds().map((c) => [c.metadata.name, 200]),
        );
        // the new schema reaches the serving handlers a moment after it is stored
        await eventually('the API server to serve status.alertsSince', async () => {
          const tried = await patchStatus<Rule>(
            rulePath(A.namespace, 'legacy'),
            { alertsSince: FLOOR },
            { dryRun: 'All', fieldValidation: 'Strict' },
          ).catch(() => undefined);
          return tried?.object.status?.alertsSince === FLOOR ? true : undefined;
        });

        const upgrade = await helm(
          ['upgrade', A.release, CHART, '--namespace', A.namespace, '--reset-then-reuse-values'],
          home,
        );
        expect(upgrade.code, upgrade.stderr).toBe(0);
        await waitRolledOut(A.namespace, fullname(A.release));
      });

      it('the API server serves N+1’s schema: status.alertsSince is kept, the deprecated ledger still readable', async () => {
        expect(await statusProperties(RULES_CRD)).toEqual(expect.arrayContaining(['alertsSince', 'ledger']));
        expect(await crdSpecManagers(RULES_CRD)).toContain('kubectl/Apply');
        const crd = await getCrd(RULES_CRD);
        expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
      });

      it('leaves the objects made under N as they were: spec, generation, resourceVersion, the ledger', async () => {
        const rule = await adminConnection().get<Rule>(rulePath(A.namespace, 'legacy'));
        const integration = await adminConnection().get<Integration>(integrationPath(A.namespace, 'acme'));
        expect(rule.spec).toEqual(ruleUnderN?.spec);
        expect(rule.metadata.generation).toBe(ruleUnderN?.metadata.generation);
        expect(rule.metadata.resourceVersion).toBe(ruleUnderN?.metadata.resourceVersion);
        expect(rule.status?.ledger).toEqual(LEDGER);
        expect(integration.spec).toEqual(integrationUnderN?.spec);
        expect(integration.metadata.resourceVersion).toBe(integrationUnderN?.metadata.resourceVersion);

        // and N+1's migration write now keeps the floor
        const migrated = await patchStatus<Rule>(rulePath(A.namespace, 'legacy'), MIGRATION);
        expect(migrated.warnings).toEqual([]);
        expect(migrated.object.status?.ledger).toBeUndefined();
        expect(migrated.object.status?.alertsSince).toBe(FLOOR);
      });

      it('runs N+1’s Deployment with the values given to N, and adds N+1’s new objects', async () => {
        const rendered = deploymentOf(
          helmTemplate({ release: A.release, namespace: A.namespace, values: { clusterName: CLUSTER_NAME } }),
        );
        const live = await getDeployment(A.namespace, fullname(A.release));
        expect(live.spec.template).toMatchObject(rendered.spec.template);
        expect(argsOf(live)).toEqual(argsOf(rendered));
        expect(argsOf(live)).toContain(`--cluster-name=${CLUSTER_NAME}`);
        expect(argsOf(live)).toContain(`--admission-params=${fullname(A.release)}-watched-namespaces`);
        // on 1.36 (MutatingAdmissionPolicy served), N+1 renders the policy that N did not have
        expect(
          await exists(
            `/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies/${fullname(A.release)}-delivery-finalizer`,
          ),
        ).toBe(true);
      });

      it('helm history shows two revisions, the upgrade deployed', async () => {
        const history = await helmHistory(A.release, A.namespace, home);
        expect(history.map((h) => [h.revision, h.status, h.description])).toEqual([
          [1, 'superseded', 'Install complete'],
          [2, 'deployed', 'Upgrade complete'],
        ]);
      });
    });

    it('helm uninstall removes each release’s cluster-scoped objects and leaves the CRDs', async () => {
      for (const r of [A, B]) {
        const uninstall = await helm(
          ['uninstall', r.release, '--namespace', r.namespace, '--wait', '--timeout', '2m'],
          home,
        );
        expect(uninstall.code, uninstall.stderr).toBe(0);
        const selector = `app.kubernetes.io/instance=${r.release}`;
        for (const kind of ['clusterroles', 'clusterrolebindings']) {
          const list = await adminConnection().get<{ items: unknown[] }>(
            `/apis/rbac.authorization.k8s.io/v1/${kind}`,
            { labelSelector: selector },
          );
          expect(list.items, kind).toEqual([]);
        }
        expect(
          await exists(
            `/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies/${fullname(r.release)}-delivery-finalizer`,
          ),
        ).toBe(false);
      }
      expect(await exists(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${RULES_CRD}`)).toBe(true);
    });
  },
);
