// P5 (memory) and P6 (start → ready) at one cluster size, with the peers measured at the same moment, for
// `npm run bench` (bench/run.ts calls it once per size, smallest first: the cluster grows from one to the next).
//
// At each size:
//   grow      top the cluster up to the size with Jobs the Job controller leaves alone (spec.managedBy; the bench
//             writes their terminal status: bench/support/managed-jobs.ts), unlabelled, so no rule matches them;
//             then wait until the long-running operator has caught up (its CPU quiet again)
//   peers     the client-node informer, then kubewatch, each syncing every Job (their P6)
//   memory    after BENCH_SETTLE_S: Rss (anonymous / file-backed, /proc/PID/smaps_rollup) of the long-running
//             operator and both peers, and the operator's V8 heap (its /metrics); at the largest size the same
//             sample sits inside a window of quiet that gives each process' idle CPU
//   start     BENCH_RESTARTS restarts of the operator: spawn → /readyz 200 (P6), and the event-loop lag from spawn
//             until its start is done (initial list and the leader-start sweep: its CPU quiet again)
//   fresh     the last restarted operator after BENCH_SETTLE_S: the same memory figures
import { ApiClient } from './support/apiserver.ts';
import { countJobs, sleep, type Kube } from './support/kube.ts';
import { startKubewatch, type SlackProxy } from './support/kubewatch.ts';
import { createManagedFleet, finishedStatus } from './support/managed-jobs.ts';
import type { OperatorProcess, OperatorSlot } from './support/operator.ts';
import { operatorBuild } from './support/operator.ts';
import { startInformerPeer } from './support/informer.ts';
import { cpuDuring, sampleMemory, waitQuiet, type MemorySplit } from './support/proc.ts';
import { eventLoopLag, median, parseMetrics, sum, type EventLoopLag } from './support/stats.ts';
import { fmtMiB, fmtMs, MiB, verdict, type Row } from './support/table.ts';

export interface ScaleConfig {
  /** requests in flight while creating Jobs */
  concurrency: number;
  restarts: number;
  settleSeconds: number;
  /** seconds of quiet for the idle CPU figure (at the largest size only) */
  idleSeconds: number;
  /** every Nth Job Failed; 0: none */
  failEvery: number;
}

export interface ScaleContext {
  kube: Kube;
  kubeconfig: string;
  /** where the Jobs are created */
  namespace: string;
  slot: OperatorSlot;
  kubewatch?: { binary: string; proxy: SlackProxy; token: string; channel: string };
  log: (line: string) => void;
  onCleanup: (name: string, run: () => Promise<unknown>) => void;
}

export interface OperatorMemory extends MemorySplit {
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

export interface PeerFigures {
  /** spawn → cache filled (informer) / "synced and ready" (kubewatch) */
  syncMs?: number;
  memory?: MemorySplit;
  idleCpuSeconds?: number;
  status: string;
}

export interface ScaleStep {
  size: number;
  /** Jobs in the cluster once grown (the scenarios' Jobs included) */
  jobs: number;
  created: number;
  createSeconds: number;
  /** the long-running operator quiet again after the growth */
  catchUpSeconds: number;
  longRunning?: OperatorMemory;
  fresh?: OperatorMemory;
  readyMs: number[];
  /** per restart: spawn → the operator quiet after its start (list + sweep) */
  startLag: (EventLoopLag & { windowSeconds: number; quiet: boolean })[];
  informer: PeerFigures;
  kubewatch: PeerFigures;
  /** idle CPU over `seconds` of quiet (largest size only), CPU-seconds */
  idle?: { seconds: number; operatorCpuSeconds?: number };
  /** wall time of each phase, seconds */
  phaseSeconds: Record<string, number>;
}

let created = 0; // Jobs this module created so far: their names go on from there

/** One size: grow the cluster to `size` Jobs, then measure. `largest`: also the idle CPU window. */
export async function runScaleStep(
  size: number,
  largest: boolean,
  config: ScaleConfig,
  ctx: ScaleContext,
): Promise<ScaleStep> {
  const { log } = ctx;
  const phase: Record<string, number> = {};
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const began = Date.now();
    try {
      return await run();
    } finally {
      phase[name] = Math.round((Date.now() - began) / 100) / 10;
    }
  };

  // ---- grow
  const grown = await timed('grow', async () => {
    const existing = await countJobs(ctx.kube);
    const need = Math.max(0, size - existing);
    log(`scale ${size}: ${existing} Jobs in the cluster; creating ${need} (managedBy, bench-written status)`);
    const api = await ApiClient.connect(ctx.kube, config.concurrency);
    const now = Date.now();
    let seconds: number;
    try {
      const first = created;
      seconds = await createManagedFleet(
        api,
        need,
        (i) => {
          const n = first + i;
          const failed = config.failEvery > 0 && n % config.failEvery === config.failEvery - 1;
          return {
            namespace: ctx.namespace,
            name: `scale-${String(n).padStart(6, '0')}`,
            status: finishedStatus(failed ? 'Failed' : 'Succeeded', now - 600_000, now - 300_000),
          };
        },
        { concurrency: config.concurrency, log, what: `scale ${size}` },
      );
    } finally {
      api.close();
    }
    created += need;
    const catchUp = await waitQuiet(ctx.slot.get().pid, { windows: 4, timeoutMs: 600_000 });
    const jobs = await countJobs(ctx.kube);
    log(
      `scale ${size}: ${need} Jobs in ${seconds.toFixed(0)} s (${(need / Math.max(seconds, 0.001)).toFixed(0)}/s); operator caught up ${(catchUp.ms / 1000).toFixed(1)} s later; ${jobs} Jobs`,
    );
    return { jobs, need, seconds, catchUpSeconds: catchUp.ms / 1000 };
  });

  const step: ScaleStep = {
    size,
    jobs: grown.jobs,
    created: grown.need,
    createSeconds: grown.seconds,
    catchUpSeconds: grown.catchUpSeconds,
    readyMs: [],
    startLag: [],
    informer: { status: 'not run' },
    kubewatch: { status: ctx.kubewatch ? 'not run' : 'left out' },
    phaseSeconds: phase,
  };

  // ---- peers, then every process' memory (and, at the largest size, idle CPU) at the same moment
  await timed('peers + memory', async () => {
    const stops: (() => Promise<void>)[] = [];
    const pids: Record<string, number> = { operator: ctx.slot.get().pid };
    try {
      try {
        const informer = await startInformerPeer(ctx.kubeconfig, 300_000);
        stops.push(() => informer.stop());
        ctx.onCleanup('client-node informer', () => informer.stop());
        pids.informer = informer.pid;
        step.informer = { syncMs: informer.readyMs, status: 'measured' };
        log(`scale ${size}: client-node informer synced ${informer.jobs} Jobs in ${fmtMs(informer.readyMs)}`);
      } catch (error) {
        step.informer.status = `failed: ${(error as Error).message.split('\n')[0] ?? ''}`;
        log(`scale ${size}: client-node informer ${step.informer.status}`);
      }
      if (ctx.kubewatch) {
        const kw = startKubewatch({ ...ctx.kubewatch, kubeconfig: ctx.kubeconfig });
        stops.push(() => kw.stop());
        ctx.onCleanup('kubewatch (scale)', () => kw.stop());
        try {
          step.kubewatch = { syncMs: await kw.waitSynced(300_000), status: 'measured' };
          pids.kubewatch = kw.pid;
          log(`scale ${size}: kubewatch synced in ${fmtMs(step.kubewatch.syncMs)}`);
        } catch (error) {
          step.kubewatch.status = `failed: ${(error as Error).message.split('\n')[0] ?? ''}`;
          log(`scale ${size}: kubewatch ${step.kubewatch.status}`);
        }
      }
      log(`scale ${size}: settling ${config.settleSeconds} s, then sampling memory for 10 s`);
      await sleep(config.settleSeconds * 1000);
      const idleSeconds = largest ? Math.max(10, config.idleSeconds) : 0;
      if (largest) log(`scale ${size}: idle CPU over ${idleSeconds} s of quiet`);
      const { result: memory, cpu } = await cpuDuring(pids, async () => {
        const began = Date.now();
        const m = await sampleMemory(pids, 10);
        await sleep(Math.max(0, idleSeconds * 1000 - (Date.now() - began)));
        return m;
      });
      step.longRunning = await operatorMemory(ctx.slot.get(), memory.operator);
      step.informer.memory = memory.informer;
      step.kubewatch.memory = memory.kubewatch;
      if (largest) {
        step.idle = { seconds: idleSeconds, operatorCpuSeconds: cpu.operator };
        step.informer.idleCpuSeconds = cpu.informer;
        step.kubewatch.idleCpuSeconds = cpu.kubewatch;
      }
      log(
        `scale ${size}: RSS operator ${fmtMiB(step.longRunning?.rssBytes)}, informer ${fmtMiB(memory.informer?.rssBytes)}, kubewatch ${fmtMiB(memory.kubewatch?.rssBytes)}`,
      );
    } finally {
      for (const stop of stops) await stop();
    }
  });

  // ---- P6: restarts, each with its start's event-loop lag
  await timed('restarts (P6)', async () => {
    for (let r = 1; r <= config.restarts; r++) {
      const o = await ctx.slot.restart();
      step.readyMs.push(await o.waitReady(300_000));
      // No /metrics until the start is done (the first scrape covers it all: the lag histogram runs from spawn).
      const quiet = await waitQuiet(o.pid, { windows: 4, timeoutMs: 300_000 });
      const lag = eventLoopLag(parseMetrics(await o.metrics()));
      if (lag)
        step.startLag.push({
          ...lag,
          windowSeconds: (performance.now() - o.startedAt) / 1000,
          quiet: quiet.quiet,
        });
      log(
        `scale ${size}: restart ${r}: ready in ${fmtMs(step.readyMs.at(-1))}; start lag p99 ${fmtMs(lag?.p99Ms)}, max ${fmtMs(lag?.maxMs)}`,
      );
    }
  });

  await timed('fresh memory', async () => {
    await sleep(config.settleSeconds * 1000);
    const o = ctx.slot.get();
    step.fresh = await operatorMemory(o, (await sampleMemory({ operator: o.pid }, 10)).operator);
    log(`scale ${size}: fresh operator RSS ${fmtMiB(step.fresh?.rssBytes)}`);
  });
  return step;
}

async function operatorMemory(
  o: OperatorProcess,
  split: MemorySplit | undefined,
): Promise<OperatorMemory | undefined> {
  if (split === undefined) return undefined;
  const m = parseMetrics(await o.metrics());
  return {
    ...split,
    heapUsedBytes: sum(m, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: sum(m, 'nodejs_heap_size_total_bytes'),
    externalBytes: sum(m, 'nodejs_external_memory_bytes'),
  };
}

// ------------------------------------------------------------------------------------------------ the rows

/** The bar at a size: the value for the largest threshold not above it (undefined below the first). */
const barAt = (jobs: number, bars: [number, number][]): number | undefined =>
  [...bars].reverse().find(([at]) => jobs >= at)?.[1];
const P5_MIB: [number, number][] = [
  [10_000, 150],
  [50_000, 250],
  [100_000, 400],
];
const P6_S: [number, number][] = [
  [10_000, 10],
  [50_000, 30],
  [100_000, 60],
];
const k = (n: number) => `${n / 1000}k`;
const thresholdOf = (jobs: number, bars: [number, number][]) =>
  [...bars].reverse().find(([at]) => jobs >= at)?.[0] ?? 0;

/** "351 MiB = anon 300 (V8 heap 102 used / 218 total, external 53) + file 51" */
export function fmtOperatorMemory(m: OperatorMemory | undefined): string {
  if (m === undefined) return '—';
  const n = (b: number) => (b / MiB).toFixed(0);
  return `${n(m.rssBytes)} MiB = anon ${n(m.anonBytes)} (V8 heap ${n(m.heapUsedBytes)} used / ${n(m.heapTotalBytes)} total, external ${n(m.externalBytes)}, rest ${n(Math.max(0, m.anonBytes - m.heapTotalBytes - m.externalBytes))}) + file ${n(m.fileBytes)}`;
}
const fmtSplit = (m: MemorySplit | undefined) =>
  m === undefined
    ? '—'
    : `${fmtMiB(m.rssBytes)} (anon ${(m.anonBytes / MiB).toFixed(0)} + file ${(m.fileBytes / MiB).toFixed(0)})`;
const perMinute = (cpu: number | undefined, seconds: number) =>
  cpu === undefined ? '—' : `${((cpu * 60) / seconds).toFixed(3)}`;

export function scaleRows(steps: readonly ScaleStep[]): Row[] {
  const rows: Row[] = [];
  for (const s of steps) {
    const mib = barAt(s.jobs, P5_MIB);
    const worst = Math.max(s.longRunning?.rssBytes ?? 0, s.fresh?.rssBytes ?? 0);
    rows.push([
      `P5 RSS, ${s.jobs} Jobs: jobherald`,
      `long-running ${fmtOperatorMemory(s.longRunning)}; freshly restarted ${fmtOperatorMemory(s.fresh)} (${operatorBuild()})`,
      mib === undefined ? '(below 10k: no bar)' : `≤ ${mib} MiB at ${k(thresholdOf(s.jobs, P5_MIB))}`,
      verdict(mib === undefined || worst === 0 ? undefined : worst / MiB <= mib),
    ]);
    rows.push([
      `P5 peers, ${s.jobs} Jobs`,
      `kubewatch ${s.kubewatch.memory ? fmtSplit(s.kubewatch.memory) : s.kubewatch.status}; client-node informer ${s.informer.memory ? fmtSplit(s.informer.memory) : s.informer.status}`,
      '(peers, same moment)',
      '',
    ]);
    const ready = median(s.readyMs);
    const secs = barAt(s.jobs, P6_S);
    rows.push([
      `P6 start → ready, ${s.jobs} Jobs`,
      `${fmtMs(ready)} (median of ${s.readyMs.length}: ${s.readyMs.map((v) => (v / 1000).toFixed(2)).join(', ')} s); peers: informer sync ${fmtMs(s.informer.syncMs)}, kubewatch sync ${fmtMs(s.kubewatch.syncMs)}`,
      secs === undefined ? '(below 10k: no bar)' : `≤ ${secs} s at ${k(thresholdOf(s.jobs, P6_S))}`,
      verdict(secs === undefined || ready === undefined ? undefined : ready / 1000 <= secs),
    ]);
    if (s.startLag.length > 0) {
      const p99 = median(s.startLag.map((l) => l.p99Ms));
      const max = Math.max(...s.startLag.map((l) => l.maxMs));
      const window = median(s.startLag.map((l) => l.windowSeconds));
      rows.push([
        `P10 event-loop lag during start, ${s.jobs} Jobs`,
        `p99 ${fmtMs(p99)} (median of ${s.startLag.length}), max ${fmtMs(max)}; spawn → list, sweep and quiet again in ${window?.toFixed(1) ?? '—'} s${s.startLag.some((l) => !l.quiet) ? ' (did not go quiet)' : ''}`,
        '(for the record; P10 is ≤ 100 ms)',
        '',
      ]);
    }
    if (s.idle) {
      const sec = s.idle.seconds;
      rows.push([
        `CPU idle, ${s.jobs} Jobs (CPU-s per minute)`,
        `jobherald ${perMinute(s.idle.operatorCpuSeconds, sec)}, kubewatch ${perMinute(s.kubewatch.idleCpuSeconds, sec)}, client-node informer ${perMinute(s.informer.idleCpuSeconds, sec)} (over ${sec} s of quiet)`,
        '(for the record)',
        '',
      ]);
    }
  }
  return rows;
}
