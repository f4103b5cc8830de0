// The shared setting of the operator e2e files: one Slack emulator and one operator namespace per file,
// holding the `acme` SlackIntegration (token xoxb-demo, open to every namespace), and optionally a running
// operator. Also the helpers that find alerts about a Job in the emulator.
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { NotificationRule, NotificationRuleSpec } from '../../src/api/types.ts';
import {
  startSlackEmulator,
  type EmulatedMessage,
  type SlackEmulator,
} from '../../src/dev/slack-emulator/index.ts';
import { createNamespace, deleteNamespace, uniqueName } from './kube.ts';
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

/** Registers beforeAll/afterAll; the returned object is filled in by the time tests run. */
export function useOperatorEnvironment(opts: { startOperator?: boolean } = {}): OperatorEnvironment {
  const env = { operator: undefined } as OperatorEnvironment;
  beforeAll(async () => {
    await installCrds();
    env.slack = await startSlackEmulator();
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
