// Prometheus metrics of one operator instance, on a registry of its own (never prom-client's global one, so two
// operators or many tests in one process do not collide). docs/observability.md lists every metric.
//
// Labels hold only bounded, non-secret values: event types, results, Slack method names, error codes, resource
// short names, SlackIntegration "namespace/name". Never a Job name, a channel or a message. Every label value
// is checked (shape, no secret, cardinality cap per metric) and falls back to "other" / "redacted".
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventType } from '../api/types.ts';
import { EVENT_TYPES } from '../api/types.ts';
import type { DeliveryMetrics, SendResult } from '../delivery/types.ts';
import type { ListWatchMetrics } from '../kube/list-watch.ts';
import { containsSecret } from '../slack/redact.ts';

/** End-to-end (outcome observed → Slack ok); quality bar P2 is p50 ≤ 2 s, p99 ≤ 5 s. */
export const DELIVERY_LATENCY_BUCKETS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120,
];
/** Watch event received → chat.postMessage sent; quality bar P1 is p50 ≤ 50 ms, p99 ≤ 500 ms. */
export const DISPATCH_LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type KubeVerb = 'get' | 'list' | 'watch' | 'write';
export const KUBE_VERBS: readonly KubeVerb[] = ['get', 'list', 'watch', 'write'];
export const JOB_WRITE_KINDS = ['hold', 'record', 'release'] as const;
export const CONTROLLERS = ['slackintegration', 'notificationrule'] as const;
export type SlackRequestResult = 'ok' | 'error' | 'rate_limited';
const SLACK_REQUEST_RESULTS: readonly SlackRequestResult[] = ['ok', 'error', 'rate_limited'];

/** One SlackIntegration the leader serves: its dispatcher's queue depth and whether it is Ready. */
export interface IntegrationSource {
  /** the SlackIntegration's "namespace/name" */
  readonly integration: string;
  depth(): number;
  /** true when its Ready condition is True (authenticated, not suspended); read at every scrape */
  ready?(): boolean;
}

/** What the health server needs to serve /metrics. */
export interface MetricsSource {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export interface MetricsOptions {
  /** process and Node.js runtime metrics (prom-client's defaults); default true */
  defaultMetrics?: boolean;
}

/** Label value fallbacks. */
export const OTHER = 'other';
export const REDACTED = 'redacted';

/** Distinct values a label may take before further new values are folded into "other". */
const MAX_VALUES_PER_LABEL = 100;
const LABEL_SHAPE = /^[A-Za-z0-9_.:/-]{1,128}$/;

/** Keeps one label's values bounded: a known shape, no secret, at most `max` distinct values. */
class LabelGuard {
  readonly #seen = new Set<string>();
  readonly #max: number;
  readonly #allowed: ReadonlySet<string> | undefined;

  constructor(options: { max?: number; allowed?: readonly string[] } = {}) {
    this.#max = options.max ?? MAX_VALUES_PER_LABEL;
    this.#allowed = options.allowed === undefined ? undefined : new Set(options.allowed);
  }

  value(raw: unknown): string {
    const v = typeof raw === 'string' ? raw : String(raw);
    if (this.#allowed) return this.#allowed.has(v) ? v : OTHER;
    if (containsSecret(v)) return REDACTED;
    if (!LABEL_SHAPE.test(v)) return OTHER;
    if (this.#seen.has(v)) return v;
    if (this.#seen.size >= this.#max) return OTHER;
    this.#seen.add(v);
    return v;
  }
}

export class Metrics implements DeliveryMetrics, ListWatchMetrics {
  readonly registry = new Registry();

  readonly #deliveries: Counter<'result' | 'event'>;
  readonly #deliveryLatency: Histogram;
  readonly #dispatchLatency: Histogram;
  readonly #rateLimited: Counter<'method'>;
  readonly #slackRequests: Counter<'method' | 'result'>;
  readonly #slackMessages: Counter<'kind'>;
  readonly #retries: Counter<'code'>;
  readonly #failures: Counter<'code'>;
  readonly #watchRestarts: Counter<'resource' | 'reason'>;
  readonly #relists: Counter<'resource'>;
  readonly #leader: Gauge;
  readonly #digests: Counter;
  readonly #outcomes: Counter<'event'>;
  readonly #kubeRequests: Counter<'verb'>;
  readonly #jobWrites: Counter<'kind'>;
  readonly #reconciles: Counter<'controller'>;

  /** the integrations being served and their (guarded) integration label */
  readonly #queueSources = new Map<IntegrationSource, string>();
  readonly #event = new LabelGuard({ allowed: EVENT_TYPES });
  readonly #verb = new LabelGuard({ allowed: KUBE_VERBS });
  readonly #slackResult = new LabelGuard({ allowed: SLACK_REQUEST_RESULTS });
  readonly #method = new LabelGuard({ max: 50 });
  readonly #integration = new LabelGuard({ max: 1000 });
  readonly #retryCode = new LabelGuard();
  readonly #failureCode = new LabelGuard();
  readonly #resource = new LabelGuard({ max: 50 });
  readonly #reason = new LabelGuard({ max: 50 });

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.#deliveries = new Counter({
      name: 'jobherald_deliveries_total',
      help: 'Alerts whose delivery ended, by result (delivered|failed) and Job outcome (Succeeded|Failed|Cancelled).',
      labelNames: ['result', 'event'],
      registers,
    });
    for (const event of EVENT_TYPES)
      for (const result of ['delivered', 'failed']) this.#deliveries.inc({ result, event }, 0);

    this.#deliveryLatency = new Histogram({
      name: 'jobherald_delivery_latency_seconds',
      help: 'End-to-end latency of delivered alerts: Job outcome observed to Slack ok.',
      buckets: [...DELIVERY_LATENCY_BUCKETS],
      registers,
    });
    this.#dispatchLatency = new Histogram({
      name: 'jobherald_dispatch_latency_seconds',
      help: 'Operator-internal latency: watch event received to chat.postMessage sent.',
      buckets: [...DISPATCH_LATENCY_BUCKETS],
      registers,
    });

    const sources = this.#queueSources;
    const readDepths = (): Map<string, number> => {
      const depths = new Map<string, number>();
      for (const [source, integration] of sources) {
        try {
          const n = source.depth();
          if (Number.isFinite(n)) depths.set(integration, (depths.get(integration) ?? 0) + n);
        } catch {
          // a broken source must not fail the whole scrape; its series is simply absent
        }
      }
      return depths;
    };
    // pulled at scrape time: registered in the registry, nothing to keep
    new Gauge({
      name: 'jobherald_queue_depth',
      help: 'Deliveries waiting or in flight, per SlackIntegration (namespace/name).',
      labelNames: ['integration'],
      registers,
      collect() {
        this.reset();
        for (const [integration, n] of readDepths()) this.set({ integration }, n);
      },
    });
    new Gauge({
      name: 'jobherald_integration_ready',
      help: '1 when a SlackIntegration this replica serves is Ready (its token works, it is not suspended), 0 when not; reported by the leader only.',
      labelNames: ['integration'],
      registers,
      collect() {
        this.reset();
        for (const [source, integration] of sources) {
          if (source.ready === undefined) continue;
          try {
            this.set({ integration }, source.ready() ? 1 : 0);
          } catch {
            // as for the depth: a broken source leaves its series absent, the scrape goes on
          }
        }
      },
    });
    new Gauge({
      name: 'jobherald_queued_deliveries',
      help: 'Deliveries waiting or in flight across all SlackIntegrations (the sum of jobherald_queue_depth).',
      registers,
      collect() {
        let total = 0;
        for (const n of readDepths().values()) total += n;
        this.set(total);
      },
    });

    this.#rateLimited = new Counter({
      name: 'jobherald_slack_rate_limited_total',
      help: 'Slack answers of 429 / ratelimited, by Web API method.',
      labelNames: ['method'],
      registers,
    });
    this.#slackRequests = new Counter({
      name: 'jobherald_slack_requests_total',
      help: 'Slack Web API calls, by method and result (ok|error|rate_limited).',
      labelNames: ['method', 'result'],
      registers,
    });
    this.#slackMessages = new Counter({
      name: 'jobherald_slack_messages_total',
      help: 'Messages Slack accepted, by kind (single|digest).',
      labelNames: ['kind'],
      registers,
    });
    this.#retries = new Counter({
      name: 'jobherald_delivery_retries_total',
      help: 'Transient delivery failures that will be retried, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.#failures = new Counter({
      name: 'jobherald_delivery_failures_total',
      help: 'Deliveries that failed for good, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.#watchRestarts = new Counter({
      name: 'jobherald_watch_restarts_total',
      help: 'List/watch connections re-opened after a failure, by resource and reason.',
      labelNames: ['resource', 'reason'],
      registers,
    });
    this.#relists = new Counter({
      name: 'jobherald_watch_relists_total',
      help: 'Full relists after a watch expired (410 Gone), by resource.',
      labelNames: ['resource'],
      registers,
    });
    this.#leader = new Gauge({
      name: 'jobherald_leader',
      help: '1 while this replica holds the leader Lease (and sends alerts), else 0.',
      registers,
    });
    this.#leader.set(0);
    this.#digests = new Counter({
      name: 'jobherald_digests_total',
      help: 'Digest messages sent (several alerts of one channel folded into one message).',
      registers,
    });
    this.#outcomes = new Counter({
      name: 'jobherald_outcomes_total',
      help: 'Job outcomes detected, by event (Succeeded|Failed|Cancelled).',
      labelNames: ['event'],
      registers,
    });
    for (const event of EVENT_TYPES) this.#outcomes.inc({ event }, 0);
    this.#kubeRequests = new Counter({
      name: 'jobherald_kube_requests_total',
      help: 'Requests to the Kubernetes API server, by verb (get|list|watch|write).',
      labelNames: ['verb'],
      registers,
    });
    for (const verb of KUBE_VERBS) this.#kubeRequests.inc({ verb }, 0);
    this.#jobWrites = new Counter({
      name: 'jobherald_job_writes_total',
      help: 'Patches to Jobs, by kind: hold (finalizer added), record (delivery record only), release (finalizer removed, with the record).',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of JOB_WRITE_KINDS) this.#jobWrites.inc({ kind }, 0);
    this.#reconciles = new Counter({
      name: 'jobherald_reconciles_total',
      help: 'Reconciles run by the work queues, by controller (slackintegration|notificationrule).',
      labelNames: ['controller'],
      registers,
    });
    for (const controller of CONTROLLERS) this.#reconciles.inc({ controller }, 0);
  }

  // ── Deliveries ──────────────────────────────────────────────────────────────────────────────────────────

  /** An alert reached Slack; `latencySeconds` from the outcome's observation to Slack's ok. */
  delivered(event: EventType, latencySeconds: number): void {
    this.#deliveries.inc({ result: 'delivered', event: this.#event.value(event) });
    if (Number.isFinite(latencySeconds) && latencySeconds >= 0) this.#deliveryLatency.observe(latencySeconds);
  }

  /** An alert failed for good. */
  failed(event: EventType): void {
    this.#deliveries.inc({ result: 'failed', event: this.#event.value(event) });
  }

  /**
   * The dispatcher's final result for one item, as its `onResult` callback receives it: delivered() or failed()
   * with the item's event and the latency from `observedAt` to Slack's ok.
   */
  recordResult(item: { event: EventType; observedAt: number }, result: SendResult): void {
    if (result.result === 'Delivered') this.delivered(item.event, (result.at - item.observedAt) / 1000);
    else this.failed(item.event);
  }

  /** Watch event received → chat.postMessage sent, in seconds. */
  dispatched(latencySeconds: number): void {
    if (Number.isFinite(latencySeconds) && latencySeconds >= 0) this.#dispatchLatency.observe(latencySeconds);
  }

  /**
   * Report an integration's queue depth and readiness (jobherald_queue_depth, jobherald_integration_ready),
   * read at every scrape. Returns the function that stops reporting it: call it when the integration goes.
   */
  watchIntegration(source: IntegrationSource): () => void {
    this.#queueSources.set(source, this.#integration.value(source.integration));
    return () => {
      this.#queueSources.delete(source);
    };
  }

  /** A digest message was sent. Called by message() for digests; call it directly only outside the dispatcher. */
  digestSent(): void {
    this.#digests.inc();
  }

  /** A Job outcome was detected (before rule matching). */
  outcome(event: EventType): void {
    this.#outcomes.inc({ event: this.#event.value(event) });
  }

  // ── Slack ───────────────────────────────────────────────────────────────────────────────────────────────

  /** One Slack Web API call and how it ended. */
  slackRequest(method: string, result: SlackRequestResult): void {
    this.#slackRequests.inc({ method: this.#method.value(method), result: this.#slackResult.value(result) });
  }

  /**
   * A 429 / ratelimited answer to `method`. chat.postMessage's are reported by the dispatcher through
   * rateLimited(); call this for the other methods (conversations.join, users.lookupByEmail, …).
   */
  slackRateLimited(method: string): void {
    this.#rateLimited.inc({ method: this.#method.value(method) });
  }

  // ── Kubernetes ──────────────────────────────────────────────────────────────────────────────────────────

  /** One request to the API server (quality bar P7: 0 GET/LIST and ≤ 1 write per notified Job). */
  kubeRequest(verb: KubeVerb): void {
    this.#kubeRequests.inc({ verb: this.#verb.value(verb) });
  }

  /** One patch to a Job (quality bar P7: ≤ 1 per matched Job with the admission policy, ≤ 2 without). */
  jobWrite(kind: (typeof JOB_WRITE_KINDS)[number]): void {
    this.#jobWrites.inc({ kind });
  }

  /** A work queue ran one reconcile. */
  reconciled(controller: (typeof CONTROLLERS)[number]): void {
    this.#reconciles.inc({ controller });
  }

  /** Whether this replica holds the leader Lease. */
  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }

  // ── ListWatchMetrics (src/kube/list-watch.ts) ───────────────────────────────────────────────────────────

  watchRestarts(resource: string, reason: string): void {
    this.#watchRestarts.inc({ resource: this.#resource.value(resource), reason: this.#reason.value(reason) });
  }

  relists(resource: string): void {
    this.#relists.inc({ resource: this.#resource.value(resource) });
  }

  // ── DeliveryMetrics (src/delivery/types.ts) ─────────────────────────────────────────────────────────────
  // The dispatcher's hooks carry no Job event, so jobherald_deliveries_total and the delivery latency come from
  // delivered()/failed()/recordResult() in the dispatcher's onResult; these hooks count what only they know.

  /** A final result: failures are counted by error code (jobherald_delivery_failures_total). */
  result(_integration: string, result: 'Delivered' | 'Failed', _latencyMs: number, error?: string): void {
    if (result === 'Failed') this.#failures.inc({ code: this.#failureCode.value(error ?? 'unknown') });
  }

  /** A message Slack accepted; a digest also counts in jobherald_digests_total. */
  message(_integration: string, kind: 'single' | 'digest', _items: number): void {
    this.#slackMessages.inc({ kind: kind === 'digest' ? 'digest' : 'single' });
    if (kind === 'digest') this.digestSent();
  }

  /** A 429 on chat.postMessage (the only method the dispatcher calls). */
  rateLimited(_integration: string): void {
    this.slackRateLimited('chat.postMessage');
  }

  /** A transient failure that will be retried. */
  retry(_integration: string, code: string): void {
    this.#retries.inc({ code: this.#retryCode.value(code) });
  }

  // ── Exposition ──────────────────────────────────────────────────────────────────────────────────────────

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registry in Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
