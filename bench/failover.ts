// P8: failover, measured the way a user sees it: two operator processes with leader election (`--leader-elect`,
// the Lease `jobherald` in the operator's namespace), then
//   SIGKILL  the leader dies without a word; the standby takes the Lease once it has expired (15 s after the last
//            renewal it saw) and starts leading (rules read afresh, every cached Job swept);
//   SIGTERM  the leader stops gracefully and releases the Lease; the standby takes it at its next try (2 s).
// Right after the signal the bench creates one real Job (kwok runs it, ~1–3 s) that a rule alerts; the figure is
// signal → the emulator's postedAt of the first message naming that Job, which only the new leader can send.
// After each round a new standby is started (and given a moment to see the Lease), so every round has two.
import { createJobs, sleep, type JobWatch, type Kube } from './support/kube.ts';
import type { OperatorProcess, OperatorSlot } from './support/operator.ts';
import { waitQuiet } from './support/proc.ts';
import { jobsIn, type EmulatorProcess } from './support/slack.ts';
import { median } from './support/stats.ts';
import { fmtMs, verdict, type Row } from './support/table.ts';

export type FailoverSignal = 'SIGKILL' | 'SIGTERM';

export interface FailoverRound {
  signal: FailoverSignal;
  job: string;
  /** signal → first message naming the Job (Slack postedAt) */
  alertMs?: number;
  /** signal → the standby reports jobherald_leader 1 */
  leaderMs?: number;
  /** signal → the bench's watch sees the Job finished */
  finishedMs?: number;
  /** signal → the old leader's process exited */
  exitMs?: number;
  /** messages naming the Job (1: no duplicate) */
  messages: number;
}

export interface FailoverFigures {
  jobsInCluster: number;
  /** P6 at this size (median), for the SIGKILL target */
  readyMs?: number;
  rounds: FailoverRound[];
  error?: string;
}

export interface FailoverContext {
  kube: Kube;
  slot: OperatorSlot;
  /** the bench's watch of `namespace` */
  watch: JobWatch;
  slack: EmulatorProcess;
  namespace: string;
  /** labels that make a rule alert the Job into `channel` */
  labels: Record<string, string>;
  channel: string;
  log: (line: string) => void;
  onCleanup: (name: string, run: () => Promise<unknown>) => void;
}

const LEADER = /^jobherald_leader 1$/m;
const isLeader = async (o: OperatorProcess) => LEADER.test(await o.metrics().catch(() => ''));

export async function runFailover(
  rounds: number,
  figures: FailoverFigures,
  ctx: FailoverContext,
): Promise<FailoverFigures> {
  const { slot, log } = ctx;
  const running = new Set<OperatorProcess>();
  ctx.onCleanup('failover operators', async () => {
    for (const o of running) await o.stop();
  });
  const spawn = async () => {
    const o = await slot.spawn({ leaderElect: true });
    running.add(o);
    await o.waitReady(300_000);
    return o;
  };
  await slot.current?.stop(); // the plain operator would lead beside them
  slot.current = undefined;
  try {
    const pair = [await spawn(), await spawn()];
    let leader = await until('a leader', 60_000, async () => {
      for (const o of pair) if (await isLeader(o)) return o;
      return undefined;
    });
    let standby = pair.find((o) => o !== leader)!;
    await waitQuiet(leader.pid, { windows: 4, timeoutMs: 120_000 }); // its leader-start sweep is done
    await sleep(3_000); // the standby has seen the Lease renewed
    let n = 0;
    for (let r = 1; r <= rounds; r++) {
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const job = `fo${signal === 'SIGKILL' ? 'k' : 't'}-${String(++n).padStart(5, '0')}`;
        const round = await oneRound(signal, job, leader, standby, ctx);
        figures.rounds.push(round);
        log(
          `P8 ${signal}: alert ${fmtMs(round.alertMs)} after the signal (standby leading ${fmtMs(round.leaderMs)}, Job finished ${fmtMs(round.finishedMs)}, old leader exited ${fmtMs(round.exitMs)}; ${round.messages} message(s))`,
        );
        running.delete(leader);
        leader = standby;
        standby = await spawn();
        await sleep(3_000); // the new standby has seen the Lease renewed
      }
    }
  } catch (error) {
    figures.error = (error as Error).message.split('\n')[0];
    log(`P8: ${figures.error}`);
  } finally {
    for (const o of running) await o.stop();
    running.clear();
    slot.current = await slot.spawn();
    await slot.current.waitReady(300_000);
  }
  return figures;
}

async function oneRound(
  signal: FailoverSignal,
  job: string,
  leader: OperatorProcess,
  standby: OperatorProcess,
  ctx: FailoverContext,
): Promise<FailoverRound> {
  const at = Date.now();
  leader.kill(signal);
  const exited = leader.exited.then(() => Date.now() - at);
  await createJobs(ctx.kube, ctx.namespace, [{ name: job, labels: ctx.labels }], 1);
  let leaderMs: number | undefined;
  const leading = (async () => {
    while (leaderMs === undefined && Date.now() - at < 120_000) {
      if (await isLeader(standby)) leaderMs = Date.now() - at;
      else await sleep(100);
    }
  })();
  const pattern = new RegExp(`\\b(${job})\\b`, 'g');
  const names = (m: Parameters<typeof jobsIn>[0]) => jobsIn(m, pattern).includes(job);
  let alertMs: number | undefined;
  try {
    const messages = await ctx.slack.control.waitForMessages({
      channel: ctx.channel,
      until: (all) => all.some(names),
      timeoutMs: 120_000,
    });
    alertMs = Math.min(...messages.filter(names).map((m) => m.postedAt)) - at;
  } catch {
    // no alert within 2 min: the round reports none
  }
  await leading;
  await sleep(2_000); // a duplicate would land now
  const messages = (await ctx.slack.control.messages(ctx.channel)).filter(names).length;
  const finishedAt = ctx.watch.terminalAt.get(job);
  return {
    signal,
    job,
    alertMs,
    leaderMs,
    finishedMs: finishedAt === undefined ? undefined : finishedAt - at,
    exitMs: await exited,
    messages,
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// ------------------------------------------------------------------------------------------------ the rows

export function failoverRows(f: FailoverFigures | undefined): Row[] {
  if (f === undefined) return [];
  const rows: Row[] = [];
  const p6 = f.readyMs ?? 0;
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    const rounds = f.rounds.filter((r) => r.signal === signal);
    if (rounds.length === 0) continue;
    const alerts = rounds.map((r) => r.alertMs);
    const got = alerts.filter((v): v is number => v !== undefined);
    const med = got.length === rounds.length ? median(got) : undefined;
    const list = (pick: (r: FailoverRound) => number | undefined) =>
      rounds.map((r) => (pick(r) === undefined ? '—' : ((pick(r) ?? 0) / 1000).toFixed(1))).join(', ');
    const dup = rounds.filter((r) => r.messages > 1).length;
    // the new leader sets jobherald_leader before it sends anything: an earlier alert came from the old one
    const early = rounds.filter(
      (r) => r.alertMs !== undefined && r.leaderMs !== undefined && r.alertMs < r.leaderMs - 100,
    ).length;
    const targetMs = signal === 'SIGKILL' ? 15_000 + p6 : 3_000;
    rows.push([
      signal === 'SIGKILL'
        ? `P8 failover: leader SIGKILLed, ${f.jobsInCluster} Jobs`
        : `P8 graceful: leader SIGTERMed (Lease released), ${f.jobsInCluster} Jobs`,
      `first alert by the new leader ${fmtMs(med)} after the signal (median of ${rounds.length}: ${list((r) => r.alertMs)} s); standby leading ${list((r) => r.leaderMs)} s; the Job finished ${list((r) => r.finishedMs)} s${signal === 'SIGTERM' ? `; old leader exited ${list((r) => r.exitMs)} s` : ''}; duplicated ${dup}, not alerted ${rounds.length - got.length}${early > 0 ? `; ${early} alerted before the standby led (by the old leader)` : ''}`,
      signal === 'SIGKILL' ? `≤ 15 s + P6 (${fmtMs(p6)}) = ${fmtMs(targetMs)}` : '≤ 3 s',
      verdict(med === undefined ? (rounds.length > 0 ? false : undefined) : med <= targetMs && dup === 0),
    ]);
  }
  if (f.error !== undefined) rows.push(['P8 failover', `could not finish: ${f.error}`, '', '']);
  return rows;
}
