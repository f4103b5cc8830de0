// charts/jobherald/values.schema.json, as Helm itself applies it (the real Helm, deploy/build-helm.sh, cached):
// every value in values.yaml is typed and described; the chart's own objects refuse unknown keys; Helm refuses
// bad values with a message that names the value, and accepts the defaults, the example values files in ci/
// and the examples values.yaml and docs/install.md give; `helm lint --strict` passes. The schema's pattern for
// slack.workspaceRate is checked against the operator's own parser of --slack-workspace-rate.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseWorkspaceRate } from '../../src/delivery/limits.ts';
import { CHART, HELM_BUILD_TIMEOUT_MS, helmBinary, runHelm } from '../support/chart.ts';

interface Schema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  definitions?: Record<string, Schema>;
}

const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const ciFiles = readdirSync(join(CHART, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();

/** The node a `$ref` points to (local `#/definitions/...` only), with the referring node's description. */
function resolve(node: Schema): Schema {
  if (node.$ref === undefined) return node;
  const name = /^#\/definitions\/(.+)$/.exec(node.$ref)?.[1];
  const target = name === undefined ? undefined : schema.definitions?.[name];
  if (target === undefined) throw new Error(`unresolvable $ref ${node.$ref}`);
  return { ...target, description: node.description ?? target.description };
}
const typesOf = (node: Schema): string[] => [
  ...(node.type === undefined ? [] : [node.type].flat()),
  ...(node.oneOf ?? []).flatMap((alt) => typesOf(resolve(alt))),
];
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Problems with the schema's coverage of values.yaml: a value the schema does not know, a value without a
 * description or a type, one of the chart's own objects that accepts unknown keys, and (for the chart's own
 * objects, not the shared Kubernetes-shaped definitions) a schema property values.yaml does not hold.
 */
function coverage(vals: Record<string, unknown>, node: Schema, path: string): string[] {
  const problems: string[] = [];
  if (node.additionalProperties !== false) problems.push(`${path || '/'}: accepts unknown keys`);
  for (const [key, value] of Object.entries(vals)) {
    const at = `${path}/${key}`;
    const child = node.properties?.[key];
    if (child === undefined) {
      problems.push(`${at}: not in the schema`);
      continue;
    }
    const resolved = resolve(child);
    if (!resolved.description) problems.push(`${at}: no description`);
    if (typesOf(resolved).length === 0) problems.push(`${at}: no type`);
    if (isMap(value) && resolved.properties !== undefined) {
      problems.push(...coverage(value, resolved, at));
      if (child.$ref === undefined)
        for (const key of Object.keys(resolved.properties))
          if (!(key in value)) problems.push(`${at}/${key}: in the schema, not in values.yaml`);
    }
  }
  return problems;
}

/** Runs helm and returns what it wrote (stdout, then stderr); fails the test if helm succeeds. */
function helmRefuses(args: string[]): string {
  try {
    runHelm(args);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: unknown; stderr?: unknown };
    if (typeof stderr !== 'string') throw error;
    return `${typeof stdout === 'string' ? stdout : ''}${stderr}`;
  }
  throw new Error(`helm ${args.join(' ')} succeeded`);
}
const template = (...args: string[]): string[] => ['template', 'jh', CHART, '--namespace', 'ops', ...args];
const SCHEMA_ERROR =
  "values don't meet the specifications of the schema(s) in the following chart(s):\njobherald:";

describe('charts/jobherald/values.schema.json (the file)', () => {
  it('is JSON Schema draft-07, the dialect Helm 3 validates values with', () => {
    expect(schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
    });
  });

  it("types and describes every value in values.yaml and refuses unknown keys in the chart's own objects", () => {
    expect(coverage(values, schema, '')).toEqual([]);
  });

  it('describes no value that values.yaml does not hold (but `global`, which Helm passes to subcharts)', () => {
    expect(Object.keys(schema.properties ?? {}).filter((k) => !(k in values))).toEqual(['global']);
  });

  it('names, for admissionPolicy.enabled, exactly what the chart accepts: auto, true and false', () => {
    const node = schema.properties?.['admissionPolicy']?.properties?.['enabled'];
    expect(node?.enum).toEqual(['auto', true, false, 'true', 'false']);
  });
});

describe('Helm with values.schema.json', () => {
  beforeAll(() => {
    helmBinary(); // built once by deploy/build-helm.sh (about 3 minutes cold), then cached
  }, HELM_BUILD_TIMEOUT_MS);

  // [what a user passes, where Helm says the problem is, what it says]
  const refused: [string[], string, RegExp][] = [
    [['--set', 'replicas=two'], '/replicas', /got string, want integer/],
    [['--set', 'replicaCount=2'], '', /additional properties 'replicaCount' not allowed/],
    [['--set', 'image.tga=v1'], '/image', /additional properties 'tga' not allowed/],
    [['--set', 'resources.limit.memory=1Gi'], '/resources', /additional properties 'limit' not allowed/],
    [
      ['--set', 'resources.requests.memory=lots'],
      '/resources/requests/memory',
      /'lots' does not match pattern/,
    ],
    [['--set', 'logLevel=verbose'], '/logLevel', /value must be one of 'debug', 'info', 'warn', 'error'/],
    [
      ['--set', 'admissionPolicy.enabled=yes'],
      '/admissionPolicy/enabled',
      /value must be one of 'auto', true/,
    ],
    [['--set', 'finalizers.enabled=no'], '/finalizers/enabled', /got string, want boolean/],
    [['--set', 'tests.enabled=yes'], '/tests/enabled', /got string, want boolean/],
    [['--set', 'tests.imag.tag=1'], '/tests', /additional properties 'imag' not allowed/],
    [['--set', 'slack.workspaceRate=300/min'], '/slack/workspaceRate', /'300\/min' does not match pattern/],
    [['--set', 'slack.rate=300/m'], '/slack', /additional properties 'rate' not allowed/],
    [['--set', 'clusterName='], '/clusterName', /minLength: got 0, want 1/],
    [
      ['--set', 'integrationNamespaces={Team_A}'],
      '/integrationNamespaces/0',
      /'Team_A' does not match pattern/,
    ],
    [
      ['--set', 'podAnnotations.prometheus\\.io/scrape=true'],
      '/podAnnotations/prometheus.io~1scrape',
      /got boolean, want string/,
    ],
    [['--set', 'service.port=0'], '/service/port', /minimum: got 0, want 1/],
    [['--set', 'service.type=ExternalName'], '/service/type', /value must be one of 'ClusterIP'/],
    [['--set', 'serviceMonitor.interval=30 seconds'], '/serviceMonitor/interval', /does not match pattern/],
    [['--set', 'image.pullPolicy=always'], '/image/pullPolicy', /value must be one of 'Always'/],
    // --set reads 2 as a number, which the image reference would render as "%!s(int64=2)": --set-string it
    [['--set', 'image.tag=2'], '/image/tag', /got number, want string/],
    [['--set', 'extraArgs=--recheck-interval=10m'], '/extraArgs', /got string, want array/],
  ];
  it.each(refused)('refuses %j, naming %s', (args, at, message) => {
    const stderr = helmRefuses(template(...args));
    expect(stderr).toContain(SCHEMA_ERROR);
    const line = stderr.split('\n').find((l) => l.startsWith(`- at '${at}': `));
    expect(line, stderr).toBeDefined();
    expect(stderr.slice(stderr.indexOf(line!))).toMatch(message);
  });

  it('refuses bad values in helm lint --strict too', () => {
    const stderr = helmRefuses(['lint', '--strict', CHART, '--set', 'replicas=two']);
    expect(stderr).toContain('1 chart(s) failed');
    expect(stderr).toContain("at '/replicas': got string, want integer");
  });

  // What values.yaml's comments, docs/install.md and the operator's flag help show.
  const accepted: string[][] = [
    [],
    ['--set', 'clusterName=prod-eu'],
    ['--set', 'extraArgs={--recheck-interval=10m}'],
    ['--set', 'replicas=1', '--set', 'leaderElect=false'],
    ['--set', 'replicas=0'],
    ['--set', 'admissionPolicy.enabled=true'],
    ['--set', 'admissionPolicy.enabled=false'],
    ['--set-string', 'admissionPolicy.enabled=true'],
    ['--set', 'slack.workspaceRate=600/m:100'],
    ['--set', 'slack.workspaceRate=10/s'],
    ['--set', 'slack.workspaceRate=off'],
    ['--set', 'integrationNamespaces={jobherald-system,team-data}'],
    ['--set', 'resources.requests.cpu=0.5', '--set', 'resources.limits.memory=1Gi'],
    ['--set', 'podDisruptionBudget.maxUnavailable=50%'],
    ['--set', 'serviceMonitor.enabled=true', '--set', 'serviceMonitor.scrapeTimeout=10s'],
    ['--set', 'tests.enabled=false'],
    ['--set', 'global.imageRegistry=registry.example.com'],
    ...ciFiles.map((f) => ['--values', join(CHART, 'ci', f)]),
  ];
  it.each(accepted.map((args) => [args.join(' ') || '(the defaults)', args] as const))(
    'accepts %s',
    (_, args) => {
      expect(runHelm(template(...args))).toContain('kind: Deployment');
    },
  );

  it('has example values files in ci/ (as chart-testing reads them)', () => {
    expect(ciFiles).toEqual(['production-values.yaml', 'single-replica-values.yaml']);
  });

  it('passes helm lint --strict with the defaults and with each example values file', () => {
    for (const args of [[], ...ciFiles.map((f) => ['--values', join(CHART, 'ci', f)])]) {
      const out = runHelm(['lint', '--strict', CHART, ...args]);
      expect(out, args.join(' ')).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(out, args.join(' ')).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('lets slack.workspaceRate through exactly when the operator would parse it (empty: its default)', () => {
    const samples = [
      '300/m',
      '300/m:50',
      '5/s:50',
      '0.5/s',
      '00.5/m',
      '1.0/m',
      '600/m:01',
      'off',
      '0/m',
      '0.0/s',
      '300/m:0',
      '300/min',
      '300/h',
      '300',
      '300/m:',
      '/m',
      '.5/m',
      '-1/m',
      '1e3/m',
      'OFF',
      'none',
    ];
    const operator = (rate: string): boolean => {
      try {
        parseWorkspaceRate(rate);
        return true;
      } catch {
        return false;
      }
    };
    const chart = (rate: string): boolean => {
      try {
        runHelm(
          template('--set-string', `slack.workspaceRate=${rate}`, '--show-only', 'templates/deployment.yaml'),
        );
        return true;
      } catch {
        return false;
      }
    };
    const verdicts = samples.map((rate) => ({ rate, operator: operator(rate), chart: chart(rate) }));
    expect(verdicts.filter((v) => v.operator !== v.chart)).toEqual([]);
    // both kinds are sampled, so the agreement means something
    expect(verdicts.filter((v) => v.operator).length).toBeGreaterThan(4);
    expect(verdicts.filter((v) => !v.operator).length).toBeGreaterThan(4);
    expect(chart('')).toBe(true);
  });
});
