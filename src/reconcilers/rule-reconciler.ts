// NotificationRule reconciler and runtime: admission (validation + tenancy), destination and mention
// resolution, the Ready condition with the reasons of product.md §1, and the rule's delivery record —
// the last 10 deliveries, totals, and the ledger (status.ledger) that makes delivery exactly-once in
// steady state and at-least-once across restarts (docs/adr/*-delivery-ledger.md).
import type {
  Condition,
  DeliveryRecord,
  DestinationStatus,
  NotificationRule,
  NotificationRuleStatus,
  SlackIntegration,
} from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { summarizeReady, worstHealth, type Health } from '../api/conditions.ts';
import { validateNotificationRule } from '../api/validate.ts';
import { checkRuleTenancy, type NamespaceLabels, type TrustedNamespaces } from '../domain/tenancy.ts';
import { destinationStateOf } from '../domain/membership.ts';
import { DeliveryLedger } from '../delivery/ledger.ts';
import type { DeliveryItem, SendResult } from '../delivery/types.ts';
import type { IntegrationRuntime } from './integration-reconciler.ts';

export const MAX_DELIVERIES = 10;

/** The API path of a NotificationRule (its status is at `${path}/status`). */
export const rulePath = (rule: NotificationRule): string =>
  `/apis/jobherald.dev/v1alpha1/namespaces/${rule.metadata.namespace}/notificationrules/${rule.metadata.name}`;

export interface Admission {
  ok: boolean;
  health: Health;
}

export interface AdmissionContext {
  integration: SlackIntegration | undefined;
  trustedNamespaces: TrustedNamespaces;
  namespaceLabels: NamespaceLabels;
}

/** Whether a rule may deliver at all: a valid spec, and tenancy allows its reach and its integration. */
export function admitRule(rule: NotificationRule, context: AdmissionContext): Admission {
  const validation = validateNotificationRule(rule);
  if (!validation.ok) {
    const message = validation.errors
      .slice(0, 5)
      .map((e) => `${e.path}: ${e.message}`)
      .join('; ');
    return { ok: false, health: { state: 'Degraded', reason: Reasons.InvalidSpec, message } };
  }
  const decision = checkRuleTenancy(rule, context.integration, context);
  if (!decision.allowed) {
    return { ok: false, health: { state: 'Degraded', reason: decision.reason, message: decision.message } };
  }
  return { ok: true, health: { state: 'Ready' } };
}

export class RuleRuntime {
  readonly key: string;
  object: NotificationRule;
  ledger: DeliveryLedger;
  readonly ledgerProblems: string[];
  deliveries: DeliveryRecord[];
  totals: { delivered: number; failed: number };
  conditions: Condition[];
  /** resolved mentions (`<@U…>`, `<!subteam^S…>`) for the rule's current generation */
  mentions: string[] = [];
  #mentionsFor = -1;
  #mentionsLookup: { generation: number; promise: Promise<string[]> } | undefined;
  /** the generation whose destinations and mentions the findings describe (kstatus observedGeneration) */
  reconciledGeneration = 0;
  /** the last reconcile's findings about destinations and about mentions (for the Ready condition) */
  destinationFindings: Health[] = [];
  /** how each destination resolved, for status.destinations */
  destinations: DestinationStatus[] = [];
  mentionFindings: Health[] = [];
  /** whether the Jobs already in the cache were offered to this rule since it was (last) admitted */
  swept = false;
  /** deliveries not yet finished per Job UID (a Job is disarmed when its count reaches 0) */
  readonly outstanding = new Map<string, number>();

  constructor(object: NotificationRule, now: string) {
    this.key = `${object.metadata.namespace}/${object.metadata.name}`;
    this.object = object;
    const created = object.metadata.creationTimestamp ?? now;
    const parsed = DeliveryLedger.parse(object.status?.ledger, { ruleCreationTimestamp: created, now });
    this.ledger = parsed.ledger;
    this.ledgerProblems = parsed.problems;
    this.deliveries = [...(object.status?.deliveries ?? [])].slice(0, MAX_DELIVERIES);
    this.totals = { delivered: 0, failed: 0, ...object.status?.totals };
    this.conditions = object.status?.conditions ?? [];
  }

  get namespace(): string {
    return this.object.metadata.namespace;
  }

  get uid(): string {
    return this.object.metadata.uid ?? this.key;
  }

  get statusPath(): string {
    return rulePath(this.object);
  }

  /** Resolves mentions once per generation (concurrent callers share it): users by email, groups by handle. */
  resolveMentions(integration: IntegrationRuntime): Promise<string[]> {
    const generation = this.object.metadata.generation ?? 0;
    if (this.#mentionsFor === generation) return Promise.resolve(this.mentions);
    if (this.#mentionsLookup?.generation !== generation) {
      const promise = this.#resolveMentions(integration, generation).finally(() => {
        if (this.#mentionsLookup?.promise === promise) this.#mentionsLookup = undefined;
      });
      this.#mentionsLookup = { generation, promise };
    }
    return this.#mentionsLookup.promise;
  }

  async #resolveMentions(integration: IntegrationRuntime, generation: number): Promise<string[]> {
    const resolved: string[] = [];
    const problems: Health[] = [];
    for (const mention of this.object.spec.mentions ?? []) {
      if (mention.user !== undefined) {
        const user = await integration.userId(mention.user);
        if (user.id !== undefined) resolved.push(`<@${user.id}>`);
        else
          problems.push({
            state: 'Degraded',
            reason: Reasons.UserNotFound,
            message: `mention ${mention.user}: ${user.error ?? 'not found'}`,
          });
      } else if (mention.group !== undefined) {
        const id = await integration.groupId(mention.group);
        if (id !== undefined) resolved.push(`<!subteam^${id}>`);
        else
          problems.push({
            state: 'Degraded',
            reason: Reasons.UserGroupNotFound,
            message: `mention group ${mention.group}: no such user group`,
          });
      }
    }
    this.mentions = resolved;
    this.#mentionsFor = generation;
    this.mentionFindings = problems;
    return resolved;
  }

  /** Forget resolved mentions (the integration's token or workspace changed). */
  forgetMentions(): void {
    this.#mentionsFor = -1;
    this.#mentionsLookup = undefined;
  }

  /**
   * The reconcile's view of destinations: channel states from the integration, users by email, kept as
   * findings for the Ready condition (the worst one wins).
   */
  async checkDestinations(integration: IntegrationRuntime): Promise<void> {
    const findings: Health[] = [];
    const statuses: DestinationStatus[] = [];
    for (const destination of this.object.spec.destinations) {
      if (destination.channel !== undefined) {
        const channel = integration.channelState(destination.channel);
        if (channel === undefined) {
          findings.push({ state: 'Progressing', message: `resolving channel ${destination.channel}` });
          statuses.push({ destination: destination.channel, state: 'Pending' });
          continue;
        }
        const state = destinationStateOf(channel);
        statuses.push({
          destination: destination.channel,
          ...(channel.id !== undefined ? { id: channel.id } : {}),
          state,
          ...(channel.message !== undefined ? { message: channel.message } : {}),
        });
        const reason =
          state === 'ChannelNotFound'
            ? Reasons.ChannelNotFound
            : state === 'Archived'
              ? Reasons.ChannelArchived
              : state === 'InviteRequired'
                ? Reasons.InviteRequired
                : undefined;
        if (reason !== undefined) {
          findings.push({
            state: 'Degraded',
            reason,
            message: channel.message ?? `#${channel.name}: ${channel.state}`,
          });
        }
      } else if (destination.user !== undefined) {
        const user = await integration.userId(destination.user);
        statuses.push(
          user.id !== undefined
            ? { destination: destination.user, id: user.id, state: 'Resolved' }
            : { destination: destination.user, state: 'UserNotFound', message: user.error ?? 'not found' },
        );
        if (user.id === undefined) {
          findings.push({
            state: 'Degraded',
            reason: Reasons.UserNotFound,
            message: `user ${destination.user}: ${user.error ?? 'not found'}`,
          });
        }
      }
    }
    this.destinationFindings = findings;
    this.destinations = statuses;
  }

  /** One final delivery result: ledger, history, totals. Returns whether the Job's outcome is fully handled. */
  record(item: DeliveryItem, result: SendResult, now: string): boolean {
    this.ledger.markSent(item.key, item.outcome.at);
    const entry: DeliveryRecord = {
      time: now,
      job: item.job,
      jobUID: item.key.jobUID,
      event: item.event,
      destination: item.destinationLabel,
      result: result.result,
    };
    if (result.result === 'Delivered') {
      entry.ts = result.ts;
      this.totals.delivered++;
    } else {
      entry.error = result.error;
      this.totals.failed++;
    }
    this.deliveries = [entry, ...this.deliveries].slice(0, MAX_DELIVERIES);
    return this.finishOne(item.key.jobUID);
  }

  /** A delivery for this Job will not happen (or just happened): true when none is left. */
  finishOne(jobUID: string): boolean {
    const left = (this.outstanding.get(jobUID) ?? 1) - 1;
    if (left > 0) {
      this.outstanding.set(jobUID, left);
      return false;
    }
    this.outstanding.delete(jobUID);
    return true;
  }

  /** The status to write: conditions from the findings, deliveries, totals, the ledger. */
  status(
    admission: Admission,
    integration: IntegrationRuntime | undefined,
    now: string,
  ): {
    status: NotificationRuleStatus & { ledger: unknown };
    written: () => void;
  } {
    // Only what a reconcile of this generation checked may claim it (kstatus: a new spec is InProgress until
    // its destinations have been looked at), so status written by deliveries in between keeps the old one.
    const generation = this.reconciledGeneration;
    const findings: Health[] = [admission.health];
    if (admission.ok) {
      if (this.object.spec.suspend === true) findings.push({ state: 'Suspended' });
      if (integration === undefined || (!integration.ready && !integration.suspended)) {
        findings.push({
          state: 'Degraded',
          reason: Reasons.IntegrationNotReady,
          message: integration?.problem?.message ?? 'the integration is not ready yet',
          stalled: false,
        });
      } else if (integration.suspended) {
        findings.push({
          state: 'Suspended',
          reason: Reasons.IntegrationSuspended,
          message: 'the integration is suspended: nothing is sent',
        });
      } else findings.push(...this.destinationFindings, ...this.mentionFindings);
      if (this.ledgerProblems.length > 0) {
        findings.push({ state: 'Ready', message: `ledger repaired: ${this.ledgerProblems.join('; ')}` });
      }
    }
    this.conditions = summarizeReady(this.conditions, worstHealth(findings), generation, now);
    const revision = this.ledger.revision;
    return {
      status: {
        observedGeneration: generation,
        conditions: this.conditions,
        ...(this.destinations.length > 0 ? { destinations: this.destinations } : {}),
        deliveries: this.deliveries,
        totals: this.totals,
        ledger: this.ledger.serialize(),
      },
      written: () => this.ledger.markPersisted(revision),
    };
  }
}
