// The NotificationRule reconciler: key → read the rule from the cache → converge → write its own status.
// It decides whether a rule may deliver (admission: a valid spec, and tenancy allows its reach and its
// integration), checks its destinations and mentions against Slack (for the Ready condition), and owns the
// rule's status: conditions, the last 10 deliveries, totals (the pipeline's last stage reports here), and the
// Events of failed deliveries. It never delivers.
import type { NotificationRule, SlackIntegration } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { validateNotificationRule } from '../api/validate.ts';
import {
  checkRuleTenancy,
  integrationRefOf,
  type NamespaceLabels,
  type TrustedNamespaces,
} from '../domain/tenancy.ts';
import { rfc3339 } from '../domain/time.ts';
import type { Clock } from '../delivery/clock.ts';
import type { ActiveRule } from '../delivery/pipeline-ports.ts';
import type { DeliveryItem, SendResult } from '../delivery/types.ts';
import type { LogSink } from '../slack/logging.ts';
import type { IntegrationRuntime } from './integration-runtime.ts';
import { RuleRuntime, type Admission } from './rule-runtime.ts';
import type { EventSink, StatusSink } from './sinks.ts';
import type { ReconcileResult } from './work-queue.ts';

export { rulePath, RuleRuntime, type Admission } from './rule-runtime.ts';

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

export const integrationKeyOf = (rule: NotificationRule): string => {
  const ref = integrationRefOf(rule);
  return `${ref.namespace}/${ref.name}`;
};

export interface RuleReconcilerOptions {
  /** the rules watch's cache */
  rules: ReadonlyMap<string, NotificationRule>;
  /** the integrations watch's cache */
  integrationObject(key: string): SlackIntegration | undefined;
  /** the integration's runtime, created on demand while its SlackIntegration exists */
  integrationRuntime(key: string): IntegrationRuntime | undefined;
  namespaceLabels: NamespaceLabels;
  /** bumped on every Namespace change (namespaceSelector admissions depend on labels) */
  namespacesVersion(): number;
  trustedNamespaces: TrustedNamespaces;
  status: StatusSink;
  events: EventSink;
  clock: Clock;
  log: LogSink;
  /** which rules may deliver changed (a rule appeared, went, was suspended, re-admitted…): offer Jobs again */
  deliverableChanged(): void;
}

export class RuleReconciler {
  readonly runtimes = new Map<string, RuleRuntime>();
  readonly #admissions = new Map<string, { stamp: string; admission: Admission }>();
  /** per rule: what decides whether and how it delivers, as of the last reconcile (see #deliverability) */
  readonly #deliverability = new Map<string, string>();
  readonly #o: RuleReconcilerOptions;

  constructor(options: RuleReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const rule = this.#o.rules.get(key);
    if (rule === undefined) {
      const gone = this.runtimes.get(key);
      this.runtimes.delete(key);
      this.#admissions.delete(key);
      if (gone !== undefined) this.#o.status.forget(gone.statusPath);
      if (this.#deliverability.delete(key)) this.#o.deliverableChanged();
      return undefined;
    }
    const runtime = this.runtime(key, rule);
    const admission = this.admission(runtime);
    const integration = this.#o.integrationRuntime(integrationKeyOf(rule));
    if (admission.ok && integration?.ready === true) {
      await runtime.checkDestinations(integration);
      if ((rule.spec.mentions?.length ?? 0) > 0) await runtime.resolveMentions(integration);
    }
    runtime.reconciledGeneration = rule.metadata.generation ?? 0;
    const stamp = this.#deliverabilityOf(runtime, admission, integration);
    if (this.#deliverability.get(key) !== stamp) {
      this.#deliverability.set(key, stamp);
      this.#o.deliverableChanged();
    }
    this.writeStatus(runtime);
    return undefined;
  }

  /** The runtime of a cached rule (a new one when the rule was re-created under the same name). */
  runtime(key: string, rule: NotificationRule): RuleRuntime {
    let runtime = this.runtimes.get(key);
    if (runtime === undefined || runtime.uid !== (rule.metadata.uid ?? key)) {
      runtime = new RuleRuntime(rule);
      this.runtimes.set(key, runtime);
      if (runtime.legacy !== undefined) {
        this.#o.log.info(
          { rule: key, sent: runtime.legacy.sent.size, armed: runtime.legacy.armed.length },
          'found a 0.1 delivery ledger in status: migrating it to records on the Jobs',
        );
      }
    } else runtime.object = rule;
    return runtime;
  }

  admission(runtime: RuleRuntime): Admission {
    const integration = this.#o.integrationObject(integrationKeyOf(runtime.object));
    const stamp = `${runtime.object.metadata.resourceVersion}|${integration?.metadata.resourceVersion ?? '-'}|${this.#o.namespacesVersion()}`;
    const cached = this.#admissions.get(runtime.key);
    if (cached?.stamp === stamp) return cached.admission;
    const admission = admitRule(runtime.object, {
      integration,
      trustedNamespaces: this.#o.trustedNamespaces,
      namespaceLabels: this.#o.namespaceLabels,
    });
    this.#admissions.set(runtime.key, { stamp, admission });
    return admission;
  }

  /** Rules admitted by validation and tenancy, whatever else holds them back. */
  *admitted(): Iterable<RuleRuntime> {
    for (const [key, rule] of this.#o.rules) {
      const runtime = this.runtime(key, rule);
      if (this.admission(runtime).ok) yield runtime;
    }
  }

  /** Rules that deliver now: admitted, not suspended, through an integration that exists and is not suspended. */
  *deliverable(): Iterable<ActiveRule> {
    for (const runtime of this.admitted()) {
      if (runtime.object.spec.suspend === true) continue;
      const integration = this.#o.integrationRuntime(integrationKeyOf(runtime.object));
      if (integration === undefined || integration.suspended) continue;
      yield { rule: runtime, integration };
    }
  }

  /** The status stage of delivery: history and totals, a Warning Event and a log line for a failure. */
  delivered(item: DeliveryItem, result: SendResult): void {
    const named = this.runtimes.get(`${item.rule.namespace}/${item.rule.name}`);
    const runtime = named?.uid === item.rule.uid ? named : undefined;
    if (runtime !== undefined) {
      runtime.record(item, result, rfc3339(this.#o.clock.now()));
      this.writeStatus(runtime);
    }
    if (result.result === 'Failed') {
      this.#o.log.warn(
        {
          rule: `${item.rule.namespace}/${item.rule.name}`,
          job: item.job,
          destination: item.destinationLabel,
          error: result.error,
        },
        'delivery failed',
      );
      this.#o.events.record(
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

  /** A 0.1 ledger is recorded on the Jobs: drop it from status (its floor stays as status.alertsSince). */
  migrated(runtime: RuleRuntime): void {
    if (runtime.legacy === undefined) return;
    runtime.legacy = undefined;
    this.#o.log.info({ rule: runtime.key }, '0.1 delivery ledger migrated; removing it from status');
    this.writeStatus(runtime);
  }

  /** The integration's readiness or token changed: mentions resolve again. */
  integrationChanged(integrationKey: string): void {
    for (const runtime of this.runtimes.values())
      if (integrationKeyOf(runtime.object) === integrationKey) runtime.forgetMentions();
  }

  writeStatus(runtime: RuleRuntime): void {
    this.#o.status.request(runtime.statusPath, () => {
      if (this.runtimes.get(runtime.key) !== runtime) return undefined;
      const integration = this.#o.integrationRuntime(integrationKeyOf(runtime.object));
      return runtime.status(
        this.admission(runtime),
        integration,
        rfc3339(this.#o.clock.now()),
      ) as unknown as Record<string, unknown>;
    });
  }

  /**
   * What decides whether the rule delivers and which Jobs it selects: its identity and generation, admission,
   * suspension, the integration's suspension, and (for a namespaceSelector) the namespaces' labels. A change
   * means Jobs may have to be held or released.
   */
  #deliverabilityOf(
    runtime: RuleRuntime,
    admission: Admission,
    integration: IntegrationRuntime | undefined,
  ): string {
    const spec = runtime.object.spec;
    const labels = spec.selector?.namespaceSelector !== undefined ? this.#o.namespacesVersion() : 0;
    return [
      runtime.uid,
      runtime.object.metadata.generation ?? 0,
      admission.ok,
      spec.suspend === true,
      integration === undefined ? 'none' : integration.suspended,
      labels,
    ].join('|');
  }
}
