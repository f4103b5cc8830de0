// The delivery-state row of `npm run bench` (issue 7, item 4; quality bars P5, P6, P7): the delivery record on
// the Job (finalizer jobherald.dev/delivery while an outcome may still be owed, one annotation once recorded)
// measured with 50,000 Jobs in the cluster, 5,000 of them running under a rule that wants only Cancelled.
//
// The Jobs carry `spec.managedBy`, so the Job controller leaves them alone; the bench writes their status itself
// (bench/support/managed-jobs.ts). Every finished Job finished an hour before the rule exists.
//
// Phases, each measured with the API server's own request counts (`apiserver_request_total`, before/after):
//   create     the Jobs, 32 requests in flight (POST, then PATCH …/status)
//   late rule  (order B) the operator starts with no rule; then the rule is created
//   reset      operator stopped, that rule deleted, the finalizers stripped by the bench (not measured)
//   start      (order A, the interesting one) a new rule exists, then the operator starts with every Job there
//   delete     N running Jobs deleted (background propagation): each alerted Cancelled once, each released
//   admission  the chart's MutatingAdmissionPolicy installed; new Jobs get the finalizer at creation; half the
//              matched ones deleted, half completed (plus unmatched Jobs in watched and other namespaces)
//   cleanup    finalizers stripped, namespaces deleted
// Nothing else writes Jobs in those windows (the bench's own requests in a window are listed and subtracted).
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Watch } from '@kubernetes/client-node';
import {
  DEFAULT_ADMISSION_PARAMS,
  DELIVERY_FINALIZER,
  DELIVERY_RECORD_ANNOTATION,
} from '../src/api/job-metadata.ts';
import type { NotificationRule } from '../src/api/types.ts';
import { up, down } from '../src/dev/cluster/control-plane.ts';
import { rssBytes } from '../src/dev/cluster/processes.ts';
import {
  ApiClient,
  apiserverRequests,
  countOf,
  requestDelta,
  writesTo,
  type ApiRequestCounts,
} from './support/apiserver.ts';
import { connect, ensureNamespace, pool, sleep, type Kube } from './support/kube.ts';
import {
  createManagedFleet,
  finishedStatus,
  jobPath,
  managedJobBody as jobBody,
  runningStatus,
} from './support/managed-jobs.ts';
import {
  createIntegration,
  createTokenSecret,
  installCrds,
  operatorBuild,
  RESULTS,
  startOperator,
  type OperatorProcess,
} from './support/operator.ts';
import {
  BOT_TOKEN,
  CHANNEL_LIMITS_ONLY,
  jobsIn,
  startEmulator,
  type EmulatorProcess,
} from './support/slack.ts';
import { median, parseMetrics, percentile, sum, value, type Scrape } from './support/stats.ts';

export interface DeliveryStateConfig {
  /** Jobs in the cluster, running ones included */
  jobs: number;
  /** running Jobs, all selected by the rule */
  running: number;
  /** running Jobs deleted in the last phase */
  deletions: number;
  /** new matched Jobs created with the admission policy installed (0: leave that phase out) */
  admission: number;
  /** requests in flight while creating Jobs, deleting them, stripping finalizers */
  concurrency: number;
  /** also measure order B (operator first, rule created later) */
  lateRule: boolean;
  settleSeconds: number;
  cluster: string;
  keepCluster: boolean;
}

const SYSTEM_NS = 'ds-system';
/** the rule selects these (and the label); DS_OTHER_NS is outside its selector */
const SELECTED_NS = ['ds-0', 'ds-1', 'ds-2'];
const OTHER_NS = 'ds-3';
const JOB_NAMESPACES = [...SELECTED_NS, OTHER_NS];
const LABEL = 'bench.jobherald.dev/alert';
const CHANNEL = { id: 'CDSALERTS1', name: 'ds-alerts' };
const RULE_LATE = 'cancelled-late';
const RULE = 'cancelled';
const RUNNING_PATTERN = /\b(run-\d{5,})\b/g;
const GROUP_PATH = '/apis/jobherald.dev/v1alpha1';
const QUIET_MS = 6_000; // > 2 coalescing intervals of rule status writes
const MiB = 1024 * 1024;

// ------------------------------------------------------------------------------------------------ figures

/** One measured window. */
export interface WindowFigures {
  name: string;
  seconds: number;
  /** API server requests in the window, by `VERB resource[/subresource]` (the bench's own listed apart) */
  api: Record<string, number>;
  /** the same by response code, for jobs and notificationrules */
  apiCodes: Record<string, number>;
  /** the bench's own requests in the window (already in `api`) */
  benchOwn: Record<string, number>;
  jobPatches: number;
  jobGets: number;
  jobLists: number;
  /** PATCH/PUT on notificationrules/status */
  ruleStatusWrites: number;
  /** MODIFIED events of the rule seen by the bench's watch */
  ruleVersions: number;
  /** the operator's own counters over the window */
  jobWrites: { hold: number; record: number; release: number };
  kubeRequests: Record<string, number>;
  timedOut: boolean;
}

export interface StartFigures extends WindowFigures {
  /** spawn → /readyz 200 */
  readyMs?: number;
  /** the operator's own 'ready' log line (ms since its start) */
  readyLogMs?: number;
  /** spawn (order A) or rule created (order B) → the operator's hold count reached the running Jobs (±250 ms) */
  allHeldMs?: number;
  /** … → the operator's last write of the window (holds, rule status) */
  lastWriteMs: number;
  /** Jobs carrying the finalizer after the window, and how many of them are the running selected ones */
  held: number;
  heldRunningSelected: number;
  /** Jobs carrying the delivery record annotation */
  recorded: number;
  ruleBytes: number;
  ruleReady: boolean;
  slackMessages: number;
}

export interface DeletionFigures extends WindowFigures {
  deleted: number;
  /** Jobs of the deleted set named in exactly one / more than one / no message */
  alertedOnce: number;
  duplicated: number;
  lost: number;
  /** messages naming other (not deleted) Jobs */
  spurious: number;
  messages: number;
  digests: number;
  burstSeconds: number;
  /** last DELETE answered → every deleted Job named in Slack / gone from the API server */
  allAlertedAfterBurstSeconds?: number;
  allGoneAfterBurstSeconds?: number;
  /** DELETE answered → first message naming the Job */
  alertP50Ms?: number;
  alertP99Ms?: number;
  gone: number;
  heldAfter: number;
  ruleBytesAfter: number;
  deliveriesInStatus: number;
}

export interface AdmissionFigures {
  /** the namespaces in the operator's params ConfigMap when the policy was installed */
  scope: string[];
  matched: number;
  unmatchedWatched: number;
  otherNamespace: number;
  /** Jobs that came back from their POST with the finalizer already on */
  heldAtCreation: { matched: number; unmatchedWatched: number; otherNamespace: number };
  createSeconds: number;
  /** created (running / finished) until the operator is quiet */
  admitted: WindowFigures;
  /** half the matched Jobs deleted, the other half completed, until the operator is quiet */
  ended: WindowFigures & {
    deleted: number;
    completed: number;
    alertedOnce: number;
    duplicated: number;
    lost: number;
    /** messages naming a completed Job (the rule wants only Cancelled) */
    completedNamed: number;
    gone: number;
  };
  /** of every Job this phase created, those still holding the finalizer at the end */
  heldAfter: number;
}

export interface DeliveryStateFigures {
  config: DeliveryStateConfig;
  composition: {
    running: number;
    finishedSelected: number;
    finishedUnselectedByLabel: number;
    finishedOtherNamespace: number;
    failed: number;
  };
  create?: { jobs: number; seconds: number; jobsPerSecond: number; requests: number };
  lateRule?: StartFigures & {
    readyNoRuleMs?: number;
    /** the same process idle with no rule, and again once it holds the running Jobs (RSS, V8 heap used) */
    noRule?: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
    afterHolds?: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  };
  start?: StartFigures;
  rss?: { bytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number };
  deletion?: DeletionFigures;
  admission?: AdmissionFigures;
  operatorLogs: { file: string; warn: number; error: number; messages: Record<string, number> }[];
  loadAverage: { before: number[]; after?: number[] };
}

// ------------------------------------------------------------------------------------------------ the Jobs

interface PlannedJob {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  status: Record<string, unknown>;
  running: boolean;
  selected: boolean;
}

/**
 * Finished Job i: every 5th selected (label yes, selected namespace); 2 in 5 labelled no in a selected
 * namespace; 2 in 5 labelled yes in a namespace outside the selector. Every 8th fails. Running Jobs: all
 * selected, spread over the selected namespaces.
 */
function plan(config: DeliveryStateConfig, now: number): PlannedJob[] {
  const finished = Math.max(0, config.jobs - config.running);
  const jobs: PlannedJob[] = [];
  const pad = (i: number) => String(i).padStart(5, '0');
  for (let i = 0; i < config.running; i++) {
    jobs.push({
      namespace: SELECTED_NS[i % SELECTED_NS.length]!,
      name: `run-${pad(i)}`,
      labels: { [LABEL]: 'yes' },
      status: runningStatus(now - 1800_000),
      running: true,
      selected: true,
    });
  }
  for (let i = 0; i < finished; i++) {
    const slot = i % 5;
    const selected = slot === 0;
    const namespace = slot >= 3 ? OTHER_NS : SELECTED_NS[i % SELECTED_NS.length]!;
    const failed = i % 8 === 7;
    const status = finishedStatus(failed ? 'Failed' : 'Succeeded', now - 2 * 3600_000, now - 3600_000);
    jobs.push({
      namespace,
      name: `fin-${pad(i)}`,
      labels: { [LABEL]: slot === 1 || slot === 2 ? 'no' : 'yes' },
      status,
      running: false,
      selected,
    });
  }
  return jobs;
}

interface JobSummary {
  namespace: string;
  name: string;
  held: boolean;
  recorded: boolean;
}

/** Every Job of the namespaces, paginated (1,000 a page), reduced to what the figures need. */
async function listJobs(api: ApiClient, namespaces: readonly string[]): Promise<JobSummary[]> {
  const out: JobSummary[] = [];
  for (const namespace of namespaces) {
    let next: string | undefined;
    do {
      const query = `limit=1000${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
      const page = await api.json<{
        metadata: { continue?: string };
        items: { metadata: { name: string; finalizers?: string[]; annotations?: Record<string, string> } }[];
      }>('GET', `/apis/batch/v1/namespaces/${namespace}/jobs?${query}`);
      for (const item of page.items) {
        out.push({
          namespace,
          name: item.metadata.name,
          held: item.metadata.finalizers?.includes(DELIVERY_FINALIZER) === true,
          recorded: item.metadata.annotations?.[DELIVERY_RECORD_ANNOTATION] !== undefined,
        });
      }
      next = page.metadata.continue || undefined;
    } while (next !== undefined);
  }
  return out;
}

/** Removes jobherald's finalizer from every Job that holds it (what `jobherald release-finalizers` does). */
async function stripFinalizers(api: ApiClient, concurrency: number): Promise<number> {
  const held = (await listJobs(api, JOB_NAMESPACES)).filter((j) => j.held);
  await pool(held.length, concurrency, async (i) => {
    const j = held[i]!;
    await api.retrying(
      'PATCH',
      jobPath(j.namespace, j.name),
      { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [DELIVERY_FINALIZER] } },
      {
        contentType: 'application/strategic-merge-patch+json',
        ok: (s) => (s >= 200 && s < 300) || s === 404,
      },
    );
  });
  return held.length;
}

// ------------------------------------------------------------------------------------------------ watches

/** The rule's versions as the bench's own watch sees them (one long WATCH request; no polling). */
class RuleWatch {
  versions = 0;
  last: NotificationRule | undefined;
  #rv = '';
  #abort: AbortController | undefined;
  #stopped = false;
  readonly #kube: Kube;
  readonly #name: string;

  constructor(kube: Kube, name: string) {
    this.#kube = kube;
    this.#name = name;
  }

  async start(): Promise<this> {
    this.#abort = await new Watch(this.#kube.kc).watch(
      `${GROUP_PATH}/namespaces/${SYSTEM_NS}/notificationrules`,
      { fieldSelector: `metadata.name=${this.#name}`, ...(this.#rv ? { resourceVersion: this.#rv } : {}) },
      (type, object: NotificationRule) => {
        if (type === 'ERROR') {
          this.#rv = '';
          return;
        }
        if (type === 'MODIFIED' && object.metadata.resourceVersion !== this.#rv) this.versions++;
        this.#rv = object.metadata.resourceVersion ?? this.#rv;
        this.last = type === 'DELETED' ? undefined : object;
      },
      () => {
        if (!this.#stopped) void sleep(200).then(() => (this.#stopped ? undefined : this.start()));
      },
    );
    return this;
  }

  get name(): string {
    return this.#name;
  }

  get ready(): boolean {
    return this.last?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}

/** When each Job of `names` was seen terminating and gone (watch from a resourceVersion: no initial list). */
class DeletionWatch {
  readonly goneAt = new Map<string, number>();
  #abort: AbortController | undefined;

  static async start(kube: Kube, api: ApiClient, names: Set<string>): Promise<DeletionWatch> {
    const w = new DeletionWatch();
    const list = await api.json<{ metadata: { resourceVersion: string } }>(
      'GET',
      '/apis/batch/v1/jobs?limit=1',
    );
    w.#abort = await new Watch(kube.kc).watch(
      '/apis/batch/v1/jobs',
      { resourceVersion: list.metadata.resourceVersion },
      (type, object: { metadata?: { name?: string } }) => {
        const name = object.metadata?.name;
        if (type === 'DELETED' && name !== undefined && names.has(name) && !w.goneAt.has(name))
          w.goneAt.set(name, Date.now());
      },
      () => undefined,
    );
    return w;
  }

  stop(): void {
    this.#abort?.abort();
  }
}

// ------------------------------------------------------------------------------------------------ the run

export interface RowContext {
  log: (line: string) => void;
  onCleanup: (name: string, run: () => Promise<unknown>) => void;
  /** called at once with the figures object, which fills in as the phases go (a failed phase keeps the others) */
  report?: (figures: DeliveryStateFigures) => void;
}

const scrape = async (operator: OperatorProcess): Promise<Scrape> => parseMetrics(await operator.metrics());
const jobWritesOf = (m: Scrape) => ({
  hold: value(m, 'jobherald_job_writes_total', 'kind="hold"'),
  record: value(m, 'jobherald_job_writes_total', 'kind="record"'),
  release: value(m, 'jobherald_job_writes_total', 'kind="release"'),
});
const operatorWrites = (m: Scrape) =>
  sum(m, 'jobherald_job_writes_total') + value(m, 'jobherald_kube_requests_total', 'verb="write"');

/**
 * Polls the operator's /metrics (which costs the API server nothing) until `done` holds and the operator has
 * written nothing for QUIET_MS; returns the time of its last write, or undefined when it timed out.
 */
async function settle(
  operator: OperatorProcess,
  done: (m: Scrape) => boolean | Promise<boolean>,
  timeoutMs: number,
  onPoll?: (m: Scrape) => void,
): Promise<{ lastWriteAt: number; timedOut: boolean; metrics: Scrape }> {
  const deadline = Date.now() + timeoutMs;
  let metrics = await scrape(operator);
  let writes = operatorWrites(metrics);
  let lastWriteAt = Date.now();
  for (;;) {
    await sleep(250);
    metrics = await scrape(operator);
    onPoll?.(metrics);
    const now = operatorWrites(metrics);
    if (now !== writes) {
      writes = now;
      lastWriteAt = Date.now();
    }
    if (Date.now() - lastWriteAt >= QUIET_MS && (await done(metrics)))
      return { lastWriteAt, timedOut: false, metrics };
    if (Date.now() > deadline) return { lastWriteAt, timedOut: true, metrics };
  }
}

function windowFigures(
  name: string,
  seconds: number,
  counts: ApiRequestCounts,
  benchOwn: Record<string, number>,
  ruleVersions: number,
  before: Scrape,
  after: Scrape,
  timedOut: boolean,
): WindowFigures {
  const wb = jobWritesOf(before);
  const wa = jobWritesOf(after);
  const kubeRequests: Record<string, number> = {};
  for (const verb of ['get', 'list', 'watch', 'write'])
    kubeRequests[verb] =
      value(after, 'jobherald_kube_requests_total', `verb="${verb}"`) -
      value(before, 'jobherald_kube_requests_total', `verb="${verb}"`);
  const own = (key: string) => benchOwn[key] ?? 0;
  return {
    name,
    seconds,
    api: Object.fromEntries([...counts.byRequest].sort((a, b) => b[1] - a[1])),
    apiCodes: Object.fromEntries(
      [...counts.byCode].filter(([k]) => / (jobs|notificationrules)[/ ]/.test(k)).sort(),
    ),
    benchOwn,
    jobPatches: countOf(counts, 'PATCH jobs') - own('PATCH jobs'),
    jobGets: countOf(counts, 'GET jobs') - own('GET jobs'),
    jobLists: countOf(counts, 'LIST jobs') - own('LIST jobs'),
    ruleStatusWrites: writesTo(counts, 'notificationrules/status'),
    ruleVersions,
    jobWrites: { hold: wa.hold - wb.hold, record: wa.record - wb.record, release: wa.release - wb.release },
    kubeRequests,
    timedOut,
  };
}

/** Waits until the operator is ready, then until it has held `expectHolds` Jobs and gone quiet. */
async function measureStart(
  name: string,
  ctx: {
    api: ApiClient;
    kube: Kube;
    operator: OperatorProcess;
    slack: EmulatorProcess;
    log: RowContext['log'];
  },
  ruleWatch: RuleWatch,
  t0: {
    at: number;
    api: ApiRequestCounts;
    metrics: Scrape;
    versions: number;
    benchOwn: Record<string, number>;
  },
  expectHolds: number,
  running: Set<string>,
): Promise<StartFigures> {
  const holdsBefore = jobWritesOf(t0.metrics).hold;
  let allHeldAt: number | undefined;
  const settled = await settle(
    ctx.operator,
    (m) => jobWritesOf(m).hold - holdsBefore >= expectHolds && ruleWatch.ready,
    Math.max(300_000, expectHolds * 100),
    (m) => {
      if (allHeldAt === undefined && jobWritesOf(m).hold - holdsBefore >= expectHolds) allHeldAt = Date.now();
    },
  );
  const counts = requestDelta(t0.api, await apiserverRequests(ctx.api));
  const seconds = (Date.now() - t0.at) / 1000;
  const figures = windowFigures(
    name,
    seconds,
    counts,
    t0.benchOwn,
    ruleWatch.versions - t0.versions,
    t0.metrics,
    settled.metrics,
    settled.timedOut,
  );
  if (settled.timedOut)
    ctx.log(
      `${name}: did not settle (${figures.jobWrites.hold}/${expectHolds} holds, Ready ${ruleWatch.ready})`,
    );
  // after the window: what the Jobs and the rule show
  const jobs = await listJobs(ctx.api, JOB_NAMESPACES);
  const held = jobs.filter((j) => j.held);
  const rule = await ctx.api.retrying(
    'GET',
    `${GROUP_PATH}/namespaces/${SYSTEM_NS}/notificationrules/${ruleWatch.name}`,
  );
  return {
    ...figures,
    allHeldMs: allHeldAt === undefined ? undefined : allHeldAt - t0.at,
    lastWriteMs: settled.lastWriteAt - t0.at,
    held: held.length,
    heldRunningSelected: held.filter((j) => running.has(j.name)).length,
    recorded: jobs.filter((j) => j.recorded).length,
    ruleBytes: Buffer.byteLength(rule.body),
    ruleReady: ruleWatch.ready,
    slackMessages: (await ctx.slack.control.messages()).length,
  };
}

async function memoryOf(
  o: OperatorProcess,
  seconds: number,
): Promise<{ rssBytes: number; heapUsedBytes: number; heapTotalBytes: number }> {
  const rss = await sampleRss(o.pid, seconds);
  const m = await scrape(o);
  return {
    rssBytes: rss,
    heapUsedBytes: sum(m, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: sum(m, 'nodejs_heap_size_total_bytes'),
  };
}

/** VmRSS once a second for `seconds`; the median. */
async function sampleRss(pid: number, seconds: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    const rss = rssBytes(pid);
    if (rss !== undefined) samples.push(rss);
    await sleep(1000);
  }
  return median(samples) ?? 0;
}

function readyLogMs(logFile: string): number | undefined {
  try {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.includes('"ready"')) continue;
      const entry = JSON.parse(line) as { msg?: string; ms?: number };
      if (entry.msg === 'ready') return entry.ms;
    }
  } catch {
    // no such line (yet)
  }
  return undefined;
}

function logProblems(logFile: string): DeliveryStateFigures['operatorLogs'][number] {
  const out = { file: logFile, warn: 0, error: 0, messages: {} as Record<string, number> };
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let entry: { level?: number | string; msg?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      out.messages[`(not JSON) ${line.slice(0, 120)}`] =
        (out.messages[`(not JSON) ${line.slice(0, 120)}`] ?? 0) + 1;
      continue;
    }
    const level =
      typeof entry.level === 'number'
        ? entry.level
        : ({ warn: 40, error: 50, fatal: 60 }[entry.level ?? ''] ?? 30);
    if (level < 40) continue;
    if (level >= 50) out.error++;
    else out.warn++;
    const key = `${level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? ''}`;
    out.messages[key] = (out.messages[key] ?? 0) + 1;
  }
  return out;
}

const ruleSpec = () => ({
  integrationRef: { name: 'ds' },
  selector: { namespaces: SELECTED_NS, jobSelector: { matchLabels: { [LABEL]: 'yes' } } },
  events: ['Cancelled' as const],
  destinations: [{ channel: CHANNEL.name }],
});

async function createRule(api: ApiClient, name: string): Promise<void> {
  await api.retrying('POST', `${GROUP_PATH}/namespaces/${SYSTEM_NS}/notificationrules`, {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'NotificationRule',
    metadata: { name, namespace: SYSTEM_NS },
    spec: ruleSpec(),
  });
}

export async function runDeliveryStateRow(
  config: DeliveryStateConfig,
  { log, onCleanup, report }: RowContext,
): Promise<DeliveryStateFigures> {
  const running = Math.min(config.running, config.jobs);
  const deletions = Math.min(config.deletions, running);
  const planned = plan({ ...config, running }, Date.now());
  const finished = planned.filter((j) => !j.running);
  const figures: DeliveryStateFigures = {
    config,
    composition: {
      running,
      finishedSelected: finished.filter((j) => j.selected).length,
      finishedUnselectedByLabel: finished.filter((j) => j.labels[LABEL] === 'no').length,
      finishedOtherNamespace: finished.filter((j) => j.namespace === OTHER_NS).length,
      failed: finished.filter((j) => (j.status.failed as number | undefined) === 1).length,
    },
    operatorLogs: [],
    loadAverage: { before: [] },
  };
  report?.(figures);
  const runningNames = new Set(planned.filter((j) => j.running).map((j) => j.name));
  figures.loadAverage.before = loadavg().map((l) => Math.round(l * 100) / 100);

  log(`delivery state: starting the local control plane "${config.cluster}"`);
  const state = await up({ name: config.cluster, log: (l) => log(`control plane: ${l}`) });
  if (!config.keepCluster) onCleanup('control plane (delivery state)', () => down(config.cluster));
  const kube = connect(state.kubeconfig);
  const api = await ApiClient.connect(kube, config.concurrency);
  onCleanup('API client', () => Promise.resolve(api.close()));
  await installCrds(kube);
  for (const ns of [SYSTEM_NS, ...JOB_NAMESPACES]) await ensureNamespace(kube, ns);
  mkdirSync(RESULTS, { recursive: true });
  const slack = await startEmulator([CHANNEL]);
  onCleanup('Slack emulator (delivery state)', () => slack.stop());
  await slack.control.setRateLimits(CHANNEL_LIMITS_ONLY);
  await createTokenSecret(kube, SYSTEM_NS, 'ds-token', BOT_TOKEN);
  await createIntegration(kube, SYSTEM_NS, 'ds', { apiURL: slack.apiUrl });

  let operator: OperatorProcess | undefined;
  const operatorLogs: string[] = [];
  const spawnOperator = async () => {
    const o = await startOperator({
      kubeconfig: state.kubeconfig,
      namespace: SYSTEM_NS,
      ruleNamespaces: [SYSTEM_NS],
    });
    operatorLogs.push(o.logFile);
    operator = o;
    return o;
  };
  onCleanup('operator (delivery state)', async () => {
    await operator?.stop();
    await stripFinalizers(api, config.concurrency).catch(() => 0);
    for (const ns of JOB_NAMESPACES)
      await api.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  try {
    // ---- create: finished Jobs an hour old, running ones, before any rule exists
    log(
      `delivery state: creating ${planned.length} Jobs (${running} running), ${config.concurrency} in flight`,
    );
    const seconds = await createManagedFleet(api, planned.length, (i) => planned[i]!, {
      concurrency: config.concurrency,
      log,
      what: 'delivery state',
    });
    figures.create = {
      jobs: planned.length,
      seconds,
      jobsPerSecond: planned.length / seconds,
      requests: 2 * planned.length,
    };
    log(
      `delivery state: ${planned.length} Jobs in ${seconds.toFixed(0)} s (${figures.create.jobsPerSecond.toFixed(0)} Jobs/s)`,
    );
    const ctx = () => ({ api, kube, operator: operator!, slack, log });

    // ---- order B: the operator first (no rule), then the rule
    if (config.lateRule) {
      const o = await spawnOperator();
      const readyNoRuleMs = await o.waitReady(600_000);
      log(
        `delivery state (late rule): operator ready in ${(readyNoRuleMs / 1000).toFixed(2)} s with no rule`,
      );
      await settle(o, () => true, 120_000);
      const noRule = await memoryOf(o, 5);
      const watch = await new RuleWatch(kube, RULE_LATE).start();
      const t0 = {
        at: Date.now(),
        api: await apiserverRequests(api),
        metrics: await scrape(o),
        versions: 0,
        benchOwn: { 'POST notificationrules': 1 },
      };
      await createRule(api, RULE_LATE);
      const f = await measureStart(
        'rule created after the operator',
        ctx(),
        watch,
        t0,
        running,
        runningNames,
      );
      watch.stop();
      const afterHolds = await memoryOf(o, 5);
      figures.lateRule = { ...f, readyNoRuleMs, noRule, afterHolds };
      log(`delivery state (late rule): ${JSON.stringify({ ...f, api: undefined, apiCodes: undefined })}`);
      // reset: not measured
      await o.stop();
      operator = undefined;
      await api.retrying('DELETE', `${GROUP_PATH}/namespaces/${SYSTEM_NS}/notificationrules/${RULE_LATE}`);
      const stripped = await stripFinalizers(api, config.concurrency);
      log(`delivery state: reset (rule deleted, ${stripped} finalizers stripped)`);
      await sleep(3_000);
    }

    // ---- order A: the rule exists, then the operator starts with every Job in the cluster
    const watch = await new RuleWatch(kube, RULE).start();
    onCleanup('rule watch', () => Promise.resolve(watch.stop()));
    await createRule(api, RULE);
    await sleep(1_000);
    const versionsBefore = watch.versions;
    const apiBefore = await apiserverRequests(api);
    const startedAt = Date.now();
    const o = await spawnOperator();
    const readyMs = await o.waitReady(600_000);
    log(
      `delivery state: operator ready in ${(readyMs / 1000).toFixed(2)} s with ${planned.length} Jobs and the rule`,
    );
    const start = await measureStart(
      'operator started with the rule present',
      ctx(),
      watch,
      { at: startedAt, api: apiBefore, metrics: new Map(), versions: versionsBefore, benchOwn: {} },
      running,
      runningNames,
    );
    figures.start = { ...start, readyMs, readyLogMs: readyLogMs(o.logFile) };
    log(`delivery state (start): ${JSON.stringify({ ...start, api: undefined, apiCodes: undefined })}`);

    log(`delivery state: settling ${config.settleSeconds} s, then sampling RSS for 10 s`);
    await sleep(config.settleSeconds * 1000);
    const own = await scrape(o);
    figures.rss = {
      bytes: await sampleRss(o.pid, 10),
      heapUsedBytes: sum(own, 'nodejs_heap_size_used_bytes'),
      heapTotalBytes: sum(own, 'nodejs_heap_size_total_bytes'),
      externalBytes: sum(own, 'nodejs_external_memory_bytes'),
    };

    // ---- delete: N running Jobs, background propagation, as fast as the bench can
    if (deletions > 0) {
      const victims = planned.filter((j) => j.running).slice(0, deletions);
      const victimNames = new Set(victims.map((j) => j.name));
      const deletionWatch = await DeletionWatch.start(kube, api, victimNames);
      onCleanup('deletion watch', () => Promise.resolve(deletionWatch.stop()));
      const messagesBefore = new Set((await slack.control.messages()).map((m) => `${m.channel} ${m.ts}`));
      const m0 = await scrape(o);
      const v0 = watch.versions;
      const a0 = await apiserverRequests(api);
      const t0 = Date.now();
      const deletedAt = new Map<string, number>();
      await pool(victims.length, config.concurrency, async (i) => {
        const j = victims[i]!;
        await api.retrying('DELETE', jobPath(j.namespace, j.name), { propagationPolicy: 'Background' });
        deletedAt.set(j.name, Date.now());
      });
      const burstEnd = Date.now();
      log(
        `delivery state: ${victims.length} Jobs deleted in ${((burstEnd - t0) / 1000).toFixed(1)} s; waiting for Slack`,
      );
      const releasesBefore = jobWritesOf(m0).release;
      const allMentioned = async () => {
        const named = new Set<string>();
        for (const m of await slack.control.messages())
          for (const n of jobsIn(m, RUNNING_PATTERN)) if (victimNames.has(n)) named.add(n);
        return named.size >= victims.length;
      };
      const settled = await settle(
        o,
        async (m) =>
          jobWritesOf(m).release - releasesBefore >= victims.length &&
          deletionWatch.goneAt.size >= victims.length &&
          (await allMentioned()),
        300_000,
      );
      const counts = requestDelta(a0, await apiserverRequests(api));
      deletionWatch.stop();
      const win = windowFigures(
        `${victims.length} running Jobs deleted`,
        (Date.now() - t0) / 1000,
        counts,
        { 'DELETE jobs': victims.length },
        watch.versions - v0,
        m0,
        settled.metrics,
        settled.timedOut,
      );
      const messages = (await slack.control.messages()).filter(
        (m) => !messagesBefore.has(`${m.channel} ${m.ts}`),
      );
      const mentions = new Map<string, number>();
      const firstSeen = new Map<string, number>();
      let spurious = 0;
      for (const m of messages) {
        const names = jobsIn(m, RUNNING_PATTERN);
        if (names.some((n) => !victimNames.has(n))) spurious++;
        for (const n of names) {
          if (!victimNames.has(n)) continue;
          mentions.set(n, (mentions.get(n) ?? 0) + 1);
          firstSeen.set(n, Math.min(firstSeen.get(n) ?? Infinity, m.postedAt));
        }
      }
      const latencies = [...firstSeen].map(([n, at]) => at - (deletedAt.get(n) ?? at));
      const lost = victims.length - mentions.size;
      const jobs = await listJobs(api, JOB_NAMESPACES);
      const stillThere = jobs.filter((j) => victimNames.has(j.name)).length;
      const rule = await api.retrying(
        'GET',
        `${GROUP_PATH}/namespaces/${SYSTEM_NS}/notificationrules/${RULE}`,
      );
      const ruleObject = JSON.parse(rule.body) as NotificationRule;
      figures.deletion = {
        ...win,
        deleted: victims.length,
        alertedOnce: [...mentions.values()].filter((n) => n === 1).length,
        duplicated: [...mentions.values()].filter((n) => n > 1).length,
        lost,
        spurious,
        messages: messages.length,
        digests: value(settled.metrics, 'jobherald_digests_total') - value(m0, 'jobherald_digests_total'),
        burstSeconds: (burstEnd - t0) / 1000,
        allAlertedAfterBurstSeconds:
          lost === 0 ? (Math.max(...firstSeen.values()) - burstEnd) / 1000 : undefined,
        allGoneAfterBurstSeconds:
          stillThere === 0 && deletionWatch.goneAt.size === victims.length
            ? (Math.max(...deletionWatch.goneAt.values()) - burstEnd) / 1000
            : undefined,
        alertP50Ms: percentile(latencies, 0.5),
        alertP99Ms: percentile(latencies, 0.99),
        gone: victims.length - stillThere,
        heldAfter: jobs.filter((j) => j.held).length,
        ruleBytesAfter: Buffer.byteLength(rule.body),
        deliveriesInStatus: ruleObject.status?.deliveries?.length ?? 0,
      };
      log(
        `delivery state (delete): ${JSON.stringify({ ...figures.deletion, api: undefined, apiCodes: undefined })}`,
      );
    }

    // ---- with the admission policy: new Jobs get the finalizer from the API server at creation
    if (config.admission > 0) {
      onCleanup('admission policy', async () => {
        for (const kind of ['mutatingadmissionpolicybindings', 'mutatingadmissionpolicies'])
          await api.request('DELETE', `${MAP_PATH}/${kind}/${POLICY}`).catch(() => undefined);
      });
      figures.admission = await measureAdmission(config, { api, kube, operator: o, slack, log }, watch);
      log(
        `delivery state (admission policy): ${JSON.stringify({ ...figures.admission, admitted: { ...figures.admission.admitted, api: undefined }, ended: { ...figures.admission.ended, api: undefined } })}`,
      );
    }
  } finally {
    await operator?.stop();
    figures.operatorLogs = operatorLogs.map(logProblems);
    figures.loadAverage.after = loadavg().map((l) => Math.round(l * 100) / 100);
  }
  return figures;
}

// ------------------------------------------------------------------------------------------------ admission

const MAP_PATH = '/apis/admissionregistration.k8s.io/v1';
const POLICY = 'jobherald-ds-delivery-finalizer';
const ADMITTED_PATTERN = /\b(adm-\d{5,})\b/g;

/** The chart's policy and binding (charts/jobherald/templates/admission-policy.yaml), for the bench's operator. */
const admissionObjects = () => [
  {
    kind: 'mutatingadmissionpolicies',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name: POLICY },
      spec: {
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        matchConstraints: {
          resourceRules: [
            { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['jobs'] },
          ],
        },
        failurePolicy: 'Ignore',
        matchConditions: [
          {
            name: 'namespace-is-watched',
            expression: 'has(params.data) && request.namespace in params.data',
          },
          {
            name: 'finalizer-not-yet-held',
            expression: `!has(object.metadata.finalizers) || !("${DELIVERY_FINALIZER}" in object.metadata.finalizers)`,
          },
        ],
        mutations: [
          {
            patchType: 'ApplyConfiguration',
            applyConfiguration: {
              expression: `Object{metadata: Object.metadata{finalizers: ["${DELIVERY_FINALIZER}"]}}`,
            },
          },
        ],
        reinvocationPolicy: 'Never',
      },
    },
  },
  {
    kind: 'mutatingadmissionpolicybindings',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name: POLICY },
      spec: {
        policyName: POLICY,
        paramRef: { name: DEFAULT_ADMISSION_PARAMS, namespace: SYSTEM_NS, parameterNotFoundAction: 'Allow' },
      },
    },
  },
];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * `config.admission` new running Jobs the rule selects, plus a fifth as many finished Jobs in the same
 * namespaces that its label selector leaves out and a fifth in a namespace outside it, created with the
 * admission policy in place; then half the matched ones deleted and the other half completed.
 */
async function measureAdmission(
  config: DeliveryStateConfig,
  ctx: {
    api: ApiClient;
    kube: Kube;
    operator: OperatorProcess;
    slack: EmulatorProcess;
    log: RowContext['log'];
  },
  ruleWatch: RuleWatch,
): Promise<AdmissionFigures> {
  const { api, kube, operator: o, slack, log } = ctx;
  const params = await until(
    `the ConfigMap ${SYSTEM_NS}/${DEFAULT_ADMISSION_PARAMS}`,
    async () => {
      const r = await api.request(
        'GET',
        `/api/v1/namespaces/${SYSTEM_NS}/configmaps/${DEFAULT_ADMISSION_PARAMS}`,
      );
      return r.status === 200 ? (JSON.parse(r.body) as { data?: Record<string, string> }) : undefined;
    },
    30_000,
  );
  for (const { kind, body } of admissionObjects()) await api.retrying('POST', `${MAP_PATH}/${kind}`, body);
  const probeJob: PlannedJob = {
    namespace: SELECTED_NS[0]!,
    name: 'admission-probe',
    labels: {},
    status: {},
    running: false,
    selected: false,
  };
  await until(
    'the admission policy to take effect',
    async () => {
      const r = await api.request(
        'POST',
        `/apis/batch/v1/namespaces/${probeJob.namespace}/jobs?dryRun=All`,
        jobBody(probeJob),
      );
      const job = JSON.parse(r.body) as { metadata?: { finalizers?: string[] } };
      return job.metadata?.finalizers?.includes(DELIVERY_FINALIZER) === true ? true : undefined;
    },
    60_000,
  );
  await sleep(1_000);

  const now = Date.now();
  const pad = (i: number) => String(i).padStart(5, '0');
  const extra = Math.max(1, Math.ceil(config.admission / 5));
  const completed = finishedStatus('Succeeded', now - 60_000, now);
  type Kind = keyof AdmissionFigures['heldAtCreation'];
  const jobs: (PlannedJob & { kind: Kind })[] = [
    ...Array.from({ length: config.admission }, (_, i) => ({
      kind: 'matched' as const,
      namespace: SELECTED_NS[i % SELECTED_NS.length]!,
      name: `adm-${pad(i)}`,
      labels: { [LABEL]: 'yes' },
      status: runningStatus(now),
      running: true,
      selected: true,
    })),
    ...Array.from({ length: extra }, (_, i) => ({
      kind: 'unmatchedWatched' as const,
      namespace: SELECTED_NS[i % SELECTED_NS.length]!,
      name: `admx-${pad(i)}`,
      labels: { [LABEL]: 'no' },
      status: completed,
      running: false,
      selected: false,
    })),
    ...Array.from({ length: extra }, (_, i) => ({
      kind: 'otherNamespace' as const,
      namespace: OTHER_NS,
      name: `admo-${pad(i)}`,
      labels: { [LABEL]: 'yes' },
      status: completed,
      running: false,
      selected: false,
    })),
  ];
  const heldAtCreation = { matched: 0, unmatchedWatched: 0, otherNamespace: 0 };

  // admitted: create (POST; the status through …/status, which is not `PATCH jobs`), until the operator is quiet
  let m0 = await scrape(o);
  let v0 = ruleWatch.versions;
  let a0 = await apiserverRequests(api);
  let t0 = Date.now();
  await pool(jobs.length, config.concurrency, async (i) => {
    const j = jobs[i]!;
    const created = await api.retrying('POST', `/apis/batch/v1/namespaces/${j.namespace}/jobs`, jobBody(j));
    const body = JSON.parse(created.body) as { metadata?: { finalizers?: string[] } };
    if (body.metadata?.finalizers?.includes(DELIVERY_FINALIZER) === true) heldAtCreation[j.kind]++;
    await api.retrying(
      'PATCH',
      `${jobPath(j.namespace, j.name)}/status`,
      { status: j.status },
      {
        contentType: 'application/merge-patch+json',
      },
    );
  });
  const createSeconds = (Date.now() - t0) / 1000;
  let settled = await settle(o, () => true, 120_000);
  const admitted = windowFigures(
    `${jobs.length} Jobs created with the admission policy`,
    (Date.now() - t0) / 1000,
    requestDelta(a0, await apiserverRequests(api)),
    { 'POST jobs': jobs.length, 'PATCH jobs/status': jobs.length },
    ruleWatch.versions - v0,
    m0,
    settled.metrics,
    settled.timedOut,
  );
  log(`delivery state (admission policy): ${jobs.length} Jobs created in ${createSeconds.toFixed(1)} s`);

  // ended: half the matched Jobs deleted, the other half completed
  const matched = jobs.filter((j) => j.kind === 'matched');
  const victims = matched.slice(0, Math.ceil(matched.length / 2));
  const completers = matched.slice(victims.length);
  const victimNames = new Set(victims.map((j) => j.name));
  const completerNames = new Set(completers.map((j) => j.name));
  const deletionWatch = await DeletionWatch.start(kube, api, victimNames);
  const messagesBefore = new Set((await slack.control.messages()).map((m) => `${m.channel} ${m.ts}`));
  m0 = await scrape(o);
  v0 = ruleWatch.versions;
  a0 = await apiserverRequests(api);
  t0 = Date.now();
  const ends = [...victims.map((j) => ({ j, del: true })), ...completers.map((j) => ({ j, del: false }))];
  await pool(ends.length, config.concurrency, async (i) => {
    const { j, del } = ends[i]!;
    if (del) await api.retrying('DELETE', jobPath(j.namespace, j.name), { propagationPolicy: 'Background' });
    else
      await api.retrying(
        'PATCH',
        `${jobPath(j.namespace, j.name)}/status`,
        { status: { ...completed, startTime: undefined, active: 0 } },
        {
          contentType: 'application/merge-patch+json',
        },
      );
  });
  const releasesBefore = jobWritesOf(m0).release;
  const victimsNamed = async () => {
    const named = new Set<string>();
    for (const m of await slack.control.messages())
      for (const n of jobsIn(m, ADMITTED_PATTERN)) if (victimNames.has(n)) named.add(n);
    return named.size >= victimNames.size;
  };
  settled = await settle(
    o,
    async (m) =>
      jobWritesOf(m).release - releasesBefore >= matched.length &&
      deletionWatch.goneAt.size >= victims.length &&
      (await victimsNamed()),
    300_000,
  );
  const counts = requestDelta(a0, await apiserverRequests(api));
  deletionWatch.stop();
  const win = windowFigures(
    `${victims.length} deleted, ${completers.length} completed (admission policy)`,
    (Date.now() - t0) / 1000,
    counts,
    { 'DELETE jobs': victims.length, 'PATCH jobs/status': completers.length },
    ruleWatch.versions - v0,
    m0,
    settled.metrics,
    settled.timedOut,
  );
  const messages = (await slack.control.messages()).filter(
    (m) => !messagesBefore.has(`${m.channel} ${m.ts}`),
  );
  const mentions = new Map<string, number>();
  let completedNamed = 0;
  for (const m of messages) {
    const names = jobsIn(m, ADMITTED_PATTERN);
    if (names.some((n) => completerNames.has(n))) completedNamed++;
    for (const n of names) if (victimNames.has(n)) mentions.set(n, (mentions.get(n) ?? 0) + 1);
  }
  const all = new Set(jobs.map((j) => j.name));
  const listed = await listJobs(api, JOB_NAMESPACES);
  for (const { kind } of admissionObjects())
    await api.request('DELETE', `${MAP_PATH}/${kind}/${POLICY}`).catch(() => undefined);
  return {
    scope: Object.keys(params.data ?? {}).sort(),
    matched: matched.length,
    unmatchedWatched: extra,
    otherNamespace: extra,
    heldAtCreation,
    createSeconds,
    admitted,
    ended: {
      ...win,
      deleted: victims.length,
      completed: completers.length,
      alertedOnce: [...mentions.values()].filter((n) => n === 1).length,
      duplicated: [...mentions.values()].filter((n) => n > 1).length,
      lost: victims.length - mentions.size,
      completedNamed,
      gone: victims.length - listed.filter((j) => victimNames.has(j.name)).length,
    },
    heldAfter: listed.filter((j) => all.has(j.name) && j.held).length,
  };
}

// ------------------------------------------------------------------------------------------------ the rows

const fmtS = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const mem = (m: { rssBytes: number; heapUsedBytes: number } | undefined): string =>
  m === undefined
    ? '—'
    : `${(m.rssBytes / MiB).toFixed(0)} MiB (heap ${(m.heapUsedBytes / MiB).toFixed(0)} MiB used)`;
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const ok = (v: boolean): string => (v ? 'met' : 'MISSED');
/** ≤ 1 rule status write per 2 s of the window (the coalescing), and not growing with the Jobs */
const ruleWritesOk = (w: WindowFigures): boolean =>
  w.ruleStatusWrites <= Math.min(10, 1 + Math.ceil(w.seconds / 2));

export function deliveryStateRows(f: DeliveryStateFigures): [string, string, string, string][] {
  const rows: [string, string, string, string][] = [];
  const c = f.composition;
  const jobs = f.create?.jobs ?? f.config.jobs;
  const finished = jobs - c.running;
  const tag = `DS ${jobs}/${c.running}`;
  if (f.create) {
    rows.push([
      `${tag}: Jobs created (managedBy, bench-written status)`,
      `${f.create.jobs} in ${f.create.seconds.toFixed(0)} s = ${f.create.jobsPerSecond.toFixed(0)} Jobs/s (POST + PATCH status, ${f.config.concurrency} in flight); ${c.running} running, ${finished} finished (${c.failed} Failed) of which ${c.finishedSelected} selected, ${c.finishedUnselectedByLabel + c.finishedOtherNamespace} not`,
      '(setup)',
      '',
    ]);
  }
  const startRows = (s: StartFigures, label: string, readyTarget: boolean) => {
    const matchedWrites = s.jobPatches / Math.max(1, c.running);
    if (readyTarget) {
      const target = jobs >= 50_000 ? 30_000 : 10_000;
      rows.push([
        `${tag}: start → ready, rule present (P6)`,
        `/readyz ${fmtS(s.readyMs)} (log 'ready' ${fmtS(s.readyLogMs)}); all ${s.jobWrites.hold} holds written ${fmtS(s.allHeldMs)} after spawn`,
        `≤ ${target / 1000} s at ${jobs >= 50_000 ? '50k' : '10k'}`,
        s.readyMs === undefined ? '' : ok(s.readyMs <= target),
      ]);
    }
    rows.push([
      `${tag}: ${label}: Job writes (P7)`,
      `PATCH jobs ${s.jobPatches} (${matchedWrites.toFixed(2)} per running matched Job; jobherald hold ${s.jobWrites.hold}, record ${s.jobWrites.record}, release ${s.jobWrites.release}); held after: ${s.held} (${s.heldRunningSelected} running selected, ${s.held - s.heldRunningSelected} others); records ${s.recorded}; GET jobs ${s.jobGets}, LIST jobs ${s.jobLists} (jobherald get ${s.kubeRequests.get ?? 0}, list ${s.kubeRequests.list ?? 0})${s.timedOut ? '; DID NOT SETTLE' : ''}`,
      '≤ 2 writes per matched Job (1 so far: the hold); 0 for finished/unmatched; held = running selected',
      ok(
        !s.timedOut &&
          s.jobPatches === s.held &&
          s.held === c.running &&
          s.heldRunningSelected === c.running &&
          s.jobGets === 0 &&
          s.recorded === 0,
      ),
    ]);
    rows.push([
      `${tag}: ${label}: rule status, size, Slack`,
      `rule status writes ${s.ruleStatusWrites} over ${s.seconds.toFixed(0)} s (resourceVersion changed ${s.ruleVersions}×) for ${jobs} Jobs, 0 alerted; rule ${kib(s.ruleBytes)}, Ready ${s.ruleReady}; Slack messages ${s.slackMessages}`,
      '0 rule writes per un-notified Job (≤ 1 per 2 s); a few KiB; 0 messages',
      ok(ruleWritesOk(s) && s.ruleBytes <= 16 * 1024 && s.slackMessages === 0 && s.ruleReady),
    ]);
  };
  if (f.start) startRows(f.start, 'start, rule present', true);
  if (f.rss) {
    const target = jobs >= 50_000 ? 250 : 150;
    rows.push([
      `${tag}: RSS after settle (P5)`,
      `${(f.rss.bytes / MiB).toFixed(0)} MiB (V8 heap ${(f.rss.heapUsedBytes / MiB).toFixed(0)} used of ${(f.rss.heapTotalBytes / MiB).toFixed(0)} MiB, external ${(f.rss.externalBytes / MiB).toFixed(0)} MiB; ${operatorBuild()})`,
      `≤ ${target} MiB at ${jobs >= 50_000 ? '50k' : '10k'} (compiled JS)`,
      jobs >= 10_000 ? ok(f.rss.bytes / MiB <= target) : '',
    ]);
  }
  if (f.lateRule) {
    rows.push([
      `${tag}: operator first, no rule: start → ready`,
      `/readyz ${fmtS(f.lateRule.readyNoRuleMs)}; RSS ${mem(f.lateRule.noRule)} idle with no rule, ${mem(f.lateRule.afterHolds)} once it held the running Jobs; the rule: ${f.lateRule.jobWrites.hold} holds written ${fmtS(f.lateRule.allHeldMs)} after it was created`,
      '(order B)',
      '',
    ]);
    startRows(f.lateRule, 'rule created later', false);
  }
  const d = f.deletion;
  if (d) {
    rows.push([
      `${tag}: ${d.deleted} running Jobs deleted (background)`,
      `alerted Cancelled exactly once ${d.alertedOnce}/${d.deleted} (lost ${d.lost}, duplicated ${d.duplicated}, other Jobs named ${d.spurious}) in ${d.messages} messages (${d.digests} digests); deletes took ${d.burstSeconds.toFixed(1)} s; all alerted ${d.allAlertedAfterBurstSeconds?.toFixed(1) ?? '—'} s, all gone ${d.allGoneAfterBurstSeconds?.toFixed(1) ?? '—'} s after the last delete; alert p50 ${fmtS(d.alertP50Ms)}, p99 ${fmtS(d.alertP99Ms)} after its delete; gone ${d.gone}/${d.deleted}${d.timedOut ? '; DID NOT SETTLE' : ''}`,
      'each once, 0 lost, every Job released and gone',
      ok(
        !d.timedOut &&
          d.alertedOnce === d.deleted &&
          d.lost === 0 &&
          d.duplicated === 0 &&
          d.spurious === 0 &&
          d.gone === d.deleted,
      ),
    ]);
    const perJob = d.jobPatches / Math.max(1, d.deleted);
    rows.push([
      `${tag}: deletions: API writes (P7)`,
      `PATCH jobs ${d.jobPatches} = ${perJob.toFixed(2)} per deleted Job (${(perJob + 1).toFixed(2)} with its hold; jobherald hold ${d.jobWrites.hold}, record ${d.jobWrites.record}, release ${d.jobWrites.release}); GET jobs ${d.jobGets}, LIST jobs ${d.jobLists}; rule status writes ${d.ruleStatusWrites} over ${d.seconds.toFixed(0)} s (resourceVersion ${d.ruleVersions}×); rule ${kib(d.ruleBytesAfter)} with ${d.deliveriesInStatus} deliveries; still held ${d.heldAfter}`,
      '≤ 2 writes per matched Job without the admission policy; rule writes coalesced (≤ 1 per 2 s); a few KiB',
      ok(
        perJob + 1 <= 2 &&
          d.jobGets === 0 &&
          d.jobLists === 0 &&
          ruleWritesOk(d) &&
          d.ruleBytesAfter <= 16 * 1024 &&
          d.heldAfter === c.running - d.deleted,
      ),
    ]);
  }
  const a = f.admission;
  if (a) {
    const h = a.heldAtCreation;
    const perMatched = (a.admitted.jobWrites.hold + a.ended.jobPatches) / Math.max(1, a.matched);
    rows.push([
      `${tag}: admission policy: ${a.matched} new matched Jobs`,
      `finalizer at creation ${h.matched}/${a.matched}; writes while admitted: hold ${a.admitted.jobWrites.hold}; after ${a.ended.deleted} deleted + ${a.ended.completed} completed: PATCH jobs ${a.ended.jobPatches} (release ${a.ended.jobWrites.release}, record ${a.ended.jobWrites.record}) = ${perMatched.toFixed(2)} writes per matched Job; Cancelled once ${a.ended.alertedOnce}/${a.ended.deleted} (lost ${a.ended.lost}, dup ${a.ended.duplicated}), completed ones named ${a.ended.completedNamed}; gone ${a.ended.gone}/${a.ended.deleted}; still held ${a.heldAfter}; rule status writes ${a.admitted.ruleStatusWrites} + ${a.ended.ruleStatusWrites}${a.ended.timedOut ? '; DID NOT SETTLE' : ''}`,
      '≤ 1 write per matched Job with the admission policy',
      ok(
        !a.ended.timedOut &&
          h.matched === a.matched &&
          perMatched <= 1 &&
          a.ended.lost === 0 &&
          a.ended.duplicated === 0 &&
          a.ended.completedNamed === 0 &&
          a.ended.gone === a.ended.deleted &&
          a.heldAfter === 0,
      ),
    ]);
    rows.push([
      `${tag}: admission policy: ${a.unmatchedWatched + a.otherNamespace} new unmatched Jobs`,
      `in a namespace the policy watches (${a.scope.join(', ')}) but outside the rule's label selector: finalizer at creation ${h.unmatchedWatched}/${a.unmatchedWatched}, PATCH jobs ${a.admitted.jobPatches} while admitted (release ${a.admitted.jobWrites.release}) = ${(a.admitted.jobPatches / Math.max(1, a.unmatchedWatched)).toFixed(2)} per such Job; in another namespace: finalizer ${h.otherNamespace}/${a.otherNamespace}${a.admitted.timedOut ? '; DID NOT SETTLE' : ''}`,
      '0 writes per unmatched Job',
      ok(!a.admitted.timedOut && a.admitted.jobPatches === 0 && h.otherNamespace === 0),
    ]);
  }
  const warn = f.operatorLogs.reduce((n, l) => n + l.warn, 0);
  const error = f.operatorLogs.reduce((n, l) => n + l.error, 0);
  const top = f.operatorLogs
    .flatMap((l) => Object.entries(l.messages))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([m, n]) => `${n}× ${m}`)
    .join('; ');
  rows.push([
    `${tag}: operator log`,
    `warn ${warn}, error ${error}${top ? ` (${top})` : ''}`,
    '(for the record)',
    '',
  ]);
  return rows;
}
