// The shared setting of the operator e2e files: one Slack emulator and one operator namespace per file,
// holding the `acme` SlackIntegration (token xoxb-demo, open to every namespace), and optionally a running
// operator. Also the helpers that find alerts about a Job in the emulator.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { NotificationRule, NotificationRuleSpec } from '../../src/api/types.ts';
import {
  startSlackEmulator,
  type EmulatedMessage,
  type SlackEmulator,
  type Workspace,
} from '../../src/dev/slack-emulator/index.ts';
import { createJob, createNamespace, deleteNamespace, eventually, uniqueName } from './kube.ts';
import {
  createIntegration,
  createRule,
  createTokenSecret,
  getRule,
  installCrds,
  startOperator,
  waitForCondition,
  type OperatorProcess,
} from './operator.ts';

export interface OperatorEnvironment {
  slack: SlackEmulator;
  /** the operator's namespace: its integrations, their Secrets, its Lease */
  opNs: string;
  /** set when the environment starts an operator for the whole file */
  operator: OperatorProcess | undefined;
}

/**
 * Registers beforeAll/afterAll; the returned object is filled in by the time tests run. `workspace`: the
 * emulator's workspace (default: the demo's, src/dev/slack-emulator/default-workspace.ts).
 */
export function useOperatorEnvironment(
  opts: { startOperator?: boolean; workspace?: Workspace } = {},
): OperatorEnvironment {
  const env = { operator: undefined } as OperatorEnvironment;
  beforeAll(async () => {
    await installCrds();
    env.slack = await startSlackEmulator(opts.workspace === undefined ? {} : { workspace: opts.workspace });
    env.opNs = await createNamespace(uniqueName('jh-op'));
    await createTokenSecret(env.opNs, 'acme-token', 'xoxb-demo');
    await createIntegration(env.opNs, 'acme', {
      apiURL: env.slack.apiUrl,
      allowedNamespaces: { from: 'All' },
    });
    if (opts.startOperator !== false) {
      env.operator = await startOperator({ namespace: env.opNs });
      await env.operator.waitReady();
    }
  });
  afterAll(async () => {
    await env.operator?.stop();
    await env.slack?.stop();
    if (env.opNs) await deleteNamespace(env.opNs);
  });
  return env;
}

/** The message's text and attachments as one string, to look for a Job's name in. */
export const messageText = (m: EmulatedMessage): string => JSON.stringify([m.text, m.attachments]);

export const mentioning = (text: string) => (m: EmulatedMessage) => messageText(m).includes(text);

/** Waits until each Job has an alert in the channel; returns the alerts about them. */
export async function alertsAbout(
  slack: SlackEmulator,
  channel: string,
  jobs: string[],
  timeoutMs = 20_000,
): Promise<EmulatedMessage[]> {
  const found = await slack.control.waitForMessages({
    channel,
    timeoutMs,
    until: (messages) => jobs.every((job) => messages.some(mentioning(job))),
  });
  return found.filter((m) => jobs.some((job) => mentioning(job)(m)));
}

/**
 * Operator processes a test starts, kills and restarts itself (the environment was made with
 * `startOperator: false`); each is stopped after its test.
 */
export function useOperatorProcesses(env: OperatorEnvironment) {
  const running: OperatorProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
  });
  return {
    running,
    /** a new `jobherald controller` for the environment, ready */
    start: async (opts: { leaderElect?: boolean; args?: string[] } = {}): Promise<OperatorProcess> => {
      const proc = await startOperator({ namespace: env.opNs, ...opts });
      running.push(proc);
      await proc.waitReady();
      return proc;
    },
    /** SIGKILL: a crash */
    kill: async (proc: OperatorProcess): Promise<void> => {
      await proc.kill();
      running.splice(running.indexOf(proc), 1);
    },
    /** the running process that holds the Lease, from its own metrics */
    leader: async (): Promise<OperatorProcess | undefined> => {
      for (const p of running) if (/^jobherald_leader 1$/m.test(await p.metrics().catch(() => ''))) return p;
      return undefined;
    },
  };
}

/** A rule through the environment's `acme` integration (all outcomes to #alerts unless `spec` says), Ready. */
export async function readyRule(
  env: OperatorEnvironment,
  namespace: string,
  name: string,
  spec: Partial<NotificationRuleSpec> = {},
): Promise<NotificationRule> {
  await createRule(namespace, name, {
    integrationRef: { name: 'acme', namespace: env.opNs },
    events: ['Succeeded', 'Failed', 'Cancelled'],
    destinations: [{ channel: 'alerts' }],
    ...spec,
  });
  return waitForCondition(() => getRule(namespace, name), { status: 'True' });
}

/** The messages that name exactly this Job (not a longer name that starts with it). */
export const aboutJob = (messages: EmulatedMessage[], job: string): EmulatedMessage[] =>
  messages.filter((m) => new RegExp(`/${job}(?![a-z0-9-])`).test(messageText(m)));

/** Waits until every Job has an alert in the channel; each Job's alerts, as text. */
export async function alertTexts(
  slack: SlackEmulator,
  channel: string,
  jobs: string[],
  timeoutMs = 30_000,
): Promise<Map<string, string[]>> {
  const all = await slack.control.waitForMessages({
    channel,
    timeoutMs,
    until: (messages) => jobs.every((j) => aboutJob(messages, j).length > 0),
  });
  return new Map(jobs.map((j) => [j, aboutJob(all, j).map(messageText)]));
}

/**
 * The operator's whole job, once, as the installs under test run it (the chart's RBAC, the image): a rule in
 * `rulesNs` for Failed Jobs to #alerts through `integration`, an OOMKilled Job, its alert with the Pod's exit
 * code and reason (the cluster-wide Pod watch works), and the rule's status counting the delivery.
 */
export async function expectFailingJobAlerted(
  slack: SlackEmulator,
  integration: { namespace: string; name: string },
  rulesNs: string,
): Promise<void> {
  await createRule(rulesNs, 'failures', {
    integrationRef: integration,
    events: ['Failed'],
    destinations: [{ channel: 'alerts' }],
  });
  await waitForCondition(() => getRule(rulesNs, 'failures'), { status: 'True' });
  const job = `oom-${uniqueName('j')}`;
  await createJob(rulesNs, job, { exitCode: 137, reason: 'OOMKilled' });
  const messages = await slack.control.waitForMessages({
    channel: 'alerts',
    timeoutMs: 30_000,
    until: (all) => all.some((m) => JSON.stringify(m).includes(job)),
  });
  const alert = JSON.stringify(messages.find((m) => JSON.stringify(m).includes(job)));
  expect(alert).toContain('OOMKilled');
  expect(alert).toContain('137');
  const rule = await eventually<NotificationRule>('the rule status to count the delivery', async () => {
    const got = await getRule(rulesNs, 'failures');
    return got.status?.totals?.delivered === 1 ? got : undefined;
  });
  expect(rule.status?.deliveries?.[0]).toMatchObject({ result: 'Delivered', job: `${rulesNs}/${job}` });
}
