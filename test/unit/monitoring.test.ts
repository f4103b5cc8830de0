// The monitoring that ships in the chart, checked with the real tools: Helm renders the PrometheusRule and the
// dashboard ConfigMap; promtool (deploy/build-promtool.sh, cached) checks the rules, runs their unit tests
// (test/fixtures/monitoring/alerts.test.yaml: every alert fires on its input series and stays quiet
// otherwise) and parses every PromQL expression of the Grafana dashboard; and every metric and label they name
// is one the operator exports, read from a scrape of src/observability/metrics.ts's own registry.
import { cpSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.ts';
import {
  CHART,
  HELM_BUILD_TIMEOUT_MS,
  ROOT,
  helmBinary,
  helmTemplate,
  ofKind,
  parseDocuments,
  runHelm,
  type KubeObject,
  type TemplateOptions,
} from '../support/chart.ts';
import { GO_TOOL_BUILD_TIMEOUT_MS, prepareGoTool, runGoTool } from '../support/go-tools.ts';

const RELEASE = 'jh';
const NAMESPACE = 'ops';
/** what the alerts select by default: the labels prometheus-operator gives the chart's ServiceMonitor targets */
const DEFAULT_SELECTOR = 'job="jh-jobherald-metrics", namespace="ops"';
const RUNBOOK = 'https://github.com/jobherald/jobherald/blob/main/docs/runbook.md';
const FIXTURE = join(ROOT, 'test/fixtures/monitoring/alerts.test.yaml');
const DASHBOARD_FILE = join(CHART, 'dashboards/jobherald.json');
/** Labels Prometheus and prometheus-operator put on every scraped series, whatever the metric. */
const TARGET_LABELS = ['job', 'namespace', 'pod', 'instance', 'service', 'endpoint', 'container'];

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface PrometheusRule extends KubeObject {
  spec: { groups: { name: string; rules: AlertRule[] }[] };
}
interface ConfigMap extends KubeObject {
  data: Record<string, string>;
  metadata: KubeObject['metadata'] & { annotations?: Record<string, string> };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; datasource: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}
interface RulesTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

/** Why Helm could not be built, if it could not: each test that runs Helm fails with it (see beforeAll). */
let helmFailure: Error | undefined;
function helm(args: string[]): string {
  if (helmFailure !== undefined) throw helmFailure;
  return runHelm(args);
}
function template(options: TemplateOptions): string {
  if (helmFailure !== undefined) throw helmFailure;
  return helmTemplate(options);
}
const render = (values: Record<string, unknown>, release = RELEASE): KubeObject[] =>
  parseDocuments(template({ release, namespace: NAMESPACE, values }));
const prometheusRule = (values: Record<string, unknown> = {}): PrometheusRule => {
  const rules = ofKind(render({ 'monitoring.prometheusRule.enabled': true, ...values }), 'PrometheusRule');
  expect(rules).toHaveLength(1);
  return rules[0] as PrometheusRule;
};
const alertsOf = (rule: PrometheusRule): AlertRule[] => rule.spec.groups.flatMap((g) => g.rules);
const dashboardConfigMap = (values: Record<string, unknown> = {}): ConfigMap => {
  const maps = ofKind(render({ 'monitoring.dashboard.enabled': true, ...values }), 'ConfigMap').filter((o) =>
    o.metadata.name.endsWith('-dashboard'),
  );
  expect(maps).toHaveLength(1);
  return maps[0] as ConfigMap;
};

// ── What the operator exports ─────────────────────────────────────────────────────────────────────────────

/** Every series name a scrape of the operator's registry can hold, with the label names each may carry. */
async function exportedMetrics(): Promise<Map<string, Set<string>>> {
  const metrics = new Metrics();
  const text = await metrics.scrape();
  const exported = new Map<string, Set<string>>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] };
    const labels = new Set(metric.labelNames ?? []);
    if (type === 'histogram') {
      exported.set(`${name}_bucket`, new Set([...labels, 'le']));
      exported.set(`${name}_sum`, labels);
      exported.set(`${name}_count`, labels);
    } else if (type === 'summary') {
      exported.set(name, new Set([...labels, 'quantile']));
      exported.set(`${name}_sum`, labels);
      exported.set(`${name}_count`, labels);
    } else exported.set(name, labels);
  }
  return exported;
}

// ── What a PromQL expression names ────────────────────────────────────────────────────────────────────────

interface Selector {
  metric: string | undefined;
  labels: string[];
}
const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The vector selectors of a (valid: promtool parses it) PromQL expression: each metric name and the label
 * names it matches on. Strings, ranges, offsets and grouping clauses are dropped first, so that what is left
 * is selectors, functions (a name before "("), numbers, operators and keywords.
 */
function selectorsOf(expr: string): Selector[] {
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  rest = rest.replace(/\[[^\]]*\]/g, ' ').replace(/\boffset\s+-?\w+/g, ' ');
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const found: Selector[] = [];
  rest = rest.replace(
    /([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}/g,
    (_all, metric: string | undefined, body: string) => {
      found.push({
        metric,
        labels: [...body.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!),
      });
      return ' ';
    },
  );
  for (const [, number, name, call] of rest.matchAll(
    /(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_:][\w:]*)(\s*\()?/gi,
  )) {
    if (number !== undefined || call !== undefined || name === undefined) continue;
    if (!PROMQL_KEYWORDS.has(name.toLowerCase())) found.push({ metric: name, labels: [] });
  }
  return found;
}

/** What an expression names that the operator does not export: unknown metrics, labels a metric lacks. */
function unknownNames(expr: string, exported: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const { metric, labels } of selectorsOf(expr)) {
    if (metric === undefined) {
      problems.push(`a selector without a metric name in ${expr}`);
      continue;
    }
    const known = exported.get(metric);
    if (known === undefined) {
      problems.push(`${metric} is not exported`);
      continue;
    }
    for (const label of labels)
      if (!known.has(label) && !TARGET_LABELS.includes(label))
        problems.push(`${metric} has no label ${label}`);
  }
  return problems;
}

// ── promtool ──────────────────────────────────────────────────────────────────────────────────────────────

let work: string;
/** A fresh folder under the test's work folder. */
const folder = (name: string): string => mkdtempSync(join(work, `${name}-`));
/** A rules file (the PrometheusRule's spec, as Prometheus reads it) in `dir`. */
function writeRules(dir: string, spec: unknown): string {
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, dump(spec, { lineWidth: -1 }));
  return file;
}
const checkRules = (file: string) =>
  runGoTool('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', file]);
/** `promtool test rules` of the fixture, beside `spec` written as the rules.yaml it names. */
function testRules(spec: unknown) {
  const dir = folder('test');
  writeRules(dir, spec);
  cpSync(FIXTURE, join(dir, 'alerts.test.yaml'));
  return runGoTool('promtool', ['test', 'rules', join(dir, 'alerts.test.yaml')]);
}

/** GitHub's anchor for a Markdown heading. */
const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

// Builds what is missing, once. A throwing hook would only mark the tests skipped: a build failure is kept
// instead, and every test that needs the tool fails with it.
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'jobherald-monitoring-'));
  try {
    helmBinary(); // built once by deploy/build-helm.sh (about 3 minutes cold), then cached
  } catch (error) {
    helmFailure = error instanceof Error ? error : new Error(String(error));
  }
  prepareGoTool('promtool'); // built once by deploy/build-promtool.sh (about 18 minutes cold), then cached
}, HELM_BUILD_TIMEOUT_MS + GO_TOOL_BUILD_TIMEOUT_MS);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('selectorsOf (what the metric checks below rely on)', () => {
  it('finds every metric and matcher label of an expression, and nothing else', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le) (rate(a_bucket{job="x", le!="1e3"}[5m] offset 1h))) > 5 ' +
      'and on (job) b{code=~"y|z"} unless c * 1e3 or absent(d{job="x"}) > bool 2 unless label_replace(e, "f", "g", "h", "i")';
    expect(selectorsOf(expr)).toEqual([
      { metric: 'a_bucket', labels: ['job', 'le'] },
      { metric: 'b', labels: ['code'] },
      { metric: 'd', labels: ['job'] },
      { metric: 'c', labels: [] },
      { metric: 'e', labels: [] },
    ]);
  });

  it('reports a metric the operator does not export and a label a metric does not have', async () => {
    const exported = await exportedMetrics();
    expect(
      unknownNames(
        'rate(jobherald_nope_total[5m]) + sum(jobherald_deliveries_total{reslt="failed", pod="p"})',
        exported,
      ),
    ).toEqual(['jobherald_deliveries_total has no label reslt', 'jobherald_nope_total is not exported']);
  });
});

describe('monitoring defaults', () => {
  it('renders neither a PrometheusRule nor a dashboard ConfigMap unless enabled', () => {
    const objects = render({});
    expect(ofKind(objects, 'PrometheusRule')).toEqual([]);
    expect(ofKind(objects, 'ConfigMap').filter((o) => o.metadata.labels?.['grafana_dashboard'])).toEqual([]);
  });
});

describe('the PrometheusRule (monitoring.prometheusRule)', () => {
  const values = {
    'monitoring.prometheusRule.alertLabels': { team: 'platform' },
    'monitoring.prometheusRule.labels': { release: 'kube-prometheus-stack' },
  };

  it("is labelled like the chart's objects plus monitoring.prometheusRule.labels, in the release namespace", () => {
    const rule = prometheusRule(values);
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata).toMatchObject({
      name: 'jh-jobherald',
      namespace: NAMESPACE,
      labels: { 'app.kubernetes.io/instance': RELEASE, release: 'kube-prometheus-stack' },
    });
  });

  it('gives every alert a severity, the alert labels, a summary, a description and its runbook section', () => {
    const runbook = readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
    const alerts = alertsOf(prometheusRule(values));
    expect(alerts.length).toBeGreaterThanOrEqual(11);
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.alert).toContain(alert.labels['severity']);
      expect(alert.labels['team'], alert.alert).toBe('platform');
      expect(alert.annotations['summary'], alert.alert).toMatch(/\S/);
      expect(alert.annotations['description'], alert.alert).toMatch(/\S/);
      expect(alert.annotations['runbook_url']).toBe(`${RUNBOOK}#${alert.alert.toLowerCase()}`);
      expect(anchors, `docs/runbook.md has no section ${alert.alert}`).toContain(alert.alert.toLowerCase());
    }
  });

  it('covers what the chart promises: deliveries failing, integrations, waiting alerts, leader, process', () => {
    expect(alertsOf(prometheusRule()).map((a) => a.alert)).toEqual([
      'JobheraldDeliveriesFailing',
      'JobheraldSlackAuthFailing',
      'JobheraldIntegrationNotReady',
      'JobheraldIntegrationStalled',
      'JobheraldAlertsDelayed',
      'JobheraldDeliveryLatencyHigh',
      'JobheraldDown',
      'JobheraldNoLeader',
      'JobheraldMultipleLeaders',
      'JobheraldEventLoopLagHigh',
      'JobheraldRestarting',
    ]);
  });

  it('lists in values.schema.json exactly the alerts monitoring.prometheusRule.disabled can name', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
      properties: Record<string, { properties: Record<string, { properties: Record<string, unknown> }> }>;
    };
    const disabled = schema.properties['monitoring']?.properties['prometheusRule']?.properties[
      'disabled'
    ] as {
      items: { enum: string[] };
    };
    expect([...disabled.items.enum].sort()).toEqual(
      alertsOf(prometheusRule())
        .map((a) => a.alert)
        .sort(),
    );
  });

  it('leaves out the alerts named in monitoring.prometheusRule.disabled', () => {
    const names = alertsOf(
      prometheusRule({
        'monitoring.prometheusRule.disabled': ['JobheraldMultipleLeaders', 'JobheraldRestarting'],
      }),
    ).map((a) => a.alert);
    expect(names).toHaveLength(9);
    expect(names).not.toContain('JobheraldMultipleLeaders');
    expect(names).not.toContain('JobheraldRestarting');
  });

  it("selects only this release's series in every selector, or those of monitoring.prometheusRule.selector", () => {
    const check = (alerts: AlertRule[], selector: string): void => {
      for (const { alert, expr } of alerts) {
        const braces = expr.match(/\{[^}]*\}/g) ?? [];
        expect(braces.length, alert).toBe(selectorsOf(expr).length);
        for (const body of braces) expect(body, alert).toContain(`{${selector}`);
      }
    };
    check(alertsOf(prometheusRule()), DEFAULT_SELECTOR);
    const custom = alertsOf(
      prometheusRule({ 'monitoring.prometheusRule.selector': 'cluster="eu", job="jh"' }),
    );
    check(custom, 'cluster="eu", job="jh"');
    expect(custom.map((a) => a.expr).join('\n')).not.toContain('jh-jobherald-metrics');
  });

  it('uses only metrics the operator exports, with labels they have', async () => {
    const exported = await exportedMetrics();
    expect(alertsOf(prometheusRule()).flatMap((a) => unknownNames(a.expr, exported))).toEqual([]);
  });

  it('passes `promtool check rules` with every lint', () => {
    const run = checkRules(writeRules(folder('check'), prometheusRule(values).spec));
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('SUCCESS: 11 rules found');
    expect(run.status).toBe(0);
  });

  it("has a promtool unit test in which each alert fires, and one in which it doesn't", () => {
    const tests = (load(readFileSync(FIXTURE, 'utf8')) as RulesTestFile).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    for (const { alert } of alertsOf(prometheusRule())) {
      const cases = tests.filter((t) => t.alertname === alert);
      expect(
        cases.some((t) => t.exp_alerts.length > 0),
        `${alert} fires in no test`,
      ).toBe(true);
      expect(
        cases.some((t) => t.exp_alerts.length === 0),
        `${alert} is quiet in no test`,
      ).toBe(true);
    }
  });

  it('passes `promtool test rules` (test/fixtures/monitoring/alerts.test.yaml)', () => {
    const run = testRules(prometheusRule(values).spec);
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('fails those unit tests when an alert changes (a 10-minute window for JobheraldAlertsDelayed)', () => {
    const spec = prometheusRule(values).spec;
    const delayed = spec.groups[0]!.rules.find((r) => r.alert === 'JobheraldAlertsDelayed')!;
    delayed.expr = delayed.expr.replace('[5m]', '[10m]');
    const run = testRules(spec);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('alertname: JobheraldAlertsDelayed');
  });

  it('is refused by `promtool check rules` when an expression does not parse', () => {
    const spec = prometheusRule().spec;
    spec.groups[0]!.rules[0]!.expr = 'sum(rate(jobherald_deliveries_total[5m])';
    const run = checkRules(writeRules(folder('broken'), spec));
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/parse error|unclosed left parenthesis/);
  });
});

describe('the Grafana dashboard (monitoring.dashboard)', () => {
  const file = readFileSync(DASHBOARD_FILE, 'utf8');
  const dashboard = JSON.parse(file) as Dashboard;
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  /** every PromQL the dashboard runs: panel queries, and the selectors of its label_values() variables */
  const queries = [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list
      .filter((v) => v.type === 'query')
      .map((v) => {
        const query = typeof v.query === 'string' ? v.query : v.query.query;
        const selector = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1];
        if (selector === undefined) throw new Error(`variable ${v.name}: not label_values(selector, label)`);
        return selector;
      }),
  ];

  it('is charts/jobherald/dashboards/jobherald.json as it is, labelled grafana_dashboard: "1"', () => {
    const map = dashboardConfigMap();
    expect(map.metadata).toMatchObject({
      name: 'jh-jobherald-dashboard',
      namespace: NAMESPACE,
      labels: { grafana_dashboard: '1', 'app.kubernetes.io/instance': RELEASE },
    });
    expect(map.data).toEqual({ 'jobherald.json': file });
  });

  it('has one source: deploy/grafana/jobherald-dashboard.json is a link to the chart file, not a copy', () => {
    const deployed = join(ROOT, 'deploy/grafana/jobherald-dashboard.json');
    expect(lstatSync(deployed).isSymbolicLink()).toBe(true);
    expect(realpathSync(deployed)).toBe(realpathSync(DASHBOARD_FILE));
  });

  it('takes its labels, annotations and namespace from values (labels win over grafana_dashboard: "1")', () => {
    const map = dashboardConfigMap({
      'monitoring.dashboard.labels': { grafana_dashboard: 'jobherald' },
      'monitoring.dashboard.annotations': { grafana_folder: 'Operators' },
      'monitoring.dashboard.namespace': 'grafana',
    });
    expect(map.metadata.namespace).toBe('grafana');
    expect(map.metadata.labels?.['grafana_dashboard']).toBe('jobherald');
    expect(map.metadata.annotations).toEqual({ grafana_folder: 'Operators' });
  });

  it('is in the packaged chart (helm package), which renders the same ConfigMap', () => {
    const dir = folder('package');
    helm(['package', CHART, '--destination', dir]);
    const packaged = parseDocuments(
      helm([
        'template',
        RELEASE,
        join(dir, 'jobherald-0.1.0.tgz'),
        '--namespace',
        NAMESPACE,
        '--set',
        'monitoring.dashboard.enabled=true',
        '--show-only',
        'templates/dashboard-configmap.yaml',
      ]),
    );
    expect((packaged[0] as ConfigMap | undefined)?.data).toEqual({ 'jobherald.json': file });
  });

  it('queries the data source variable from every panel, on a 24-column grid, with unique panel ids', () => {
    expect(dashboard.uid).toBe('jobherald');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.datasource.uid, panel.title).toBe('${datasource}');
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('has only PromQL that promtool parses (each query as a recording rule, Grafana variables filled in)', () => {
    const filled = queries.map((q) => q.replace(/\$__\w+/g, '5m').replace(/\$\{?(\w+)\}?/g, 'x'));
    for (const q of filled) expect(q).not.toContain('$');
    const spec = {
      groups: [
        { name: 'dashboard', rules: filled.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) },
      ],
    };
    const run = checkRules(writeRules(folder('dashboard'), spec));
    expect(run.stdout).toContain(`SUCCESS: ${filled.length} rules found`);
    expect(run.status).toBe(0);
  });

  it('queries only metrics the operator exports, with labels they have', async () => {
    const exported = await exportedMetrics();
    expect(queries.flatMap((q) => unknownNames(q, exported))).toEqual([]);
  });
});

describe('values.schema.json for monitoring', () => {
  const refusal = (...args: string[]): string => {
    try {
      helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
    } catch (error) {
      if (error === helmFailure) throw error;
      return String((error as { stderr?: unknown }).stderr);
    }
    throw new Error(`helm template ${args.join(' ')} succeeded`);
  };

  it('refuses an alert name the chart does not have in monitoring.prometheusRule.disabled', () => {
    expect(refusal('--set-json', 'monitoring.prometheusRule.disabled=["JobheraldTypo"]')).toMatch(
      /monitoring\/prometheusRule\/disabled\/0.*value must be one of/s,
    );
  });

  it('refuses an unknown key under monitoring', () => {
    expect(refusal('--set', 'monitoring.dashbaord.enabled=true')).toMatch(
      /additional properties 'dashbaord' not allowed/,
    );
  });
});
