// `npm run bench`: the quality bars P1–P8 and P10 (/work/shared/design/quality-bars.md) measured on this
// machine, on the real local control plane with the Slack emulator, with kubewatch and the stock client-node
// informer as peers in the same run. It prints one table at the end and writes the raw figures to bench/results/. A benchmark
// reports numbers: it never fails on a time (it fails only if it cannot run). docs/benchmarks.md explains each
// figure.
//
// Phases, in order: P1/P2 rounds, kubewatch's P2, P3 and P4 bursts (with CPU, reconciles and the bursts'
// event-loop lag: bench/costs.ts), then for each size of BENCH_SIZES, smallest first, the cluster grown to it:
// P5/P6 with the peers (bench/scale.ts), after the first size P8 failover (bench/failover.ts), at BENCH_RELIST_AT
// the relist's event-loop lag (bench/relist.ts), at the largest size idle CPU.
//
// Sizes (environment):
//   BENCH_SIZES=10000,50000,100000  Jobs in the cluster for P5/P6, one step each (the scenarios' Jobs count)
//   BENCH_RELIST_AT=50000       the size at which the relist is measured (default: 50000 if run, else the largest)
//   BENCH_RELIST=pause          pause | plain | 0 (how kube-apiserver's restart is made to relist: bench/relist.ts)
//   BENCH_FAILOVER_ROUNDS=3     P8 rounds (each a SIGKILL and a SIGTERM); 0: leave P8 out
//   BENCH_IDLE_S=60             seconds of quiet for idle CPU at the largest size
//   BENCH_SCALE_CONCURRENCY=32  requests in flight while the bench creates the P5/P6 Jobs
//   BENCH_LATENCY_JOBS=200      Jobs per P1/P2 round, over BENCH_CHANNELS channels (2 per channel)
//   BENCH_LATENCY_ROUNDS=3      P1/P2 rounds (the table shows medians)
//   BENCH_BURST_JOBS=1000       P3: Jobs into one channel
//   BENCH_FANOUT_JOBS=1000      P4: Jobs over BENCH_CHANNELS channels
//   BENCH_CHANNELS=100
//   BENCH_RESTARTS=3            P6: operator restarts (median)
//   BENCH_FAIL_EVERY=5          every Nth Job fails (exit code 1); 0: all succeed
//   BENCH_SETTLE_S=20           wait before sampling RSS (P5)
//   BENCH_KUBEWATCH=0           leave kubewatch out (it is built from the Go module proxy on first use)
//   BENCH_CLUSTER=bench         the control plane's name (started fresh, torn down at the end)
//   BENCH_KEEP_CLUSTER=1        leave the control plane running at the end
//   BENCH_OPERATOR_NODE_OPTIONS Node flags for the operator (e.g. "--cpu-prof --cpu-prof-dir=DIR")
//
// The delivery-state row (bench/delivery-state.ts; the finalizer and the record on the Job, P5/P6/P7 at 50k Jobs)
// runs after the others on a control plane of its own (`<BENCH_CLUSTER>-ds`). Flags (or environment):
//   --only delivery-state|bars  run only that row / only the rows above (BENCH_ONLY)
//   --jobs 50000                Jobs in its cluster (BENCH_DS_JOBS)
//   --running 5000              of which running, all selected by its rule (BENCH_DS_RUNNING)
//   --delete 500                running Jobs deleted at the end (BENCH_DS_DELETE)
//   --admission 500             new matched Jobs created with the admission policy, 0: none (BENCH_DS_ADMISSION)
//   --concurrency 32            requests in flight while creating and deleting Jobs (BENCH_DS_CONCURRENCY)
//   --no-late-rule              skip order B (operator first, rule created later) (BENCH_DS_LATE_RULE=0)
//   BENCH_DS=0                  leave the row out of a full run
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { down, up } from '../src/dev/cluster/control-plane.ts';
import { connect, ensureNamespace, JobWatch, sleep, type BenchJob, type Kube } from './support/kube.ts';
import {
  ensureKubewatch,
  startKubewatch,
  startSlackProxy,
  type KubewatchProcess,
  type SlackProxy,
} from './support/kubewatch.ts';
import {
  createIntegration,
  createRule,
  createTokenSecret,
  installCrds,
  operatorBuild,
  OperatorSlot,
  RESULTS,
  ROOT,
  waitForReadyRules,
  waitReconcilesSettled,
} from './support/operator.ts';
import {
  runDeliveryScenario,
  runKubewatchScenario,
  type DeliveryFigures,
  type KubewatchFigures,
} from './support/scenario.ts';
import { DEFAULTS as OPERATOR_DEFAULTS } from '../src/operator/config.ts';
import { RuleWriteLog, type RuleWriteFigures } from './support/rule-writes.ts';
import { benchChannels, BOT_TOKEN, CHANNEL_LIMITS_ONLY, startEmulator } from './support/slack.ts';
import { median } from './support/stats.ts';
import { fmtMs, fmtS, renderTable, verdict, type Row } from './support/table.ts';
import { burstLagRows, costRows } from './costs.ts';
import { failoverRows, runFailover, type FailoverFigures } from './failover.ts';
import { measureRelist, relistRows, type RelistFigures, type RelistMode } from './relist.ts';
import { runScaleStep, scaleRows, type ScaleConfig, type ScaleStep } from './scale.ts';
import {
  deliveryStateRows,
  runDeliveryStateRow,
  type DeliveryStateConfig,
  type DeliveryStateFigures,
} from './delivery-state.ts';

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    jobs: { type: 'string' },
    running: { type: 'string' },
    delete: { type: 'string' },
    admission: { type: 'string' },
    concurrency: { type: 'string' },
    'no-late-rule': { type: 'boolean' },
  },
});
const flag = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};
const ONLY = args.only ?? process.env.BENCH_ONLY ?? '';
if (!['', 'delivery-state', 'bars'].includes(ONLY))
  throw new Error(`--only: "${ONLY}" is not one of delivery-state, bars`);

/** BENCH_SIZES (BENCH_JOBS, the former single size, still works when BENCH_SIZES is not set) */
const SIZES = (process.env.BENCH_SIZES ?? process.env.BENCH_JOBS ?? '10000,50000,100000')
  .split(',')
  .filter((v) => v.trim() !== '')
  .map((v) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_SIZES: "${v}" is not a positive integer`);
    return n;
  })
  .sort((a, b) => a - b);
const RELIST = process.env.BENCH_RELIST ?? 'pause';
if (!['pause', 'plain', '0'].includes(RELIST))
  throw new Error(`BENCH_RELIST: "${RELIST}" is not pause, plain or 0`);

const CONFIG = {
  only: ONLY,
  cluster: process.env.BENCH_CLUSTER ?? 'bench',
  keepCluster: process.env.BENCH_KEEP_CLUSTER === '1',
  sizes: SIZES,
  /** the size of the relist measurement: 50k if it is run, else the largest */
  relistAt: num('BENCH_RELIST_AT', SIZES.includes(50_000) ? 50_000 : (SIZES.at(-1) ?? 0)),
  relist: RELIST === '0' ? undefined : (RELIST as RelistMode),
  failoverRounds: num('BENCH_FAILOVER_ROUNDS', 3),
  idleSeconds: num('BENCH_IDLE_S', 60),
  scaleConcurrency: Math.max(1, num('BENCH_SCALE_CONCURRENCY', 32)),
  latencyJobs: num('BENCH_LATENCY_JOBS', 200),
  latencyRounds: Math.max(1, num('BENCH_LATENCY_ROUNDS', 3)),
  burstJobs: num('BENCH_BURST_JOBS', 1_000),
  fanOutJobs: num('BENCH_FANOUT_JOBS', 1_000),
  channels: Math.max(1, num('BENCH_CHANNELS', 100)),
  restarts: Math.max(1, num('BENCH_RESTARTS', 3)),
  failEvery: num('BENCH_FAIL_EVERY', 5),
  settleSeconds: num('BENCH_SETTLE_S', 20),
  kubewatch: process.env.BENCH_KUBEWATCH !== '0',
  deliveryState: ONLY === 'delivery-state' || (ONLY === '' && process.env.BENCH_DS !== '0'),
};

const DELIVERY_STATE: DeliveryStateConfig = {
  jobs: flag('jobs', args.jobs, num('BENCH_DS_JOBS', 50_000)),
  running: flag('running', args.running, num('BENCH_DS_RUNNING', 5_000)),
  deletions: flag('delete', args.delete, num('BENCH_DS_DELETE', 500)),
  admission: flag('admission', args.admission, num('BENCH_DS_ADMISSION', 500)),
  concurrency: Math.max(1, flag('concurrency', args.concurrency, num('BENCH_DS_CONCURRENCY', 32))),
  lateRule: args['no-late-rule'] !== true && process.env.BENCH_DS_LATE_RULE !== '0',
  settleSeconds: CONFIG.settleSeconds,
  cluster: `${CONFIG.cluster}-ds`,
  keepCluster: CONFIG.keepCluster,
};

const OPERATOR_NS = 'bench-system';
const JOBS_NS = 'bench-jobs';
const KUBEWATCH_NS = 'bench-kw';
const BULK_NS = 'bench-bulk';
const CHANNEL_LABEL = 'bench.jobherald.dev/channel';

const began = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};

const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
const onCleanup = (name: string, run: () => Promise<unknown>): void => {
  cleanups.push({ name, run });
};
async function cleanUp(): Promise<void> {
  for (const { name, run } of cleanups.splice(0).reverse()) {
    await run().catch((error: unknown) => log(`cleanup ${name}: ${String(error)}`));
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const fails = (i: number): number | undefined =>
  CONFIG.failEvery > 0 && i % CONFIG.failEvery === CONFIG.failEvery - 1 ? 1 : undefined;

const jobName = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(5, '0')}`;
const namePattern = (prefix: string): RegExp => new RegExp(`\\b(${prefix}-\\d{5})\\b`, 'g');

/** `count` Jobs named prefix-00000…, each labelled for the channel `channelOf(i)`. */
function jobsFor(prefix: string, count: number, channelOf: (i: number) => string | undefined): BenchJob[] {
  return Array.from({ length: count }, (_, i) => {
    const channel = channelOf(i);
    return {
      name: jobName(prefix, i),
      labels: channel === undefined ? undefined : { [CHANNEL_LABEL]: channel },
      exitCode: fails(i),
    };
  });
}

// ------------------------------------------------------------------------------------------------ the run

interface Results {
  date: string;
  machine: { cpus: number; model: string; memoryGiB: number; loadBefore: number[]; loadAfter?: number[] };
  node: string;
  commit: string;
  config: typeof CONFIG;
  latencyRounds: DeliveryFigures[];
  burst?: DeliveryFigures;
  fanOut?: DeliveryFigures;
  fanOutChannelLimitsOnly?: DeliveryFigures;
  kubewatch: { status: string; p2?: KubewatchFigures };
  /** P5/P6 (and idle CPU at the largest) per size, smallest first */
  scale: ScaleStep[];
  relist?: RelistFigures;
  failover?: FailoverFigures;
  /** jobherald_reconciles_total once the operator was first ready with every rule Ready */
  reconcilesAtStart?: number;
  apiLoad?: {
    notifiedJobs: number;
    getList: number;
    /** every write (Job patches, rule and integration status, Events, Lease renewals) */
    writes: number;
    jobWrites: number;
    watches: number;
    perScenario: {
      name: string;
      getListPerJob: number;
      writesPerJob: number;
      jobWritesPerJob: number;
      ruleWrites?: RuleWriteFigures;
    }[];
  };
  deliveryState?: DeliveryStateFigures;
  durationSeconds?: number;
}

/** Every delivery scenario that ran: P1/P2 rounds, P3, P4 twice. */
const deliveryScenarios = (r: Results): DeliveryFigures[] =>
  [...r.latencyRounds, r.burst, r.fanOut, r.fanOutChannelLimitsOnly].filter(
    (s): s is DeliveryFigures => s !== undefined,
  );

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
})();

const results: Results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    loadBefore: loadavg().map((l) => Math.round(l * 100) / 100),
  },
  node: process.version,
  commit,
  config: CONFIG,
  latencyRounds: [],
  scale: [],
  kubewatch: { status: CONFIG.kubewatch ? 'not run' : 'left out (BENCH_KUBEWATCH=0)' },
};

async function main(): Promise<void> {
  // Build kubewatch first (once, ~2 min), so that no build runs while anything is measured.
  let kubewatchBinary: string | undefined;
  if (CONFIG.kubewatch) {
    try {
      kubewatchBinary = await ensureKubewatch(log);
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
      results.kubewatch.status = `could not be built: ${detail.trim().split('\n').slice(-3).join(' | ')}`;
      log(`kubewatch left out: ${results.kubewatch.status}`);
    }
  }

  log(`starting the local control plane "${CONFIG.cluster}"`);
  const state = await up({ name: CONFIG.cluster, log: (l) => log(`control plane: ${l}`) });
  if (!CONFIG.keepCluster) onCleanup('control plane', () => down(CONFIG.cluster));
  const kube: Kube = connect(state.kubeconfig);
  await installCrds(kube);
  for (const ns of [OPERATOR_NS, JOBS_NS, KUBEWATCH_NS, BULK_NS]) await ensureNamespace(kube, ns);

  const channels = benchChannels(CONFIG.channels);
  const slack = await startEmulator([...channels.fanOut, channels.burst, channels.kubewatch]);
  onCleanup('Slack emulator', () => slack.stop());
  await slack.control.setRateLimits(CHANNEL_LIMITS_ONLY);

  await createTokenSecret(kube, OPERATOR_NS, 'bench-token', BOT_TOKEN);
  await createIntegration(kube, OPERATOR_NS, 'bench', { apiURL: slack.apiUrl });
  const ruleFor = (channel: string) => ({
    integrationRef: { name: 'bench' },
    selector: { namespaces: [JOBS_NS], jobSelector: { matchLabels: { [CHANNEL_LABEL]: channel } } },
    events: ['Succeeded', 'Failed'] as ('Succeeded' | 'Failed')[],
    destinations: [{ channel }],
  });
  for (const c of [...channels.fanOut, channels.burst]) {
    await createRule(kube, OPERATOR_NS, `to-${c.name}`, ruleFor(c.name));
  }

  const slot = new OperatorSlot({
    kubeconfig: state.kubeconfig,
    namespace: OPERATOR_NS,
    ruleNamespaces: [OPERATOR_NS],
  });
  onCleanup('operator', async () => slot.current?.stop());
  // P1/P2 lift the emulator's workspace-wide cap; the operator's own workspace budget (Slack's 300/min) is
  // lifted with it for those rounds, or 200 alerts in a second would be paced over 30 s by design.
  const operator = await slot.restart({ args: ['--slack-workspace-rate=off'] });
  await operator.waitReady();
  await waitForReadyRules(kube, OPERATOR_NS, channels.fanOut.length + 1);
  log(`operator ready; ${channels.fanOut.length + 1} rules Ready`);
  // That the reconcile counter counts: the start reconciles every rule and the integration.
  results.reconcilesAtStart = await waitReconcilesSettled(operator);

  const watch = await JobWatch.start(kube, JOBS_NS);
  onCleanup('job watch', () => Promise.resolve(watch.stop()));
  const ruleWrites = await new RuleWriteLog(kube).start();
  onCleanup('rule watch', () => Promise.resolve(ruleWrites.stop()));
  const rules = { log: ruleWrites, intervalMs: OPERATOR_DEFAULTS.statusIntervalMs };
  const ctx = { kube, watch, slack, operator, log, rules };
  const fanOutChannel = (i: number) => channels.fanOut[i % channels.fanOut.length]?.name;

  // P1/P2: channels never paced (2 Jobs per channel is within Slack's burst of 3), no workspace-wide cap.
  for (let round = 1; round <= CONFIG.latencyRounds && CONFIG.latencyJobs > 0; round++) {
    const prefix = `p2r${round}`;
    const figures = await runDeliveryScenario(
      {
        name: `P1/P2 round ${round}`,
        namespace: JOBS_NS,
        jobs: jobsFor(prefix, CONFIG.latencyJobs, fanOutChannel),
        pattern: namePattern(prefix),
        deliveryTimeoutMs: 120_000,
      },
      ctx,
    );
    results.latencyRounds.push(figures);
    log(
      `P1/P2 round ${round}: e2e p50 ${fmtMs(figures.e2eP50Ms)} p99 ${fmtMs(figures.e2eP99Ms)}; dispatch p50 ${fmtMs(figures.dispatchP50Ms)} p99 ${fmtMs(figures.dispatchP99Ms)}`,
    );
    await sleep(4_000); // let every channel's bucket refill
  }

  // kubewatch's P2: the same workload; it cannot pace itself (one channel, a message per Job update), so Slack's
  // limits are off for it, or most of its messages would be refused.
  let proxy: SlackProxy | undefined;
  let kubewatch: KubewatchProcess | undefined;
  if (kubewatchBinary !== undefined) {
    try {
      await slack.control.setRateLimits('off');
      const p = await startSlackProxy(slack.url);
      proxy = p;
      onCleanup('kubewatch proxy', () => p.close());
      const kw = startKubewatch({
        binary: kubewatchBinary,
        kubeconfig: state.kubeconfig,
        proxy: p,
        token: BOT_TOKEN,
        channel: channels.kubewatch.id,
      });
      kubewatch = kw;
      onCleanup('kubewatch', () => kw.stop());
      await kw.waitSynced();
      const kwWatch = await JobWatch.start(kube, KUBEWATCH_NS);
      onCleanup('kubewatch job watch', () => Promise.resolve(kwWatch.stop()));
      const settle = async () => {
        let last = -1;
        while (p.forwarded() !== last) {
          last = p.forwarded();
          await sleep(3_000);
        }
      };
      results.kubewatch.p2 = await runKubewatchScenario(
        {
          namespace: KUBEWATCH_NS,
          jobs: jobsFor('kw', CONFIG.latencyJobs, () => undefined),
          pattern: namePattern('kw'),
          channel: channels.kubewatch.id,
          settle,
          pid: kw.pid,
        },
        { ...ctx, watch: kwWatch },
      );
      kwWatch.stop();
      await kw.stop();
      results.kubewatch.status = 'measured';
      log(
        `kubewatch P2: p50 ${fmtMs(results.kubewatch.p2.e2eP50Ms)} p99 ${fmtMs(results.kubewatch.p2.e2eP99Ms)}, ${results.kubewatch.p2.messagesPerJob.toFixed(1)} messages per Job`,
      );
    } catch (error) {
      results.kubewatch.status = `failed: ${(error as Error).message.split('\n')[0] ?? ''}`;
      log(`kubewatch: ${results.kubewatch.status}`);
      await kubewatch?.stop();
    }
  }

  // From here on the operator runs as it ships: Slack's workspace budget on.
  ctx.operator = await slot.restart();
  await ctx.operator.waitReady();
  // the restart's own reconciles (every rule, twice: on leading and when the integration turns Ready) are
  // not P3's
  await waitReconcilesSettled(ctx.operator);

  // P3 and P4: real bursts (the operator is paused while the Jobs finish, so every outcome reaches it at once;
  // the local control plane alone needs 20–45 s to finish 1,000 Jobs), with Slack's limits: ~1 msg/s per
  // channel (burst 3) and, in the emulator, 300/min per workspace (burst 50).
  await slack.control.setRateLimits('slack');
  if (CONFIG.burstJobs > 0) {
    results.burst = await runDeliveryScenario(
      {
        name: 'P3 burst into one channel',
        namespace: JOBS_NS,
        jobs: jobsFor('p3', CONFIG.burstJobs, () => channels.burst.name),
        pattern: namePattern('p3'),
        deliveryTimeoutMs: 300_000,
        pauseOperator: true,
      },
      ctx,
    );
    log(`P3: ${JSON.stringify(results.burst)}`);
    await sleep(5_000);
  }
  if (CONFIG.fanOutJobs > 0) {
    results.fanOut = await runDeliveryScenario(
      {
        name: 'P4 fan-out',
        namespace: JOBS_NS,
        jobs: jobsFor('p4', CONFIG.fanOutJobs, fanOutChannel),
        pattern: namePattern('p4'),
        deliveryTimeoutMs: 300_000,
        pauseOperator: true,
      },
      ctx,
    );
    log(`P4: ${JSON.stringify(results.fanOut)}`);
    // The same fan-out without the emulator's workspace-wide cap (300/min): only the per-channel limits.
    await sleep(10_000);
    await slack.control.setRateLimits(CHANNEL_LIMITS_ONLY);
    results.fanOutChannelLimitsOnly = await runDeliveryScenario(
      {
        name: 'P4 fan-out, per-channel limits only',
        namespace: JOBS_NS,
        jobs: jobsFor('p4c', CONFIG.fanOutJobs, fanOutChannel),
        pattern: namePattern('p4c'),
        deliveryTimeoutMs: 300_000,
        pauseOperator: true,
      },
      ctx,
    );
    log(`P4 (per-channel limits only): ${JSON.stringify(results.fanOutChannelLimitsOnly)}`);
  }

  // P7 over every delivery scenario.
  const scenarios = deliveryScenarios(results);
  const notified = scenarios.reduce((n, s) => n + s.delivered, 0);
  results.apiLoad = {
    perScenario: scenarios.map((s) => ({
      name: s.name,
      getListPerJob: (s.kubeRequests.get + s.kubeRequests.list) / Math.max(1, s.delivered),
      writesPerJob: s.kubeRequests.write / Math.max(1, s.delivered),
      jobWritesPerJob: s.jobWrites / Math.max(1, s.delivered),
      ...(s.ruleWrites !== undefined ? { ruleWrites: s.ruleWrites } : {}),
    })),
    jobWrites: scenarios.reduce((n, s) => n + s.jobWrites, 0),
    notifiedJobs: notified,
    getList: scenarios.reduce((n, s) => n + s.kubeRequests.get + s.kubeRequests.list, 0),
    writes: scenarios.reduce((n, s) => n + s.kubeRequests.write, 0),
    watches: scenarios.reduce((n, s) => n + s.kubeRequests.watch, 0),
  };

  // P5/P6 at each size, the cluster growing from one to the next; P8 after the first size (its target is 15 s + P6
  // there); the relist at its size.
  const scaleConfig: ScaleConfig = {
    concurrency: CONFIG.scaleConcurrency,
    restarts: CONFIG.restarts,
    settleSeconds: CONFIG.settleSeconds,
    idleSeconds: CONFIG.idleSeconds,
    failEvery: CONFIG.failEvery,
  };
  const scaleCtx = {
    kube,
    kubeconfig: state.kubeconfig,
    namespace: BULK_NS,
    slot,
    kubewatch:
      kubewatchBinary !== undefined && proxy !== undefined
        ? { binary: kubewatchBinary, proxy, token: BOT_TOKEN, channel: channels.kubewatch.id }
        : undefined,
    log,
    onCleanup,
  };
  for (const [i, size] of CONFIG.sizes.entries()) {
    const step = await runScaleStep(size, i === CONFIG.sizes.length - 1, scaleConfig, scaleCtx);
    results.scale.push(step);
    if (i === 0 && CONFIG.failoverRounds > 0) {
      const began = Date.now();
      results.failover = { jobsInCluster: step.jobs, readyMs: median(step.readyMs), rounds: [] };
      await runFailover(CONFIG.failoverRounds, results.failover, {
        kube,
        slot,
        watch,
        slack,
        namespace: JOBS_NS,
        labels: { [CHANNEL_LABEL]: channels.fanOut[0]?.name ?? channels.burst.name },
        channel: channels.fanOut[0]?.id ?? channels.burst.id,
        log,
        onCleanup,
      });
      step.phaseSeconds['failover (P8)'] = Math.round((Date.now() - began) / 100) / 10;
    }
    if (size === CONFIG.relistAt && CONFIG.relist !== undefined) {
      const began = Date.now();
      results.relist = await measureRelist({
        state,
        operator: slot.get(),
        jobs: step.jobs,
        mode: CONFIG.relist,
        log,
      });
      step.phaseSeconds['relist (P10)'] = Math.round((Date.now() - began) / 100) / 10;
    }
    log(`scale ${size}: phases ${JSON.stringify(step.phaseSeconds)}`);
  }
}

// ------------------------------------------------------------------------------------------------ the table

function table(r: Results): string {
  const rows: Row[] = [];
  const rounds = r.latencyRounds;
  const med = (f: (d: DeliveryFigures) => number | undefined) =>
    median(rounds.map(f).filter((v): v is number => v !== undefined));
  if (rounds.length > 0) {
    const n = `median of ${rounds.length} × ${rounds[0]?.jobs ?? 0} Jobs`;
    const d50 = med((d) => d.dispatchP50Ms);
    const d99 = med((d) => d.dispatchP99Ms);
    rows.push([
      'P1 dispatch (operator histogram)',
      `p50 ${fmtMs(d50)}, p99 ${fmtMs(d99)} (${n})`,
      'p50 ≤ 50 ms, p99 ≤ 500 ms',
      verdict(d50 === undefined || d99 === undefined ? undefined : d50 <= 50 && d99 <= 500),
    ]);
    const e50 = med((d) => d.e2eP50Ms);
    const e99 = med((d) => d.e2eP99Ms);
    const lost = rounds.reduce((s, d) => s + d.lost, 0);
    rows.push([
      'P2 end to end (bench watch → Slack)',
      `p50 ${fmtMs(e50)}, p99 ${fmtMs(e99)}; lost ${lost}`,
      'p50 ≤ 2 s, p99 ≤ 5 s',
      verdict(e50 === undefined || e99 === undefined ? undefined : e50 <= 2000 && e99 <= 5000 && lost === 0),
    ]);
    rows.push([
      'P2 inside (operator: observed → ok)',
      `p50 ${fmtMs(med((d) => d.deliveryP50Ms))}, p99 ${fmtMs(med((d) => d.deliveryP99Ms))}`,
      '(histogram, for comparison)',
      '',
    ]);
  }
  const kw = r.kubewatch;
  if (r.config.only !== 'delivery-state')
    rows.push([
      'P2 peer: kubewatch',
      kw.p2
        ? `p50 ${fmtMs(kw.p2.e2eP50Ms)}, p99 ${fmtMs(kw.p2.e2eP99Ms)}; ${kw.p2.messagesPerJob.toFixed(1)} msgs/Job; missing ${kw.p2.missing}`
        : kw.status,
      '(peer; Slack limits off)',
      '',
    ]);
  if (r.burst) {
    const b = r.burst;
    rows.push([
      `P3 burst: ${b.jobs} Jobs → 1 channel`,
      `all visible ${fmtS(b.allVisibleAfterResumeSeconds)} after the burst; ${b.messages} messages (${b.digests} digests); lost ${b.lost}; duplicated ${b.duplicated}; 429s ${b.rateLimited429}`,
      '≤ 60 s, ≤ 70 messages, 0 lost, 0 dup',
      verdict(
        b.allVisibleAfterResumeSeconds !== undefined &&
          b.allVisibleAfterResumeSeconds <= 60 &&
          b.messages <= 70 &&
          b.lost === 0 &&
          b.duplicated === 0,
      ),
    ]);
  }
  for (const [f, label] of [
    [r.fanOut, ''],
    [r.fanOutChannelLimitsOnly, ', no workspace cap'],
  ] as const) {
    if (f === undefined) continue;
    rows.push([
      `P4 fan-out: ${f.jobs} Jobs → ${r.config.channels} channels${label}`,
      `all delivered ${fmtS(f.allVisibleAfterResumeSeconds)} after the burst; ${f.messages} messages (${f.digests} digests); 429s ${f.rateLimited429}; lost ${f.lost}; duplicated ${f.duplicated}`,
      '≤ 15 s',
      verdict(
        f.allVisibleAfterResumeSeconds !== undefined &&
          f.allVisibleAfterResumeSeconds <= 15 &&
          f.lost === 0 &&
          f.duplicated === 0,
      ),
    ]);
  }
  rows.push(...scaleRows(r.scale));
  if (r.apiLoad && r.apiLoad.notifiedJobs > 0) {
    const a = r.apiLoad;
    const per = (n: number) => (n / a.notifiedJobs).toFixed(2);
    // the bar holds for every scenario, not just on average: show the worst one too
    const worstBy = (key: (s: (typeof a.perScenario)[number]) => number) =>
      a.perScenario.reduce<(typeof a.perScenario)[number] | undefined>(
        (w, s) => (w === undefined || key(s) > key(w) ? s : w),
        undefined,
      );
    const worst = worstBy((s) => s.jobWritesPerJob);
    rows.push([
      'P7 API requests per notified Job',
      `GET+LIST ${per(a.getList)}; Job writes ${per(a.jobWrites)} overall (${a.notifiedJobs} Jobs), worst ${worst?.jobWritesPerJob.toFixed(2) ?? '—'} in "${worst?.name ?? ''}"; all writes (rule and integration status, Events, Lease renewals too) ${per(a.writes)}`,
      // no admission policy in this cluster: the finalizer is a write of its own (the delivery-state row
      // measures ≤ 1 with the policy)
      '0 GET/LIST, ≤ 2 Job writes per matched Job without the admission policy',
      verdict(a.getList === 0 && (worst?.jobWritesPerJob ?? 0) <= 2),
    ]);
    const measured = a.perScenario.filter((s) => s.ruleWrites !== undefined);
    if (measured.length > 0) {
      const tight = worstBy((s) =>
        s.ruleWrites?.worst === undefined ? 0 : s.ruleWrites.worst.writes / s.ruleWrites.worst.allowed,
      );
      const w = tight?.ruleWrites?.worst;
      const total = measured.reduce((n, s) => n + (s.ruleWrites?.writes ?? 0), 0);
      rows.push([
        'P7 rule status writes coalesced',
        `${total} rule writes over ${measured.length} scenarios; tightest: ${w === undefined ? '—' : `${w.rule} ${w.writes} writes over ${w.spanSeconds.toFixed(1)} s (≤ ${w.allowed} allowed)`} in "${tight?.name ?? ''}"`,
        `≤ 1 write per rule per ${OPERATOR_DEFAULTS.statusIntervalMs / 1000} s, none for un-notified Jobs`,
        verdict(measured.every((s) => s.ruleWrites?.coalesced === true)),
      ]);
    }
  }
  rows.push(...failoverRows(r.failover));
  rows.push(...relistRows(r.relist));
  rows.push(...burstLagRows(deliveryScenarios(r)));
  rows.push(...costRows(deliveryScenarios(r), kw.p2, r.reconcilesAtStart));
  if (r.deliveryState) rows.push(...deliveryStateRows(r.deliveryState));
  return renderTable(rows);
}

let failure: unknown;
try {
  if (CONFIG.only !== 'delivery-state') await main();
  if (CONFIG.deliveryState) {
    await cleanUp(); // the rows above are done: their control plane, emulator and operator go first
    await runDeliveryStateRow(DELIVERY_STATE, {
      log,
      onCleanup,
      report: (figures) => (results.deliveryState = figures),
    });
  }
} catch (error) {
  failure = error;
  log(`the benchmark could not finish: ${(error as Error).stack ?? String(error)}`);
} finally {
  await cleanUp();
}
results.machine.loadAfter = loadavg().map((l) => Math.round(l * 100) / 100);
results.durationSeconds = Math.round((Date.now() - began) / 1000);
mkdirSync(RESULTS, { recursive: true });
const file = join(RESULTS, `bench-${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
process.stdout.write(
  `\njobherald benchmarks, ${results.date} — ${results.machine.cpus} cores (${results.machine.model}), Node ${results.node}, commit ${results.commit}, operator from ${operatorBuild()}, load ${results.machine.loadBefore.join('/')} → ${results.machine.loadAfter.join('/')}, ${results.durationSeconds} s\n\n${table(results)}\n\nraw figures: ${file}\n`,
);
process.exit(failure === undefined ? 0 : 1);
