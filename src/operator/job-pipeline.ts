// Job changes → outcomes → matching rules → ledger → rendered alerts → the integration's dispatcher.
//   - an upsert or deletion that ends a Job run yields an Outcome (domain/outcome.ts);
//   - a running Job is "armed" in the ledger of every rule that wants Cancelled for it, so its deletion
//     while the operator is down is still alerted after a restart;
//   - each (rule, destination) goes through the rule's ledger: begin() refuses what was already sent,
//     is pending, or happened before the ledger's floor (no storm on install, no repeat after restart);
//   - preparing an alert (user and mention lookups) that fails transiently is retried with backoff; one that
//     fails for good is reported Failed like any delivery: an alert is never dropped silently;
//   - `sweep()` offers every Job in the cache (and every armed Job that vanished) again: on becoming leader,
//     after a relist, and when a rule appears. The ledger makes that idempotent.
import type { NotificationRule } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import type { Outcome } from '../domain/outcome-types.ts';
import { detectOutcome, terminalOutcome } from '../domain/outcome.ts';
import { matchRules, type MatchContext } from '../domain/match.ts';
import { renderAlert } from '../domain/render.ts';
import { destinationRef } from '../delivery/ledger.ts';
import { deliveryItemId, type DeliveryItem, type SendResult } from '../delivery/types.ts';
import { AuthError, JobheraldError, RetryableError } from '../errors.ts';
import type { LogSink } from '../slack/logging.ts';
import type { IntegrationRuntime } from '../reconcilers/integration-reconciler.ts';
import type { Admission, RuleRuntime } from '../reconcilers/rule-reconciler.ts';
import { rfc3339 as iso } from '../domain/time.ts';

export interface PipelineDeps {
  /** rules that may deliver now (valid and admitted by tenancy), with their runtime */
  activeRules(): Iterable<{ runtime: RuleRuntime; admission: Admission }>;
  /** the integration's runtime (created on demand when the SlackIntegration exists) */
  integrationOf(rule: NotificationRule): IntegrationRuntime | undefined;
  matchContext(): MatchContext;
  /** details of the Job's failed pods (same namespace, same Job UID) */
  failedPods(job: JobRecord): FailedPodDetail[];
  /** the rule's status (ledger, deliveries) changed */
  ruleChanged(runtime: RuleRuntime): void;
  /** the one place every final delivery result goes (it calls back onResult, then logs, Events, metrics) */
  report(item: DeliveryItem, result: SendResult): void;
  clusterName: string;
  log: LogSink;
  now?: () => Date;
  outcomeSeen?: (event: string) => void;
}

/** How long preparing an alert may keep failing transiently before it is reported Failed. */
export const MAX_PREPARE_MS = 15 * 60_000;

type RuleDestination = NotificationRule['spec']['destinations'][number];
type Fresh = { destination: RuleDestination; key: DeliveryItem['key'] };
type Target =
  { id: string; label: string } | { error: string; label: string } | { hold: string; label: string };

const codeOf = (error: unknown): string => (error instanceof JobheraldError ? error.code : 'internal_error');

export class JobPipeline {
  readonly #deps: PipelineDeps;
  #active = false;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
  }

  /** Only the leader delivers. */
  setActive(active: boolean): void {
    this.#active = active;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  onJobChange(type: 'added' | 'modified' | 'deleted', job: JobRecord, previous: JobRecord | undefined): void {
    if (!this.#active) return;
    const observedAt = this.#now();
    let outcome =
      detectOutcome(previous, job, type === 'deleted' ? 'deleted' : 'upsert', iso(observedAt)) ??
      this.#armedSuspension(job);
    // A relist's synthetic delete carries the last state we saw: the Job may have finished in the gap.
    if (outcome?.cancellation === 'Deleted' && type === 'deleted' && previous === job) {
      outcome = { ...outcome, message: unseenDeletion(job.ttlSecondsAfterFinished !== undefined) };
    }
    if (outcome !== undefined) {
      this.#deps.outcomeSeen?.(outcome.event);
      this.#deps.log.debug(
        {
          job: `${job.namespace}/${job.name}`,
          uid: job.uid,
          change: type,
          event: outcome.event,
          reason: outcome.reason,
        },
        'outcome',
      );
      this.#deliver(job, outcome, observedAt.getTime());
      return;
    }
    if (type !== 'deleted' && isRunning(job)) this.#arm(job, observedAt);
    else if (type === 'deleted') this.#disarmEverywhere(job.uid);
  }

  /**
   * Offers every cached Job, and every armed Job that is gone, again (idempotent through the ledger). With
   * `only`, just for that rule (a rule that appeared or became admitted).
   */
  sweep(jobs: Iterable<JobRecord>, only?: RuleRuntime): void {
    if (!this.#active) return;
    const now = this.#now();
    const present = new Set<string>();
    // Offering the past to a new rule: Kubernetes times have whole seconds, so an outcome stamped with the
    // second the rule was created in may be older than the rule. It counts as older: no storm on install.
    const newRuleFrom =
      only === undefined ? -Infinity : Date.parse(only.object.metadata.creationTimestamp ?? '') + 1000;
    for (const job of jobs) {
      present.add(job.uid);
      const outcome = terminalOutcome(job) ?? this.#armedSuspension(job);
      if (outcome !== undefined) {
        if (!(Date.parse(outcome.at) < newRuleFrom)) this.#deliver(job, outcome, now.getTime(), only);
      } else if (isRunning(job)) this.#arm(job, now, only);
    }
    for (const { runtime } of this.#deps.activeRules()) {
      if (only !== undefined && runtime !== only) continue;
      for (const armed of runtime.ledger.missingAfterRelist((uid) => present.has(uid))) {
        const spec = runtime.object.spec;
        if (spec.suspend === true || !spec.events.includes('Cancelled')) {
          // the rule no longer wants this Job's cancellation: stop watching it
          if (runtime.ledger.disarm(armed.uid)) this.#deps.ruleChanged(runtime);
          continue;
        }
        const [namespace = '', name = ''] = armed.job.split('/');
        const job: JobRecord = {
          uid: armed.uid,
          namespace,
          name,
          resourceVersion: '',
          labels: {},
          cronJob: armed.cronJob,
          creationTimestamp: iso(now),
          suspend: false,
          active: 0,
          succeeded: 0,
          failed: 0,
          conditions: [],
        };
        const outcome: Outcome = {
          event: 'Cancelled',
          reason: 'Deleted',
          cancellation: 'Deleted',
          at: iso(now),
          message: unseenDeletion(armed.ttl),
        };
        this.#deliverForRule(runtime, job, outcome, now.getTime());
      }
    }
  }

  /** A Job that started, was armed, and is now suspended: Cancelled even though startTime was cleared. */
  #armedSuspension(job: JobRecord): Outcome | undefined {
    const suspended = job.conditions.find((c) => c.type === 'Suspended' && c.status === 'True');
    if (suspended === undefined) return undefined;
    for (const { runtime } of this.#deps.activeRules()) {
      if (runtime.ledger.isArmed(job.uid)) {
        return {
          event: 'Cancelled',
          reason: 'Suspended',
          cancellation: 'Suspended',
          message: suspended.message,
          at: suspended.lastTransitionTime ?? iso(this.#now()),
        };
      }
    }
    return undefined;
  }

  #arm(job: JobRecord, now: Date, only?: RuleRuntime): void {
    const probe: Outcome = { event: 'Cancelled', at: iso(now) };
    const rules = [...this.#deps.activeRules()].filter((r) => only === undefined || r.runtime === only);
    const { matched } = matchRules(
      job,
      probe,
      rules.map((r) => r.runtime.object),
      this.#deps.matchContext(),
    );
    for (const rule of matched) {
      const runtime = rules.find((r) => r.runtime.object === rule)?.runtime;
      if (runtime === undefined || runtime.ledger.isArmed(job.uid)) continue;
      runtime.ledger.arm({
        uid: job.uid,
        job: `${job.namespace}/${job.name}`,
        cronJob: job.cronJob,
        ttl: job.ttlSecondsAfterFinished !== undefined,
      });
      this.#deps.ruleChanged(runtime);
    }
  }

  #disarmEverywhere(uid: string): void {
    for (const { runtime } of this.#deps.activeRules()) this.#disarm(runtime, uid);
  }

  /** Stops watching a Job for a rule, unless deliveries about it are still under way. */
  #disarm(runtime: RuleRuntime, uid: string): void {
    if (!runtime.outstanding.has(uid) && runtime.ledger.disarm(uid)) this.#deps.ruleChanged(runtime);
  }

  #deliver(job: JobRecord, outcome: Outcome, observedAt: number, only?: RuleRuntime): void {
    const rules = [...this.#deps.activeRules()].filter((r) => only === undefined || r.runtime === only);
    const { matched } = matchRules(
      job,
      outcome,
      rules.map((r) => r.runtime.object),
      this.#deps.matchContext(),
    );
    const matchedSet = new Set(matched);
    for (const { runtime } of rules) {
      if (matchedSet.has(runtime.object)) this.#deliverForRule(runtime, job, outcome, observedAt);
      // the Job ended in a way this rule does not want: nothing to send, stop watching it
      else this.#disarm(runtime, job.uid);
    }
  }

  #deliverForRule(runtime: RuleRuntime, job: JobRecord, outcome: Outcome, observedAt: number): void {
    const integration = this.#deps.integrationOf(runtime.object);
    if (integration === undefined || integration.suspended) {
      this.#disarm(runtime, job.uid); // nothing will be sent about it: do not leave it armed
      return;
    }
    const fresh: Fresh[] = runtime.object.spec.destinations
      .map((destination) => ({
        destination,
        key: { jobUID: job.uid, event: outcome.event, destination: destinationRef(destination) },
      }))
      .filter(({ key }) => runtime.ledger.begin(key, outcome.at));
    this.#deps.log.debug(
      {
        rule: runtime.key,
        job: `${job.namespace}/${job.name}`,
        event: outcome.event,
        at: outcome.at,
        new: fresh.length,
      },
      'matched',
    );
    if (fresh.length === 0) {
      this.#disarm(runtime, job.uid);
      return;
    }
    runtime.outstanding.set(job.uid, (runtime.outstanding.get(job.uid) ?? 0) + fresh.length);
    // read now: a Job with ttlSecondsAfterFinished: 0 takes its pods with it while lookups are awaited
    const failedPods = outcome.event === 'Failed' ? this.#deps.failedPods(job) : undefined;
    this.#prepare({ runtime, integration, job, outcome, observedAt, fresh, failedPods }, 0);
  }

  /** Resolves and enqueues; transient failures are retried with backoff, lasting ones reported Failed. */
  #prepare(p: Preparation, attempt: number): void {
    this.#enqueue(p).catch((error: unknown) => {
      const transient = error instanceof RetryableError || error instanceof AuthError;
      const job = `${p.job.namespace}/${p.job.name}`;
      if (transient && Date.now() - p.observedAt < MAX_PREPARE_MS) {
        const delay = Math.min(60_000, 1_000 * 2 ** attempt);
        this.#deps.log.warn(
          { rule: p.runtime.key, job, code: codeOf(error), retryInMs: delay },
          'could not prepare an alert; retrying',
        );
        setTimeout(() => {
          if (this.#active) this.#prepare(p, attempt + 1);
          else for (const { key } of p.fresh) p.runtime.ledger.release(key); // the next leader sends it
        }, delay).unref();
        return;
      }
      this.#deps.log.error({ rule: p.runtime.key, job, err: error }, 'could not prepare an alert');
      for (const { destination, key } of p.fresh) {
        this.#deps.report(this.#item(p, key, '', labelOf(destination), p.runtime.mentions, undefined), {
          result: 'Failed',
          error: codeOf(error),
          message: error instanceof Error ? error.message : String(error),
          attempts: attempt + 1,
          at: Date.now(),
        });
      }
    });
  }

  async #enqueue(p: Preparation): Promise<void> {
    const { runtime, integration, job, outcome } = p;
    const wantsMentions = outcome.event !== 'Succeeded' && (runtime.object.spec.mentions?.length ?? 0) > 0;
    const mentions = wantsMentions ? await runtime.resolveMentions(integration) : [];
    // Resolve every destination before enqueueing any, so a retry never repeats half of them.
    const targets: Target[] = [];
    for (const { destination } of p.fresh) targets.push(await this.#target(integration, destination));
    const message = renderAlert({
      job,
      outcome,
      clusterName: integration.clusterName ?? this.#deps.clusterName,
      failedPods: p.failedPods,
      mentions,
      links: runtime.object.spec.links,
    });
    p.fresh.forEach(({ key }, i) => {
      const target = targets[i]!;
      if ('hold' in target) {
        // the channel does not resolve yet (maybe private, waiting for an invite): the integration keeps it
        integration.hold(target.hold, this.#item(p, key, '', target.label, mentions, message));
      } else if ('error' in target) {
        // a destination that cannot exist right now fails at once, visibly (status, Event, metric)
        this.#deps.report(this.#item(p, key, '', target.label, mentions, message), {
          result: 'Failed',
          error: target.error,
          message: target.error,
          attempts: 0,
          at: Date.now(),
        });
      } else if (
        !integration.dispatcher.enqueue(this.#item(p, key, target.id, target.label, mentions, message))
      ) {
        runtime.ledger.release(key);
        runtime.finishOne(job.uid);
      }
    });
  }

  #item(
    p: Preparation,
    key: DeliveryItem['key'],
    queue: string,
    label: string,
    mentions: readonly string[],
    message: DeliveryItem['message'] | undefined,
  ): DeliveryItem {
    const { runtime, job, outcome } = p;
    return {
      id: deliveryItemId(runtime.uid, key),
      key,
      rule: { namespace: runtime.namespace, name: runtime.object.metadata.name, uid: runtime.uid },
      job: `${job.namespace}/${job.name}`,
      cronJob: job.cronJob,
      mentions,
      event: outcome.event,
      outcome,
      message: message ?? { text: '' },
      destination: queue,
      destinationLabel: label,
      observedAt: p.observedAt,
    };
  }

  /** The queue key for a destination: a channel ID, or a user ID for a DM. */
  async #target(integration: IntegrationRuntime, destination: RuleDestination): Promise<Target> {
    if (destination.user !== undefined) {
      const label = labelOf(destination);
      const user = await integration.userId(destination.user);
      return user.id !== undefined
        ? { id: user.id, label }
        : { error: user.error ?? 'users_not_found', label };
    }
    const ref = destination.channel ?? '';
    const channel = integration.channelState(ref);
    const label = `#${channel?.name ?? ref.replace(/^#/, '')}`;
    if (channel?.state === 'Archived') return { error: 'is_archived', label };
    if (channel?.id === undefined || channel.state === 'NotFound') return { hold: ref, label };
    return { id: channel.id, label };
  }

  /** Every final result: the rule's ledger and history; the Job is disarmed once all its deliveries ended. */
  onResult(item: DeliveryItem, result: SendResult, runtime: RuleRuntime | undefined): void {
    if (runtime === undefined) return;
    const done = runtime.record(item, result, iso(this.#now()));
    if (done) runtime.ledger.disarm(item.key.jobUID);
    this.#deps.ruleChanged(runtime);
  }
}

interface Preparation {
  runtime: RuleRuntime;
  integration: IntegrationRuntime;
  job: JobRecord;
  outcome: Outcome;
  observedAt: number;
  fresh: Fresh[];
  failedPods: FailedPodDetail[] | undefined;
}

const labelOf = (destination: RuleDestination): string =>
  destination.user !== undefined
    ? `@${destination.user}`
    : `#${(destination.channel ?? '').replace(/^#/, '')}`;

const unseenDeletion = (ttl: boolean): string =>
  ttl
    ? 'deleted while jobherald was not watching; it had ttlSecondsAfterFinished, so it may have finished and been cleaned up'
    : 'deleted before it finished, while jobherald was not watching';

/** Started and not finished: the state in which a deletion or suspension is a cancellation. */
function isRunning(job: JobRecord): boolean {
  const terminal = job.conditions.some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (terminal) return false;
  return job.startTime !== undefined || job.active > 0;
}
