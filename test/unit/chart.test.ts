// The Helm chart and the one-file install without Helm or a cluster: the chart ships the repo's CRDs byte
// for byte, and deploy/jobherald.yaml (a committed render of the chart; test/e2e/rbac.test.ts checks it
// is fresh) holds least-privilege RBAC and a hardened Deployment. test/e2e/rbac.test.ts proves the RBAC
// is also enough (quality-bar R9).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const yamlFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  spec?: Record<string, unknown>;
}

const install = loadAll(read('deploy/jobherald.yaml')).filter((d) => d !== null) as Obj[];
const ofKind = (kind: string): Obj[] => install.filter((o) => o.kind === kind);

describe('charts/jobherald', () => {
  it("ships the repo's CRDs, byte for byte", () => {
    expect(yamlFiles('charts/jobherald/crds')).toEqual(yamlFiles('crds'));
    for (const file of yamlFiles('crds')) {
      expect(
        read(`charts/jobherald/crds/${file}`),
        `charts/jobherald/crds/${file} differs from crds/${file}`,
      ).toBe(read(`crds/${file}`));
    }
  });

  it('versions the app like package.json', () => {
    const chart = load(read('charts/jobherald/Chart.yaml')) as Record<string, string>;
    const pkg = JSON.parse(read('package.json')) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'jobherald', version: '0.1.0' });
    expect(chart['appVersion']).toBe(pkg.version);
  });
});

describe('deploy/jobherald.yaml', () => {
  it('holds the CRDs as they are in crds/', () => {
    const crds = yamlFiles('crds').map((f) => load(read(`crds/${f}`)));
    expect(ofKind('CustomResourceDefinition')).toEqual(crds);
  });

  it('installs into jobherald-system, creating it first after the CRDs', () => {
    const kinds = install.map((o) => o.kind);
    expect(kinds.slice(0, 3)).toEqual(['CustomResourceDefinition', 'CustomResourceDefinition', 'Namespace']);
    expect(ofKind('Namespace').map((o) => o.metadata.name)).toEqual(['jobherald-system']);
    for (const o of install.filter(
      (o) => !['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
    ))
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('jobherald-system');
    expect(new Set(kinds)).toEqual(
      new Set([
        'CustomResourceDefinition',
        'Namespace',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'Deployment',
        'Service',
        'PodDisruptionBudget',
      ]),
    );
  });

  describe("the operator's RBAC is least privilege", () => {
    const sa = ofKind('ServiceAccount')[0]?.metadata.name;
    const boundToOperator = (binding: Obj): boolean =>
      binding.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === sa) ?? false;
    const roleOf = (binding: Obj): Obj => {
      const kind = binding.roleRef?.kind ?? '';
      const role = install.find(
        (o) =>
          o.kind === kind &&
          o.metadata.name === binding.roleRef?.name &&
          (kind === 'ClusterRole' || o.metadata.namespace === binding.metadata.namespace),
      );
      if (role === undefined) throw new Error(`${binding.kind}/${binding.metadata.name}: role not found`);
      return role;
    };
    const clusterRules = ofKind('ClusterRoleBinding')
      .filter(boundToOperator)
      .flatMap((b) => roleOf(b).rules ?? []);
    const namespacedRules = ofKind('RoleBinding')
      .filter(boundToOperator)
      .flatMap((b) => (roleOf(b).rules ?? []).map((rule) => ({ namespace: b.metadata.namespace, rule })));
    const allRules = [...clusterRules, ...namespacedRules.map((r) => r.rule)];
    const grants = (rules: Rule[]): string[] =>
      rules.flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) =>
          (r.resources ?? []).flatMap((res) =>
            r.verbs.map(
              (v) =>
                `${g === '' ? 'core' : g}/${res}:${v}${r.resourceNames ? `@${r.resourceNames.join(',')}` : ''}`,
            ),
          ),
        ),
      );

    it('binds the operator to exactly one ClusterRole and two Roles', () => {
      expect(ofKind('ClusterRoleBinding').filter(boundToOperator)).toHaveLength(1);
      expect(ofKind('RoleBinding').filter(boundToOperator)).toHaveLength(2);
    });

    it('uses no wildcards anywhere', () => {
      for (const role of [...ofKind('ClusterRole'), ...ofKind('Role')]) {
        for (const rule of role.rules ?? []) {
          const words = [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs];
          expect(
            words.filter((w) => w.includes('*')),
            `${role.kind}/${role.metadata.name}`,
          ).toEqual([]);
        }
      }
    });

    it('reads Secrets only in its integration namespace, and never cluster-wide', () => {
      expect(grants(clusterRules).filter((g) => g.startsWith('core/secrets'))).toEqual([]);
      const secretGrants = namespacedRules.filter(({ rule }) => rule.resources?.includes('secrets'));
      expect(secretGrants.map((g) => g.namespace)).toEqual(['jobherald-system']);
      expect(grants(secretGrants.map((g) => g.rule)).sort()).toEqual([
        'core/secrets:list',
        'core/secrets:watch',
      ]);
    });

    it('writes only status of its own kinds, Events, and its own Lease', () => {
      const writes = grants(allRules).filter((g) => !/:(get|list|watch)(@|$)/.test(g));
      expect(writes.sort()).toEqual([
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases:update@jobherald',
        'core/events:create',
        'core/events:patch',
        'jobherald.dev/notificationrules/status:patch',
        'jobherald.dev/slackintegrations/status:patch',
      ]);
    });

    it('reads Jobs, Pods, Namespaces and its own kinds cluster-wide', () => {
      expect(
        grants(clusterRules)
          .filter((g) => /:(get|list|watch)$/.test(g))
          .sort(),
      ).toEqual([
        'batch/jobs:list',
        'batch/jobs:watch',
        'core/namespaces:list',
        'core/namespaces:watch',
        'core/pods:list',
        'core/pods:watch',
        'jobherald.dev/notificationrules:list',
        'jobherald.dev/notificationrules:watch',
        'jobherald.dev/slackintegrations:list',
        'jobherald.dev/slackintegrations:watch',
      ]);
    });
  });

  describe('the Deployment', () => {
    const deployment = ofKind('Deployment')[0] as Obj & {
      spec: {
        replicas: number;
        template: {
          spec: {
            serviceAccountName: string;
            securityContext: Record<string, unknown>;
            containers: {
              args: string[];
              env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
              ports: { name: string; containerPort: number }[];
              livenessProbe: { httpGet: { path: string; port: string } };
              readinessProbe: { httpGet: { path: string; port: string } };
              resources: Record<string, Record<string, string>>;
              securityContext: Record<string, unknown>;
            }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;

    it('runs two replicas that elect a leader with the Lease its Role names', () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(container.args[0]).toBe('controller');
      expect(container.args).toContain('--leader-elect');
      expect(container.args).toContain('--leader-election-id=jobherald');
      expect(container.args).toContain('--integration-namespaces=jobherald-system');
      expect(pod.serviceAccountName).toBe(ofKind('ServiceAccount')[0]?.metadata.name);
    });

    it('knows its namespace from the downward API', () => {
      expect(container.env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe(
        'metadata.namespace',
      );
    });

    it('probes /healthz and /readyz on 8081 and exposes metrics on 8080', () => {
      const port = (name: string) => container.ports.find((p) => p.name === name)?.containerPort;
      expect(port('probes')).toBe(8081);
      expect(port('metrics')).toBe(8080);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'probes' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'probes' });
      expect(container.args).toContain('--health-probe-bind-address=:8081');
      expect(container.args).toContain('--metrics-bind-address=:8080');
      const service = ofKind('Service')[0] as Obj & { spec: { ports: { targetPort: string }[] } };
      expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['metrics']);
    });

    it('is hardened and bounded', () => {
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.resources).toEqual({
        requests: { cpu: '50m', memory: '128Mi' },
        limits: { memory: '512Mi' },
      });
    });

    it('keeps one replica through voluntary disruptions', () => {
      const pdb = ofKind('PodDisruptionBudget')[0] as Obj & { spec: { maxUnavailable: number } };
      expect(pdb.spec.maxUnavailable).toBe(1);
    });
  });
});
