// The composition root of the running operator: it builds the watches, the two reconcilers on keyed work
// queues, the delivery pipeline and the writers, wires each watch to what it wakes, and starts and stops them
// (leader election decides who delivers). No decisions live here. Data flows one way (architecture.md):
//   Job watch → delivery pipeline (detect → match → claim → resolve → render → route → send → record → status)
//   CR watches → RuleReconciler / IntegrationReconciler → their own status and Events
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EventType, NotificationRule, SlackIntegration } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import { namespacesReached, type MatchContext } from '../domain/match.ts';
import type { DesiredChannel } from '../domain/membership.ts';
import { systemClock, type Clock } from '../delivery/clock.ts';
import { DeliveryPipeline } from '../delivery/pipeline.ts';
import type { DeliveryItem, DeliveryMetrics, SendResult } from '../delivery/types.ts';
import { AdmissionParams } from '../kube/admission-params.ts';
import type { KubeConnection } from '../kube/connection.ts';
import { kubeSecretStore } from '../kube/secret-store.ts';
import { kubeFinalizers } from '../kube/object-finalizers.ts';
import type { SecretStore } from '../reconcilers/sinks.ts';
import type { CallbackDeps } from '../oauth/callback.ts';
import { secretNamesOf } from '../reconcilers/token-credentials.ts';
import { EventRecorder } from '../kube/events.ts';
import { JobWriter } from '../kube/job-writer.ts';
import { LeaderElector } from '../kube/leader-election.ts';
import { ListWatch, type ChangeType, type ListWatchMetrics } from '../kube/list-watch.ts';
import { StatusWriter } from '../kube/status-writer.ts';
import { IntegrationReconciler } from '../reconcilers/integration-reconciler.ts';
import { integrationKeyOf, rulePath, RuleReconciler } from '../reconcilers/rule-reconciler.ts';
import { WorkQueue } from '../reconcilers/work-queue.ts';
import type { LogSink } from '../slack/logging.ts';
import type { SlackAppClientFactory, SlackClientFactory } from '../slack/port.ts';
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
import type { OperatorConfig } from './config.ts';

export interface OperatorMetrics {
  delivery?: DeliveryMetrics;
  listWatch?: ListWatchMetrics;
  leader?(isLeader: boolean): void;
  outcome?(event: EventType): void;
  /** a final delivery result, with the item's event and observation time (latency) */
  deliveryResult?(item: DeliveryItem, result: SendResult): void;
  /** expose an integration's queue depth and readiness; returns the function that stops exposing them */
  watchIntegration?(source: { integration: string; depth(): number; ready(): boolean }): () => void;
  /** a write to a Job (finalizer on, record, release) */
  jobWrite?(kind: 'hold' | 'record' | 'release'): void;
  /** a work queue ran one reconcile (the bench divides these by alerts: our own writes must not wake them) */
  reconciled?(controller: 'slackintegration' | 'notificationrule'): void;
}

export interface OperatorOptions {
  config: OperatorConfig;
  connection: KubeConnection;
  log: LogSink;
  createSlackClient: SlackClientFactory;
  /** clients for the Slack app's own credentials (refreshing rotating tokens) */
  createSlackAppClient: SlackAppClientFactory;
  metrics?: OperatorMetrics;
  clock?: Clock;
  /** leadership was lost: the caller should exit (a fresh process is the safe way to rejoin) */
  onLostLeadership?: () => void;
}

const GROUP_PATH = '/apis/jobherald.dev/v1alpha1';
/** Changes that re-evaluate every cached Job come in bursts (a Helm install): one sweep per burst. */
const SWEEP_DEBOUNCE_MS = 200;

/** Our own status writes come back through the watches: only a new generation (spec) or a new object counts. */
const specChanged = (
  type: ChangeType,
  object: { metadata: { generation?: number } },
  previous?: typeof object,
) =>
  type !== 'modified' ||
  previous === undefined ||
  previous.metadata.generation !== object.metadata.generation;

export class Operator {
  readonly #secretStore: SecretStore;
  readonly #createSlackAppClient: SlackAppClientFactory;
  readonly config: OperatorConfig;
  readonly connection: KubeConnection;
  readonly log: LogSink;
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly jobWriter: JobWriter;
  readonly pipeline: DeliveryPipeline;
  readonly rules: RuleReconciler;
  readonly integrations: IntegrationReconciler;
  readonly jobs: ListWatch<JobRecord>;
  readonly integrationsWatch: ListWatch<SlackIntegration>;
  readonly rulesWatch: ListWatch<NotificationRule>;
  readonly namespacesWatch: ListWatch<NamespaceRecord>;
  readonly secretsWatches: ListWatch<SecretRecord>[];
  readonly integrationQueue: WorkQueue;
  readonly ruleQueue: WorkQueue;
  readonly #admissionParams: AdmissionParams | undefined;
  readonly #clock: Clock;
  readonly #elector: LeaderElector | undefined;
  readonly #metrics: OperatorMetrics;
  #failedPods: ListWatch<FailedPodRecord> | undefined;
  #namespacesVersion = 0;
  /** bumped whenever the pipeline's rules may match differently (PipelineSources.rulesVersion) */
  #rulesVersion = 0;
  /** namespaces being deleted, or deleted in the last minutes → their deletionTimestamp and labels (see below) */
  readonly #namespaceDeletions = new Map<string, { at: string; labels: Record<string, string> }>();
  #leading = false;
  #starting = false;
  #stopping = false;
  #sweepTimer: unknown;

  constructor(opts: OperatorOptions) {
    const { config, connection, log } = opts;
    this.#secretStore = kubeSecretStore(connection);
    this.#createSlackAppClient = opts.createSlackAppClient;
    this.config = config;
    this.connection = connection;
    this.log = log;
    this.#metrics = opts.metrics ?? {};
    const clock = (this.#clock = opts.clock ?? systemClock);

    // ---- writers: our CRs' status, Events, Jobs (finalizer and record), the admission policy's scope
    this.statusWriter = new StatusWriter(connection, {
      clock,
      minIntervalMs: config.statusIntervalMs,
      onError: (path, error) => log.warn({ path, err: error }, 'status write failed; retrying'),
    });
    this.events = new EventRecorder(connection, {
      onError: (error) => log.debug({ err: error }, 'could not record an Event'),
    });
    this.jobWriter = new JobWriter(connection, {
      clock,
      log: (level, fields, message) => log[level](fields, message),
      onWrite: (kind) => this.#metrics.jobWrite?.(kind),
    });
    if (config.finalizers && config.admissionParams !== '') {
      this.#admissionParams = new AdmissionParams({
        connection,
        namespace: config.namespace,
        name: config.admissionParams,
        clock,
        log: (level, fields, message) => log[level](fields, message),
      });
    }

    const watchLog =
      (resource: string) =>
      (level: 'info' | 'warn' | 'debug', message: string, fields?: Record<string, unknown>) =>
        log[level]({ resource, ...fields }, message);
    const common = { connection, metrics: this.#metrics.listWatch, clock };
    const watch = <R>(
      path: string,
      resource: string,
      toRecord: (o: Parameters<typeof jobRecord>[0]) => R | undefined,
      handlers: ConstructorParameters<typeof ListWatch<R>>[1],
    ) => new ListWatch<R>({ ...common, path, resource, toRecord, log: watchLog(resource) }, handlers);

    // ---- the watches' caches, and what each change wakes (handlers run only once started)
    this.jobs = watch('/apis/batch/v1/jobs', 'jobs', jobRecord, {
      onChange: (type, record, previous) => this.pipeline.onJobChange(type, record, previous),
      onSynced: (relist) => {
        if (relist) void this.pipeline.sweep(this.jobs.store.values());
      },
    });
    this.integrationsWatch = watch(
      `${GROUP_PATH}/slackintegrations`,
      'slackintegrations',
      integrationRecord,
      {
        onChange: (type, integration, previous) => {
          const key = `${integration.metadata.namespace}/${integration.metadata.name}`;
          // someone came back from Slack's install page (any replica's OAuth listener wrote it): say how it went
          if (
            !specChanged(type, integration, previous) &&
            // the whole attempt, not its time: two attempts within one second differ only in their reason
            JSON.stringify(integration.status?.install?.lastAttempt) !==
              JSON.stringify(previous?.status?.install?.lastAttempt)
          )
            this.integrationQueue.add(key);
          if (integration.metadata.deletionTimestamp !== previous?.metadata.deletionTimestamp)
            this.integrationQueue.add(key); // spec.onDelete's removal
          if (!specChanged(type, integration, previous)) return;
          this.#rulesVersion++;
          this.integrationQueue.add(key);
          for (const rule of this.#rulesUsing(key)) this.ruleQueue.add(rule);
        },
      },
    );
    this.rulesWatch = watch(`${GROUP_PATH}/notificationrules`, 'notificationrules', ruleRecord, {
      onChange: (type, rule, previous) => {
        if (!specChanged(type, rule, previous)) return;
        this.#rulesVersion++;
        this.ruleQueue.add(`${rule.metadata.namespace}/${rule.metadata.name}`);
        // the integration's desired channels follow its rules' destinations
        this.integrationQueue.add(integrationKeyOf(rule));
        if (previous !== undefined) this.integrationQueue.add(integrationKeyOf(previous));
      },
    });
    this.namespacesWatch = watch('/api/v1/namespaces', 'namespaces', namespaceRecord, {
      onChange: (type, namespace, previous) => {
        this.#rememberNamespaceDeletion(type, namespace);
        // Only what rules can see of a namespace matters: that it exists, and its labels. A terminating
        // namespace's status updates must not re-evaluate every rule and sweep every Job.
        const labelsChanged =
          type !== 'modified' || JSON.stringify(previous?.labels) !== JSON.stringify(namespace.labels);
        if (!labelsChanged) return;
        this.#namespacesVersion++;
        this.#rulesVersion++;
        if (this.rulesWatch.isSynced) for (const key of this.rulesWatch.store.keys()) this.ruleQueue.add(key);
        // a channelPolicy's namespaceSelector may now allow or refuse other channels: membership follows
        for (const [key, integration] of this.integrationsWatch.store)
          if (integration.spec.channelPolicy !== undefined) this.integrationQueue.add(key);
        this.#updateAdmissionScope();
      },
    });
    this.secretsWatches = config.integrationNamespaces.map((ns) =>
      watch(`/api/v1/namespaces/${ns}/secrets`, 'secrets', secretRecord, {
        onChange: (_type, secret) => {
          for (const [key, integration] of this.integrationsWatch.store) {
            if (
              integration.metadata.namespace === secret.namespace &&
              secretNamesOf(integration).includes(secret.name)
            ) {
              this.integrationQueue.add(key);
            }
          }
        },
      }),
    );

    // ---- the reconcilers
    this.rules = new RuleReconciler({
      rules: this.rulesWatch.store,
      integrationObject: (key) => this.integrationsWatch.store.get(key),
      integrationRuntime: (key) => this.integrations.runtimeIfExists(key),
      namespaceLabels: this.#namespaceLabels,
      namespacesVersion: () => this.#namespacesVersion,
      trustedNamespaces: config.clusterRuleNamespaces,
      status: this.statusWriter,
      events: this.events,
      clock,
      log,
      deliverableChanged: () => this.#deliverableChanged(),
    });
    this.integrations = new IntegrationReconciler({
      integrations: this.integrationsWatch.store,
      secret: (namespace, name) => this.#secret(namespace, name),
      secrets: this.#secretStore,
      finalizers: kubeFinalizers(connection),
      ...(config.removalTimeoutMs === undefined ? {} : { removalTimeoutMs: config.removalTimeoutMs }),
      desiredChannels: (key) => this.#desiredChannels(key),
      admittedRules: (key) =>
        [...this.rules.admitted()]
          .filter((r) => integrationKeyOf(r.object) === key)
          .map((r) => ({ key: r.key, spec: r.object.spec })),
      servedNamespaces: config.integrationNamespaces,
      namespaceLabels: this.#namespaceLabels,
      allowInsecureApiURL: config.allowInsecureSlackApiURL === true,
      recheckIntervalMs: config.recheckIntervalMs,
      parkedRecheckIntervalMs: config.parkedRecheckIntervalMs,
      slackTimeoutMs: config.slackTimeoutMs,
      deliveryLimits: config.deliveryLimits,
      createSlackClient: opts.createSlackClient,
      createSlackAppClient: opts.createSlackAppClient,
      ...(config.oauthRedirectURL === undefined ? {} : { oauthRedirectURL: config.oauthRedirectURL }),
      status: this.statusWriter,
      events: this.events,
      clock,
      log,
      metrics: this.#metrics.delivery,
      watchIntegration: (source) => this.#metrics.watchIntegration?.(source) ?? (() => undefined),
      onResult: (item, result) => this.pipeline.onResult(item, result),
      requeue: (key, afterMs) =>
        afterMs === undefined ? this.integrationQueue.add(key) : this.integrationQueue.addAfter(key, afterMs),
      integrationChanged: (key, change) => {
        this.#rulesVersion++; // its runtime may have come or gone, or been suspended: deliverable() follows
        if (change.readiness) this.rules.integrationChanged(key);
        if (change.seenByRules) for (const rule of this.#rulesUsing(key)) this.ruleQueue.add(rule);
      },
    });
    this.integrationQueue = new WorkQueue({
      name: 'slackintegrations',
      concurrency: 4,
      clock,
      reconcile: (key) => {
        if (!this.#leading) return Promise.resolve();
        this.#metrics.reconciled?.('slackintegration');
        return this.integrations.reconcile(key);
      },
      onError: (key, error, retryIn) =>
        log.warn({ controller: 'slackintegration', key, err: error, retryInMs: retryIn }, 'reconcile failed'),
    });
    this.ruleQueue = new WorkQueue({
      name: 'notificationrules',
      concurrency: 4,
      clock,
      reconcile: (key) => {
        if (!this.#leading) return Promise.resolve();
        this.#metrics.reconciled?.('notificationrule');
        return this.rules.reconcile(key);
      },
      onError: (key, error, retryIn) =>
        log.warn({ controller: 'notificationrule', key, err: error, retryInMs: retryIn }, 'reconcile failed'),
    });

    // ---- the delivery pipeline
    this.pipeline = new DeliveryPipeline({
      sources: {
        activeRules: () => this.rules.deliverable(),
        rulesVersion: () => this.#rulesVersion,
        matchContext: () => this.#matchContext(),
        failedPods: (job) => this.#failedPodDetails(job),
        namespaceDeletion: (namespace) => this.#namespaceDeletions.get(namespace)?.at,
      },
      jobs: this.jobWriter,
      report: {
        delivered: (item, result) => {
          this.rules.delivered(item, result);
          this.#metrics.deliveryResult?.(item, result);
        },
      },
      clock,
      finalizers: config.finalizers,
      clusterName: config.clusterName,
      log,
      outcomeSeen: (event) => this.#metrics.outcome?.(event as EventType),
    });

    if (config.leaderElect) {
      this.#elector = new LeaderElector({
        connection,
        namespace: config.namespace,
        name: config.leaseName,
        identity: config.identity,
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

  get #watches(): ListWatch<unknown>[] {
    return [this.namespacesWatch, ...this.secretsWatches, this.integrationsWatch, this.rulesWatch, this.jobs];
  }

  /** Every watch has its first complete list: the caches can serve. */
  get synced(): boolean {
    return this.#watches.every((w) => w.isSynced);
  }

  /**
   * What the OAuth listener needs: the caches (every replica keeps them, leader or not), the Secret store and
   * a status patch of status.install.lastAttempt only, with an Event; the leader turns that into the
   * integration's Installed condition.
   */
  installCallbackDeps(redirectURL: string): CallbackDeps {
    return {
      integration: (namespace, name) => this.integrationsWatch.store.get(`${namespace}/${name}`),
      secret: (namespace, name) => this.#secret(namespace, name),
      secrets: this.#secretStore,
      createSlackAppClient: this.#createSlackAppClient,
      redirectURL,
      slackTimeoutMs: this.config.slackTimeoutMs,
      allowInsecureApiURL: this.config.allowInsecureSlackApiURL === true,
      now: () => Date.now(),
      recordAttempt: async (object, attempt) => {
        const { namespace, name } = object.metadata;
        this.events.record(
          { apiVersion: object.apiVersion, kind: object.kind, namespace, name, uid: object.metadata.uid },
          attempt.result === 'Installed' ? 'Normal' : 'Warning',
          attempt.reason,
          attempt.message,
        );
        await this.connection
          .mergePatch(`${GROUP_PATH}/namespaces/${namespace}/slackintegrations/${name}/status`, {
            status: { install: { lastAttempt: attempt } },
          })
          .catch((error: unknown) =>
            this.log.warn(
              { integration: `${namespace}/${name}`, err: String(error) },
              'recording the install attempt',
            ),
          );
      },
    };
  }

  /** A Secret of an integration namespace, as its watch caches it. */
  #secret(namespace: string, name: string): SecretRecord | undefined {
    for (const w of this.secretsWatches) {
      const found = w.store.get(`${namespace}/${name}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Starts the watches; leads at once without leader election, else when elected. */
  async start(): Promise<void> {
    for (const w of this.#watches) w.start();
    await Promise.all(this.#watches.map((w) => w.synced));
    this.log.info({ jobs: this.jobs.store.size, rules: this.rulesWatch.store.size }, 'caches synced');
    // Failed Pods (for the details of Failed alerts) are watched by every replica from the start, so no
    // leader waits for them; an alert prepared before they sync just lacks pod details.
    this.#startFailedPodWatch();
    if (this.#elector !== undefined) this.#elector.start();
    else await this.#startLeading();
  }

  async #startLeading(): Promise<void> {
    if (this.#leading || this.#starting || this.#stopping) return;
    this.#starting = true;
    this.log.info({ identity: this.config.identity }, 'leading: reconciling and delivering');
    // Read each rule afresh: the watch may not have brought the previous leader's last status write yet (a 0.1
    // leader's ledger, in an upgrade, must not be missed).
    await Promise.all(
      [...this.rulesWatch.store].map(async ([key, cached]) => {
        const rule = await this.connection.get<NotificationRule>(rulePath(cached)).catch(() => cached);
        this.rules.runtime(key, rule);
      }),
    );
    // Only now: reconciles woken before would build rule runtimes from the cache, and miss a 0.1 ledger.
    this.#starting = false;
    if (this.#stopping) return;
    this.#leading = true;
    this.#metrics.leader?.(true);
    for (const key of this.integrationsWatch.store.keys()) this.integrationQueue.add(key);
    for (const key of this.rulesWatch.store.keys()) this.ruleQueue.add(key);
    this.pipeline.setActive(true);
    this.#updateAdmissionScope();
    void this.pipeline.sweep(this.jobs.store.values());
    // the migration reads what the sweep recorded (or a newer sweep that superseded it): after them
    void this.pipeline.sweepsDone().then(() => this.#migrateLegacyLedgers());
  }

  /**
   * jobherald 0.1 kept its delivery ledger in rule status. The sweep above recorded on the Jobs what it says was
   * sent; its armed Jobs that are gone are alerted Cancelled here; once the Jobs' writes are done, the ledger
   * leaves the status (its floor stays as status.alertsSince). A crash before that reads it again: idempotent.
   */
  async #migrateLegacyLedgers(): Promise<void> {
    const legacy = [...this.rules.runtimes.values()].filter((r) => r.legacy !== undefined);
    if (legacy.length === 0) return;
    const present = new Set([...this.jobs.store.values()].map((j) => j.uid));
    for (const active of this.rules.deliverable()) {
      const ledger = legacy.find((r) => r === active.rule)?.legacy;
      if (ledger === undefined) continue;
      this.pipeline.offerVanished(
        active,
        ledger.armed.filter((a) => !present.has(a.uid)),
      );
    }
    // Drop the ledgers only once everything they caused is answered and written: the alerts about vanished Jobs
    // (there is no Job to record them on) and the records of what they said was sent.
    while (this.#leading && (this.pipeline.busy > 0 || this.jobWriter.inFlight > 0)) {
      await new Promise((resolve) => this.#clock.setTimeout(() => resolve(undefined), 1_000));
    }
    if (!this.#leading) return;
    for (const runtime of legacy) this.rules.migrated(runtime);
  }

  #stopLeading(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#metrics.leader?.(false);
    this.pipeline.setActive(false);
    this.statusWriter.disable();
    this.events.disable();
    this.jobWriter.stop();
    this.#admissionParams?.stop();
    for (const integration of this.integrations.runtimes.values()) void integration.dispatcher.stop();
  }

  /**
   * Graceful shutdown (SIGTERM): take no new Job events, let in-flight sends finish and their records be
   * written, persist status, hand the Lease over. Alerts still queued are not recorded: the Jobs stay held and
   * the next leader sends them.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.pipeline.stopIntake();
    this.#clock.clearTimeout(this.#sweepTimer);
    await Promise.all([this.integrationQueue.stop(), this.ruleQueue.stop()]);
    await this.integrations.stop();
    if (this.#leading) {
      await this.jobWriter.idle(5_000);
      for (const runtime of this.rules.runtimes.values()) this.rules.writeStatus(runtime);
      await this.statusWriter.flush(10_000);
    }
    this.pipeline.setActive(false);
    this.#admissionParams?.stop();
    await this.#elector?.stop();
    this.#leading = false;
    await Promise.all(
      [...this.#watches, this.#failedPods].filter((w) => w !== undefined).map((w) => w.stop()),
    );
  }

  // ---------------------------------------------------------------- what the reconcilers and the pipeline read

  #rulesUsing(integrationKey: string): string[] {
    const keys: string[] = [];
    for (const [key, rule] of this.rulesWatch.store)
      if (integrationKeyOf(rule) === integrationKey) keys.push(key);
    return keys;
  }

  /** A namespace's labels; for one deleted in the last minutes, the labels it had (its last Jobs' events). */
  #namespaceLabels = (namespace: string): Record<string, string> | undefined =>
    this.namespacesWatch.store.get(namespace)?.labels ?? this.#namespaceDeletions.get(namespace)?.labels;

  #matchContext(): MatchContext {
    return { namespaceLabels: this.#namespaceLabels, trustedNamespaces: this.config.clusterRuleNamespaces };
  }

  /** Channels named by the admitted rules that use this integration. */
  #desiredChannels(integrationKey: string): DesiredChannel[] {
    const byRef = new Map<string, string[]>();
    for (const runtime of this.rules.admitted()) {
      if (integrationKeyOf(runtime.object) !== integrationKey) continue;
      for (const d of runtime.object.spec.destinations) {
        if (d.channel === undefined) continue;
        byRef.set(d.channel, [...(byRef.get(d.channel) ?? []), runtime.key]);
      }
    }
    return [...byRef].map(([ref, usedBy]) => ({ ref, usedBy }));
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
    this.#failedPods ??= new ListWatch<FailedPodRecord>(
      {
        connection: this.connection,
        metrics: this.#metrics.listWatch,
        clock: this.#clock,
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

  /**
   * A namespace's deletion time, kept a while after the namespace is gone: its last Jobs' DELETED events can
   * arrive after the namespace's own (separate watches), and must still be judged as cancelled by it.
   */
  #rememberNamespaceDeletion(type: ChangeType, namespace: NamespaceRecord): void {
    if (type === 'added' && namespace.deletionTimestamp === undefined) {
      this.#namespaceDeletions.delete(namespace.name); // a new namespace of the same name
      return;
    }
    if (namespace.deletionTimestamp === undefined) return;
    const at = namespace.deletionTimestamp;
    this.#namespaceDeletions.set(namespace.name, { at, labels: namespace.labels });
    if (type === 'deleted') {
      this.#clock.setTimeout(() => {
        if (this.#namespaceDeletions.get(namespace.name)?.at === at)
          this.#namespaceDeletions.delete(namespace.name);
      }, 10 * 60_000);
    }
  }

  /** Which rules deliver changed: hold or release Jobs accordingly (one sweep per burst of changes). */
  #deliverableChanged(): void {
    this.#rulesVersion++;
    this.#updateAdmissionScope();
    if (this.#sweepTimer !== undefined || !this.#leading) return;
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#sweepTimer = undefined;
      void this.pipeline.sweep(this.jobs.store.values());
    }, SWEEP_DEBOUNCE_MS);
  }

  /** The admission policy holds new Jobs in the namespaces that deliverable rules reach. */
  #updateAdmissionScope(): void {
    if (this.#admissionParams === undefined || !this.#leading || !this.rulesWatch.isSynced) return;
    const known = [...this.namespacesWatch.store.keys()];
    const reached = new Set<string>();
    for (const { rule } of this.rules.deliverable())
      for (const ns of namespacesReached(rule.object, known, this.#matchContext())) reached.add(ns);
    this.#admissionParams.set(reached);
  }
}
