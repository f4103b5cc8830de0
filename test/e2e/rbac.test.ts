// Quality-bar R9: the operator works with exactly the chart's RBAC. The chart is rendered by a real Helm
// for a fresh release namespace; its ServiceAccount, ClusterRoles, Roles and bindings are applied; the
// operator runs as that ServiceAccount (a token minted for it) with the Deployment's own arguments and
// leader election on, and must do its whole job: win the Lease, authenticate the integration, alert a
// failing Job with its Pod's details, write rule status, record Events. The same token must not reach
// anything the job does not need. Also: deploy/jobherald.yaml is a fresh render of the chart.
import { expectFailingJobAlerted } from '../support/environment.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../src/dev/slack-emulator/index.ts';
import { mintToken, writeTokenKubeconfig } from '../../src/dev/cluster/control-plane.ts';
import { KubeApiError, KubeConnection } from '../../src/kube/connection.ts';
import {
  clusterState,
  createJob,
  createNamespace,
  deleteNamespace,
  eventually,
  kube,
  uniqueName,
} from '../support/kube.ts';
import {
  conditionOf,
  createIntegration,
  createRule,
  createTokenSecret,
  getIntegration,
  getRule,
  startOperator,
  waitForCondition,
  type OperatorProcess,
} from '../support/operator.ts';
import {
  adminConnection,
  applyObjects,
  CHART,
  deleteObjects,
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

const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

describe('the chart', () => {
  beforeAll(() => {
    helmBinary(); // builds Helm on the first run on this machine (about 3 minutes), then cached
  }, HELM_BUILD_TIMEOUT_MS);

  it('passes helm lint --strict', () => {
    expect(runHelm(['lint', '--strict', CHART])).toContain('0 chart(s) failed');
  });

  it('deploy/jobherald.yaml is a fresh render of the chart (run deploy/render.sh after changing it)', () => {
    const fresh = execFileSync(join(ROOT, 'deploy/render.sh'), ['-'], {
      encoding: 'utf8',
      env: { ...process.env, JOBHERALD_HELM: helmBinary() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(fresh).toContain('kind: Deployment');
    expect(readFileSync(join(ROOT, 'deploy/jobherald.yaml'), 'utf8')).toBe(fresh);
  });

  it('renders only objects the API server accepts as they are (server-side dry run, strict)', async () => {
    const ns = await createNamespace(uniqueName('chart-dry-run'));
    try {
      const objects = parseDocuments(
        helmTemplate({
          release: 'jobherald',
          namespace: ns,
          includeCrds: true,
          values: { createNamespace: false },
        }),
      );
      expect(new Set(objects.map((o) => o.kind)).size).toBeGreaterThanOrEqual(9);
      await applyObjects(objects, { dryRun: true });
    } finally {
      await deleteNamespace(ns);
    }
  });

  it('names every cluster-scoped object after the release, so releases do not collide', () => {
    const names = (release: string) =>
      parseDocuments(helmTemplate({ release, namespace: 'ns-a' }))
        .filter((o) => o.metadata.namespace === undefined)
        .map((o) => `${o.kind}/${o.metadata.name}`);
    const a = names('one');
    const b = names('two');
    expect(a.length).toBeGreaterThanOrEqual(2);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
  });

  it('renders one Secret-reading Role per integration namespace, and none cluster-wide', () => {
    const objects = parseDocuments(
      helmTemplate({ release: 'jobherald', namespace: 'ops', values: { integrationNamespaces: ['a', 'b'] } }),
    );
    const secretReaders = objects.filter((o) =>
      (o['rules'] as { resources: string[] }[] | undefined)?.some((r) => r.resources.includes('secrets')),
    );
    expect(secretReaders.map((o) => `${o.kind}/${o.metadata.namespace}`).sort()).toEqual([
      'Role/a',
      'Role/b',
    ]);
    const deployment = ofKind(objects, 'Deployment')[0] as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.args).toContain('--integration-namespaces=a,b');
  });

  it('refuses several replicas without leader election', () => {
    expect(() =>
      helmTemplate({ release: 'x', namespace: 'ops', values: { replicas: 2, leaderElect: false } }),
    ).toThrow(/replicas > 1 needs leaderElect: true/);
  });
});

describe("the operator with exactly the chart's RBAC (R9)", () => {
  let slack: SlackEmulator;
  let operator: OperatorProcess | undefined;
  let opNs = '';
  let rulesNs = '';
  let otherNs = '';
  let release = '';
  let applied: KubeObject[] = [];
  let token: KubeConnection;
  let tmp = '';

  beforeAll(async () => {
    helmBinary();
    await installChartCrds();
    slack = await startSlackEmulator();
    opNs = await createNamespace(uniqueName('jh-rbac'));
    rulesNs = await createNamespace(uniqueName('rbac-rules'));
    otherNs = await createNamespace(uniqueName('rbac-other'));
    await createTokenSecret(otherNs, 'not-yours', 'xoxb-someone-else');

    // The release namespace is the operator's namespace and (by default) its only integration namespace.
    release = `jobherald-${randomBytes(3).toString('hex')}`;
    const rendered = parseDocuments(
      // the admission policy on, so that its RBAC (the uninstall hook's ClusterRole) is applied too
      helmTemplate({
        release,
        namespace: opNs,
        values: { clusterName: 'r9', 'admissionPolicy.enabled': true },
      }),
    );
    applied = ofKind(rendered, ...RBAC_KINDS);
    await applyObjects(applied);

    const serviceAccount = ofKind(rendered, 'ServiceAccount')[0]?.metadata.name ?? '';
    tmp = mkdtempSync(join(tmpdir(), 'jobherald-rbac-'));
    const kubeconfig = writeTokenKubeconfig(
      clusterState(),
      await mintToken(clusterState(), opNs, serviceAccount),
      join(tmp, 'kubeconfig'),
    );
    token = KubeConnection.load({ kubeconfig });

    await createTokenSecret(opNs, 'acme-token', 'xoxb-demo');
    await createIntegration(opNs, 'acme', { apiURL: slack.apiUrl, allowedNamespaces: { from: 'All' } });

    // The Deployment's own arguments (Lease name, namespaces, leader election); startOperator adds the
    // kubeconfig and loopback listeners.
    const deployment = ofKind(rendered, 'Deployment')[0] as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const args = (deployment.spec.template.spec.containers[0]?.args ?? []).filter(
      (a) => a !== 'controller' && !a.includes('-bind-address='),
    );
    expect(args).toContain(`--leader-election-id=${release}`);
    expect(args).toContain('--leader-elect');
    operator = await startOperator({ namespace: opNs, kubeconfig, leaderElect: true, args });
    await operator.waitReady();
  }, HELM_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await operator?.stop();
    await slack?.stop();
    await deleteObjects(applied.filter((o) => o.metadata.namespace === undefined));
    for (const ns of [opNs, rulesNs, otherNs]) if (ns !== '') await deleteNamespace(ns);
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('acquires the leader Lease named in the chart', async () => {
    const lease = await eventually('the leader Lease', async () => {
      const got = await adminConnection()
        .get<{ spec: { holderIdentity?: string } }>(
          `/apis/coordination.k8s.io/v1/namespaces/${opNs}/leases/${release}`,
        )
        .catch(() => undefined);
      return got?.spec.holderIdentity ? got : undefined;
    });
    expect(operator?.logs()).toContain(`${lease.spec.holderIdentity} is now the leader`);
    await eventually('jobherald_leader 1', async () =>
      /^jobherald_leader 1$/m.test((await operator?.metrics()) ?? '') ? true : undefined,
    );
  });

  it('authenticates the integration with the token from its Secret and reports it Ready', async () => {
    const integration = await waitForCondition(() => getIntegration(opNs, 'acme'), {
      type: 'Authenticated',
      status: 'True',
    });
    expect(integration.status?.conditions?.length).toBeGreaterThan(0);
    await waitForCondition(() => getIntegration(opNs, 'acme'), { status: 'True' });
  });

  it('alerts a failing Job with its Pod details and writes the rule status', async () => {
    await expectFailingJobAlerted(slack, { namespace: opNs, name: 'acme' }, rulesNs);
  });

  it('records a DeliveryFailed Event for a rule whose channel is archived', async () => {
    await createRule(rulesNs, 'archived', {
      integrationRef: { name: 'acme', namespace: opNs },
      events: ['Failed'],
      destinations: [{ channel: 'old-alerts' }],
    });
    const rule = await waitForCondition(() => getRule(rulesNs, 'archived'), {
      status: 'False',
      reason: 'ChannelArchived',
    });
    expect(conditionOf(rule)?.message).toContain('old-alerts');
    const job = `arch-${uniqueName('j')}`;
    await createJob(rulesNs, job, { exitCode: 1 });
    const event = await eventually('a DeliveryFailed Event on the rule', async () => {
      const events = await kube().core.listNamespacedEvent({ namespace: rulesNs });
      return events.items.find(
        (e) =>
          e.reason === 'DeliveryFailed' && e.involvedObject.name === 'archived' && e.message?.includes(job),
      );
    });
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.kind).toBe('NotificationRule');
  });

  describe('and nothing more', () => {
    const forbidden = async (call: () => Promise<unknown>): Promise<number> => {
      try {
        await call();
        return 200;
      } catch (error) {
        if (error instanceof KubeApiError) return error.status;
        throw error;
      }
    };

    it('cannot read Secrets outside its integration namespaces', async () => {
      expect(await forbidden(() => token.get(`/api/v1/namespaces/${otherNs}/secrets/not-yours`))).toBe(403);
      expect(await forbidden(() => token.get(`/api/v1/namespaces/${otherNs}/secrets`, { limit: 1 }))).toBe(
        403,
      );
      expect(await forbidden(() => token.get('/api/v1/secrets', { limit: 1 }))).toBe(403);
    });

    it('writes Secrets (refreshed rotating tokens) only in its integration namespaces, and never deletes one', async () => {
      const other = `/api/v1/namespaces/${otherNs}/secrets`;
      expect(await forbidden(() => token.mergePatch(`${other}/not-yours`, { data: { token: '' } }))).toBe(
        403,
      );
      expect(await forbidden(() => token.json('POST', other, { body: { metadata: { name: 'x' } } }))).toBe(
        403,
      );
      const own = `/api/v1/namespaces/${opNs}/secrets`;
      expect(
        await forbidden(() =>
          token.json('POST', own, { body: { metadata: { name: 'rotated-by-operator' } } }),
        ),
      ).toBe(200);
      expect(
        await forbidden(() =>
          token.mergePatch(`${own}/rotated-by-operator`, { data: { token: 'eG94Yg==' } }),
        ),
      ).toBe(200);
      expect(await forbidden(() => token.json('DELETE', `${own}/rotated-by-operator`))).toBe(403);
      expect(
        await forbidden(() =>
          token.json('PUT', `${own}/rotated-by-operator`, {
            body: { metadata: { name: 'rotated-by-operator' } },
          }),
        ),
      ).toBe(403);
    });

    it("cannot change a NotificationRule's spec, only its status", async () => {
      const path = `/apis/jobherald.dev/v1alpha1/namespaces/${rulesNs}/notificationrules/failures`;
      expect(await forbidden(() => token.mergePatch(path, { spec: { suspend: true } }))).toBe(403);
      const current = await getRule(rulesNs, 'failures');
      expect(
        await forbidden(() =>
          token.json('PUT', path, { body: { ...current, spec: { ...current.spec, suspend: true } } }),
        ),
      ).toBe(403);
      expect(await forbidden(() => token.json('DELETE', path))).toBe(403);
      expect((await getRule(rulesNs, 'failures')).spec.suspend).not.toBe(true);
    });

    it('cannot create or delete Jobs', async () => {
      const jobs = `/apis/batch/v1/namespaces/${rulesNs}/jobs`;
      const job = `victim-${uniqueName('j')}`;
      await createJob(rulesNs, job, { runFor: '5m' });
      expect(await forbidden(() => token.json('DELETE', `${jobs}/${job}`))).toBe(403);
      expect(await forbidden(() => token.json('POST', jobs, { body: { metadata: { name: 'x' } } }))).toBe(
        403,
      );
      expect(await forbidden(() => token.get(`${jobs}/${job}`))).toBe(403); // list and watch only
    });

    it('reaches no ConfigMap but its own, and can delete no admission object but its own binding', async () => {
      const configMaps = `/api/v1/namespaces/${opNs}/configmaps`;
      expect(await forbidden(() => token.get(`${configMaps}/someone-elses`))).toBe(403);
      expect(
        await forbidden(() => token.mergePatch(`${configMaps}/someone-elses`, { data: { x: '' } })),
      ).toBe(403);
      expect(await forbidden(() => token.get(configMaps, { limit: 1 }))).toBe(403);
      expect(
        await forbidden(() =>
          token.get(`/api/v1/namespaces/${rulesNs}/configmaps/${release}-watched-namespaces`),
        ),
      ).toBe(403);
      const admission = '/apis/admissionregistration.k8s.io/v1';
      expect(
        await forbidden(() =>
          token.json('DELETE', `${admission}/mutatingadmissionpolicybindings/someone-elses`),
        ),
      ).toBe(403);
      expect(
        await forbidden(() =>
          token.json('DELETE', `${admission}/mutatingadmissionpolicies/${release}-delivery-finalizer`),
        ),
      ).toBe(403);
    });

    it('cannot touch another Lease', async () => {
      const leases = `/apis/coordination.k8s.io/v1/namespaces/${opNs}/leases`;
      expect(await forbidden(() => token.get(`${leases}/someone-else`))).toBe(403);
      expect(
        await forbidden(() => token.get(`/apis/coordination.k8s.io/v1/namespaces/${rulesNs}/leases/x`)),
      ).toBe(403);
    });

    it('was never refused anything while doing its job', () => {
      expect(operator?.logs()).not.toMatch(/forbidden|\b403\b/i);
    });
  });
});
