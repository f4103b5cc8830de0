// charts/jobherald rendered by the real Helm (deploy/build-helm.sh, cached) with the values that change what
// the operator does, asserted on the parsed objects: replicas and leader election, resources, every value the
// chart turns into a `jobherald controller` flag (and that the operator's own parser takes the result), the
// admission policy's modes against what the cluster serves, the example values files, and the `helm test`
// Pod. chart.test.ts covers the RBAC and the uninstall hook in depth.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CHART,
  HELM_BUILD_TIMEOUT_MS,
  ROOT,
  helmBinary,
  runHelm,
  type RenderedObject,
} from '../support/chart.ts';

interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  resources?: Record<string, Record<string, string>>;
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  restartPolicy?: string;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  imagePullSecrets?: { name: string }[];
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  securityContext?: Record<string, unknown>;
  containers: Container[];
}
type Obj = RenderedObject;

const API = 'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy';
/** `helm template` of release "jh" in namespace "ops" with these helm arguments (--set, --values...). */
const render = (...args: string[]): Obj[] =>
  (loadAll(runHelm(['template', 'jh', CHART, '--namespace', 'ops', ...args])) as (Obj | null)[]).filter(
    (o): o is Obj => o !== null,
  );
const setJson = (key: string, value: unknown): string[] => ['--set-json', `${key}=${JSON.stringify(value)}`];
const named = (objects: Obj[], kind: string, name?: string): Obj[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const only = (objects: Obj[], kind: string, name?: string): Obj => {
  const found = named(objects, kind, name);
  if (found.length !== 1) throw new Error(`${found.length} ${kind}/${name ?? '*'}, expected one`);
  return found[0]!;
};
const hook = (objects: Obj[], phase: string): Obj[] =>
  objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'] === phase);
const podOf = (o: Obj): PodSpec => {
  if (o.kind === 'Pod') return o.spec as unknown as PodSpec;
  const pod = (o.spec as { template?: { spec?: PodSpec } }).template?.spec;
  if (pod === undefined) throw new Error(`${o.kind}/${o.metadata.name}: no Pod template`);
  return pod;
};
const operator = (objects: Obj[]): Container => podOf(only(objects, 'Deployment')).containers[0]!;
const argsOf = (objects: Obj[]): string[] => operator(objects).args ?? [];
const flag = (args: string[], name: string): string[] =>
  args.filter((a) => a === `--${name}` || a.startsWith(`--${name}=`));
/** True when every key of `selector` has the same value in `labels`. */
const selects = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

beforeAll(() => {
  helmBinary(); // built once by deploy/build-helm.sh (about 3 minutes cold), then cached
}, HELM_BUILD_TIMEOUT_MS);

describe('replicas and leader election', () => {
  it('runs two replicas by default that elect a leader with the Lease their Role names', () => {
    const objects = render();
    expect(only(objects, 'Deployment').spec?.['replicas']).toBe(2);
    expect(flag(argsOf(objects), 'leader-elect')).toEqual(['--leader-elect']);
    expect(flag(argsOf(objects), 'leader-election-id')).toEqual(['--leader-election-id=jh-jobherald']);
    const lease = only(objects, 'Role', 'jh-jobherald-leader-election').rules?.find((r) => r.resourceNames);
    expect(lease?.resourceNames).toEqual(['jh-jobherald']);
  });

  it.each([
    [3, true],
    [1, false],
    [1, true],
    [0, false],
  ])('replicas: %i with leaderElect: %s', (replicas, leaderElect) => {
    const objects = render('--set', `replicas=${replicas}`, '--set', `leaderElect=${leaderElect}`);
    expect(only(objects, 'Deployment').spec?.['replicas']).toBe(replicas);
    expect(flag(argsOf(objects), 'leader-elect')).toEqual(leaderElect ? ['--leader-elect'] : []);
  });

  it('refuses more than one replica without leader election (each would send every alert)', () => {
    expect(() => render('--set', 'replicas=2', '--set', 'leaderElect=false')).toThrow(
      /replicas > 1 needs leaderElect: true/,
    );
  });

  it('names the Deployment, the Lease and its Role after fullnameOverride', () => {
    const objects = render('--set', 'fullnameOverride=herald');
    expect(only(objects, 'Deployment').metadata.name).toBe('herald');
    expect(flag(argsOf(objects), 'leader-election-id')).toEqual(['--leader-election-id=herald']);
    expect(
      only(objects, 'Role', 'herald-leader-election').rules?.find((r) => r.resourceNames)?.resourceNames,
    ).toEqual(['herald']);
  });
});

describe('resources', () => {
  const mine = { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } };

  it("sets the operator's, and the uninstall hook's by default, to resources", () => {
    const objects = render(...setJson('resources', mine));
    expect(operator(objects).resources).toEqual(mine);
    expect(podOf(only(hook(objects, 'pre-delete'), 'Job')).containers[0]?.resources).toEqual(mine);
  });

  it("gives the uninstall hook and the test Pod their own, leaving the operator's alone", () => {
    const small = { requests: { cpu: '5m', memory: '8Mi' }, limits: { memory: '16Mi' } };
    const objects = render(
      ...setJson('uninstallHook.resources', small),
      ...setJson('tests.resources', small),
    );
    expect(operator(objects).resources).toEqual({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
    expect(podOf(only(hook(objects, 'pre-delete'), 'Job')).containers[0]?.resources).toEqual(small);
    expect(podOf(only(hook(objects, 'test'), 'Pod')).containers[0]?.resources).toEqual(small);
  });

  it('bounds the test Pod by default', () => {
    expect(podOf(only(hook(render(), 'test'), 'Pod')).containers[0]?.resources).toEqual({
      requests: { cpu: '10m', memory: '16Mi' },
      limits: { memory: '32Mi' },
    });
  });
});

describe('values passed to the operator as flags', () => {
  it('passes each value as its flag, exactly once, free text intact', () => {
    const objects = render(
      ...setJson('clusterName', 'prod eu: #1 "west"'),
      ...setJson('clusterRuleNamespaces', ['ops', 'platform', 'ops']),
      ...setJson('integrationNamespaces', ['ops', 'team-data']),
      '--set',
      'logLevel=debug',
      '--set',
      'slack.workspaceRate=600/m:100',
      ...setJson('extraArgs', ['--recheck-interval=10m', '--channel-hold', '2h # not a comment: really']),
    );
    const args = argsOf(objects);
    expect(args[0]).toBe('controller');
    expect(flag(args, 'cluster-name')).toEqual(['--cluster-name=prod eu: #1 "west"']);
    expect(flag(args, 'cluster-rule-namespaces')).toEqual(['--cluster-rule-namespaces=ops,platform']);
    expect(flag(args, 'integration-namespaces')).toEqual(['--integration-namespaces=ops,team-data']);
    expect(flag(args, 'log-level')).toEqual(['--log-level=debug']);
    expect(flag(args, 'slack-workspace-rate')).toEqual(['--slack-workspace-rate=600/m:100']);
    // extraArgs come last, in order, so that they can override what the chart sets
    expect(args.slice(-3)).toEqual([
      '--recheck-interval=10m',
      '--channel-hold',
      '2h # not a comment: really',
    ]);
    // and each integration namespace gets its Secrets Role
    expect(
      named(objects, 'Role', 'jh-jobherald-secrets')
        .map((r) => r.metadata.namespace)
        .sort(),
    ).toEqual(['ops', 'team-data']);
  });

  it("leaves --slack-workspace-rate out by default (the operator's own default, 300/m:50), passes off", () => {
    expect(flag(argsOf(render()), 'slack-workspace-rate')).toEqual([]);
    expect(flag(argsOf(render('--set', 'slack.workspaceRate=off')), 'slack-workspace-rate')).toEqual([
      '--slack-workspace-rate=off',
    ]);
  });

  it('passes --allow-insecure-slack-api-url only with slack.allowInsecureAPIURL: true', () => {
    expect(flag(argsOf(render()), 'allow-insecure-slack-api-url')).toEqual([]);
    expect(
      flag(argsOf(render('--set', 'slack.allowInsecureAPIURL=true')), 'allow-insecure-slack-api-url'),
    ).toEqual(['--allow-insecure-slack-api-url']);
  });

  it('serves the OAuth redirect only with oauth.enabled, on its own port and Service, and needs an https publicURL', () => {
    const plain = render();
    expect(flag(argsOf(plain), 'oauth-bind-address')).toEqual([]);
    expect(plain.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).toEqual([
      'jh-jobherald-metrics',
    ]);
    const objects = render('--set', 'oauth.enabled=true', '--set', 'oauth.publicURL=https://jh.example.com');
    expect(flag(argsOf(objects), 'oauth-bind-address')).toEqual(['--oauth-bind-address=:8090']);
    expect(flag(argsOf(objects), 'oauth-public-url')).toEqual(['--oauth-public-url=https://jh.example.com']);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'jh-jobherald-oauth') as
      (Obj & { spec: { ports: { port: number; targetPort: string }[] } }) | undefined;
    expect(service?.spec.ports).toEqual([
      { name: 'oauth', port: 8090, targetPort: 'oauth', protocol: 'TCP' },
    ]);
    expect(() => render('--set', 'oauth.enabled=true')).toThrow(/publicURL/);
    expect(() =>
      render('--set', 'oauth.enabled=true', '--set', 'oauth.publicURL=http://jh.example.com'),
    ).toThrow(/publicURL/);
  });

  it('defaults the namespaces to the release namespace and the cluster name to kubernetes', () => {
    const args = argsOf(render());
    expect(flag(args, 'cluster-name')).toEqual(['--cluster-name=kubernetes']);
    expect(flag(args, 'cluster-rule-namespaces')).toEqual(['--cluster-rule-namespaces=ops']);
    expect(flag(args, 'integration-namespaces')).toEqual(['--integration-namespaces=ops']);
    expect(flag(args, 'log-level')).toEqual(['--log-level=info']);
  });

  it('adds extraEnv after POD_NAMESPACE', () => {
    const env = [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }];
    expect(operator(render(...setJson('extraEnv', env))).env?.map((e) => e.name)).toEqual([
      'POD_NAMESPACE',
      'NODE_OPTIONS',
    ]);
  });

  it("renders args that `jobherald controller`'s own parser accepts (no unknown flag, no value on a switch)", () => {
    for (const args of [
      argsOf(render('--values', join(CHART, 'ci/production-values.yaml'))),
      argsOf(render('--values', join(CHART, 'ci/single-replica-values.yaml'))),
    ]) {
      // --help: parse every flag, then print the usage and exit 0 without starting anything
      expect(() =>
        execFileSync(process.execPath, [join(ROOT, 'src/main.ts'), ...args, '--help'], {
          stdio: ['ignore', 'ignore', 'pipe'],
          encoding: 'utf8',
        }),
      ).not.toThrow();
    }
  });
});

describe('admissionPolicy.enabled against what the cluster serves', () => {
  const cases = (['auto', 'true', 'false', '"true"'] as const).flatMap((mode) =>
    [true, false].flatMap((served) => [true, false].map((finalizers) => ({ mode, served, finalizers }))),
  );
  it.each(cases)(
    'mode $mode, cluster serves the API: $served, finalizers: $finalizers',
    ({ mode, served, finalizers }) => {
      const objects = render(
        // "true" (a string, as some GitOps tools pass values) means what true means
        ...(mode === '"true"'
          ? ['--set-string', 'admissionPolicy.enabled=true']
          : ['--set', `admissionPolicy.enabled=${mode}`]),
        '--set',
        `finalizers.enabled=${finalizers}`,
        ...(served ? ['--api-versions', API] : []),
      );
      const expected = finalizers && (mode === 'true' || mode === '"true"' || (mode === 'auto' && served));
      const policy = named(objects, 'MutatingAdmissionPolicy', 'jh-jobherald-delivery-finalizer');
      const binding = named(objects, 'MutatingAdmissionPolicyBinding', 'jh-jobherald-delivery-finalizer');
      expect(policy).toHaveLength(expected ? 1 : 0);
      expect(binding).toHaveLength(expected ? 1 : 0);
      expect(named(objects, 'ClusterRole', 'jh-jobherald-uninstall')).toHaveLength(expected ? 1 : 0);
      const args = argsOf(objects);
      expect(flag(args, 'no-finalizers')).toEqual(finalizers ? [] : ['--no-finalizers']);
      expect(flag(args, 'admission-params')).toEqual(
        finalizers ? ['--admission-params=jh-jobherald-watched-namespaces'] : [],
      );
      const uninstall = hook(objects, 'pre-delete');
      expect(uninstall).toHaveLength(finalizers ? 1 : 0);
      if (finalizers)
        expect(flag(podOf(uninstall[0]!).containers[0]?.args ?? [], 'delete-admission-binding')).toEqual(
          expected ? ['--delete-admission-binding=jh-jobherald-delivery-finalizer'] : [],
        );
    },
  );
});

describe('the example values files (ci/)', () => {
  it('production-values.yaml renders what its comments say', () => {
    const objects = render('--values', join(CHART, 'ci/production-values.yaml'));
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec?.['replicas']).toBe(3);
    const args = argsOf(objects);
    expect(flag(args, 'cluster-name')).toEqual(['--cluster-name=prod-eu']);
    expect(flag(args, 'slack-workspace-rate')).toEqual(['--slack-workspace-rate=600/m:100']);
    expect(flag(args, 'integration-namespaces')).toEqual([
      '--integration-namespaces=jobherald-system,team-data',
    ]);
    expect(
      named(objects, 'Role', 'jh-jobherald-secrets')
        .map((r) => r.metadata.namespace)
        .sort(),
    ).toEqual(['jobherald-system', 'team-data']);
    expect(operator(objects).image).toBe('registry.example.com/mirror/jobherald:0.1.0');
    const test = podOf(only(hook(objects, 'test'), 'Pod'));
    expect(test.containers[0]?.image).toBe('registry.example.com/mirror/busybox:1.37');
    expect(test.imagePullSecrets).toEqual([{ name: 'registry-mirror' }]);
    expect(only(objects, 'ServiceMonitor').metadata.labels?.['release']).toBe('kube-prometheus-stack');
  });

  it('single-replica-values.yaml renders one unelected replica, no finalizers, no PDB, no hooks', () => {
    const objects = render('--values', join(CHART, 'ci/single-replica-values.yaml'));
    expect(only(objects, 'Deployment').spec?.['replicas']).toBe(1);
    expect(flag(argsOf(objects), 'leader-elect')).toEqual([]);
    expect(flag(argsOf(objects), 'no-finalizers')).toEqual(['--no-finalizers']);
    expect(named(objects, 'PodDisruptionBudget')).toEqual([]);
    expect(objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'] !== undefined)).toEqual([]);
  });
});

describe('the helm test Pod', () => {
  let objects: Obj[];
  let test: Obj;
  beforeAll(() => {
    objects = render();
    test = only(hook(objects, 'test'), 'Pod');
  });

  it('is a Helm test hook, replaced by the next run and kept when it fails', () => {
    expect(test.metadata.name).toBe('jh-jobherald-test-metrics');
    expect(test.metadata.namespace).toBe('ops');
    expect(test.metadata.annotations).toEqual({
      'helm.sh/hook': 'test',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(podOf(test).restartPolicy).toBe('Never');
  });

  it("runs wget, no shell, against /metrics of the chart's Service, which serves the operator's metrics port", () => {
    const service = only(objects, 'Service') as Obj & {
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
    };
    const [port] = service.spec.ports;
    expect(podOf(test).containers[0]?.command).toEqual([
      'wget',
      '-q',
      '-O',
      '/dev/null',
      '-T',
      '10',
      `http://${service.metadata.name}.${service.metadata.namespace}.svc:${port?.port}/metrics`,
    ]);
    expect(podOf(test).containers[0]?.args).toBeUndefined();
    // the Service reaches the operator's Pods on the port the operator serves /metrics on
    const deployment = only(objects, 'Deployment') as Obj & {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    expect(selects(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
    const metricsPort = operator(objects).ports?.find((p) => p.name === port?.targetPort)?.containerPort;
    expect(flag(argsOf(objects), 'metrics-bind-address')).toEqual([`--metrics-bind-address=:${metricsPort}`]);
  });

  it('is not itself selected by the Service, the PodDisruptionBudget or the Deployment', () => {
    const selectors = [
      (only(objects, 'Service').spec as { selector: Record<string, string> }).selector,
      (only(objects, 'PodDisruptionBudget').spec as { selector: { matchLabels: Record<string, string> } })
        .selector.matchLabels,
      (only(objects, 'Deployment').spec as { selector: { matchLabels: Record<string, string> } }).selector
        .matchLabels,
    ];
    for (const selector of selectors) expect(selects(selector, test.metadata.labels)).toBe(false);
    expect(test.metadata.labels?.['app.kubernetes.io/instance']).toBe('jh');
  });

  it('runs non-root, read-only, without capabilities or an API token', () => {
    const pod = podOf(test);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext?.['runAsUser']).toBeGreaterThan(0);
    expect(pod.containers[0]?.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('takes the image from tests.image, the Service port and names from the values', () => {
    const pod = podOf(
      only(
        hook(
          render(
            '--set',
            'tests.image.repository=mirror.example/tools/wget',
            '--set-string',
            'tests.image.tag=2',
            '--set',
            'tests.image.pullPolicy=Always',
            '--set',
            'service.port=9090',
            '--set',
            'fullnameOverride=herald',
            ...setJson('imagePullSecrets', [{ name: 'pull' }]),
            ...setJson('nodeSelector', { pool: 'system' }),
            ...setJson('tolerations', [{ key: 'system', operator: 'Exists', effect: 'NoSchedule' }]),
          ),
          'test',
        ),
        'Pod',
      ),
    );
    expect(pod.containers[0]?.image).toBe('mirror.example/tools/wget:2');
    expect(pod.containers[0]?.imagePullPolicy).toBe('Always');
    expect(pod.containers[0]?.command?.at(-1)).toBe('http://herald-metrics.ops.svc:9090/metrics');
    expect(pod.imagePullSecrets).toEqual([{ name: 'pull' }]);
    expect(pod.nodeSelector).toEqual({ pool: 'system' });
    expect(pod.tolerations).toEqual([{ key: 'system', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('defaults to a pinned, fully qualified BusyBox', () => {
    expect(podOf(test).containers[0]?.image).toBe('docker.io/library/busybox:1.37');
    expect(podOf(test).containers[0]?.imagePullPolicy).toBe('IfNotPresent');
  });

  it('is left out with tests.enabled: false, and by helm template --skip-tests, and nothing else changes', () => {
    const ids = (list: Obj[]): string[] => list.map((o) => `${o.kind}/${o.metadata.name}`);
    const without = ids(objects).filter((id) => id !== 'Pod/jh-jobherald-test-metrics');
    expect(ids(render('--set', 'tests.enabled=false'))).toEqual(without);
    expect(ids(render('--skip-tests'))).toEqual(without);
  });

  it('is not in deploy/jobherald.yaml (kubectl apply would create it as a plain Pod)', () => {
    const install = loadAll(readFileSync(join(ROOT, 'deploy/jobherald.yaml'), 'utf8')) as (Obj | null)[];
    expect(install.filter((o) => o?.kind === 'Pod')).toEqual([]);
  });
});
