// P10, first half: the operator's event-loop lag while its Job watch relists every Job in the cluster.
//
// The operator's list-watch relists when a watch answers 410 Gone (resourceVersion too old). A real way to get
// there: restart the bench cluster's kube-apiserver. Its watch cache starts afresh at the current revision, so a
// watch resumed from an older resourceVersion is told 410 and the operator lists every Job again (and diffs them
// against its cache, and sweeps them).
//
// Two ways to run it (BENCH_RELIST):
//   pause  (default) the operator is paused (SIGSTOP) while kube-apiserver restarts and resumed once it serves
//          again, as after a network partition: the first thing its watch does is resume from its old
//          resourceVersion, so the relist comes from the 410, and the lag window holds the relist and nothing of
//          the outage. The pause itself, which the event loop sees as one long delay, is dropped by the scrape
//          right after the resume (discarded).
//   plain  the operator keeps running through the restart: its watch fails while the API server is down and
//          retries with backoff (in a trial at 3,000 Jobs it still got the 410 once the server was back; after 3
//          failures the list-watch would relist without one, which jobherald_watch_relists_total does not
//          count). The lag window holds the outage's idle loop too, which dilutes the p99.
// Either way the figures say whether a relist happened: jobherald_watch_relists_total{resource="jobs"} (410s),
// and the LIST requests the operator made (a relist of N Jobs is N/500 pages).
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { restartComponent, type ClusterState } from '../src/dev/cluster/control-plane.ts';
import { sleep } from './support/kube.ts';
import type { OperatorProcess } from './support/operator.ts';
import { waitQuiet } from './support/proc.ts';
import { delta, eventLoopLag, parseMetrics, type EventLoopLag, type Scrape } from './support/stats.ts';
import { fmtMs, verdict, type Row } from './support/table.ts';

export type RelistMode = 'pause' | 'plain';

export interface RelistFigures {
  mode: RelistMode;
  jobs: number;
  /** kube-apiserver stopped → serving again */
  apiserverRestartSeconds: number;
  /** the lag window: the discarded scrape → the operator quiet again after the relist */
  windowSeconds: number;
  quiet: boolean;
  lag?: EventLoopLag;
  /** jobherald_watch_relists_total{resource="jobs"} over the phase */
  relists410: number;
  /** jobherald_watch_restarts_total{resource="jobs"} over the phase (failed watches) */
  watchRestarts: number;
  /** the operator's LIST requests over the phase, and the pages one relist of every Job takes */
  listRequests: number;
  pagesPerRelist: number;
  relisted: boolean;
  /** what the operator logged about its Job watch in the phase (message → count) */
  jobsWatchLog: Record<string, number>;
}

const PAGE = 500;

export async function measureRelist(ctx: {
  state: ClusterState;
  operator: OperatorProcess;
  jobs: number;
  mode: RelistMode;
  log: (line: string) => void;
}): Promise<RelistFigures> {
  const { operator: o, log } = ctx;
  const before = parseMetrics(await o.metrics());
  const logOffset = fileSize(o.logFile);
  let restartMs: number;
  let windowStart: number;
  if (ctx.mode === 'pause') {
    o.pause();
    const began = Date.now();
    try {
      await restartComponent(ctx.state, 'kube-apiserver');
    } finally {
      restartMs = Date.now() - began;
      o.resume();
    }
    windowStart = Date.now();
    await o.metrics(); // resets the lag histogram and drops the pause: discarded
  } else {
    await o.metrics(); // resets the lag histogram: discarded
    windowStart = Date.now();
    const began = Date.now();
    await restartComponent(ctx.state, 'kube-apiserver');
    restartMs = Date.now() - began;
  }
  log(
    `relist: kube-apiserver restarted in ${(restartMs / 1000).toFixed(1)} s (${ctx.mode}); waiting for the relist`,
  );
  // No /metrics until it is over: the operator's log says when its Job watch broke, /proc when it is done.
  const deadline = Date.now() + 60_000;
  while (Object.keys(jobsWatchLog(o.logFile, logOffset)).length === 0 && Date.now() < deadline)
    await sleep(100);
  const quiet = await waitQuiet(o.pid, { windows: 4, timeoutMs: 300_000 });
  const after = parseMetrics(await o.metrics());
  const windowSeconds = (Date.now() - windowStart) / 1000;
  const pagesPerRelist = Math.max(1, Math.ceil(ctx.jobs / PAGE));
  const listRequests = delta(before, after, 'jobherald_kube_requests_total', 'verb="list"');
  const figures: RelistFigures = {
    mode: ctx.mode,
    jobs: ctx.jobs,
    apiserverRestartSeconds: restartMs / 1000,
    windowSeconds,
    quiet: quiet.quiet,
    lag: eventLoopLag(after),
    relists410: delta(before, after, 'jobherald_watch_relists_total', 'resource="jobs"'),
    watchRestarts: restartsOf(after, 'jobs') - restartsOf(before, 'jobs'),
    listRequests,
    pagesPerRelist,
    relisted: listRequests >= pagesPerRelist,
    jobsWatchLog: jobsWatchLog(o.logFile, logOffset),
  };
  log(`relist: ${JSON.stringify(figures)}`);
  return figures;
}

/** jobherald_watch_restarts_total for one resource, every reason. */
function restartsOf(m: Scrape, resource: string): number {
  let n = 0;
  for (const key of m.keys())
    if (key.startsWith('jobherald_watch_restarts_total{') && key.includes(`resource="${resource}"`))
      n += m.get(key) ?? 0;
  return n;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The operator's log lines about its Job watch written after `offset`, by message (numbers folded). */
function jobsWatchLog(file: string, offset: number): Record<string, number> {
  const out: Record<string, number> = {};
  let text: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const size = statSync(file).size;
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      readSync(fd, buffer, 0, buffer.length, offset);
      text = buffer.toString();
    } finally {
      closeSync(fd);
    }
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"resource":"jobs"')) continue;
    try {
      const msg = ((JSON.parse(line) as { msg?: string }).msg ?? '').replace(/\d+ ms/g, 'N ms');
      out[msg] = (out[msg] ?? 0) + 1;
    } catch {
      // a line cut in the middle of a write
    }
  }
  return out;
}

export function relistRows(r: RelistFigures | undefined): Row[] {
  if (r === undefined) return [];
  const how = r.relisted
    ? `relisted: ${r.listRequests} LIST requests (${r.pagesPerRelist} pages per relist), jobherald_watch_relists_total{jobs} +${r.relists410}${r.relists410 === 0 ? ' (not via 410: after failed watches)' : ''}, watch restarts +${r.watchRestarts}`
    : `NO RELIST HAPPENED: ${r.listRequests} LIST requests (a relist is ${r.pagesPerRelist} pages), relists +${r.relists410}, watch restarts +${r.watchRestarts}`;
  return [
    [
      `P10 event-loop lag, relist of ${r.jobs} Jobs`,
      `p99 ${fmtMs(r.lag?.p99Ms)}, max ${fmtMs(r.lag?.maxMs)} over ${r.windowSeconds.toFixed(1)} s${r.quiet ? '' : ' (did not go quiet)'}; ${how}; kube-apiserver restart ${r.apiserverRestartSeconds.toFixed(1)} s (${r.mode === 'pause' ? 'operator paused meanwhile' : 'operator running meanwhile'})`,
      'p99 ≤ 100 ms',
      verdict(r.relisted && r.lag !== undefined ? r.lag.p99Ms <= 100 : undefined),
    ],
  ];
}
