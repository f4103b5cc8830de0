// What the operator knows about one NotificationRule across reconciles and deliveries: how its destinations
// and mentions resolved (for the Ready condition), the last 10 deliveries and the totals people read in
// status, and what delivery needs to know of it (pipeline-ports.ts DeliveryRule). Nothing here grows with the
// number of Jobs: what was delivered about a Job is recorded on the Job (docs/adr/0010).
import type {
  Condition,
  DeliveryRecord,
  DestinationStatus,
  NotificationRule,
  NotificationRuleStatus,
} from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { summarizeReady, worstHealth, type Health } from '../api/conditions.ts';
import { destinationStateOf } from '../domain/membership.ts';
import { rfc3339 } from '../domain/time.ts';
import { lastSpecChange } from '../api/spec-change.ts';
import { readLegacyLedger, type LegacyLedger } from '../delivery/legacy-ledger.ts';
import type { DeliveryIntegration, DeliveryRule } from '../delivery/pipeline-ports.ts';
import type { DeliveryItem, SendResult } from '../delivery/types.ts';
import type { IntegrationRuntime } from './integration-runtime.ts';

export const MAX_DELIVERIES = 10;

/** The API path of a NotificationRule (its status is at `${path}/status`). */
export const rulePath = (rule: NotificationRule): string =>
  `/apis/jobherald.dev/v1alpha1/namespaces/${rule.metadata.namespace}/notificationrules/${rule.metadata.name}`;

export interface Admission {
  ok: boolean;
  health: Health;
}

export class RuleRuntime implements DeliveryRule {
  readonly key: string;
  object: NotificationRule;
  deliveries: DeliveryRecord[];
  totals: { delivered: number; failed: number };
  conditions: Condition[];
  /** resolved mentions (`<@U…>`, `<!subteam^S…>`) for the rule's current generation */
  mentions: string[] = [];
  /** what the resolved mentions are for: the generation and what the channelPolicy allows the namespace */
  #mentionsFor = '';
  #mentionsLookup: { key: string; promise: Promise<string[]> } | undefined;
  /** the generation whose destinations and mentions the findings describe (kstatus observedGeneration) */
  reconciledGeneration = 0;
  /** the last reconcile's findings about destinations and about mentions (for the Ready condition) */
  destinationFindings: Health[] = [];
  /** how each destination resolved, for status.destinations */
  destinations: DestinationStatus[] = [];
  mentionFindings: Health[] = [];
  /** a 0.1 ledger found in status, until what it says is recorded on the Jobs (then dropped from status) */
  legacy: LegacyLedger | undefined;
  /** ms: a migrated ledger's floor, kept in status.alertsSince */
  alertsSince: number | undefined;

  constructor(object: NotificationRule) {
    this.key = `${object.metadata.namespace}/${object.metadata.name}`;
    this.object = object;
    this.deliveries = [...(object.status?.deliveries ?? [])].slice(0, MAX_DELIVERIES);
    this.totals = { delivered: 0, failed: 0, ...object.status?.totals };
    this.conditions = object.status?.conditions ?? [];
    const since = Date.parse(object.status?.alertsSince ?? '');
    this.legacy = readLegacyLedger(object.status?.ledger);
    const floor = this.legacy?.floor ?? Number.NaN;
    const kept = [since, floor].filter((t) => !Number.isNaN(t));
    if (kept.length > 0) this.alertsSince = Math.max(...kept);
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

  get created(): number {
    const at = Date.parse(this.object.metadata.creationTimestamp ?? '');
    return Number.isNaN(at) ? 0 : at;
  }

  get since(): number {
    const times = [this.created, lastSpecChange(this.object), this.alertsSince ?? Number.NaN];
    return Math.max(...times.filter((t) => !Number.isNaN(t)));
  }

  get legacySent(): ReadonlyMap<string, ReadonlySet<string>> | undefined {
    return this.legacy?.sent;
  }

  /**
   * Resolves mentions once per generation and channelPolicy scope (concurrent callers share it): users by
   * email, groups by handle. A policy change or a relabelled namespace resolves them again.
   */
  resolveMentions(integration: DeliveryIntegration): Promise<string[]> {
    const key = `${this.object.metadata.generation ?? 0}|${integration.policyScope(this.namespace)}`;
    if (this.#mentionsFor === key) return Promise.resolve(this.mentions);
    if (this.#mentionsLookup?.key !== key) {
      const promise = this.#resolveMentions(integration, key).finally(() => {
        if (this.#mentionsLookup?.promise === promise) this.#mentionsLookup = undefined;
      });
      this.#mentionsLookup = { key, promise };
    }
    return this.#mentionsLookup.promise;
  }

  async #resolveMentions(integration: DeliveryIntegration, key: string): Promise<string[]> {
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
        // a group the channelPolicy refuses is left out of every alert (and never looked up by handle)
        const verdict = await integration.userGroupAllowed(this.namespace, mention.group);
        if (verdict.allowed !== true) {
          problems.push({
            state: 'Degraded',
            reason: Reasons.UserGroupNotAllowed,
            message:
              verdict.allowed === false ? verdict.message : `mention group ${mention.group}: not allowed`,
          });
          continue;
        }
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
    this.#mentionsFor = key;
    this.mentionFindings = problems;
    return resolved;
  }

  /** Forget resolved mentions (the integration's token or workspace changed). */
  forgetMentions(): void {
    this.#mentionsFor = '';
    this.#mentionsLookup = undefined;
  }

  /**
   * The reconcile's view of destinations: channel states from the integration, users by email, kept as
   * findings for the Ready condition (the worst one wins).
   */
  async checkDestinations(integration: DeliveryIntegration): Promise<void> {
    const findings: Health[] = [];
    const statuses: DestinationStatus[] = [];
    for (const destination of this.object.spec.destinations) {
      if (destination.channel !== undefined) {
        // The channel policy first. A refused channel is reported as the rule wrote it and nothing more: no
        // ID, no "private", no "not found" (that would let a rule probe channels it may not use).
        const verdict = integration.channelAllowed(this.namespace, destination.channel);
        if (verdict.allowed === false) {
          statuses.push({ destination: destination.channel, state: 'NotAllowed', message: verdict.message });
          findings.push({ state: 'Degraded', reason: verdict.reason, message: verdict.message });
          continue;
        }
        if (verdict.allowed === undefined) {
          findings.push({ state: 'Progressing', message: `resolving channel ${destination.channel}` });
          statuses.push({ destination: destination.channel, state: 'Pending' });
          continue;
        }
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

  /** One final delivery result, for the history and totals people read. */
  record(item: DeliveryItem, result: SendResult, now: string): void {
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
  }

  /**
   * The status to write: conditions from the findings, deliveries, totals. A 0.1 ledger stays as it is until
   * migrated, then `ledger: undefined` removes it (the status writer sends explicit nulls).
   */
  status(
    admission: Admission,
    integration: IntegrationRuntime | undefined,
    now: string,
  ): NotificationRuleStatus {
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
      } else {
        // A lookup the token may not make says "not found" for lack of a scope: name the scope instead.
        const missing = integration.missingScopes.filter((n) => n.usedBy.includes(this.key));
        const lacks = new Set(missing.map((n) => n.scope));
        if (missing.length > 0)
          findings.push({
            state: 'Degraded',
            reason: Reasons.MissingScope,
            message: `the integration's token lacks ${missing.map((n) => `${n.scope} (${n.feature})`).join('; ')}: ask its owner to add the scopes to the Slack app and reinstall it`,
          });
        findings.push(
          ...this.destinationFindings,
          ...this.mentionFindings.filter(
            (f) =>
              !(
                f.state === 'Degraded' &&
                f.reason === Reasons.UserGroupNotFound &&
                lacks.has('usergroups:read')
              ) &&
              !(f.state === 'Degraded' && f.reason === Reasons.UserNotFound && lacks.has('users:read.email')),
          ),
        );
      }
      if (this.legacy !== undefined && this.legacy.problems.length > 0) {
        findings.push({ state: 'Ready', message: `upgrading from 0.1: ${this.legacy.problems.join('; ')}` });
      }
    }
    this.conditions = summarizeReady(this.conditions, worstHealth(findings), generation, now);
    return {
      observedGeneration: generation,
      conditions: this.conditions,
      ...(this.destinations.length > 0 ? { destinations: this.destinations } : {}),
      deliveries: this.deliveries,
      totals: this.totals,
      ...(this.alertsSince !== undefined ? { alertsSince: rfc3339(this.alertsSince) } : {}),
      ledger: this.legacy === undefined ? undefined : this.object.status?.ledger,
    };
  }
}
