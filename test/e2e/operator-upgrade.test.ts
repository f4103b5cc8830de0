// Upgrading from jobherald 0.1, whose delivery ledger lived in each rule's status.ledger: the rule here is
// written in exactly that format, as 0.1 left it, and the new operator must read it once, honour it (send
// nothing it says was sent or handled, alert what it armed and is gone), record it on the Jobs, and drop it.
import { describe, expect, it } from 'vitest';
import { destinationId, destinationRef } from '../../src/delivery/destination.ts';
import { KubeConnection } from '../../src/kube/connection.ts';
import type { EmulatedMessage } from '../../src/dev/slack-emulator/index.ts';
import { messageText, useOperatorEnvironment, useOperatorProcesses } from '../support/environment.ts';
import {
  createJob,
  eventually,
  jobMetadata,
  kube,
  uniqueName,
  useNamespace,
  waitForJob,
  waitForJobCondition,
} from '../support/kube.ts';
import { createRule, getRule } from '../support/operator.ts';

const env = useOperatorEnvironment({ startOperator: false });
const processes = useOperatorProcesses(env);

const about = (messages: EmulatedMessage[], job: string) =>
  messages.filter((m) => new RegExp(`/${job}(?![a-z0-9-])`).test(messageText(m)));

const wholeSecond = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

describe('upgrading from the 0.1 ledger in rule status', () => {
  const ns = useNamespace('upgrade');

  it('sends nothing twice, loses nothing, records the ledger on the Jobs and drops it', async () => {
    await createRule(ns(), 'legacy', {
      integrationRef: { name: 'acme', namespace: env.opNs },
      events: ['Succeeded', 'Cancelled'],
      destinations: [{ channel: 'alerts' }],
    });
    const id = uniqueName('u');
    const [handled, sent, unsent, vanished, control] = [
      'handled',
      'sent',
      'unsent',
      'vanished',
      'control',
    ].map((x) => `${x}-${id}`) as [string, string, string, string, string];
    // finished before the ledger's floor: 0.1 handled it
    await createJob(ns(), handled);
    await waitForJobCondition(ns(), handled, 'Complete');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const floor = wholeSecond(Date.now());
    // after the floor: 0.1 sent one of them, not yet the other
    const sentJob = await createJob(ns(), sent);
    await createJob(ns(), unsent);
    const done = await waitForJobCondition(ns(), sent, 'Complete');
    await waitForJobCondition(ns(), unsent, 'Complete');
    // a running Job 0.1 armed for Cancelled, deleted while no operator ran
    const vanishedJob = await createJob(ns(), vanished, { runFor: '10m' });
    await waitForJob(ns(), vanished, (j) => (j.status?.active ?? 0) > 0);
    await kube().batch.deleteNamespacedJob({
      name: vanished,
      namespace: ns(),
      propagationPolicy: 'Background',
    });

    const at = (done.status?.conditions ?? []).find((c) => c.type === 'Complete')?.lastTransitionTime;
    const atSeconds = Math.ceil(new Date(at as unknown as string).getTime() / 1000).toString(36);
    const dest = destinationId(destinationRef({ channel: 'alerts' }));
    const ledger = {
      v: 1,
      floor,
      sent: [`${sentJob.metadata!.uid} S ${dest} ${atSeconds}`],
      armed: [`${vanishedJob.metadata!.uid} ${ns()}/${vanished} - 0`],
    };
    const rulePath = `/apis/jobherald.dev/v1alpha1/namespaces/${ns()}/notificationrules/legacy`;
    await new KubeConnection(kube().kc).mergePatch(`${rulePath}/status`, { status: { ledger } });

    const first = await processes.start();
    await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 30_000,
      until: (all) => about(all, unsent).length > 0 && about(all, vanished).length > 0,
    });
    const rule = await eventually('the ledger to leave the status', async () => {
      const r = await getRule(ns(), 'legacy');
      return r.status?.ledger === undefined ? r : undefined;
    });
    expect(rule.status?.alertsSince).toBe(floor);
    // what 0.1 sent is now recorded on its Job
    expect((await jobMetadata(ns(), sent))?.record).toMatch(/^v1 [0-9a-f]{12}:S$/);

    // a restart: the record on the Jobs and alertsSince carry it all
    await first.stop();
    processes.running.splice(0);
    await processes.start();
    await createJob(ns(), control);
    await env.slack.control.waitForMessages({
      channel: 'alerts',
      timeoutMs: 30_000,
      until: (all) => about(all, control).length > 0,
    });
    const all = await env.slack.control.messages('alerts');
    expect({
      handled: about(all, handled).length,
      sent: about(all, sent).length,
      unsent: about(all, unsent).length,
      vanished: about(all, vanished).length,
    }).toEqual({ handled: 0, sent: 0, unsent: 1, vanished: 1 });
    expect(messageText(about(all, vanished)[0]!)).toMatch(/Cancelled.*not watching/);
    expect(messageText(about(all, unsent)[0]!)).toMatch(/Succeeded/);
  });
});
