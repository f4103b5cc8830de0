// The shared setting of the operator e2e files: one Slack emulator and one operator namespace per file,
// holding the `acme` SlackIntegration (token xoxb-demo, open to every namespace), and optionally a running
// operator. Also the helpers that find alerts about a Job in the emulator.
import { afterAll, beforeAll } from 'vitest';
import {
  startSlackEmulator,
  type EmulatedMessage,
  type SlackEmulator,
} from '../../src/dev/slack-emulator/index.ts';
import { createNamespace, deleteNamespace, uniqueName } from './kube.ts';
import {
  createIntegration,
  createTokenSecret,
  installCrds,
  startOperator,
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
