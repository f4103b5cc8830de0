// The delivery pipeline with the real domain code and real rule and integration runtimes; Slack lookups are
// scripted, the dispatcher's enqueue is captured (a test answers the items it wants answered), Job writes are
// recorded, and time is a manual clock. What it must never do: drop an alert silently, send one twice, or
// leave a Job held when nothing more can be owed.
import { describe, expect, it } from 'vitest';
import { NO_TOKEN_ROTATION } from './no-token-rotation.ts';
import type { NotificationRule, NotificationRuleSpec } from '../../../src/api/types.ts';
import type { JobRecord } from '../../../src/domain/job.ts';
import { formatRecord, recordEntry } from '../../../src/delivery/delivery-record.ts';
import { destinationId, destinationRef } from '../../../src/delivery/destination.ts';
import { DeliveryPipeline } from '../../../src/delivery/pipeline.ts';
import type { ActiveRule, JobChange, JobWriteResult } from '../../../src/delivery/pipeline-ports.ts';
import type { DeliveryItem, SendResult } from '../../../src/delivery/types.ts';
import { PermanentError, RetryableError } from '../../../src/errors.ts';
import { IntegrationRuntime } from '../../../src/reconcilers/integration-runtime.ts';
import { RuleRuntime } from '../../../src/reconcilers/rule-runtime.ts';
import { silentLog } from '../../../src/slack/logging.ts';
import type { SlackPort } from '../../../src/slack/port.ts';
import { ManualClock, settle } from './fake-clock.ts';

const CREATED = '2026-11-21T10:00:05Z';
const RULE_UID = '0f3c2a9e-5b7d-4c1e-9a2b-00000000000a';

function rule(
  spec: Partial<NotificationRuleSpec>,
  meta: Partial<NotificationRule['metadata']> = {},
): NotificationRule {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'NotificationRule',
    metadata: {
      name: 'r',
      namespace: 'data',
      uid: RULE_UID,
      generation: 1,
      creationTimestamp: CREATED,
      ...meta,
    },
    spec: {
      integrationRef: { name: 'acme', namespace: 'data' },
      events: ['Failed'],
      destinations: [{ channel: 'alerts' }],
      ...spec,
    },
  };
}

function job(name: string, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    uid: `uid-${name}`,
    namespace: 'data',
    name,
    resourceVersion: '1',
    labels: {},
    creationTimestamp: '2026-11-21T10:00:50Z',
    suspend: false,
    startTime: '2026-11-21T10:00:51Z',
    active: 1,
    succeeded: 0,
    failed: 0,
    conditions: [],
    ...overrides,
  };
}

const failed = (name: string, at = '2026-11-21T10:01:00Z', overrides: Partial<JobRecord> = {}): JobRecord =>
  job(name, {
    active: 0,
    failed: 1,
    conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: at }],
    ...overrides,
  });

const succeeded = (
  name: string,
  at = '2026-11-21T10:01:00Z',
  overrides: Partial<JobRecord> = {},
): JobRecord =>
  job(name, {
    active: 0,
    succeeded: 1,
    conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at }],
    ...overrides,
  });

interface SetUpOptions {
  /** what the API server answers to each write (default: stored, resourceVersion "100") */
  writeResult?: () => JobWriteResult;
  finalizers?: boolean;
  namespaceDeletion?: string;
  rules?: NotificationRule[];
  /** PipelineSources.rulesVersion (default: none, a fresh selector for every Job) */
  rulesVersion?: () => number;
}

function setUp(
  spec: Partial<NotificationRuleSpec>,
  port: Partial<SlackPort> = {},
  options: SetUpOptions = {},
) {
  const clock = new ManualClock(Date.parse('2026-11-21T10:02:00Z'));
  const enqueued: DeliveryItem[] = [];
  const reported: { item: DeliveryItem; result: SendResult }[] = [];
  const writes: { job: string; change: { entries: string[]; finalizer: JobChange['finalizer'] } }[] = [];
  const integration = new IntegrationRuntime('data/acme', {
    log: silentLog,
    onResult: (item, result) => pipeline.onResult(item, result),
    requeue: () => undefined,
    slackTimeoutMs: 1000,
    deliveryLimits: {},
    clock,
    createSlackClient: () => port as SlackPort,
    ...NO_TOKEN_ROTATION,
  });
  integration.port = port as SlackPort;
  integration.channels = [
    { name: 'alerts', id: 'C0ALERTS01', state: 'Member', usedBy: ['data/r'] },
    { name: 'ops', id: 'C0OPS00001', state: 'Member', usedBy: ['data/r'] },
  ];
  integration.dispatcher.enqueue = (item) => (enqueued.push(item), true);
  const runtimes = (options.rules ?? [rule(spec)]).map((r) => new RuleRuntime(r));
  const active: ActiveRule[] = runtimes.map((r) => ({ rule: r, integration }));
  const reads = { activeRules: 0 };
  const pipeline: DeliveryPipeline = new DeliveryPipeline({
    sources: {
      activeRules: () => (reads.activeRules++, active),
      ...(options.rulesVersion !== undefined ? { rulesVersion: options.rulesVersion } : {}),
      matchContext: () => ({ namespaceLabels: () => ({}), trustedNamespaces: [] }),
      failedPods: () => [],
      namespaceDeletion: () => options.namespaceDeletion,
    },
    jobs: {
      write: (j, change) => {
        writes.push({ job: j.name, change: { entries: [...change.entries], finalizer: change.finalizer } });
        return Promise.resolve(options.writeResult?.() ?? { result: 'written', resourceVersion: '100' });
      },
    },
    report: {
      delivered: (item, result) => {
        reported.push({ item, result });
        runtimes.find((r) => r.uid === item.rule.uid)?.record(item, result, '2026-11-21T10:02:00Z');
      },
    },
    clock,
    finalizers: options.finalizers ?? true,
    clusterName: 'test',
    log: silentLog,
  });
  pipeline.setActive(true);
  const answer = (item: DeliveryItem, result: Partial<SendResult> = {}) =>
    pipeline.onResult(item, {
      result: 'Delivered',
      channel: item.destination,
      ts: '1.1',
      batchSize: 1,
      attempts: 1,
      at: clock.now(),
      ...result,
    } as SendResult);
  return {
    pipeline,
    runtime: runtimes[0]!,
    runtimes,
    integration,
    enqueued,
    reported,
    writes,
    clock,
    answer,
    reads,
  };
}

const entry = (event: 'Succeeded' | 'Failed' | 'Cancelled', uid = RULE_UID) => recordEntry(uid, event);

describe('DeliveryPipeline: the stages', () => {
  it('sends the alert without a group mention the token may not list (missing_scope)', async () => {
    const { pipeline, runtime, enqueued } = setUp(
      { mentions: [{ group: 'oncall' }] },
      { listUserGroups: () => Promise.reject(new PermanentError('missing_scope', 'needs usergroups:read')) },
    );
    pipeline.onJobChange('modified', failed('etl'), job('etl'));
    await settle();
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]?.mentions).toEqual([]);
    expect(runtime.mentionFindings[0]).toMatchObject({ reason: 'UserGroupNotFound' });
  });

  it('retries a transient lookup failure and then sends, once', async () => {
    let calls = 0;
    const { pipeline, enqueued, reported, clock } = setUp(
      { destinations: [{ user: 'alice@example.com' }] },
      {
        lookupUserByEmail: () =>
          ++calls === 1
            ? Promise.reject(new RetryableError('http_503', 'Slack is down'))
            : Promise.resolve('U0ALICE'),
      },
    );
    pipeline.onJobChange('modified', failed('etl'), job('etl'));
    await settle();
    expect(enqueued).toHaveLength(0);
    // a second sighting while the retry waits does not start another
    pipeline.onJobChange('modified', failed('etl', undefined, { resourceVersion: '2' }), failed('etl'));
    await clock.advance(1_000);
    expect(enqueued.map((i) => i.destination)).toEqual(['U0ALICE']);
    expect(reported).toEqual([]);
  });

  it('shares one user lookup among a burst of alerts', async () => {
    let calls = 0;
    const { pipeline, enqueued } = setUp(
      { destinations: [{ user: 'alice@example.com' }] },
      { lookupUserByEmail: () => (calls++, Promise.resolve('U0ALICE')) },
    );
    for (let i = 0; i < 50; i++) pipeline.onJobChange('modified', failed(`j${i}`), job(`j${i}`));
    await settle();
    expect(enqueued).toHaveLength(50);
    expect(calls).toBe(1);
  });

  it('reports an alert Failed when its destination cannot exist, records it, and releases the Job', async () => {
    const { pipeline, runtime, enqueued, reported, writes } = setUp(
      { destinations: [{ user: 'nobody@example.com' }] },
      { lookupUserByEmail: () => Promise.reject(new PermanentError('users_not_found', 'no such user')) },
    );
    pipeline.onJobChange('modified', failed('etl', undefined, { held: true }), job('etl', { held: true }));
    await settle();
    expect(enqueued).toEqual([]);
    expect(reported[0]?.result).toMatchObject({ result: 'Failed', error: 'users_not_found' });
    expect(runtime.deliveries[0]).toMatchObject({
      result: 'Failed',
      error: 'users_not_found',
      job: 'data/etl',
    });
    // a final failure is an answer too: recorded, so it is not retried on every restart
    expect(writes).toEqual([{ job: 'etl', change: { entries: [entry('Failed')], finalizer: 'remove' } }]);
  });

  it('reports Failed, not drops, when preparing keeps failing past the deadline', async () => {
    const { pipeline, reported, clock } = setUp(
      { destinations: [{ user: 'alice@example.com' }] },
      { lookupUserByEmail: () => Promise.reject(new RetryableError('http_503', 'Slack is down')) },
    );
    pipeline.onJobChange('modified', failed('etl'), job('etl'));
    await clock.advance(16 * 60_000);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.result).toMatchObject({ result: 'Failed', error: 'http_503' });
  });
});

describe('DeliveryPipeline: claim and record', () => {
  it('holds a running Job a rule selects, once, and never an unselected one', async () => {
    const { pipeline, writes } = setUp({ selector: { jobSelector: { matchLabels: { app: 'etl' } } } });
    pipeline.onJobChange('added', job('etl', { labels: { app: 'etl' } }), undefined);
    pipeline.onJobChange(
      'modified',
      job('etl', { labels: { app: 'etl' }, resourceVersion: '2' }),
      job('etl'),
    );
    pipeline.onJobChange('added', job('web', { labels: { app: 'web' } }), undefined);
    await settle();
    expect(writes).toEqual([{ job: 'etl', change: { entries: [], finalizer: 'add' } }]);
  });

  it('delivers once and records it in the same write that releases the finalizer', async () => {
    const { pipeline, enqueued, writes, answer } = setUp(
      { destinations: [{ channel: 'alerts' }, { user: 'a@x' }] },
      { lookupUserByEmail: () => Promise.resolve('U0A') },
    );
    const done = failed('etl', undefined, { held: true });
    pipeline.onJobChange('modified', done, job('etl', { held: true }));
    pipeline.onJobChange('modified', { ...done, resourceVersion: '3' }, done); // a resync while it is under way
    await settle();
    expect(enqueued).toHaveLength(2);
    answer(enqueued[0]!);
    expect(writes).toEqual([]); // one destination is still unanswered
    answer(enqueued[1]!);
    await settle();
    expect(writes).toEqual([{ job: 'etl', change: { entries: [entry('Failed')], finalizer: 'remove' } }]);
    // the watch brings the written Job: nothing more to do
    pipeline.onJobChange(
      'modified',
      { ...done, held: false, delivered: formatRecord([entry('Failed')]) },
      done,
    );
    await settle();
    expect(enqueued).toHaveLength(2);
    expect(writes).toHaveLength(1);
  });

  it('sends nothing a Job record shows as delivered (after a restart)', async () => {
    const { pipeline, enqueued, writes } = setUp({});
    await pipeline.sweep([failed('etl', undefined, { delivered: formatRecord([entry('Failed')]) })]);
    await settle();
    expect(enqueued).toEqual([]);
    expect(writes).toEqual([]);
  });

  it('releases a finished Job at once when its rule does not want that outcome', async () => {
    const { pipeline, enqueued, writes } = setUp({ events: ['Cancelled'] });
    pipeline.onJobChange('modified', succeeded('etl', undefined, { held: true }), job('etl', { held: true }));
    await settle();
    expect(enqueued).toEqual([]);
    expect(writes).toEqual([{ job: 'etl', change: { entries: [], finalizer: 'remove' } }]);
  });

  it('releases a held Job no active rule selects any more, without alerting', async () => {
    const { pipeline, enqueued, writes } = setUp({
      selector: { jobSelector: { matchLabels: { app: 'other' } } },
    });
    await pipeline.sweep([job('etl', { held: true })]);
    await settle();
    expect(enqueued).toEqual([]);
    expect(writes).toEqual([{ job: 'etl', change: { entries: [], finalizer: 'remove' } }]);
  });

  it('writes once for two rules, after both were answered', async () => {
    const other = '77aa12bc-90de-4000-8000-000000000000';
    const { pipeline, enqueued, writes, answer } = setUp(
      {},
      {},
      {
        rules: [rule({}), rule({}, { name: 'r2', uid: other })],
      },
    );
    pipeline.onJobChange('modified', failed('etl', undefined, { held: true }), job('etl', { held: true }));
    await settle();
    expect(enqueued).toHaveLength(2);
    for (const item of enqueued) answer(item);
    await settle();
    expect(writes).toEqual([
      { job: 'etl', change: { entries: [entry('Failed'), entry('Failed', other)], finalizer: 'remove' } },
    ]);
  });

  it('--no-finalizers: holds nothing, records what it sent, and releases a finalizer left from before', async () => {
    const { pipeline, enqueued, writes, answer } = setUp({}, {}, { finalizers: false });
    pipeline.onJobChange('added', job('running'), undefined);
    pipeline.onJobChange('added', job('leftover', { held: true }), undefined);
    pipeline.onJobChange('modified', failed('etl'), job('etl'));
    await settle();
    answer(enqueued[0]!);
    await settle();
    expect(writes).toEqual([
      { job: 'leftover', change: { entries: [], finalizer: 'remove' } },
      { job: 'etl', change: { entries: [entry('Failed')], finalizer: 'keep' } },
    ]);
  });
});

describe('DeliveryPipeline: what the review found', () => {
  it('lets the cache win once it has caught up with our write: a finalizer someone else put back is released', async () => {
    const { pipeline, writes } = setUp({ events: ['Cancelled'] });
    pipeline.onJobChange('added', job('etl', { held: true }), undefined);
    // finished: nothing owed, release (resourceVersion 100 after our write)
    pipeline.onJobChange(
      'modified',
      succeeded('etl', undefined, { held: true, resourceVersion: '5' }),
      job('etl'),
    );
    await settle();
    expect(writes.map((w) => w.change.finalizer)).toEqual(['remove']);
    // a later state (rv 101) still shows the finalizer (an earlier add landed after our remove): ask again
    pipeline.onJobChange(
      'modified',
      succeeded('etl', undefined, { held: true, resourceVersion: '101' }),
      job('etl'),
    );
    await settle();
    expect(writes.map((w) => w.change.finalizer)).toEqual(['remove', 'remove']);
  });

  it('keeps what it sent when its record write finds the Job gone: the DELETED event after it owes nothing', async () => {
    const { pipeline, enqueued, answer, writes } = setUp(
      { events: ['Succeeded'] },
      {},
      { writeResult: () => ({ result: 'gone' }) },
    );
    const done = succeeded('etl', undefined, { ttlSecondsAfterFinished: 0 });
    pipeline.onJobChange('modified', done, job('etl'));
    await settle();
    answer(enqueued[0]!);
    await settle();
    expect(writes).toHaveLength(1); // the record write, answered 404
    pipeline.onJobChange('deleted', done, done); // the DELETED event, without the record
    await settle();
    expect(enqueued).toHaveLength(1);
  });

  it('reports Failed, never records silently, an alert whose integration stopped while it was prepared', async () => {
    let release!: (id: string) => void;
    const { pipeline, enqueued, reported, writes, integration } = setUp(
      { destinations: [{ user: 'a@x' }] },
      { lookupUserByEmail: () => new Promise<string>((resolve) => (release = resolve)) },
    );
    pipeline.onJobChange('modified', failed('etl', undefined, { held: true }), job('etl', { held: true }));
    await settle(); // the user lookup is pending; meanwhile the integration is deleted
    await integration.dispatcher.stop();
    release('U0A');
    await settle();
    expect(enqueued).toEqual([]);
    expect(reported.map((r) => r.result)).toEqual([
      expect.objectContaining({ result: 'Failed', error: 'integration_stopped' }),
    ]);
    expect(writes).toEqual([{ job: 'etl', change: { entries: [entry('Failed')], finalizer: 'remove' } }]);
  });
});

describe('DeliveryPipeline: which outcomes are owed', () => {
  it('alerts nothing that finished before the rule was created (no storm on install)', async () => {
    const { pipeline, enqueued } = setUp({});
    await pipeline.sweep([
      failed('old', '2026-11-21T10:00:04Z'),
      failed('same-second', CREATED),
      failed('new', '2026-11-21T10:00:06Z'),
    ]);
    await settle();
    // a Job jobherald did not hold that finished in the rule's creation second is ambiguous: not alerted
    expect(enqueued.map((i) => i.job)).toEqual(['data/new']);
  });

  it('alerts a held Job that finished in the second the rule was created', async () => {
    const { pipeline, enqueued } = setUp({});
    await pipeline.sweep([failed('held', CREATED, { held: true })]);
    await settle();
    expect(enqueued.map((i) => i.job)).toEqual(['data/held']);
  });

  it('alerts nothing a rule newly wants about Jobs it did not hold (widened events send no backlog)', async () => {
    const widened = rule(
      { events: ['Failed', 'Succeeded'] },
      {
        managedFields: [
          { manager: 'kubectl', operation: 'Update', time: CREATED, fieldsV1: { 'f:spec': {} } },
          {
            manager: 'kubectl',
            operation: 'Update',
            time: '2026-11-21T10:01:30Z',
            fieldsV1: { 'f:spec': {} },
          },
          {
            manager: 'jobherald',
            operation: 'Update',
            subresource: 'status',
            time: '2026-11-21T10:01:59Z',
            fieldsV1: { 'f:status': {} },
          },
        ],
      },
    );
    const { pipeline, enqueued } = setUp({}, {}, { rules: [widened] });
    await pipeline.sweep([
      succeeded('before-edit', '2026-11-21T10:01:00Z'),
      succeeded('after-edit', '2026-11-21T10:01:40Z'),
      succeeded('held', '2026-11-21T10:01:00Z', { held: true }),
    ]);
    await settle();
    expect(enqueued.map((i) => i.job).sort()).toEqual(['data/after-edit', 'data/held']);
  });

  it('a held Job deleted while running is Cancelled at its deletion; one finished first keeps its outcome', async () => {
    const { pipeline, enqueued } = setUp({ events: ['Succeeded', 'Failed', 'Cancelled'] });
    await pipeline.sweep([
      job('running', { held: true, deletionTimestamp: '2026-11-21T10:01:30Z' }),
      succeeded('ttl', '2026-11-21T10:01:00Z', { held: true, deletionTimestamp: '2026-11-21T10:01:00Z' }),
      failed('late', '2026-11-21T10:01:40Z', { held: true, deletionTimestamp: '2026-11-21T10:01:30Z' }),
    ]);
    await settle();
    const byJob = Object.fromEntries(enqueued.map((i) => [i.job, [i.event, i.outcome.at]]));
    expect(byJob).toEqual({
      'data/running': ['Cancelled', '2026-11-21T10:01:30Z'],
      'data/ttl': ['Succeeded', '2026-11-21T10:01:00Z'], // TTL 0: deleted in the second it finished
      'data/late': ['Cancelled', '2026-11-21T10:01:30Z'], // failed because it was being deleted
    });
  });

  it('a Job that failed once its namespace was being deleted is Cancelled', async () => {
    const { pipeline, enqueued } = setUp(
      { events: ['Failed', 'Cancelled'] },
      {},
      { namespaceDeletion: '2026-11-21T10:01:00Z' },
    );
    await pipeline.sweep([failed('etl', '2026-11-21T10:01:00Z', { held: true })]);
    await settle();
    expect(enqueued.map((i) => [i.event, i.outcome.message])).toEqual([
      ['Cancelled', 'its namespace data was deleted'],
    ]);
  });

  it('a Job seen running and then suspended is Cancelled; it stays held, and its later success is alerted', async () => {
    const { pipeline, enqueued, writes, answer } = setUp({ events: ['Succeeded', 'Cancelled'] });
    pipeline.onJobChange('added', job('etl', { held: true }), undefined);
    // the Job controller clears startTime when it suspends a Job
    const suspended = job('etl', {
      held: true,
      active: 0,
      suspend: true,
      startTime: undefined,
      conditions: [{ type: 'Suspended', status: 'True', lastTransitionTime: '2026-11-21T10:01:10Z' }],
    });
    pipeline.onJobChange('modified', suspended, job('etl', { held: true }));
    await settle();
    expect(enqueued.map((i) => i.event)).toEqual(['Cancelled']);
    answer(enqueued[0]!);
    await settle();
    expect(writes).toEqual([{ job: 'etl', change: { entries: [entry('Cancelled')], finalizer: 'keep' } }]);
    pipeline.onJobChange(
      'modified',
      succeeded('etl', '2026-11-21T10:01:50Z', { held: true, delivered: formatRecord([entry('Cancelled')]) }),
      suspended,
    );
    await settle();
    expect(enqueued.map((i) => i.event)).toEqual(['Cancelled', 'Succeeded']);
  });

  it('a DELETED Job whose deletion it saw is judged as it was then: no second outcome', async () => {
    const { pipeline, enqueued } = setUp({ events: ['Failed', 'Cancelled'] });
    const terminating = failed('etl', '2026-11-21T10:01:40Z', {
      deletionTimestamp: '2026-11-21T10:01:30Z',
      delivered: formatRecord([entry('Cancelled')]),
    });
    pipeline.onJobChange('deleted', terminating, terminating);
    await settle();
    expect(enqueued).toEqual([]);
  });

  it('a Job that vanished between two lists was deleted while nobody watched: Cancelled, said so', async () => {
    const { pipeline, enqueued } = setUp({ events: ['Cancelled'] });
    const last = job('etl', { ttlSecondsAfterFinished: 0 });
    pipeline.onJobChange('deleted', last, last);
    await settle();
    expect(enqueued.map((i) => i.outcome.message)).toEqual([
      expect.stringMatching(/may have finished and been cleaned up/),
    ]);
  });
});

describe('DeliveryPipeline: upgrading from the 0.1 ledger', () => {
  it('records what the ledger sent without sending it, sends only what it had not, nothing before its floor', async () => {
    const alerts = destinationId(destinationRef({ channel: 'alerts' }));
    const ops = destinationId(destinationRef({ channel: 'ops' }));
    const r = rule({ destinations: [{ channel: 'alerts' }, { channel: 'ops' }] });
    r.status = {
      ledger: {
        v: 1,
        floor: '2026-11-21T10:00:30Z',
        sent: [`uid-all F ${alerts} mh8k2t`, `uid-all F ${ops} mh8k2t`, `uid-half F ${alerts} mh8k2t`],
        armed: [],
      },
    };
    const { pipeline, enqueued, writes } = setUp({}, {}, { rules: [r] });
    await pipeline.sweep([failed('all'), failed('half'), failed('old', '2026-11-21T10:00:20Z')]);
    await settle();
    // `old` finished after the rule was created but before the ledger's floor: the old version handled it
    expect(enqueued.map((i) => [i.job, i.destinationLabel])).toEqual([['data/half', '#ops']]);
    expect(writes).toEqual([{ job: 'all', change: { entries: [entry('Failed')], finalizer: 'keep' } }]);
  });
});

describe('DeliveryPipeline: sweeps share the event loop', () => {
  const running = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => job(`${prefix}-${i}`, { uid: `uid-${prefix}-${i}` }));

  it('evaluates 500 Jobs at once, then the rest after turns of the event loop', async () => {
    const { pipeline, writes } = setUp({});
    const done = pipeline.sweep(running('a', 1_200));
    // every running Job a rule selects gets the finalizer: one write each, issued as the Job is evaluated
    expect(writes.length).toBe(500);
    await done;
    expect(writes.length).toBe(1_200);
    expect(new Set(writes.map((w) => w.job)).size).toBe(1_200);
  });

  it('stops a sweep that a newer one supersedes; sweepsDone waits for the newer one', async () => {
    const { pipeline, writes } = setUp({});
    const first = pipeline.sweep(running('a', 1_200));
    const second = pipeline.sweep(running('b', 700));
    let settled = false;
    const allDone = pipeline.sweepsDone().then(() => (settled = true));
    await first;
    expect(settled).toBe(false);
    await second;
    await allDone;
    expect(writes.filter((w) => w.job.startsWith('a-')).length).toBe(500);
    expect(writes.filter((w) => w.job.startsWith('b-')).length).toBe(700);
  });

  it('reads the rules afresh after each turn: a rule gone mid-sweep holds nothing more', async () => {
    const { pipeline, writes, runtimes } = setUp({});
    const done = pipeline.sweep(running('a', 1_200));
    runtimes[0]!.object.spec.suspend = true; // what deliverable() would now leave out
    await done;
    expect(writes.length).toBe(500);
  });
});

describe('DeliveryPipeline: matching is indexed per version of the rules', () => {
  it('reads the rules once per version, not once per Job event, and again after the version moves', () => {
    let version = 1;
    const { pipeline, writes, runtime, reads } = setUp({}, {}, { rulesVersion: () => version });
    for (let i = 0; i < 50; i++)
      pipeline.onJobChange('added', job(`r-${i}`, { uid: `uid-r-${i}` }), undefined);
    expect(writes.length).toBe(50); // every one held: the rule selects them
    expect(reads.activeRules).toBe(1);
    // the rule now selects nothing in this namespace; the source says so by moving its version
    runtime.object.spec.selector = { jobSelector: { matchLabels: { app: 'none' } } };
    version++;
    pipeline.onJobChange('added', job('after', { uid: 'uid-after' }), undefined);
    expect(reads.activeRules).toBe(2);
    expect(writes.map((w) => w.job)).not.toContain('after');
  });

  it('without versions, reads the rules for every Job (nothing cached that could go stale)', () => {
    const { pipeline, reads } = setUp({});
    for (let i = 0; i < 5; i++)
      pipeline.onJobChange('added', job(`r-${i}`, { uid: `uid-r-${i}` }), undefined);
    expect(reads.activeRules).toBe(5);
  });
});
