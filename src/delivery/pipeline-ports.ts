// What the delivery pipeline needs from the rest of the operator, as small interfaces: the reconcilers' rule
// and integration runtimes satisfy them, and the Kubernetes layer's JobWriter writes Jobs. delivery/ imports
// neither reconcilers/ nor kube/ (a lint rule keeps it so), so the pipeline can be tested on its own.
import type { ChannelStatus, NotificationRule } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from '../domain/job.ts';
import type { MatchContext } from '../domain/match.ts';
import type { PolicyVerdict } from '../domain/channel-policy.ts';
import type { RecordEntry } from './delivery-record.ts';
import type { DeliveryItem, SendResult } from './types.ts';

/** A change to one Job's metadata: record entries to add, and the finalizer on, off, or as it is. */
export interface JobChange {
  entries: Iterable<RecordEntry>;
  finalizer: 'add' | 'remove' | 'keep';
}

/** How a Job write ended; `resourceVersion` is the Job's after a write that the API server stored. */
export type JobWriteResult =
  | { result: 'written'; resourceVersion?: string }
  | { result: 'gone' } // the Job no longer exists (or another Job now has its name)
  | { result: 'failed' }; // after retries; the pipeline asks again on the Job's next event or sweep

export interface JobWrites {
  write(job: JobRecord, change: JobChange): Promise<JobWriteResult>;
}

/** The integration a rule sends through, as far as delivery is concerned. */
export interface DeliveryIntegration {
  readonly clusterName: string | undefined;
  /**
   * when its spec last changed (ms, API server clock; NaN when unknown): outcomes of Jobs jobherald did not hold
   * from before then are not alerted, so nothing that happened while it was suspended is sent on resume
   */
  readonly since: number;
  channelState(ref: string): ChannelStatus | undefined;
  /** the integration's channelPolicy on a channel a rule in `namespace` names (docs/adr/0013) */
  channelAllowed(namespace: string, ref: string): PolicyVerdict;
  /** the integration's channelPolicy on a user group a rule in `namespace` mentions */
  userGroupAllowed(namespace: string, ref: string): Promise<PolicyVerdict>;
  /** changes whenever what the channelPolicy allows rules in `namespace` may change */
  policyScope(namespace: string): string;
  userId(email: string): Promise<{ id?: string; error?: string }>;
  /** a user-group handle → its ID, undefined when there is none */
  groupId(handle: string): Promise<string | undefined>;
  /** keep an alert for a channel reference that does not resolve yet (a private channel before /invite) */
  hold(ref: string, item: DeliveryItem): void;
  readonly dispatcher: {
    /** false when the same alert is queued already, or the dispatcher is stopped (see `stopped`) */
    enqueue(item: DeliveryItem): boolean;
    readonly stopped: boolean;
  };
}

/** A rule as delivery sees it. */
export interface DeliveryRule {
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly object: NotificationRule;
  /**
   * Outcomes up to this time (ms, from cluster clocks, whole seconds) are not alerted about Jobs jobherald did
   * not hold: the rule's creation, its last spec change, or the migrated v1alpha1 ledger floor (docs/adr/0010).
   */
  readonly since: number;
  /** the rule's creation (ms): nothing older is ever alerted by it */
  readonly created: number;
  resolveMentions(integration: DeliveryIntegration): Promise<string[]>;
  /** the v1alpha1 ledger's (Job UID, event) → destination ids already sent, until migrated */
  readonly legacySent: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

/** A rule that may deliver now, with the integration it sends through. */
export interface ActiveRule {
  rule: DeliveryRule;
  integration: DeliveryIntegration;
}

export interface PipelineSources {
  /** rules that are valid, admitted by tenancy, not suspended, with an integration that is not suspended */
  activeRules(): Iterable<ActiveRule>;
  /**
   * Changes whenever activeRules() or matchContext() may answer differently (a rule's or integration's spec,
   * an integration's runtime, a namespace's labels, a rule's deliverability): the pipeline keeps one
   * namespace-indexed selector per version instead of checking every rule for every Job event. Without it, a
   * new selector is built for every Job.
   */
  rulesVersion?(): number;
  matchContext(): MatchContext;
  /** details of the Job's failed pods (same namespace, same Job UID) */
  failedPods(job: JobRecord): FailedPodDetail[];
  /** the namespace's deletionTimestamp while it is being deleted */
  namespaceDeletion(namespace: string): string | undefined;
}

/** The last stage: what people read (rule history, Events, metrics, logs). */
export interface DeliveryReport {
  delivered(item: DeliveryItem, result: SendResult): void;
}
