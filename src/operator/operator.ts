// The operator's composition: the watches (Jobs, failed Pods, our two CRs, Namespaces, Secrets in the
// integration namespaces), the two reconcilers on keyed work queues, the Job pipeline, leader election,
// the status writer and Events. Data flows one way (architecture.md):
//   Job watch → JobRecord store → JobPipeline (outcome, match, ledger) → Dispatcher (per integration) → Slack
//   CR watches → reconcilers (auth, channels, membership) → status, Events
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EventType, NotificationRule, SlackIntegration } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import { integrationRefOf } from '../domain/tenancy.ts';
import type { DesiredChannel } from '../domain/membership.ts';
import type { DeliveryItem, DeliveryMetrics, SendResult } from '../delivery/types.ts';
import type { KubeConnection } from '../kube/connection.ts';
import { ListWatch, type ListWatchMetrics } from '../kube/list-watch.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import { StatusWriter } from '../kube/status-writer.ts';
import { EventRecorder } from '../kube/events.ts';
import type { LogSink } from '../slack/logging.ts';
import { WorkQueue } from '../reconcilers/work-queue.ts';
import { IntegrationRuntime } from '../reconcilers/integration-reconciler.ts';
import { admitRule, rulePath, RuleRuntime, type Admission } from '../reconcilers/rule-reconciler.ts';
import {
  failedPodRecord,
  integrationRecord,
  jobRecord,
  namespaceRecord,
  ruleRecord,
  secretRecord,
  type FailedPodRecord,
  type NamespaceRecord,
  type SecretRecord,
} from './caches.ts';
import { DEFAULTS, type OperatorConfig } from './config.ts';
import { JobPipeline } from './job-pipeline.ts';
import { rfc3339 as iso } from '../domain/time.ts';

export interface OperatorMetrics {
  delivery?: DeliveryMetrics;
  listWatch?: ListWatchMetrics;
  leader?(isLeader: boolean): void;
  outcome?(event: EventType): void;
  /** a final delivery result, with the item's event and observation time (latency) */
  deliveryResult?(item: DeliveryItem, result: SendResult): void;
  /** expose an integration's queue depth; returns the function that stops exposing it */
  watchQueue?(source: { integration: string; depth(): number }): () => void;
}

export interface OperatorOptions {
  config: OperatorConfig;
  connection: KubeConnection;
  log: LogSink;
  metrics?: OperatorMetrics;
  /** leadership was lost: the caller should exit (a fresh process is the safe way to rejoin) */
  onLostLeadership?: () => void;
}

const GROUP_PATH = '/apis/jobherald.dev/v1alpha1';

export class Operator {
  readonly config: OperatorConfig;
  readonly connection: KubeConnection;
  readonly log: LogSink;
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly jobs: ListWatch<JobRecord>;
  readonly integrationsWatch: ListWatch<SlackIntegration>;
  readonly rulesWatch: ListWatch<NotificationRule>;
  readonly namespacesWatch: ListWatch<NamespaceRecord>;
  readonly secretsWatches: ListWatch<SecretRecord>[];
  #failedPods: ListWatch<FailedPodRecord> | undefined;
  readonly integrations = new Map<string, IntegrationRuntime>();
  readonly rules = new Map<string, RuleRuntime>();
  readonly #admissions = new Map<string, { stamp: string; admission: Admission }>();
  #namespacesVersion = 0;
  readonly integrationQueue: WorkQueue;
  readonly ruleQueue: WorkQueue;
  readonly pipeline: JobPipeline;
  readonly #elector: LeaderElector | undefined;
  readonly #metrics: OperatorMetrics;
  #leading = false;
  #floorTimer: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(opts: OperatorOptions) {
    this.config = opts.config;
    this.connection = opts.connection;
    this.log = opts.log;
    this.#metrics = opts.metrics ?? {};
    const log = opts.log;
    this.statusWriter = new StatusWriter(opts.connection, {
      onError: (path, error) => log.warn({ path, err: error }, 'status write failed; retrying'),
    });
    this.events = new EventRecorder(opts.connection, {
      onError: (error) => log.debug({ err: error }, 'could not record an Event'),
    });
    const watchLog =
      (resource: string) =>
      (level: 'info' | 'warn' | 'debug', message: string, fields?: Record<string, unknown>) =>
        log[level]({ resource, ...fields }, message);
    const common = { connection: opts.connection, metrics: this.#metrics.listWatch };

    this.pipeline = new JobPipeline({
      activeRules: () => this.#activeRules(),
      integrationOf: (rule) => this.#integrationRuntimeIfExists(this.#integrationKey(rule)),
      matchContext: () => this.#matchContext(),
      failedPods: (job) => this.#failedPodDetails(job),
      ruleChanged: (runtime) => this.#writeRuleStatus(runtime),
      report: (item, result) => this.#onDeliveryResult(item, result),
      clusterName: opts.config.clusterName,
      log,
      outcomeSeen: (event) => this.#metrics.outcome?.(event as EventType),
    });

    this.jobs = new ListWatch<JobRecord>(
      {
        ...common,
        path: '/apis/batch/v1/jobs',
        resource: 'jobs',
        toRecord: jobRecord,
        log: watchLog('jobs'),
      },
      {
        onChange: (type, record, previous) => this.pipeline.onJobChange(type, record, previous),
        onSynced: (relist) => {
          if (relist) this.pipeline.sweep(this.jobs.store.values());
        },
      },
    );
    this.integrationsWatch = new ListWatch<SlackIntegration>(
      {
        ...common,
        path: `${GROUP_PATH}/slackintegrations`,
        resource: 'slackintegrations',
        toRecord: integrationRecord,
        log: watchLog('slackintegrations'),
      },
      {
        onChange: (_type, integration) => {
          const key = `${integration.metadata.namespace}/${integration.metadata.name}`;
          this.integrationQueue.add(key);
          this.#rulesUsing(key).forEach((r) => this.ruleQueue.add(r));
        },
      },
    );
    this.rulesWatch = new ListWatch<NotificationRule>(
      {
        ...common,
        path: `${GROUP_PATH}/notificationrules`,
        resource: 'notificationrules',
        toRecord: ruleRecord,
        log: watchLog('notificationrules'),
      },
      {
        onChange: (_type, rule, previous) => {
          this.ruleQueue.add(`${rule.metadata.namespace}/${rule.metadata.name}`);
          // the integration's desired channels follow its rules' destinations
          this.integrationQueue.add(this.#integrationKey(rule));
          if (previous !== undefined) this.integrationQueue.add(this.#integrationKey(previous));
        },
      },
    );
    this.namespacesWatch = new ListWatch<NamespaceRecord>(
      {
        ...common,
        path: '/api/v1/namespaces',
        resource: 'namespaces',
        toRecord: namespaceRecord,
        log: watchLog('namespaces'),
      },
      {
        onChange: () => {
          this.#namespacesVersion++;
          if (this.rulesWatch.isSynced)
            for (const key of this.rulesWatch.store.keys()) this.ruleQueue.add(key);
        },
      },
    );
    this.secretsWatches = opts.config.integrationNamespaces.map(
      (ns) =>
        new ListWatch<SecretRecord>(
          {
            ...common,
            path: `/api/v1/namespaces/${ns}/secrets`,
            resource: 'secrets',
            toRecord: secretRecord,
            log: watchLog('secrets'),
          },
          {
            onChange: (_type, secret) => {
              for (const [key, integration] of this.integrationsWatch.store) {
                if (
                  integration.metadata.namespace === secret.namespace &&
                  integration.spec.tokenSecretRef?.name === secret.name
                ) {
                  this.integrationQueue.add(key);
                }
              }
            },
          },
        ),
    );

    this.integrationQueue = new WorkQueue({
      name: 'slackintegrations',
      concurrency: 4,
      reconcile: (key) => this.#reconcileIntegration(key),
      onError: (key, error, retryIn) =>
        log.warn({ controller: 'slackintegration', key, err: error, retryInMs: retryIn }, 'reconcile failed'),
    });
    this.ruleQueue = new WorkQueue({
      name: 'notificationrules',
      concurrency: 4,
      reconcile: (key) => this.#reconcileRule(key),
      onError: (key, error, retryIn) =>
        log.warn({ controller: 'notificationrule', key, err: error, retryInMs: retryIn }, 'reconcile failed'),
    });

    if (opts.config.leaderElect) {
      this.#elector = new LeaderElector({
        connection: opts.connection,
        namespace: opts.config.namespace,
        name: opts.config.leaseName,
        identity: opts.config.identity,
        onStartedLeading: () => void this.#startLeading(),
        onStoppedLeading: () => {
          this.#stopLeading();
          opts.onLostLeadership?.();
        },
        log: (level, message) => log[level]({}, message),
      });
    }
  }

  static identity(): string {
    return `${hostname()}-${randomBytes(3).toString('hex')}`;
  }

  /** Every watch has its first complete list: the caches can serve. */
  get synced(): boolean {
    return [
      this.jobs,
      this.integrationsWatch,
      this.rulesWatch,
      this.namespacesWatch,
      ...this.secretsWatches,
    ].every((w) => w.isSynced);
  }

  /** Starts the watches; leads at once without leader election, else when elected. */
  async start(): Promise<void> {
    for (const w of [
      this.namespacesWatch,
      ...this.secretsWatches,
      this.integrationsWatch,
      this.rulesWatch,
      this.jobs,
    ]) {
      w.start();
    }
    await Promise.all(
      [this.namespacesWatch, ...this.secretsWatches, this.integrationsWatch, this.rulesWatch, this.jobs].map(
        (w) => w.synced,
      ),
    );
    this.log.info({ jobs: this.jobs.store.size, rules: this.rulesWatch.store.size }, 'caches synced');
    // Failed Pods (for the details of Failed alerts) are watched by every replica from the start, so no
    // leader waits for them; an alert prepared before they sync just lacks pod details.
    this.#startFailedPodWatch();
    if (this.#elector !== undefined) this.#elector.start();
    else await this.#startLeading();
  }

  async #startLeading(): Promise<void> {
    if (this.#leading || this.#stopping) return;
    this.#leading = true;
    this.#metrics.leader?.(true);
    this.log.info({ identity: this.config.identity }, 'leading: reconciling and delivering');
    // Rule runtimes (ledgers) first, so the sweep below sees every ledger. Read each rule afresh: the watch
    // may not have brought the previous leader's last status write yet, and its ledger must not be missed.
    await Promise.all(
      [...this.rulesWatch.store].map(async ([key, cached]) => {
        const rule = await this.connection.get<NotificationRule>(rulePath(cached)).catch(() => cached);
        this.#ruleRuntime(key, rule).swept = true;
      }),
    );
    for (const key of this.integrationsWatch.store.keys()) this.integrationQueue.add(key);
    for (const key of this.rulesWatch.store.keys()) this.ruleQueue.add(key);
    this.pipeline.setActive(true);
    this.pipeline.sweep(this.jobs.store.values());
    this.#floorTimer = setInterval(() => this.#advanceFloors(), this.config.floorIntervalMs);
    this.#floorTimer.unref();
  }

  #stopLeading(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#metrics.leader?.(false);
    this.pipeline.setActive(false);
    this.statusWriter.disable();
    this.events.disable();
    clearInterval(this.#floorTimer);
    for (const integration of this.integrations.values()) void integration.dispatcher.stop();
  }

  /** Graceful shutdown (SIGTERM): stop taking work, let in-flight sends finish, persist, hand over. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.pipeline.setActive(false);
    clearInterval(this.#floorTimer);
    await Promise.all([this.integrationQueue.stop(), this.ruleQueue.stop()]);
    const leftovers = await Promise.all([...this.integrations.values()].map((i) => i.stop()));
    // Items still queued are not lost: they are not in the ledger, so the next leader sends them.
    for (const item of leftovers.flat())
      this.rules.get(`${item.rule.namespace}/${item.rule.name}`)?.ledger.release(item.key);
    if (this.#leading) {
      for (const runtime of this.rules.values()) this.#writeRuleStatus(runtime);
      await this.statusWriter.flush(10_000);
    }
    await this.#elector?.stop();
    this.#leading = false;
    await Promise.all(
      [
        this.jobs,
        this.integrationsWatch,
        this.rulesWatch,
        this.namespacesWatch,
        ...this.secretsWatches,
        this.#failedPods,
      ]
        .filter((w) => w !== undefined)
        .map((w) => w.stop()),
    );
  }

  // ---------------------------------------------------------------- helpers over the caches

  #integrationKey(rule: NotificationRule): string {
    const ref = integrationRefOf(rule);
    return `${ref.namespace}/${ref.name}`;
  }

  #rulesUsing(integrationKey: string): string[] {
    const keys: string[] = [];
    for (const [key, rule] of this.rulesWatch.store)
      if (this.#integrationKey(rule) === integrationKey) keys.push(key);
    return keys;
  }

  #namespaceLabels = (namespace: string): Record<string, string> | undefined =>
    this.namespacesWatch.store.get(namespace)?.labels;

  #matchContext() {
    return { namespaceLabels: this.#namespaceLabels, trustedNamespaces: this.config.clusterRuleNamespaces };
  }

  #admission(runtime: RuleRuntime): Admission {
    const integration = this.integrationsWatch.store.get(this.#integrationKey(runtime.object));
    const stamp = `${runtime.object.metadata.resourceVersion}|${integration?.metadata.resourceVersion ?? '-'}|${this.#namespacesVersion}`;
    const cached = this.#admissions.get(runtime.key);
    if (cached?.stamp === stamp) return cached.admission;
    const admission = admitRule(runtime.object, {
      integration,
      trustedNamespaces: this.config.clusterRuleNamespaces,
      namespaceLabels: this.#namespaceLabels,
    });
    this.#admissions.set(runtime.key, { stamp, admission });
    return admission;
  }

  *#activeRules(): Iterable<{ runtime: RuleRuntime; admission: Admission }> {
    for (const [key, rule] of this.rulesWatch.store) {
      const runtime = this.#ruleRuntime(key, rule);
      const admission = this.#admission(runtime);
      if (admission.ok) yield { runtime, admission };
    }
  }

  #ruleRuntime(key: string, rule: NotificationRule): RuleRuntime {
    let runtime = this.rules.get(key);
    if (runtime === undefined || runtime.uid !== (rule.metadata.uid ?? key)) {
      runtime = new RuleRuntime(rule, iso());
      this.rules.set(key, runtime);
      if (runtime.ledgerProblems.length > 0) {
        this.log.warn({ rule: key, problems: runtime.ledgerProblems }, 'ledger repaired');
      }
    } else runtime.object = rule;
    return runtime;
  }

  /** The Job's failed pods: same UID label and same namespace (a label alone can be forged in any namespace). */
  #failedPodDetails(job: JobRecord): FailedPodDetail[] {
    const details: FailedPodDetail[] = [];
    for (const record of this.#failedPods?.store.values() ?? []) {
      if (record.jobUID === job.uid && record.namespace === job.namespace) details.push(...record.details);
    }
    return details;
  }

  /** Failed Pods of Jobs only (a field selector): the details of Failed alerts, never a per-Job GET. */
  #startFailedPodWatch(): void {
    if (this.#failedPods === undefined) {
      this.#failedPods = new ListWatch<FailedPodRecord>(
        {
          connection: this.connection,
          metrics: this.#metrics.listWatch,
          path: '/api/v1/pods',
          resource: 'pods',
          fieldSelector: 'status.phase=Failed',
          labelSelector: 'batch.kubernetes.io/controller-uid',
          toRecord: failedPodRecord,
          log: (level, message, fields) => this.log[level]({ resource: 'pods', ...fields }, message),
        },
        { onChange: () => undefined },
      ).start();
    }
  }

  #advanceFloors(): void {
    if (!this.jobs.isSynced) return;
    const healthyUntil = iso(new Date(this.jobs.healthyUntil));
    for (const runtime of this.rules.values()) {
      const advance = runtime.ledger.advanceFloor(healthyUntil);
      if (advance.forced) {
        this.log.warn({ rule: runtime.key }, 'ledger over its size cap: floor forced forward');
      }
      if (runtime.ledger.dirty) this.#writeRuleStatus(runtime);
    }
  }

  // ---------------------------------------------------------------- status

  #writeRuleStatus(runtime: RuleRuntime): void {
    if (!this.#leading) return;
    this.statusWriter.request({ path: runtime.statusPath }, () => {
      if (this.rules.get(runtime.key) !== runtime) return undefined;
      const integration = this.integrations.get(this.#integrationKey(runtime.object));
      const { status, written } = runtime.status(this.#admission(runtime), integration, iso());
      return { status: status as unknown as Record<string, unknown>, written };
    });
  }

  #writeIntegrationStatus(runtime: IntegrationRuntime): void {
    if (!this.#leading) return;
    const path = `${GROUP_PATH}/namespaces/${runtime.namespace}/slackintegrations/${runtime.name}`;
    this.statusWriter.request({ path }, () => {
      const object = this.integrationsWatch.store.get(runtime.key);
      if (object === undefined || this.integrations.get(runtime.key) !== runtime) return undefined;
      return { status: runtime.status(object, new Date()) as unknown as Record<string, unknown> };
    });
  }

  // ---------------------------------------------------------------- reconcilers

  /** The runtime of an integration that exists (created at once, so no outcome waits for its first reconcile). */
  #integrationRuntimeIfExists(key: string): IntegrationRuntime | undefined {
    if (!this.integrationsWatch.store.has(key)) return this.integrations.get(key);
    const runtime = this.#integrationRuntime(key);
    if (runtime.object === undefined) this.integrationQueue.add(key);
    return runtime;
  }

  #integrationRuntime(key: string): IntegrationRuntime {
    let runtime = this.integrations.get(key);
    if (runtime === undefined) {
      runtime = new IntegrationRuntime(key, {
        log: this.log,
        metrics: this.#metrics.delivery,
        onResult: (item, result) => this.#onDeliveryResult(item, result),
        requeue: (k, afterMs) =>
          afterMs === undefined ? this.integrationQueue.add(k) : this.integrationQueue.addAfter(k, afterMs),
        slackTimeoutMs: this.config.slackTimeoutMs,
        deliveryLimits: { channelHoldMs: DEFAULTS.channelHoldMs, ...this.config.deliveryLimits },
      });
      this.integrations.set(key, runtime);
      const dispatcher = runtime.dispatcher;
      this.#unwatchQueues.set(
        key,
        this.#metrics.watchQueue?.({ integration: key, depth: () => dispatcher.depth() }),
      );
    }
    return runtime;
  }

  async #reconcileIntegration(key: string) {
    if (!this.#leading) return undefined;
    const object = this.integrationsWatch.store.get(key);
    if (object === undefined) {
      const gone = this.integrations.get(key);
      this.integrations.delete(key);
      this.#unwatchQueues.get(key)?.();
      this.#unwatchQueues.delete(key);
      // What was still waiting will never be sent through it: say so on each rule, never drop it silently.
      for (const item of (await gone?.stop()) ?? []) {
        this.#onDeliveryResult(item, {
          result: 'Failed',
          error: 'integration_deleted',
          message: `SlackIntegration ${key} was deleted`,
          attempts: 0,
          at: Date.now(),
        });
      }
      return undefined;
    }
    const runtime = this.#integrationRuntime(key);
    const namespace = object.metadata.namespace;
    const secretName = object.spec.tokenSecretRef?.name ?? '';
    const secret = this.secretsWatches
      .map((w) => w.store.get(`${namespace}/${secretName}`))
      .find((s) => s !== undefined);
    const wasReady = runtime.ready;
    try {
      return await runtime.reconcile({
        object,
        served: this.config.integrationNamespaces.includes(namespace),
        secretData: secret?.data,
        desired: this.#desiredChannels(key),
        recheckIntervalMs: this.config.recheckIntervalMs,
        parkedRecheckIntervalMs: this.config.parkedRecheckIntervalMs,
        now: () => new Date(),
      });
    } finally {
      this.#writeIntegrationStatus(runtime);
      if (runtime.ready !== wasReady)
        for (const r of this.#rulesUsing(key)) this.rules.get(r)?.forgetMentions();
      for (const r of this.#rulesUsing(key)) this.ruleQueue.add(r);
      if (runtime.problem !== undefined && runtime.problem.reason !== this.#lastProblem.get(key)) {
        this.events.record(
          {
            apiVersion: 'jobherald.dev/v1alpha1',
            kind: 'SlackIntegration',
            namespace,
            name: object.metadata.name,
            uid: object.metadata.uid,
          },
          'Warning',
          runtime.problem.reason,
          runtime.problem.message,
        );
      }
      this.#lastProblem.set(key, runtime.problem?.reason);
    }
  }

  readonly #lastProblem = new Map<string, string | undefined>();
  readonly #unwatchQueues = new Map<string, (() => void) | undefined>();

  /** Channels named by the rules that may use this integration. */
  #desiredChannels(integrationKey: string): DesiredChannel[] {
    const byRef = new Map<string, string[]>();
    for (const { runtime } of this.#activeRules()) {
      if (this.#integrationKey(runtime.object) !== integrationKey) continue;
      for (const d of runtime.object.spec.destinations) {
        if (d.channel === undefined) continue;
        const users = byRef.get(d.channel) ?? [];
        users.push(runtime.key);
        byRef.set(d.channel, users);
      }
    }
    return [...byRef].map(([ref, usedBy]) => ({ ref, usedBy }));
  }

  async #reconcileRule(key: string) {
    if (!this.#leading) return undefined;
    const rule = this.rulesWatch.store.get(key);
    if (rule === undefined) {
      const gone = this.rules.get(key);
      this.rules.delete(key);
      this.#admissions.delete(key);
      if (gone !== undefined) this.statusWriter.forget(gone.statusPath);
      return undefined;
    }
    const runtime = this.#ruleRuntime(key, rule);
    const admission = this.#admission(runtime);
    const integration = this.integrations.get(this.#integrationKey(rule));
    if (admission.ok && integration?.ready === true) {
      await runtime.checkDestinations(integration);
      if ((rule.spec.mentions?.length ?? 0) > 0) await runtime.resolveMentions(integration);
    }
    runtime.reconciledGeneration = rule.metadata.generation ?? 0;
    // A rule that appeared (or became admitted) after some Jobs were seen finishing: offer them to it. Its
    // ledger floor keeps out what finished before the rule existed.
    if (admission.ok && !runtime.swept) {
      runtime.swept = true;
      this.pipeline.sweep(this.jobs.store.values(), runtime);
    } else if (!admission.ok) runtime.swept = false;
    this.#writeRuleStatus(runtime);
    return undefined;
  }

  #onDeliveryResult(item: DeliveryItem, result: SendResult): void {
    const named = this.rules.get(`${item.rule.namespace}/${item.rule.name}`);
    const runtime = named?.uid === item.rule.uid ? named : undefined;
    this.pipeline.onResult(item, result, runtime);
    this.#metrics.deliveryResult?.(item, result);
    if (result.result === 'Failed') {
      this.log.warn(
        {
          rule: `${item.rule.namespace}/${item.rule.name}`,
          job: item.job,
          destination: item.destinationLabel,
          error: result.error,
        },
        'delivery failed',
      );
      this.events.record(
        {
          apiVersion: 'jobherald.dev/v1alpha1',
          kind: 'NotificationRule',
          namespace: item.rule.namespace,
          name: item.rule.name,
          uid: item.rule.uid,
        },
        'Warning',
        'DeliveryFailed',
        `${item.event} alert for Job ${item.job} to ${item.destinationLabel} failed: ${result.error}`,
      );
    }
  }
}
