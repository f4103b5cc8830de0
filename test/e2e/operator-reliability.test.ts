// Reliability (quality-bars R1–R4): crashes, outages, first install, Slack rate-limit storms and two
// replicas. Each test runs its own operator process(es) so it can kill and restart them.
import { afterEach, describe, expect, it } from 'vitest';
import {
  messageText,
  readyRule as _readyRule,
  useOperatorEnvironment,
  useOperatorProcesses,
} from '../support/environment.ts';
import type { EmulatedMessage } from '../../src/dev/slack-emulator/index.ts';
import type { NotificationRuleSpec } from '../../src/api/types.ts';
import {
  clusterState,
  createJob,
  eventually,
  jobMetadata,
  kube,
  uniqueName,
  useNamespace,
  waitForJob,
} from '../support/kube.ts';
import { restartComponent } from '../../src/dev/cluster/control-plane.ts';
import { getRule } from '../support/operator.ts';

const env = useOperatorEnvironment({ startOperator: false });
const processes = useOperatorProcesses(env);
const running = processes.running;
const operator = (opts: { leaderElect?: boolean } = {}) => processes.start(opts);
const kill = processes.kill;

afterEach(async () => {
  await env.slack.control.clearFaults();
});

const text = messageText;
/** How many times each Job is mentioned across messages (a digest mentions many Jobs once each). */
function mentions(messages: EmulatedMessage[], jobs: string[]): Map<string, number> {
  const counts = new Map(jobs.map((j) => [j, 0]));
  for (const m of messages) {
    for (const j of jobs) {
      // the whole name: "b-1" must not count a mention of "b-10"
      if (new RegExp(`/${j}(?![a-z0-9-])`).test(text(m))) counts.set(j, (counts.get(j) ?? 0) + 1);
    }
  }
  return counts;
}

async function allMentioned(channel: string, jobs: string[], timeoutMs = 60_000): Promise<EmulatedMessage[]> {
  return env.slack.control.waitForMessages({
    channel,
    timeoutMs,
    until: (all) => [...mentions(all, jobs).values()].every((n) => n >= 1),
  });
}

const readyRule = (namespace: string, name: string, spec: Partial<NotificationRuleSpec>) =>
  _readyRule(env, namespace, name, spec);

describe('operator reliability', () => {
  const ns = useNamespace('rel');

  it('R1: a SIGKILL mid-burst loses nothing and repeats at most what was in flight', async () => {
    const first = await operator();
    await readyRule(ns(), 'burst', { events: ['Succeeded'] });
    const id = uniqueName('b');
    const jobs = Array.from({ length: 30 }, (_, i) => `${id}-${i}`);
    await Promise.all(jobs.map((j) => createJob(ns(), j)));
    // Let the paced channel queue start draining, then crash the operator in the middle of it.
    await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 30_000,
      until: (all) => all.some((m) => text(m).includes(id)),
    });
    const killedAt = Date.now();
    await kill(first);
    const before = (await env.slack.control.messages('alerts')).filter((m) => text(m).includes(id));
    await operator();
    const all = (await allMentioned('alerts', jobs)).filter((m) => text(m).includes(id));
    const counts = mentions(all, jobs);
    expect([...counts.values()].every((n) => n >= 1)).toBe(true);
    const duplicates = [...counts.values()].reduce((sum, n) => sum + (n - 1), 0);
    // In flight at the kill = posted to Slack but not yet recorded on the Job: at most the messages posted in
    // the last second before the kill (the record write follows each Job's last answer within milliseconds).
    const inFlight = mentions(
      before.filter((m) => m.postedAt >= killedAt - 1000),
      jobs,
    );
    const inFlightCount = [...inFlight.values()].filter((n) => n > 0).length;
    expect(duplicates).toBeLessThanOrEqual(inFlightCount);
    const rule = await getRule(ns(), 'burst');
    expect(rule.status?.totals?.failed ?? 0).toBe(0);
  });

  it('R2: alerts Jobs that finished, failed or were deleted while it was down, once', async () => {
    const first = await operator();
    await readyRule(ns(), 'outage', {});
    const id = uniqueName('o');
    await createJob(ns(), `long-${id}`, { runFor: '10m' });
    await waitForJob(ns(), `long-${id}`, (j) => (j.status?.active ?? 0) > 0);
    // the running Job is held by jobherald's finalizer before the crash
    await eventually('the running Job to be held', async () =>
      (await jobMetadata(ns(), `long-${id}`))?.held === true ? true : undefined,
    );
    await kill(first);
    await createJob(ns(), `ok-${id}`);
    await createJob(ns(), `bad-${id}`, { exitCode: 2 });
    await kube().batch.deleteNamespacedJob({
      name: `long-${id}`,
      namespace: ns(),
      propagationPolicy: 'Background',
    });
    await waitForJob(ns(), `ok-${id}`, (j) => (j.status?.succeeded ?? 0) > 0);
    await waitForJob(
      ns(),
      `bad-${id}`,
      (j) => (j.status?.failed ?? 0) > 0 && (j.status?.conditions?.length ?? 0) > 0,
    );

    await operator();
    const jobs = [`ok-${id}`, `bad-${id}`, `long-${id}`];
    const all = (await allMentioned('alerts', jobs, 30_000)).filter((m) => text(m).includes(id));
    expect([...mentions(all, jobs).values()]).toEqual([1, 1, 1]);
    const cancelled = all.find((m) => text(m).includes(`long-${id}`));
    expect(text(cancelled!)).toMatch(/Cancelled/);
    expect(text(cancelled!)).toMatch(/deleted before it finished/);
  });

  it('no storm on first install: Jobs that finished before the rule existed are not alerted', async () => {
    await operator();
    const id = uniqueName('old');
    const old = Array.from({ length: 20 }, (_, i) => `${id}-${i}`);
    await Promise.all(old.map((j, i) => createJob(ns(), j, i % 2 === 0 ? {} : { exitCode: 1 })));
    for (const j of old)
      await waitForJob(ns(), j, (job) =>
        (job.status?.conditions ?? []).some((c) => c.type === 'Complete' || c.type === 'Failed'),
      );
    await readyRule(ns(), 'late', {});
    const fresh = `new-${id}`;
    await createJob(ns(), fresh);
    await allMentioned('alerts', [fresh]);
    const about = (await env.slack.control.messages('alerts')).filter((m) => text(m).includes(id));
    expect(Object.fromEntries([...mentions(about, old)].filter(([, n]) => n > 0))).toEqual({});
  });

  it('R4: a 429 storm on one channel does not stall another, and every alert arrives once, in order', async () => {
    await operator();
    await readyRule(ns(), 'stormy', { events: ['Succeeded'], destinations: [{ channel: 'alerts' }] });
    await readyRule(ns(), 'calm', { events: ['Succeeded'], destinations: [{ channel: 'general' }] });
    await env.slack.control.injectFault({
      method: 'chat.postMessage',
      channel: 'alerts',
      action: { kind: 'ratelimit', retryAfter: 2 },
      durationMs: 6_000,
    });
    const stormStart = Date.now();
    const id = uniqueName('s');
    const jobs = Array.from({ length: 6 }, (_, i) => `${id}-${i}`);
    for (const j of jobs) await createJob(ns(), j);
    const calm = await allMentioned('general', jobs, 20_000);
    // the calm channel got everything while the storm still raged on the other
    expect(Date.now() - stormStart).toBeLessThan(6_000);
    expect(
      [
        ...mentions(
          calm.filter((m) => text(m).includes(id)),
          jobs,
        ).values(),
      ].every((n) => n === 1),
    ).toBe(true);
    const stormy = (await allMentioned('alerts', jobs, 60_000)).filter((m) => text(m).includes(id));
    expect(stormy[0]!.postedAt).toBeGreaterThanOrEqual(stormStart + 6_000 - 50);
    expect([...mentions(stormy, jobs).values()].every((n) => n === 1)).toBe(true);
    const metrics = await running[0]!.metrics();
    expect(metrics).toMatch(/jobherald_slack_rate_limited_total\{[^}]*\} [1-9]/);
  });

  it('R5: a kube-apiserver restart neither loses nor repeats an outcome', async () => {
    const proc = await operator();
    await readyRule(ns(), 'restart', { events: ['Succeeded'] });
    const id = uniqueName('r5');
    await createJob(ns(), `${id}-before`);
    await allMentioned('alerts', [`${id}-before`]);
    // Jobs that finish while the API server is restarting: the watch breaks and must resume (or relist).
    const during = [0, 1, 2, 3].map((i) => `${id}-during-${i}`);
    await Promise.all(during.map((j) => createJob(ns(), j, { runFor: '4s' })));
    await restartComponent(clusterState(), 'kube-apiserver');
    await createJob(ns(), `${id}-after`);
    const jobs = [`${id}-before`, ...during, `${id}-after`];
    const all = (await allMentioned('alerts', jobs, 60_000)).filter((m) => text(m).includes(id));
    expect(Object.fromEntries(mentions(all, jobs))).toEqual(Object.fromEntries(jobs.map((j) => [j, 1])));
    expect(await proc.metrics()).toMatch(/jobherald_watch_restarts_total\{resource="jobs"[^}]*\} [1-9]/);
  });

  it('R3: two replicas send each alert once; when the leader dies the standby takes over', async () => {
    const a = await operator({ leaderElect: true });
    const b = await operator({ leaderElect: true });
    const leaderOf = processes.leader;
    const leader = await eventually('a leader', leaderOf);
    await readyRule(ns(), 'ha', { events: ['Succeeded'] });
    const id = uniqueName('ha');
    await Promise.all([0, 1, 2].map((i) => createJob(ns(), `${id}-a${i}`)));
    const firstBatch = [0, 1, 2].map((i) => `${id}-a${i}`);
    await allMentioned('alerts', firstBatch);
    // Kill the leader only once it has recorded those deliveries on the Jobs: what follows must repeat nothing.
    await eventually('the first deliveries recorded', async () => {
      const records = await Promise.all(firstBatch.map((j) => jobMetadata(ns(), j)));
      return records.every((r) => r?.record !== undefined && !r.held) ? true : undefined;
    });

    const killedAt = Date.now();
    await kill(leader);
    const standby = leader === a ? b : a;
    await eventually(
      'the standby to lead',
      async () => ((await leaderOf()) === standby ? true : undefined),
      40_000,
    );
    const failoverMs = Date.now() - killedAt;
    await Promise.all([0, 1, 2].map((i) => createJob(ns(), `${id}-b${i}`)));
    const secondBatch = [0, 1, 2].map((i) => `${id}-b${i}`);
    const all = (await allMentioned('alerts', [...firstBatch, ...secondBatch])).filter((m) =>
      text(m).includes(id),
    );
    expect([...mentions(all, [...firstBatch, ...secondBatch]).values()].every((n) => n === 1)).toBe(true);
    // P8: lease duration (15 s) plus a little
    expect(failoverMs).toBeLessThan(25_000);
    console.log(`failover: standby leading ${failoverMs} ms after the leader was killed`);
  });
});
