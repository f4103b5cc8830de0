// The operator end to end: a real control plane, the real `jobherald controller` process, and the Slack
// emulator as Slack. Each test has its own namespace for rules and Jobs; the integration lives in the
// operator's namespace and admits every namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSlackEmulator,
  type SlackEmulator,
  type EmulatedMessage,
} from '../../src/dev/slack-emulator/index.ts';
import {
  createJob,
  createNamespace,
  deleteNamespace,
  kube,
  uniqueName,
  useNamespace,
  waitForJob,
} from '../support/kube.ts';
import {
  createIntegration,
  createRule,
  createTokenSecret,
  getIntegration,
  getRule,
  installCrds,
  startOperator,
  waitForCondition,
  type OperatorProcess,
} from '../support/operator.ts';

let slack: SlackEmulator;
let operator: OperatorProcess;
let opNs: string;

beforeAll(async () => {
  await installCrds();
  slack = await startSlackEmulator();
  opNs = await createNamespace(uniqueName('jh-op'));
  await createTokenSecret(opNs, 'acme-token', 'xoxb-demo');
  await createIntegration(opNs, 'acme', { apiURL: slack.apiUrl, allowedNamespaces: { from: 'All' } });
  operator = await startOperator({ namespace: opNs });
  await operator.waitReady();
});

afterAll(async () => {
  await operator?.stop();
  await slack?.stop();
  if (opNs) await deleteNamespace(opNs);
});

const mentionsJob = (job: string) => (m: EmulatedMessage) =>
  JSON.stringify([m.text, m.attachments]).includes(job);

async function messagesAbout(
  channel: string,
  jobs: string[],
  timeoutMs = 20_000,
): Promise<EmulatedMessage[]> {
  const found = await slack.control.waitForMessages({
    channel,
    timeoutMs,
    until: (messages) => jobs.every((job) => messages.some(mentionsJob(job))),
  });
  return found.filter((m) => jobs.some((job) => mentionsJob(job)(m)));
}

describe('operator delivery', () => {
  const ns = useNamespace('rules');

  it('alerts each outcome to a public channel it joins itself', async () => {
    await createRule(ns(), 'outcomes', {
      integrationRef: { name: 'acme', namespace: opNs },
      events: ['Succeeded', 'Failed', 'Cancelled'],
      destinations: [{ channel: 'alerts' }],
    });
    await waitForCondition(() => getRule(ns(), 'outcomes'), { status: 'True' });
    const id = uniqueName('j');
    await createJob(ns(), `ok-${id}`);
    await createJob(ns(), `oom-${id}`, { exitCode: 137, reason: 'OOMKilled', message: 'used 2Gi of 1Gi' });
    await createJob(ns(), `cancel-${id}`, { runFor: '5m' });
    await waitForJob(ns(), `cancel-${id}`, (j) => (j.status?.active ?? 0) > 0);
    await kube().batch.deleteNamespacedJob({
      name: `cancel-${id}`,
      namespace: ns(),
      propagationPolicy: 'Background',
    });

    const messages = await messagesAbout('alerts', [`ok-${id}`, `oom-${id}`, `cancel-${id}`]);
    expect(messages).toHaveLength(3);
    const about = (job: string) => JSON.stringify(messages.find(mentionsJob(job)));
    expect(about(`ok-${id}`)).toMatch(/Succeeded/);
    expect(about(`oom-${id}`)).toMatch(/BackoffLimitExceeded/);
    expect(about(`oom-${id}`)).toMatch(/OOMKilled/);
    expect(about(`oom-${id}`)).toMatch(/137/);
    expect(about(`cancel-${id}`)).toMatch(/Cancelled/);

    const integration = await getIntegration(opNs, 'acme');
    expect(integration.status?.channels?.find((c) => c.name === 'alerts')?.state).toBe('Joined');
    const rule = await waitForRuleTotals(ns(), 'outcomes', 3);
    expect(rule.status?.deliveries?.map((d) => d.result)).toEqual(['Delivered', 'Delivered', 'Delivered']);
  });
});

async function waitForRuleTotals(namespace: string, name: string, delivered: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rule = await getRule(namespace, name);
    if ((rule.status?.totals?.delivered ?? 0) >= delivered) return rule;
    if (Date.now() > deadline)
      throw new Error(`rule totals never reached ${delivered}: ${JSON.stringify(rule.status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
