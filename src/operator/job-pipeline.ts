// Job changes → outcomes → matching rules → ledger → rendered alerts → the integration's dispatcher.
//   - an upsert or deletion that ends a Job run yields an Outcome (domain/outcome.ts);
//   - a running Job is "armed" in the ledger of every rule that wants Cancelled for it, so its deletion
//     while the operator is down is still alerted after a restart;
//   - each (rule, destination) goes through the rule's ledger: begin() refuses what was already sent,
//     is pending, or happened before the ledger's floor (no storm on install, no repeat after restart);
//   - `sweep()` offers every Job in the cache (and every armed Job that vanished) again: on becoming leader
//     and after a relist. The ledger makes that idempotent.
import type { NotificationRule } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import type { Outcome } from '../domain/outcome-types.ts';
import { detectOutcome, terminalOutcome } from '../domain/outcome.ts';
import { matchRules, type MatchContext } from '../domain/match.ts';
import { renderAlert } from '../domain/render.ts';
import { destinationRef } from '../delivery/ledger.ts';
import { deliveryItemId, type DeliveryItem, type SendResult } from '../delivery/types.ts';
import type { LogSink } from '../slack/logging.ts';
import type { IntegrationRuntime } from '../reconcilers/integration-reconciler.ts';
import type { Admission, RuleRuntime } from '../reconcilers/rule-reconciler.ts';

export interface PipelineDeps {
  /** rules that may deliver now (valid and admitted by tenancy), with their runtime */
  activeRules(): Iterable<{ runtime: RuleRuntime; admission: Admission }>;
  integrationOf(rule: NotificationRule): IntegrationRuntime | undefined;
  matchContext(): MatchContext;
  failedPods(jobUID: string): FailedPodDetail[];
  /** the rule's status (ledger, deliveries) changed */
  ruleChanged(runtime: RuleRuntime): void;
  /** the one place every final delivery result goes (it calls back onResult, then logs, Events, metrics) */
  report(item: DeliveryItem, result: SendResult): void;
  clusterName: string;
  log: LogSink;
  now?: () => Date;
  outcomeSeen?: (event: string) => void;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

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

  get active(): boolean {
    return this.#active;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  onJobChange(type: 'added' | 'modified' | 'deleted', job: JobRecord, previous: JobRecord | undefined): void {
    if (!this.#active) return;
    const observedAt = this.#now();
    const outcome =
      detectOutcome(previous, job, type === 'deleted' ? 'deleted' : 'upsert', iso(observedAt)) ??
      this.#armedSuspension(job);
    if (outcome !== undefined) {
      this.#deliver(job, outcome, observedAt.getTime());
      return;
    }
    if (type !== 'deleted' && isRunning(job)) this.#arm(job, observedAt);
    else if (type === 'deleted') this.#disarmEverywhere(job.uid);
  }

  /** Offers every cached Job, and every armed Job that is gone, again (idempotent through the ledger). */
  sweep(jobs: Iterable<JobRecord>): void {
    if (!this.#active) return;
    const now = this.#now();
    const present = new Set<string>();
    for (const job of jobs) {
      present.add(job.uid);
      const outcome = terminalOutcome(job) ?? this.#armedSuspension(job);
      if (outcome !== undefined) this.#deliver(job, outcome, now.getTime());
      else if (isRunning(job)) this.#arm(job, now);
    }
    for (const { runtime } of this.#deps.activeRules()) {
      for (const armed of runtime.ledger.missingAfterRelist((uid) => present.has(uid))) {
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
          message: armed.ttl
            ? 'deleted while jobherald was not watching; it had ttlSecondsAfterFinished, so it may have finished and been cleaned up'
            : 'deleted before it finished, while jobherald was not watching',
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

  #arm(job: JobRecord, now: Date): void {
    const probe: Outcome = { event: 'Cancelled', at: iso(now) };
    const rules = [...this.#deps.activeRules()];
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
    for (const { runtime } of this.#deps.activeRules()) {
      if (runtime.outstanding.has(uid)) continue;
      if (runtime.ledger.disarm(uid)) this.#deps.ruleChanged(runtime);
    }
  }

  #deliver(job: JobRecord, outcome: Outcome, observedAt: number): void {
    this.#deps.outcomeSeen?.(outcome.event);
    const rules = [...this.#deps.activeRules()];
    const { matched } = matchRules(
      job,
      outcome,
      rules.map((r) => r.runtime.object),
      this.#deps.matchContext(),
    );
    const matchedSet = new Set(matched);
    for (const { runtime } of rules) {
      if (matchedSet.has(runtime.object)) this.#deliverForRule(runtime, job, outcome, observedAt);
      else if (runtime.ledger.isArmed(job.uid) && !runtime.outstanding.has(job.uid)) {
        // the Job ended in a way this rule does not want: nothing to send, stop watching it
        runtime.ledger.disarm(job.uid);
        this.#deps.ruleChanged(runtime);
      }
    }
  }

  #deliverForRule(runtime: RuleRuntime, job: JobRecord, outcome: Outcome, observedAt: number): void {
    const integration = this.#deps.integrationOf(runtime.object);
    if (integration === undefined || integration.suspended) return;
    const keys = runtime.object.spec.destinations.map((destination) => ({
      destination,
      key: { jobUID: job.uid, event: outcome.event, destination: destinationRef(destination) },
    }));
    const fresh = keys.filter(({ key }) => runtime.ledger.begin(key, outcome.at));
    if (fresh.length === 0) {
      if (!runtime.outstanding.has(job.uid) && runtime.ledger.disarm(job.uid))
        this.#deps.ruleChanged(runtime);
      return;
    }
    runtime.outstanding.set(job.uid, (runtime.outstanding.get(job.uid) ?? 0) + fresh.length);
    void this.#enqueue(runtime, integration, job, outcome, observedAt, fresh).catch((error: unknown) => {
      this.#deps.log.error(
        { rule: runtime.key, job: `${job.namespace}/${job.name}`, err: error },
        'could not prepare an alert; it will be retried on the next sweep',
      );
      for (const { key } of fresh) {
        runtime.ledger.release(key);
        runtime.finishOne(job.uid);
      }
    });
  }

  async #enqueue(
    runtime: RuleRuntime,
    integration: IntegrationRuntime,
    job: JobRecord,
    outcome: Outcome,
    observedAt: number,
    fresh: { destination: NotificationRule['spec']['destinations'][number]; key: DeliveryItem['key'] }[],
  ): Promise<void> {
    const wantsMentions = outcome.event !== 'Succeeded' && (runtime.object.spec.mentions?.length ?? 0) > 0;
    const mentions = wantsMentions ? await runtime.resolveMentions(integration) : [];
    const message = renderAlert({
      job,
      outcome,
      clusterName: integration.clusterName ?? this.#deps.clusterName,
      failedPods: outcome.event === 'Failed' ? this.#deps.failedPods(job.uid) : undefined,
      mentions,
      links: runtime.object.spec.links,
    });
    for (const { destination, key } of fresh) {
      const base = {
        id: deliveryItemId(runtime.uid, key),
        key,
        rule: { namespace: runtime.namespace, name: runtime.object.metadata.name, uid: runtime.uid },
        job: `${job.namespace}/${job.name}`,
        cronJob: job.cronJob,
        mentions,
        event: outcome.event,
        outcome,
        message,
        observedAt,
      };
      const target = await this.#target(integration, destination);
      if ('hold' in target) {
        // the channel does not resolve yet (maybe private, waiting for an invite): the integration keeps it
        integration.hold(target.hold, { ...base, destination: '', destinationLabel: target.label });
        continue;
      }
      if ('error' in target) {
        // A destination that cannot exist right now fails at once, visibly (status, Event, metric).
        this.#deps.report(
          { ...base, destination: '', destinationLabel: target.label },
          { result: 'Failed', error: target.error, message: target.error, attempts: 0, at: Date.now() },
        );
        continue;
      }
      const item: DeliveryItem = { ...base, destination: target.id, destinationLabel: target.label };
      if (!integration.dispatcher.enqueue(item)) {
        runtime.ledger.release(key);
        runtime.finishOne(job.uid);
      }
    }
  }

  /** The queue key for a destination: a channel ID, or a user ID for a DM. */
  async #target(
    integration: IntegrationRuntime,
    destination: NotificationRule['spec']['destinations'][number],
  ): Promise<
    { id: string; label: string } | { error: string; label: string } | { hold: string; label: string }
  > {
    if (destination.user !== undefined) {
      const label = `@${destination.user}`;
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

/** Started and not finished: the state in which a deletion or suspension is a cancellation. */
function isRunning(job: JobRecord): boolean {
  const terminal = job.conditions.some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (terminal) return false;
  return job.startTime !== undefined || job.active > 0;
}
