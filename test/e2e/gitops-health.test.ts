// Health as GitOps tools read it, on objects the operator really wrote: the operator is driven into every
// state it reports (Ready, suspended, stalled, retrying, a spec it has not observed yet), each object is read
// back from the API server, and Argo CD's Lua health checks (deploy/argocd/health/, run as Argo CD runs them)
// and kstatus itself (sigs.k8s.io/cli-utils, what Flux's health checks use) must give it the verdict
// test/support/gitops-health.ts names. JOBHERALD_CAPTURE_GITOPS_FIXTURES=1 also saves the objects as the
// fixtures test/unit/gitops-health.test.ts replays.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/cluster/ports.ts';
import { useOperatorEnvironment } from '../support/environment.ts';
import {
  FIXTURES,
  fixtureOf,
  GITOPS_HEALTH_BUILD_TIMEOUT_MS,
  prebuildGitopsHealth,
  OPERATOR_CASES,
  verdicts,
  type HealthCase,
  type HealthObject,
  type Verdict,
} from '../support/gitops-health.ts';
import { createNamespace, deleteNamespace, eventually, uniqueName } from '../support/kube.ts';
import {
  createIntegration,
  createRule,
  getIntegration,
  getRule,
  patchSpec,
  startOperator,
  waitForCondition,
} from '../support/operator.ts';

const env = useOperatorEnvironment();
let rulesNs = '';
/** the real objects, by case name, as last read from the API server */
const captured = new Map<string, HealthObject>();

const byName = new Map(OPERATOR_CASES.map((c) => [c.name, c]));
const healthCase = (name: string): HealthCase => {
  const found = byName.get(name);
  if (found === undefined) throw new Error(`no such case: ${name}`);
  return found;
};

/** Where each case's object lives (integrations in the operator's namespace, rules in their own). */
const objectOf: Record<string, { kind: HealthCase['kind']; name: string }> = {
  'integration-ready': { kind: 'SlackIntegration', name: 'acme' },
  'integration-suspended': { kind: 'SlackIntegration', name: 'paused' },
  'integration-secret-not-found': { kind: 'SlackIntegration', name: 'no-secret' },
  'integration-slack-unavailable': { kind: 'SlackIntegration', name: 'unreachable' },
  'integration-generation-not-observed': { kind: 'SlackIntegration', name: 'same-only' },
  'rule-ready': { kind: 'NotificationRule', name: 'ready' },
  'rule-suspended': { kind: 'NotificationRule', name: 'suspended' },
  'rule-integration-suspended': { kind: 'NotificationRule', name: 'via-paused' },
  'rule-integration-not-found': { kind: 'NotificationRule', name: 'no-integration' },
  'rule-namespace-not-allowed': { kind: 'NotificationRule', name: 'not-allowed' },
  'rule-integration-not-ready': { kind: 'NotificationRule', name: 'via-unreachable' },
  'rule-generation-not-observed': { kind: 'NotificationRule', name: 'ready' },
};

const read = (caseName: string) => async (): Promise<HealthObject> => {
  const where = objectOf[caseName];
  if (where === undefined) throw new Error(`no object for case ${caseName}`);
  const object =
    where.kind === 'SlackIntegration'
      ? await getIntegration(env.opNs, where.name)
      : await getRule(rulesNs, where.name);
  return object as unknown as HealthObject;
};

/** Reads the case's object once its Ready condition is what the operator writes for that state. */
async function reach(caseName: string): Promise<HealthObject> {
  const c = healthCase(caseName);
  const object = await waitForCondition(read(caseName), c.ready);
  captured.set(caseName, object);
  return object;
}

/** Asserts the case's verdicts on the object; returns what the tool said. */
function expectVerdict(caseName: string, object: HealthObject): Verdict {
  const c = healthCase(caseName);
  const [verdict] = verdicts([object]);
  expect(verdict?.argo, `${caseName}: Argo CD`).toMatchObject({ status: c.argo });
  expect(verdict?.kstatus, `${caseName}: kstatus`).toMatchObject({ status: c.kstatus });
  return verdict!;
}

const conditionStatus = (object: HealthObject, type: string): string | undefined =>
  object.status?.conditions?.find((c) => c.type === type)?.status;

beforeAll(prebuildGitopsHealth, GITOPS_HEALTH_BUILD_TIMEOUT_MS);

beforeAll(async () => {
  const slackURL = env.slack.apiUrl;
  // Nothing listens on a port just freed: every Slack call through this integration fails to connect.
  const nowhere = `http://127.0.0.1:${await freePort()}/api/`;
  await createIntegration(env.opNs, 'paused', {
    apiURL: slackURL,
    tokenSecretRef: { name: 'acme-token' },
    allowedNamespaces: { from: 'All' },
    suspend: true,
  });
  await createIntegration(env.opNs, 'no-secret', { apiURL: slackURL });
  await createIntegration(env.opNs, 'unreachable', {
    apiURL: nowhere,
    tokenSecretRef: { name: 'acme-token' },
    allowedNamespaces: { from: 'All' },
  });
  // allowedNamespaces defaults to Same: only rules in the operator's namespace may use it
  await createIntegration(env.opNs, 'same-only', {
    apiURL: slackURL,
    tokenSecretRef: { name: 'acme-token' },
  });

  rulesNs = await createNamespace(uniqueName('gitops'));
  const rule = (name: string, integration: string, extra: { suspend?: boolean } = {}) =>
    createRule(rulesNs, name, {
      integrationRef: { name: integration, namespace: env.opNs },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
      ...extra,
    });
  await rule('ready', 'acme');
  await rule('suspended', 'acme', { suspend: true });
  await rule('via-paused', 'paused');
  await rule('no-integration', 'does-not-exist');
  await rule('not-allowed', 'same-only');
  await rule('via-unreachable', 'unreachable');
});

afterAll(async () => {
  if (rulesNs !== '') await deleteNamespace(rulesNs);
  if (process.env.JOBHERALD_CAPTURE_GITOPS_FIXTURES === '1') {
    mkdirSync(FIXTURES, { recursive: true });
    for (const [name, object] of captured) {
      const fixture = fixtureOf(object, healthCase(name).description);
      writeFileSync(join(FIXTURES, `${name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
    }
  }
});

describe('each state the operator writes reads the same in Argo CD and kstatus', () => {
  const steadyStates = OPERATOR_CASES.filter((c) => !c.name.endsWith('-generation-not-observed'));

  it.each(steadyStates.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const object = await reach(name);
    const verdict = expectVerdict(name, object);
    // what Argo CD shows names the reason the operator gave
    expect(verdict.argo?.message).toContain(c.ready.reason);
    // the abnormal-true conditions kstatus reads are there exactly when the verdict needs them
    expect(conditionStatus(object, 'Stalled')).toBe(c.kstatus === 'Failed' ? 'True' : undefined);
    expect(conditionStatus(object, 'Reconciling')).toBe(c.kstatus === 'InProgress' ? 'True' : undefined);
    expect(JSON.stringify(object)).not.toMatch(/xox[abp]-/);
  });
});

describe('a spec change the operator has not observed yet', () => {
  it('is Progressing/InProgress until the operator reconciles it, then Healthy/Current again', async () => {
    const integration = await waitForCondition(read('integration-generation-not-observed'), {
      status: 'True',
    });
    const rule = await waitForCondition(read('rule-generation-not-observed'), { status: 'True' });
    expectVerdict('integration-ready', integration);
    expectVerdict('rule-ready', rule);

    // With the operator stopped, nothing observes the change: the API server bumps metadata.generation on a
    // spec change and status keeps the observedGeneration it was written for.
    await env.operator?.stop();
    env.operator = undefined;
    await patchSpec('slackintegrations', env.opNs, 'same-only', 'clusterName', 'renamed');
    await patchSpec('notificationrules', rulesNs, 'ready', 'events', ['Failed', 'Cancelled']);
    for (const name of ['integration-generation-not-observed', 'rule-generation-not-observed']) {
      const object = await read(name)();
      expect(object.metadata.generation, name).toBe((object.status?.observedGeneration ?? 0) + 1);
      captured.set(name, object);
      expectVerdict(name, object);
    }

    env.operator = await startOperator({ namespace: env.opNs });
    await env.operator.waitReady();
    for (const [name, readyCase] of [
      ['integration-generation-not-observed', 'integration-ready'],
      ['rule-generation-not-observed', 'rule-ready'],
    ] as const) {
      const object = await eventually(`${name} to be Ready at its new generation`, async () => {
        const got = await read(name)();
        const current = got.status?.observedGeneration === got.metadata.generation;
        return current && conditionStatus(got, 'Ready') === 'True' ? got : undefined;
      });
      expectVerdict(readyCase, object);
    }
  });
});
