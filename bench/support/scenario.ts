// One delivery scenario: create Jobs, wait until every one is terminal (as the bench's own watch sees it) and
// every alert has reached the Slack emulator, then work out the figures from both sides:
//   - outside: the bench's watch time of each Job's terminal condition vs the emulator's postedAt of the first
//     message that mentions the Job (a digest mentions many) → end-to-end latency, lost, duplicated, messages;
//   - inside: the operator's /metrics before and after → its dispatch and delivery histograms, API requests,
//     reconciles; /proc/PID/stat before and after → the CPU it used.
// A paused scenario (a real burst) also measures the operator's event-loop lag from its resume until it has gone
// quiet again: prom-client resets that histogram at every scrape, so the bench scrapes once right after the
// resume (discarded: it also drops the pause itself, which the loop sees as one long delay), waits on Slack and
// on /proc instead of /metrics, and scrapes once more at the end.
import { createJobs, sleep, type BenchJob, type JobWatch, type Kube } from './kube.ts';
import type { OperatorProcess } from './operator.ts';
import { cpuSeconds, waitQuiet } from './proc.ts';
import type { RuleWriteFigures, RuleWriteLog } from './rule-writes.ts';
import { jobsIn, type EmulatorProcess } from './slack.ts';
import {
  delta,
  deltaByLabel,
  eventLoopLag,
  type EventLoopLag,
  histogramDelta,
  histogramQuantile,
  parseMetrics,
  percentile,
  sum,
  type Scrape,
} from './stats.ts';

export interface DeliveryFigures {
  name: string;
  jobs: number;
  createSeconds: number;
  /** first → last terminal condition, as the bench saw them */
  finishWindowSeconds: number;
  /** e2e (terminal seen → Slack postedAt of the first message naming the Job), ms */
  e2eP50Ms?: number;
  e2eP99Ms?: number;
  e2eMaxMs?: number;
  /** first terminal → every outcome visible in Slack */
  allVisibleAfterFirstSeconds?: number;
  /** last terminal → every outcome visible in Slack */
  allVisibleAfterLastSeconds?: number;
  /** pauseOperator: the operator resumed → every outcome visible in Slack */
  allVisibleAfterResumeSeconds?: number;
  messages: number;
  digests: number;
  lost: number;
  /** Jobs named in more than one message */
  duplicated: number;
  rateLimited429: number;
  /** the operator's histograms over the scenario (bucket-interpolated), ms */
  dispatchP50Ms?: number;
  dispatchP99Ms?: number;
  deliveryP50Ms?: number;
  deliveryP99Ms?: number;
  delivered: number;
  failed: number;
  kubeRequests: { get: number; list: number; watch: number; write: number };
  /** jobherald_job_writes_total's increase (hold + record + release): P7's Job writes */
  jobWrites: number;
  /** NotificationRule writes as the bench's watch saw them (P7: coalesced, one per rule per interval) */
  ruleWrites?: RuleWriteFigures;
  /** the operator's CPU (utime + stime) over the scenario, seconds */
  cpuSeconds?: number;
  /** jobherald_reconciles_total's increase, by controller; undefined when the operator does not expose it */
  reconciles?: Record<string, number>;
  /** pauseOperator: the event-loop lag from the resume until the operator went quiet after the burst */
  eventLoopLag?: EventLoopLag & { windowSeconds: number; quiet: boolean };
}

export interface DeliveryScenario {
  name: string;
  namespace: string;
  jobs: BenchJob[];
  /** matches the scenario's Job names in message text (group 1 = the name) */
  pattern: RegExp;
  /** how long to wait for Slack after the last Job finished */
  deliveryTimeoutMs: number;
  /**
   * A real burst: the operator is paused (SIGSTOP) while the Jobs finish and resumed once all have, so that
   * every outcome reaches it at once, whatever pace the local control plane finishes Jobs at.
   */
  pauseOperator?: boolean;
}

const scrape = async (operator: OperatorProcess): Promise<Scrape> => parseMetrics(await operator.metrics());

export async function runDeliveryScenario(
  s: DeliveryScenario,
  ctx: {
    kube: Kube;
    watch: JobWatch;
    slack: EmulatorProcess;
    operator: OperatorProcess;
    log: (l: string) => void;
    /** the bench's watch of every rule, and the operator's coalescing interval of rule status writes */
    rules?: { log: RuleWriteLog; intervalMs: number };
  },
): Promise<DeliveryFigures> {
  const names = new Set(s.jobs.map((j) => j.name));
  const rulesFrom = ctx.rules?.log.now();
  const before = await scrape(ctx.operator);
  const cpuBefore = cpuSeconds(ctx.operator.pid);
  const counted = (m: Scrape) =>
    sum(m, 'jobherald_deliveries_total') - sum(before, 'jobherald_deliveries_total');

  if (s.pauseOperator) ctx.operator.pause();
  const createSeconds = await createJobs(ctx.kube, s.namespace, s.jobs);
  ctx.log(`${s.name}: ${s.jobs.length} Jobs created in ${createSeconds.toFixed(1)} s`);
  const terminalOf = () => s.jobs.filter((j) => ctx.watch.terminalAt.has(j.name)).length;
  const finishDeadline = Date.now() + 600_000;
  while (terminalOf() < s.jobs.length) {
    if (Date.now() > finishDeadline)
      throw new Error(`${s.name}: only ${terminalOf()}/${s.jobs.length} Jobs finished in 10 min`);
    await sleep(250);
  }
  let resumedAt: number | undefined;
  let lag: DeliveryFigures['eventLoopLag'];
  const deliveryDeadline = Date.now() + s.deliveryTimeoutMs;
  let after: Scrape;
  if (s.pauseOperator) {
    resumedAt = Date.now();
    ctx.operator.resume();
    await scrape(ctx.operator); // resets the lag histogram (and drops the pause): discarded
    ctx.log(`${s.name}: every Job finished; operator resumed; waiting for Slack`);
    // No /metrics until the burst is over: Slack shows when every outcome is out, /proc when the operator is done.
    await waitUntilNamed(ctx.slack, names, s.pattern, deliveryDeadline);
    const quiet = await waitQuiet(ctx.operator.pid, { timeoutMs: 60_000 });
    const m = await scrape(ctx.operator);
    const l = eventLoopLag(m);
    if (l) lag = { ...l, windowSeconds: (Date.now() - resumedAt) / 1000, quiet: quiet.quiet };
  } else {
    ctx.log(`${s.name}: every Job finished; waiting for Slack`);
    // The operator counts every final result; once they are all in (or time is up), read Slack once.
    after = await scrape(ctx.operator);
    while (counted(after) < s.jobs.length && Date.now() < deliveryDeadline) {
      await sleep(500);
      after = await scrape(ctx.operator);
    }
  }
  await sleep(2_000); // anything still in flight, and any duplicate, lands now
  after = await scrape(ctx.operator);
  const cpuAfter = cpuSeconds(ctx.operator.pid);

  const messages = (await ctx.slack.control.messages()).filter((m) =>
    jobsIn(m, s.pattern).some((j) => names.has(j)),
  );
  const firstSeen = new Map<string, number>();
  const mentions = new Map<string, number>();
  for (const m of messages) {
    for (const job of jobsIn(m, s.pattern)) {
      if (!names.has(job)) continue;
      mentions.set(job, (mentions.get(job) ?? 0) + 1);
      firstSeen.set(job, Math.min(firstSeen.get(job) ?? Infinity, m.postedAt));
    }
  }
  const latencies: number[] = [];
  const terminal: number[] = [];
  for (const job of s.jobs) {
    const at = ctx.watch.terminalAt.get(job.name);
    if (at !== undefined) terminal.push(at);
    const seen = firstSeen.get(job.name);
    if (at !== undefined && seen !== undefined) latencies.push(seen - at);
  }
  const firstTerminal = Math.min(...terminal);
  const lastTerminal = Math.max(...terminal);
  const lastVisible = Math.max(...firstSeen.values());
  const lost = s.jobs.length - firstSeen.size;
  const dispatch = histogramDelta(before, after, 'jobherald_dispatch_latency_seconds');
  const delivery = histogramDelta(before, after, 'jobherald_delivery_latency_seconds');
  const ms = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
  return {
    name: s.name,
    jobs: s.jobs.length,
    createSeconds,
    finishWindowSeconds: (lastTerminal - firstTerminal) / 1000,
    e2eP50Ms: percentile(latencies, 0.5),
    e2eP99Ms: percentile(latencies, 0.99),
    e2eMaxMs: percentile(latencies, 1),
    allVisibleAfterFirstSeconds: lost === 0 ? (lastVisible - firstTerminal) / 1000 : undefined,
    allVisibleAfterLastSeconds: lost === 0 ? (lastVisible - lastTerminal) / 1000 : undefined,
    allVisibleAfterResumeSeconds:
      lost === 0 && resumedAt !== undefined ? (lastVisible - resumedAt) / 1000 : undefined,
    messages: messages.length,
    digests: delta(before, after, 'jobherald_digests_total'),
    lost,
    duplicated: [...mentions.values()].filter((n) => n > 1).length,
    rateLimited429: delta(before, after, 'jobherald_slack_rate_limited_total', 'method="chat.postMessage"'),
    dispatchP50Ms: ms(histogramQuantile(dispatch, 0.5)),
    dispatchP99Ms: ms(histogramQuantile(dispatch, 0.99)),
    deliveryP50Ms: ms(histogramQuantile(delivery, 0.5)),
    deliveryP99Ms: ms(histogramQuantile(delivery, 0.99)),
    delivered: byResult(before, after, 'delivered'),
    failed: byResult(before, after, 'failed'),
    kubeRequests: {
      get: delta(before, after, 'jobherald_kube_requests_total', 'verb="get"'),
      list: delta(before, after, 'jobherald_kube_requests_total', 'verb="list"'),
      watch: delta(before, after, 'jobherald_kube_requests_total', 'verb="watch"'),
      write: delta(before, after, 'jobherald_kube_requests_total', 'verb="write"'),
    },
    jobWrites: sum(after, 'jobherald_job_writes_total') - sum(before, 'jobherald_job_writes_total'),
    ...(ctx.rules !== undefined && rulesFrom !== undefined
      ? { ruleWrites: ctx.rules.log.since(rulesFrom, ctx.rules.intervalMs) }
      : {}),
    cpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    reconciles: [...after.keys()].some((k) => k.startsWith('jobherald_reconciles_total'))
      ? deltaByLabel(before, after, 'jobherald_reconciles_total', 'controller')
      : undefined,
    eventLoopLag: lag,
  };
}

/**
 * Resolves once every Job of `names` is named in some Slack message, or at `deadline` (the figures then count
 * the missing ones as lost). Polls the emulator once a second; each message is read once.
 */
async function waitUntilNamed(
  slack: EmulatorProcess,
  names: ReadonlySet<string>,
  pattern: RegExp,
  deadline: number,
): Promise<void> {
  const read = new Set<string>();
  const named = new Set<string>();
  while (Date.now() < deadline) {
    for (const m of await slack.control.messages()) {
      const key = `${m.channel} ${m.ts} ${m.updates}`; // an update may name more Jobs
      if (read.has(key)) continue;
      read.add(key);
      for (const job of jobsIn(m, pattern)) if (names.has(job)) named.add(job);
    }
    if (named.size >= names.size) return;
    await sleep(1_000);
  }
}

function byResult(before: Scrape, after: Scrape, result: 'delivered' | 'failed'): number {
  let total = 0;
  for (const event of ['Succeeded', 'Failed', 'Cancelled'])
    total += delta(before, after, 'jobherald_deliveries_total', `event="${event}",result="${result}"`);
  return total;
}

// ------------------------------------------------------------------------------------------------ kubewatch

export interface KubewatchFigures {
  jobs: number;
  finishWindowSeconds: number;
  /** terminal seen → kubewatch's last message about the Job (it posts on every update; the terminal one is last) */
  e2eP50Ms?: number;
  e2eP99Ms?: number;
  /** Jobs with no message after (or within 1 s before) their terminal condition */
  missing: number;
  messages: number;
  messagesPerJob: number;
  /** kubewatch's CPU (utime + stime) from the first Job created until its last message was forwarded, seconds */
  cpuSeconds?: number;
}

/** kubewatch's P2: the same Jobs, its messages in its one channel (it posts `created`/`updated` per event). */
export async function runKubewatchScenario(
  s: {
    namespace: string;
    jobs: BenchJob[];
    pattern: RegExp;
    channel: string;
    settle: () => Promise<void>;
    /** kubewatch's pid, for its CPU */
    pid: number;
  },
  ctx: { kube: Kube; watch: JobWatch; slack: EmulatorProcess; log: (l: string) => void },
): Promise<KubewatchFigures> {
  const names = new Set(s.jobs.map((j) => j.name));
  const cpuBefore = cpuSeconds(s.pid);
  await createJobs(ctx.kube, s.namespace, s.jobs);
  const deadline = Date.now() + 600_000;
  while (s.jobs.some((j) => !ctx.watch.terminalAt.has(j.name))) {
    if (Date.now() > deadline) throw new Error('kubewatch scenario: Jobs did not finish in 10 min');
    await sleep(250);
  }
  await s.settle();
  const cpuAfter = cpuSeconds(s.pid);
  const messages = (await ctx.slack.control.messages(s.channel)).filter((m) =>
    jobsIn(m, s.pattern).some((j) => names.has(j)),
  );
  const lastUpdate = new Map<string, number>();
  for (const m of messages) {
    if (!m.attachments || !JSON.stringify(m.attachments).includes('`updated`')) continue;
    for (const job of jobsIn(m, s.pattern))
      if (names.has(job)) lastUpdate.set(job, Math.max(lastUpdate.get(job) ?? 0, m.postedAt));
  }
  const latencies: number[] = [];
  const terminal: number[] = [];
  let missing = 0;
  for (const job of s.jobs) {
    const at = ctx.watch.terminalAt.get(job.name);
    const posted = lastUpdate.get(job.name);
    if (at !== undefined) terminal.push(at);
    // kubewatch may see the update before the bench's own watch does: allow 1 s earlier
    if (at === undefined || posted === undefined || posted < at - 1000) missing++;
    else latencies.push(posted - at);
  }
  return {
    jobs: s.jobs.length,
    finishWindowSeconds: (Math.max(...terminal) - Math.min(...terminal)) / 1000,
    e2eP50Ms: percentile(latencies, 0.5),
    e2eP99Ms: percentile(latencies, 0.99),
    missing,
    messages: messages.length,
    messagesPerJob: messages.length / s.jobs.length,
    cpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
  };
}
