// The Helm chart and the one-file install without a cluster: the chart ships the repo's CRDs byte for
// byte, and deploy/jobherald.yaml (a committed render of the chart; test/e2e/rbac.test.ts checks it is
// fresh) holds least-privilege RBAC, a hardened Deployment and the admission policy that adds the delivery
// finalizer. The chart is also rendered here by the real Helm (deploy/build-helm.sh, cached) with the
// values that change what it holds: admissionPolicy auto/true/false, finalizers off, the uninstall hook.
// chart-schema.test.ts covers values.schema.json and helm lint, chart-render.test.ts the other values and the
// helm test Pod.
// test/e2e/rbac.test.ts proves the RBAC is also enough (quality-bar R9); test/e2e/admission-policy.test.ts
// and release-finalizers.test.ts prove the policy and the hook's command on the real API server.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADMISSION_PARAMS, DELIVERY_FINALIZER } from '../../src/api/job-metadata.ts';
import { CHART, HELM_BUILD_TIMEOUT_MS, helmBinary, runHelm, type RenderedObject } from '../support/chart.ts';

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

type Obj = RenderedObject;

const install = loadAll(read('deploy/jobherald.yaml')).filter((d) => d !== null) as Obj[];
const ofKind = (kind: string): Obj[] => install.filter((o) => o.kind === kind);

/** `kind/resource:verb[@names]` for each rule, e.g. `batch/jobs:patch`, `core/configmaps:get@x`. */
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

interface Container {
  image: string;
  args: string[];
  securityContext: Record<string, unknown>;
}
interface PodSpec {
  serviceAccountName: string;
  restartPolicy?: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
}
const podOf = (o: Obj | undefined): PodSpec => {
  const pod = (o?.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
  if (pod === undefined)
    throw new Error(`${o?.kind ?? 'object'}/${o?.metadata.name ?? '?'}: no Pod template`);
  return pod;
};
const argsOf = (objects: Obj[]): string[] =>
  podOf(objects.find((o) => o.kind === 'Deployment')).containers[0]?.args ?? [];

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
      (o) =>
        ![
          'CustomResourceDefinition',
          'Namespace',
          'ClusterRole',
          'ClusterRoleBinding',
          'MutatingAdmissionPolicy',
          'MutatingAdmissionPolicyBinding',
        ].includes(o.kind),
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
        'MutatingAdmissionPolicy',
        'MutatingAdmissionPolicyBinding',
      ]),
    );
  });

  it('holds no Helm hook: kubectl apply would run the uninstall hook at once', () => {
    expect(ofKind('Job')).toEqual([]);
    expect(install.filter((o) => o.metadata.annotations?.['helm.sh/hook'] !== undefined)).toEqual([]);
    expect(ofKind('ClusterRole').map((o) => o.metadata.name)).not.toContain('jobherald-uninstall');
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

    it('binds the operator to exactly one ClusterRole and three Roles', () => {
      expect(ofKind('ClusterRoleBinding').filter(boundToOperator)).toHaveLength(1);
      expect(
        ofKind('RoleBinding')
          .filter(boundToOperator)
          .map((b) => b.roleRef?.name)
          .sort(),
      ).toEqual(['jobherald-admission-params', 'jobherald-leader-election', 'jobherald-secrets']);
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

    it('reads and writes Secrets only in its integration namespace (refreshed tokens), never deletes one, never cluster-wide', () => {
      expect(grants(clusterRules).filter((g) => g.startsWith('core/secrets'))).toEqual([]);
      const secretGrants = namespacedRules.filter(({ rule }) => rule.resources?.includes('secrets'));
      expect(secretGrants.map((g) => g.namespace)).toEqual(['jobherald-system']);
      expect(grants(secretGrants.map((g) => g.rule)).sort()).toEqual([
        'core/secrets:create',
        'core/secrets:list',
        'core/secrets:patch',
        'core/secrets:watch',
      ]);
    });

    it('writes only status of its own kinds, Events, Job metadata, its own Lease, its own ConfigMap, token Secrets and the integrations’ removal finalizer', () => {
      const writes = grants(allRules).filter((g) => !/:(get|list|watch)(@|$)/.test(g));
      expect(writes.sort()).toEqual([
        'batch/jobs:patch',
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases:update@jobherald',
        'core/configmaps:create',
        `core/configmaps:patch@${DEFAULT_ADMISSION_PARAMS}`,
        `core/configmaps:update@${DEFAULT_ADMISSION_PARAMS}`,
        'core/events:create',
        'core/events:patch',
        'core/secrets:create',
        'core/secrets:patch',
        'jobherald.dev/notificationrules/status:patch',
        'jobherald.dev/slackintegrations/status:patch',
        'jobherald.dev/slackintegrations:patch',
      ]);
    });

    it('patches Jobs cluster-wide (the finalizer and the record annotation), never deletes or creates them', () => {
      expect(grants(clusterRules).filter((g) => g.startsWith('batch/'))).toEqual([
        'batch/jobs:list',
        'batch/jobs:watch',
        'batch/jobs:patch',
      ]);
    });

    it("touches ConfigMaps only in its namespace, and reads and rewrites only the admission policy's", () => {
      expect(grants(clusterRules).filter((g) => g.startsWith('core/configmaps'))).toEqual([]);
      const cm = namespacedRules.filter(({ rule }) => rule.resources?.includes('configmaps'));
      expect(new Set(cm.map((g) => g.namespace))).toEqual(new Set(['jobherald-system']));
      // create cannot be limited by name; everything else is
      expect(grants(cm.map((g) => g.rule)).sort()).toEqual([
        'core/configmaps:create',
        `core/configmaps:get@${DEFAULT_ADMISSION_PARAMS}`,
        `core/configmaps:patch@${DEFAULT_ADMISSION_PARAMS}`,
        `core/configmaps:update@${DEFAULT_ADMISSION_PARAMS}`,
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

    it("keeps the finalizers on and names the ConfigMap the policy's binding reads", () => {
      expect(container.args).toContain(`--admission-params=${DEFAULT_ADMISSION_PARAMS}`);
      expect(container.args).not.toContain('--no-finalizers');
      const binding = ofKind('MutatingAdmissionPolicyBinding')[0];
      expect(binding?.spec?.['paramRef']).toEqual({
        name: DEFAULT_ADMISSION_PARAMS,
        namespace: 'jobherald-system',
        parameterNotFoundAction: 'Allow',
      });
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

describe('the admission policy that adds the delivery finalizer (deploy/jobherald.yaml)', () => {
  const policy = ofKind('MutatingAdmissionPolicy')[0] as Obj & {
    spec: {
      paramKind: unknown;
      matchConstraints: unknown;
      failurePolicy: string;
      matchConditions: { name: string; expression: string }[];
      mutations: { patchType: string; applyConfiguration: { expression: string } }[];
      reinvocationPolicy: string;
    };
  };
  const binding = ofKind('MutatingAdmissionPolicyBinding')[0];

  it('is named after the release, like its binding, which binds it', () => {
    expect(policy.metadata.name).toBe('jobherald-delivery-finalizer');
    expect(binding?.metadata.name).toBe('jobherald-delivery-finalizer');
    expect(binding?.spec?.['policyName']).toBe('jobherald-delivery-finalizer');
  });

  it('takes a ConfigMap as params, matches Job creations only and never blocks one', () => {
    expect(policy.spec.paramKind).toEqual({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(policy.spec.matchConstraints).toEqual({
      resourceRules: [
        { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
      ],
    });
    expect(policy.spec.failurePolicy).toBe('Ignore');
    expect(policy.spec.reinvocationPolicy).toBe('Never');
  });

  it('applies in the namespaces the ConfigMap lists, to Jobs that do not hold the finalizer yet', () => {
    expect(policy.spec.matchConditions).toEqual([
      { name: 'namespace-is-watched', expression: 'has(params.data) && request.namespace in params.data' },
      {
        name: 'finalizer-not-yet-held',
        expression: `!has(object.metadata.finalizers) || !("${DELIVERY_FINALIZER}" in object.metadata.finalizers)`,
      },
    ]);
  });

  it('adds the finalizer by an apply configuration, which merges into the set list', () => {
    expect(policy.spec.mutations).toEqual([
      {
        patchType: 'ApplyConfiguration',
        applyConfiguration: {
          expression: `Object{metadata: Object.metadata{finalizers: ["${DELIVERY_FINALIZER}"]}}`,
        },
      },
    ]);
  });
});

describe('charts/jobherald rendered with its values (real Helm)', () => {
  const API = 'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy';
  /** `helm template` for release "jh" in namespace "ops"; `apiVersions`: what the cluster serves. */
  const render = (opts: { set?: string[]; apiVersions?: string[] } = {}): Obj[] => {
    const args = ['template', 'jh', CHART, '--namespace', 'ops'];
    for (const v of opts.apiVersions ?? []) args.push('--api-versions', v);
    for (const s of opts.set ?? []) args.push('--set', s);
    return (loadAll(runHelm(args)) as (Obj | null)[]).filter((o): o is Obj => o !== null);
  };
  const kinds = (objects: Obj[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`);
  const hookOf = (objects: Obj[]): Obj | undefined =>
    objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['helm.sh/hook'] !== undefined);
  const rulesOf = (objects: Obj[], kind: string, name: string): string[] =>
    grants(objects.find((o) => o.kind === kind && o.metadata.name === name)?.rules ?? []);

  beforeAll(() => {
    helmBinary(); // built once by deploy/build-helm.sh (about 3 minutes cold), then cached
  }, HELM_BUILD_TIMEOUT_MS);

  describe('defaults, on a cluster that serves MutatingAdmissionPolicy (admissionPolicy.enabled: auto)', () => {
    let objects: Obj[];
    beforeAll(() => {
      objects = render({ apiVersions: [API] });
    });

    it('renders the policy and its binding, reading the ConfigMap the operator is told to keep', () => {
      expect(kinds(objects)).toEqual(
        expect.arrayContaining([
          'MutatingAdmissionPolicy/jh-jobherald-delivery-finalizer',
          'MutatingAdmissionPolicyBinding/jh-jobherald-delivery-finalizer',
        ]),
      );
      const binding = objects.find((o) => o.kind === 'MutatingAdmissionPolicyBinding');
      expect(binding?.spec?.['paramRef']).toEqual({
        name: 'jh-jobherald-watched-namespaces',
        namespace: 'ops',
        parameterNotFoundAction: 'Allow',
      });
      expect(argsOf(objects)).toContain('--admission-params=jh-jobherald-watched-namespaces');
    });

    it('grants exactly: Job patch cluster-wide, that ConfigMap, and the deletion of that one binding', () => {
      const operator = rulesOf(objects, 'ClusterRole', 'jh-jobherald');
      expect(operator.filter((g) => g.startsWith('batch/'))).toEqual([
        'batch/jobs:list',
        'batch/jobs:watch',
        'batch/jobs:patch',
      ]);
      const role = objects.find(
        (o) => o.kind === 'Role' && o.metadata.name === 'jh-jobherald-admission-params',
      );
      expect(role?.metadata.namespace).toBe('ops');
      expect(grants(role?.rules ?? [])).toEqual([
        'core/configmaps:create',
        'core/configmaps:get@jh-jobherald-watched-namespaces',
        'core/configmaps:update@jh-jobherald-watched-namespaces',
        'core/configmaps:patch@jh-jobherald-watched-namespaces',
      ]);
      expect(rulesOf(objects, 'ClusterRole', 'jh-jobherald-uninstall')).toEqual([
        'admissionregistration.k8s.io/mutatingadmissionpolicybindings:delete@jh-jobherald-delivery-finalizer',
      ]);
      for (const [kind, name] of [
        ['RoleBinding', 'jh-jobherald-admission-params'],
        ['RoleBinding', 'jh-jobherald-uninstall'],
        ['ClusterRoleBinding', 'jh-jobherald-uninstall'],
      ] as const) {
        const binding = objects.find((o) => o.kind === kind && o.metadata.name === name);
        expect(binding?.subjects, `${kind}/${name}`).toEqual([
          { kind: 'ServiceAccount', name: 'jh-jobherald', namespace: 'ops' },
        ]);
        expect(binding?.roleRef, `${kind}/${name}`).toMatchObject({
          kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole',
          name,
        });
      }
    });

    it("lets the hook stop the operator: the scale of the chart's own Deployment, in a Role, nothing else", () => {
      const deployment = objects.find((o) => o.kind === 'Deployment');
      expect(deployment?.metadata).toMatchObject({ name: 'jh-jobherald', namespace: 'ops' });
      const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === 'jh-jobherald-uninstall');
      expect(role?.metadata.namespace).toBe('ops');
      expect(role?.rules).toEqual([
        {
          apiGroups: ['apps'],
          resources: ['deployments/scale'],
          resourceNames: ['jh-jobherald'],
          verbs: ['get', 'patch'],
        },
      ]);
      const binding = objects.find(
        (o) => o.kind === 'RoleBinding' && o.metadata.name === 'jh-jobherald-uninstall',
      );
      expect(binding?.metadata.namespace).toBe('ops');
      // the only right on apps objects anywhere in the chart
      const apps = objects
        .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
        .flatMap((o) => grants(o.rules ?? []).map((g) => `${o.kind}/${o.metadata.name} ${g}`))
        .filter((g) => g.includes(' apps/'));
      expect(apps).toEqual([
        'Role/jh-jobherald-uninstall apps/deployments/scale:get@jh-jobherald',
        'Role/jh-jobherald-uninstall apps/deployments/scale:patch@jh-jobherald',
      ]);
      // and the hook names that Deployment
      expect(podOf(hookOf(objects)).containers[0]?.args).toContain(
        `--scale-down=${deployment?.metadata.namespace}/${deployment?.metadata.name}`,
      );
    });

    it('has a pre-delete hook that stops the operator, deletes the binding, then frees the Jobs, as the operator would run', () => {
      const hook = hookOf(objects);
      expect(hook?.metadata.name).toBe('jh-jobherald-release-finalizers');
      expect(hook?.metadata.namespace).toBe('ops');
      expect(hook?.metadata.annotations).toEqual({
        'helm.sh/hook': 'pre-delete',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const pod = podOf(hook);
      const deployment = podOf(objects.find((o) => o.kind === 'Deployment'));
      expect(pod.serviceAccountName).toBe('jh-jobherald');
      expect(pod.restartPolicy).toBe('Never');
      expect(pod.securityContext).toEqual(deployment.securityContext);
      expect(pod.containers[0]?.image).toBe(deployment.containers[0]?.image);
      expect(pod.containers[0]?.securityContext).toEqual(deployment.containers[0]?.securityContext);
      expect(pod.containers[0]?.args).toEqual([
        'release-finalizers',
        '--scale-down=ops/jh-jobherald',
        '--delete-admission-binding=jh-jobherald-delivery-finalizer',
      ]);
      // not selected by the metrics Service or the PodDisruptionBudget
      const labels = (hook?.spec as { template: { metadata: { labels: Record<string, string> } } }).template
        .metadata.labels;
      expect(labels['app.kubernetes.io/name']).toBeUndefined();
    });
  });

  it('without --api-versions (auto: the cluster is not known to serve it) renders no policy, still holds finalizers', () => {
    const objects = render();
    expect(objects.filter((o) => o.kind.startsWith('MutatingAdmissionPolicy'))).toEqual([]);
    expect(argsOf(objects)).toContain('--admission-params=jh-jobherald-watched-namespaces');
    expect(rulesOf(objects, 'ClusterRole', 'jh-jobherald')).toContain('batch/jobs:patch');
    expect(kinds(objects)).toContain('Role/jh-jobherald-admission-params');
    // the hook still stops the operator and frees the Jobs it gave the finalizer itself; there is no binding
    // to delete
    expect(podOf(hookOf(objects)).containers[0]?.args).toEqual([
      'release-finalizers',
      '--scale-down=ops/jh-jobherald',
    ]);
    expect(kinds(objects)).not.toContain('ClusterRole/jh-jobherald-uninstall');
    expect(rulesOf(objects, 'Role', 'jh-jobherald-uninstall')).toEqual([
      'apps/deployments/scale:get@jh-jobherald',
      'apps/deployments/scale:patch@jh-jobherald',
    ]);
  });

  it('admissionPolicy.enabled: true renders the policy whatever the cluster says', () => {
    expect(kinds(render({ set: ['admissionPolicy.enabled=true'] }))).toContain(
      'MutatingAdmissionPolicy/jh-jobherald-delivery-finalizer',
    );
  });

  it('admissionPolicy.enabled: false renders no policy even where the cluster serves it', () => {
    const objects = render({ set: ['admissionPolicy.enabled=false'], apiVersions: [API] });
    expect(objects.filter((o) => o.kind.startsWith('MutatingAdmissionPolicy'))).toEqual([]);
    expect(kinds(objects)).not.toContain('ClusterRole/jh-jobherald-uninstall');
    expect(argsOf(objects)).toContain('--admission-params=jh-jobherald-watched-namespaces');
    expect(podOf(hookOf(objects)).containers[0]?.args).toEqual([
      'release-finalizers',
      '--scale-down=ops/jh-jobherald',
    ]);
    expect(kinds(objects)).toContain('Role/jh-jobherald-uninstall');
  });

  it('refuses an admissionPolicy.enabled other than auto, true or false, by the schema and by the template', () => {
    expect(() => render({ set: ['admissionPolicy.enabled=yes'] })).toThrow(
      /at '\/admissionPolicy\/enabled': value must be one of 'auto', true, false/,
    );
    // the template's own guard, for those who install with --skip-schema-validation
    expect(() =>
      runHelm(['template', 'jh', CHART, '--skip-schema-validation', '--set', 'admissionPolicy.enabled=yes']),
    ).toThrow(/admissionPolicy.enabled must be auto, true or false, not "yes"/);
  });

  it('finalizers.enabled: false passes --no-finalizers and renders no policy, ConfigMap rights or hook', () => {
    const objects = render({
      set: ['finalizers.enabled=false', 'admissionPolicy.enabled=true'],
      apiVersions: [API],
    });
    const args = argsOf(objects);
    expect(args).toContain('--no-finalizers');
    expect(args.filter((a) => a.startsWith('--admission-params'))).toEqual([]);
    expect(objects.filter((o) => o.kind.startsWith('MutatingAdmissionPolicy'))).toEqual([]);
    expect(hookOf(objects)).toBeUndefined();
    expect(kinds(objects).filter((k) => /admission-params|uninstall/.test(k))).toEqual([]);
    // the delivery record annotation is still written on Jobs
    expect(rulesOf(objects, 'ClusterRole', 'jh-jobherald')).toContain('batch/jobs:patch');
  });

  it('uninstallHook.enabled: false renders no hook and no right to delete the binding or scale the Deployment', () => {
    const objects = render({ set: ['uninstallHook.enabled=false'], apiVersions: [API] });
    expect(hookOf(objects)).toBeUndefined();
    expect(kinds(objects).filter((k) => k.includes('uninstall'))).toEqual([]);
    expect(kinds(objects)).toContain('MutatingAdmissionPolicy/jh-jobherald-delivery-finalizer');
  });

  it('passes helm lint --strict with the policy on and with the finalizers off', () => {
    for (const set of [['admissionPolicy.enabled=true'], ['finalizers.enabled=false']]) {
      const args = ['lint', '--strict', CHART, ...set.flatMap((s) => ['--set', s])];
      expect(runHelm(args)).toContain('0 chart(s) failed');
    }
  });
});
