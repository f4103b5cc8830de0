// The SlackIntegration reconciler: key → read the integration, its Secret and the channels its rules name
// from the caches → converge (IntegrationRuntime: token, auth.test, membership, test messages) → write its
// own status and Events. It owns one IntegrationRuntime per integration (created as soon as the integration
// exists, so no outcome waits for a first reconcile) and with it the integration's dispatcher.
import type { NotificationRuleSpec, SlackIntegration } from '../api/types.ts';
import { isConditionTrue } from '../api/conditions.ts';
import { validateSlackIntegration } from '../api/validate.ts';
import { ConditionTypes } from '../api/reasons.ts';
import type { DesiredChannel } from '../domain/membership.ts';
import type { NamespaceLabels } from '../domain/tenancy.ts';
import type { Clock } from '../delivery/clock.ts';
import type { DeliveryItem, DeliveryMetrics, SendResult } from '../delivery/types.ts';
import type { DeliveryLimits } from '../delivery/dispatcher.ts';
import type { LogSink } from '../slack/logging.ts';
import type { SlackAppClientFactory, SlackClientFactory } from '../slack/port.ts';
import type { SecretStore } from './sinks.ts';
import type { CachedSecret } from './token-credentials.ts';
import { IntegrationRuntime } from './integration-runtime.ts';
import { REMOVAL_FINALIZER } from '../api/integration-metadata.ts';
import type { EventSink, FinalizerSink, StatusSink } from './sinks.ts';
import type { ReconcileResult } from './work-queue.ts';

export { IntegrationRuntime } from './integration-runtime.ts';

const GROUP_PATH = '/apis/jobherald.dev/v1alpha1';
export const DEFAULT_REMOVAL_TIMEOUT_MS = 120_000;

export interface IntegrationReconcilerOptions {
  /** the integrations watch's cache */
  integrations: ReadonlyMap<string, SlackIntegration>;
  /** a Secret in a served namespace, as the watch caches it, if it exists */
  secret(namespace: string, name: string): CachedSecret | undefined;
  /** where refreshed tokens are written */
  secrets: SecretStore;
  /** the removal finalizer's writes (metadata.finalizers only) */
  finalizers: FinalizerSink;
  /** how long after a deletion Slack gets to answer spec.onDelete's call (--slack-removal-timeout) */
  removalTimeoutMs?: number;
  /** the channels named by the rules that may use this integration */
  desiredChannels(integrationKey: string): DesiredChannel[];
  /** the rules that may use this integration (what their features need of the token's scopes) */
  admittedRules(integrationKey: string): { key: string; spec: NotificationRuleSpec }[];
  /** namespaces whose integrations are served (--integration-namespaces) */
  servedNamespaces: readonly string[];
  /** labels of a rule's namespace (channelPolicy namespaceSelectors) */
  namespaceLabels?: NamespaceLabels;
  /** --allow-insecure-slack-api-url */
  allowInsecureApiURL?: boolean;
  recheckIntervalMs: number;
  parkedRecheckIntervalMs: number;
  slackTimeoutMs: number;
  deliveryLimits: Partial<DeliveryLimits>;
  createSlackClient: SlackClientFactory;
  createSlackAppClient: SlackAppClientFactory;
  /** the OAuth redirect URL the operator serves; undefined: no install links */
  oauthRedirectURL?: string;
  status: StatusSink;
  events: EventSink;
  clock: Clock;
  log: LogSink;
  metrics?: DeliveryMetrics;
  /** expose an integration's queue depth and readiness; returns the function that stops exposing them */
  watchIntegration?(source: { integration: string; depth(): number; ready(): boolean }): () => void;
  /** every final delivery result of the integration's dispatcher and held alerts (the pipeline's send stage) */
  onResult(item: DeliveryItem, result: SendResult): void;
  /** ask for a reconcile of the integration, now or later */
  requeue(key: string, afterMs?: number): void;
  /**
   * After every reconcile of the integration: whether its readiness changed, and whether anything its rules
   * read changed (readiness, suspension, the problem, the channels' states) — only then must they reconcile
   * again. A periodic re-check that finds the workspace as it was wakes no rule.
   */
  integrationChanged(key: string, change: { readiness: boolean; seenByRules: boolean }): void;
}

export class IntegrationReconciler {
  readonly runtimes = new Map<string, IntegrationRuntime>();
  readonly #lastProblem = new Map<string, string | undefined>();
  readonly #unwatchIntegrations = new Map<string, (() => void) | undefined>();
  readonly #o: IntegrationReconcilerOptions;

  constructor(options: IntegrationReconcilerOptions) {
    this.#o = options;
  }

  /** The runtime of an integration that exists (created at once, so no outcome waits for its first reconcile). */
  runtimeIfExists(key: string): IntegrationRuntime | undefined {
    if (!this.#o.integrations.has(key)) return this.runtimes.get(key);
    let runtime = this.runtimes.get(key);
    if (runtime === undefined) {
      runtime = new IntegrationRuntime(key, {
        log: this.#o.log,
        metrics: this.#o.metrics,
        clock: this.#o.clock,
        onResult: (item, result) => this.#o.onResult(item, result),
        requeue: (k, afterMs) => this.#o.requeue(k, afterMs),
        slackTimeoutMs: this.#o.slackTimeoutMs,
        deliveryLimits: this.#o.deliveryLimits,
        createSlackClient: this.#o.createSlackClient,
        createSlackAppClient: this.#o.createSlackAppClient,
        secrets: this.#o.secrets,
        ...(this.#o.oauthRedirectURL === undefined ? {} : { oauthRedirectURL: this.#o.oauthRedirectURL }),
        namespaceLabels: this.#o.namespaceLabels,
      });
      // the cached object until the first reconcile: a suspended integration is suspended from the start
      runtime.object = this.#o.integrations.get(key);
      this.runtimes.set(key, runtime);
      const { dispatcher } = runtime;
      const served = runtime;
      this.#unwatchIntegrations.set(
        key,
        this.#o.watchIntegration?.({
          integration: key,
          depth: () => dispatcher.depth(),
          // what its status says (Ready=True also while suspended, by intent), not a second opinion
          ready: () => isConditionTrue(served.conditions, ConditionTypes.Ready),
        }),
      );
      this.#o.requeue(key);
    }
    return runtime;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const object = this.#o.integrations.get(key);
    if (object === undefined) {
      await this.#gone(key);
      return undefined;
    }
    const runtime = this.runtimeIfExists(key)!;
    if (object.metadata.deletionTimestamp !== undefined) return this.#remove(object, runtime);
    await this.#keepRemovalFinalizer(object);
    const namespace = object.metadata.namespace;
    const wasReady = runtime.ready;
    const before = whatRulesSee(runtime);
    try {
      return await runtime.reconcile({
        object,
        served: this.#o.servedNamespaces.includes(namespace),
        secret: (name) => this.#o.secret(namespace, name),
        desired: this.#o.desiredChannels(key),
        rules: this.#o.admittedRules(key),
        recheckIntervalMs: this.#o.recheckIntervalMs,
        parkedRecheckIntervalMs: this.#o.parkedRecheckIntervalMs,
        allowInsecureApiURL: this.#o.allowInsecureApiURL === true,
      });
    } finally {
      this.writeStatus(runtime);
      this.#o.integrationChanged(key, {
        readiness: runtime.ready !== wasReady,
        seenByRules: whatRulesSee(runtime) !== before,
      });
      this.#recordProblem(object, runtime);
    }
  }

  /** The removal finalizer is on exactly while spec.onDelete asks for a removal (and only the operator's). */
  async #keepRemovalFinalizer(object: SlackIntegration): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    // an invalid spec (UninstallApp without spec.oauth…) gets no finalizer: its removal could never succeed
    const wanted = (object.spec.onDelete ?? 'Keep') !== 'Keep' && validateSlackIntegration(object).ok;
    if (wanted === finalizers.includes(REMOVAL_FINALIZER)) return;
    const next = wanted
      ? [...finalizers, REMOVAL_FINALIZER]
      : finalizers.filter((f) => f !== REMOVAL_FINALIZER);
    await this.#o.finalizers
      .set(this.#path(object), object.metadata.resourceVersion ?? '', next)
      .catch((error: unknown) =>
        this.#o.log.warn(
          { integration: this.#key(object), err: String(error) },
          'updating the removal finalizer',
        ),
      );
  }

  /**
   * Deleting an integration with spec.onDelete: remove it from Slack, then let the deletion go. Slack gets
   * the removal timeout (2 minutes by default) from the deletion to answer; after that the finalizer is released anyway (a Warning
   * says so), so that an unreachable Slack never keeps a namespace from being deleted.
   */
  async #remove(object: SlackIntegration, runtime: IntegrationRuntime): Promise<ReconcileResult> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(REMOVAL_FINALIZER)) return undefined;
    const mode = object.spec.onDelete ?? 'Keep';
    const involved = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace,
      name: object.metadata.name,
      uid: object.metadata.uid,
    };
    if (mode !== 'Keep') {
      const removed = await runtime.removeFromSlack(
        object,
        mode,
        (name) => this.#o.secret(object.metadata.namespace, name),
        this.#o.allowInsecureApiURL === true,
      );
      const timeoutMs = this.#o.removalTimeoutMs ?? DEFAULT_REMOVAL_TIMEOUT_MS;
      const deadline = Date.parse(object.metadata.deletionTimestamp ?? '') + timeoutMs;
      if (!removed.ok && this.#o.clock.now() < deadline) {
        this.#o.events.record(involved, 'Warning', 'SlackRemovalRetrying', removed.message);
        return { requeueAfterMs: 5_000 };
      }
      this.#o.events.record(
        involved,
        removed.ok ? 'Normal' : 'Warning',
        removed.ok ? 'RemovedFromSlack' : 'SlackRemovalGaveUp',
        removed.ok
          ? removed.message
          : `gave up after ${timeoutMs / 1000} s, the deletion goes on: ${removed.message}`,
      );
    }
    await this.#o.finalizers.set(
      this.#path(object),
      object.metadata.resourceVersion ?? '',
      finalizers.filter((f) => f !== REMOVAL_FINALIZER),
    );
    return undefined;
  }

  #key = (object: SlackIntegration): string => `${object.metadata.namespace}/${object.metadata.name}`;
  #path = (object: SlackIntegration): string =>
    `${GROUP_PATH}/namespaces/${object.metadata.namespace}/slackintegrations/${object.metadata.name}`;

  /** Graceful shutdown: stop every dispatcher; what was never sent is not recorded, so the next leader sends it. */
  async stop(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((r) => r.stop()));
  }

  writeStatus(runtime: IntegrationRuntime): void {
    const path = `${GROUP_PATH}/namespaces/${runtime.namespace}/slackintegrations/${runtime.name}`;
    this.#o.status.request(path, () => {
      const object = this.#o.integrations.get(runtime.key);
      if (object === undefined || this.runtimes.get(runtime.key) !== runtime) return undefined;
      return runtime.status(object, new Date(this.#o.clock.now())) as unknown as Record<string, unknown>;
    });
  }

  /** The integration was deleted: what was still waiting will never be sent through it; say so, never drop it. */
  async #gone(key: string): Promise<void> {
    const gone = this.runtimes.get(key);
    this.runtimes.delete(key);
    this.#unwatchIntegrations.get(key)?.();
    this.#unwatchIntegrations.delete(key);
    this.#lastProblem.delete(key);
    for (const item of (await gone?.stop()) ?? []) {
      this.#o.onResult(item, {
        result: 'Failed',
        error: 'integration_deleted',
        message: `SlackIntegration ${key} was deleted`,
        attempts: 0,
        at: this.#o.clock.now(),
      });
    }
    if (gone !== undefined) this.#o.integrationChanged(key, { readiness: true, seenByRules: true });
  }

  /** A Warning Event when the integration's problem changes (not on every reconcile). */
  #recordProblem(object: SlackIntegration, runtime: IntegrationRuntime): void {
    const reason = runtime.problem?.reason;
    if (runtime.problem !== undefined && reason !== this.#lastProblem.get(runtime.key)) {
      this.#o.events.record(
        {
          apiVersion: 'jobherald.dev/v1alpha1',
          kind: 'SlackIntegration',
          namespace: object.metadata.namespace,
          name: object.metadata.name,
          uid: object.metadata.uid,
        },
        'Warning',
        runtime.problem.reason,
        runtime.problem.message,
      );
    }
    this.#lastProblem.set(runtime.key, reason);
  }
}

/** What a rule's reconcile reads of its integration (rule-reconciler.ts, rule-runtime.ts), as one string. */
function whatRulesSee(runtime: IntegrationRuntime): string {
  return JSON.stringify([
    runtime.ready,
    runtime.suspended,
    runtime.problem?.message,
    runtime.missingScopes.map((n) => [n.scope, n.usedBy]),
    runtime.channels.map((c) => [c.name, c.id, c.state, c.private]),
    runtime.channelPolicy ?? null,
  ]);
}
