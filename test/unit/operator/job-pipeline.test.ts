// The Job pipeline with real domain code and real rule/integration runtimes; only Slack lookups are scripted
// and the dispatcher's enqueue is captured. What it must never do: drop an alert silently.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NotificationRule, NotificationRuleSpec } from '../../../src/api/types.ts';
import type { JobRecord } from '../../../src/domain/job.ts';
import type { DeliveryItem, SendResult } from '../../../src/delivery/types.ts';
import { PermanentError, RetryableError } from '../../../src/errors.ts';
import { JobPipeline } from '../../../src/operator/job-pipeline.ts';
import { IntegrationRuntime } from '../../../src/reconcilers/integration-reconciler.ts';
import { RuleRuntime } from '../../../src/reconcilers/rule-reconciler.ts';
import { silentLog } from '../../../src/slack/logging.ts';
import type { SlackPort } from '../../../src/slack/port.ts';

const CREATED = '2026-11-21T10:00:05Z';

function rule(spec: Partial<NotificationRuleSpec>): NotificationRule {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'NotificationRule',
    metadata: { name: 'r', namespace: 'data', uid: 'rule-uid', generation: 1, creationTimestamp: CREATED },
    spec: {
      integrationRef: { name: 'acme', namespace: 'data' },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
      ...spec,
    },
  };
}

function failedJob(name: string, at = '2026-11-21T10:01:00Z'): JobRecord {
  return {
    uid: `uid-${name}`,
    namespace: 'data',
    name,
    resourceVersion: '1',
    labels: {},
    creationTimestamp: '2026-11-21T10:00:50Z',
    suspend: false,
    startTime: '2026-11-21T10:00:51Z',
    active: 0,
    succeeded: 0,
    failed: 1,
    conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: at }],
  };
}

function setUp(spec: Partial<NotificationRuleSpec>, port: Partial<SlackPort>) {
  const enqueued: DeliveryItem[] = [];
  const reported: { item: DeliveryItem; result: SendResult }[] = [];
  const integration = new IntegrationRuntime('data/acme', {
    log: silentLog,
    onResult: () => undefined,
    requeue: () => undefined,
    slackTimeoutMs: 1000,
    deliveryLimits: {},
  });
  integration.port = port as SlackPort;
  integration.channels = [{ name: 'alerts', id: 'C0ALERTS01', state: 'Member', usedBy: ['data/r'] }];
  integration.dispatcher.enqueue = (item) => (enqueued.push(item), true);
  const runtime = new RuleRuntime(rule(spec), CREATED);
  const pipeline = new JobPipeline({
    activeRules: () => [{ runtime, admission: { ok: true, health: { state: 'Ready' } } }],
    integrationOf: () => integration,
    matchContext: () => ({ namespaceLabels: () => ({}), trustedNamespaces: [] }),
    failedPods: () => [],
    ruleChanged: () => undefined,
    report: (item, result) => {
      reported.push({ item, result });
      pipeline.onResult(item, result, runtime);
    },
    clusterName: 'test',
    log: silentLog,
  });
  pipeline.setActive(true);
  return { pipeline, runtime, enqueued, reported };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('JobPipeline', () => {
  it('sends the alert without a group mention the token may not list (missing_scope)', async () => {
    const { pipeline, runtime, enqueued } = setUp(
      { mentions: [{ group: 'oncall' }] },
      { listUserGroups: () => Promise.reject(new PermanentError('missing_scope', 'needs usergroups:read')) },
    );
    pipeline.onJobChange('modified', failedJob('etl'), { ...failedJob('etl'), conditions: [] });
    await vi.waitFor(() => expect(enqueued).toHaveLength(1));
    expect(enqueued[0]?.mentions).toEqual([]);
    expect(runtime.mentionFindings[0]).toMatchObject({ reason: 'UserGroupNotFound' });
  });

  it('retries a transient lookup failure and then sends, once', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const { pipeline, enqueued, reported } = setUp(
      { destinations: [{ user: 'alice@example.com' }] },
      {
        lookupUserByEmail: () =>
          ++calls === 1
            ? Promise.reject(new RetryableError('http_503', 'Slack is down'))
            : Promise.resolve('U0ALICE'),
      },
    );
    pipeline.onJobChange('modified', failedJob('etl'), { ...failedJob('etl'), conditions: [] });
    await vi.advanceTimersByTimeAsync(0);
    expect(enqueued).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(enqueued.map((i) => i.destination)).toEqual(['U0ALICE']);
    expect(reported).toEqual([]);
  });

  it('shares one user lookup among a burst of alerts', async () => {
    let calls = 0;
    const { pipeline, enqueued } = setUp(
      { destinations: [{ user: 'alice@example.com' }] },
      { lookupUserByEmail: () => (calls++, Promise.resolve('U0ALICE')) },
    );
    for (let i = 0; i < 50; i++)
      pipeline.onJobChange('modified', failedJob(`j${i}`), { ...failedJob(`j${i}`), conditions: [] });
    await vi.waitFor(() => expect(enqueued).toHaveLength(50));
    expect(calls).toBe(1);
  });

  it('reports an alert Failed when its destination cannot exist, so it shows in status', async () => {
    const { pipeline, runtime, enqueued, reported } = setUp(
      { destinations: [{ user: 'nobody@example.com' }] },
      { lookupUserByEmail: () => Promise.reject(new PermanentError('users_not_found', 'no such user')) },
    );
    pipeline.onJobChange('modified', failedJob('etl'), { ...failedJob('etl'), conditions: [] });
    await vi.waitFor(() => expect(reported).toHaveLength(1));
    expect(enqueued).toEqual([]);
    expect(reported[0]?.result).toMatchObject({ result: 'Failed', error: 'users_not_found' });
    expect(runtime.deliveries[0]).toMatchObject({
      result: 'Failed',
      error: 'users_not_found',
      job: 'data/etl',
    });
  });

  it('reports Failed, not drops, when preparing keeps failing past the deadline', async () => {
    vi.useFakeTimers();
    const { pipeline, reported } = setUp(
      { destinations: [{ user: 'alice@example.com' }] },
      { lookupUserByEmail: () => Promise.reject(new RetryableError('http_503', 'Slack is down')) },
    );
    pipeline.onJobChange('modified', failedJob('etl'), { ...failedJob('etl'), conditions: [] });
    await vi.advanceTimersByTimeAsync(16 * 60_000);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.result).toMatchObject({ result: 'Failed', error: 'http_503' });
  });

  it('offers a new rule no Job that finished in its creation second, but alerts one seen live then', async () => {
    const { pipeline, enqueued, runtime } = setUp({}, {});
    expect(runtime.ledger.floor).toBe(CREATED);
    pipeline.sweep([failedJob('before', CREATED)], runtime); // the past offered to the new rule: ambiguous
    expect(enqueued).toEqual([]);
    pipeline.onJobChange('modified', failedJob('live', CREATED), { ...failedJob('live'), conditions: [] });
    await vi.waitFor(() => expect(enqueued.map((i) => i.job)).toEqual(['data/live']));
  });
});
