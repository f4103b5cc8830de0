// Rule matching: an ordered list of small pure checks, each returning why a rule does not match a Job's
// outcome (undefined when it does). The first failing check is the rejection reason, so the cheap and
// decisive checks come first.
//
// Selector semantics: every field of spec.selector that is set must hold (AND); inside a list any entry may
// match (OR). Without namespaces and namespaceSelector a rule covers only its own namespace. jobNames globs
// match the Job name or the owning CronJob's name.
//
// Callers should pass only rules whose tenancy checks passed (tenancy.ts checkRuleTenancy); the "tenancy"
// check here is defence in depth so that no rule in an untrusted namespace ever matches another
// namespace's Job.
import type { NotificationRule } from '../api/types.ts';
import type { JobRecord } from './job.ts';
import type { Outcome } from './outcome-types.ts';
import { globMatches } from './glob.ts';
import { labelSelectorMatches } from './selector.ts';
import { mayWatchNamespace, type NamespaceLabels, type TrustedNamespaces } from './tenancy.ts';

export interface MatchContext {
  /** labels of a namespace (for namespaceSelector); undefined when unknown */
  namespaceLabels: NamespaceLabels;
  /** namespaces whose rules may select Jobs in other namespaces (--cluster-rule-namespaces) */
  trustedNamespaces: TrustedNamespaces;
}

export type RuleLike = Pick<NotificationRule, 'metadata' | 'spec'>;

export type CheckName = 'suspended' | 'event' | 'tenancy' | 'namespace' | 'jobSelector' | 'jobNames';

type Check = (rule: RuleLike, job: JobRecord, outcome: Outcome, context: MatchContext) => string | undefined;

export interface Rejection<R extends RuleLike = NotificationRule> {
  rule: R;
  check: CheckName;
  reason: string;
}

export interface MatchResult<R extends RuleLike = NotificationRule> {
  matched: R[];
  rejected: Rejection<R>[];
}

const ruleSuspended: Check = (rule) => (rule.spec.suspend === true ? 'the rule is suspended' : undefined);

const eventNotSelected: Check = (rule, _job, outcome) =>
  (rule.spec.events ?? []).includes(outcome.event)
    ? undefined
    : `event ${outcome.event} is not in events [${(rule.spec.events ?? []).join(', ')}]`;

const tenancy: Check = (rule, job, _outcome, context) =>
  mayWatchNamespace(rule, job.namespace, context.trustedNamespaces)
    ? undefined
    : `namespace ${rule.metadata.namespace} is not trusted to select Jobs in namespace ${job.namespace}`;

const namespaceNotSelected: Check = (rule, job, _outcome, context) => {
  const { namespaces, namespaceSelector } = rule.spec.selector ?? {};
  if (namespaces === undefined && namespaceSelector === undefined) {
    return job.namespace === rule.metadata.namespace
      ? undefined
      : `namespace ${job.namespace} is not the rule's own namespace ${rule.metadata.namespace}`;
  }
  if (namespaces !== undefined && !namespaces.includes(job.namespace)) {
    return `namespace ${job.namespace} is not in namespaces [${namespaces.join(', ')}]`;
  }
  if (namespaceSelector !== undefined) {
    const labels = context.namespaceLabels(job.namespace);
    if (labels === undefined) return `the labels of namespace ${job.namespace} are unknown`;
    if (!labelSelectorMatches(namespaceSelector, labels)) {
      return `namespace ${job.namespace} does not match namespaceSelector`;
    }
  }
  return undefined;
};

const jobLabelsNotSelected: Check = (rule, job) => {
  const selector = rule.spec.selector?.jobSelector;
  if (selector === undefined || labelSelectorMatches(selector, job.labels)) return undefined;
  return `the Job's labels do not match jobSelector`;
};

const jobNameNotSelected: Check = (rule, job) => {
  const globs = rule.spec.selector?.jobNames;
  if (globs === undefined) return undefined;
  const matches = (name: string | undefined) => name !== undefined && globs.some((g) => globMatches(g, name));
  if (matches(job.name) || matches(job.cronJob)) return undefined;
  const cronJob = job.cronJob !== undefined ? ` nor CronJob ${job.cronJob}` : '';
  return `neither Job ${job.name}${cronJob} matches jobNames [${globs.join(', ')}]`;
};

/** The checks in the order they run. */
export const CHECKS: readonly { name: CheckName; check: Check }[] = [
  { name: 'suspended', check: ruleSuspended },
  { name: 'event', check: eventNotSelected },
  { name: 'tenancy', check: tenancy },
  { name: 'namespace', check: namespaceNotSelected },
  { name: 'jobSelector', check: jobLabelsNotSelected },
  { name: 'jobNames', check: jobNameNotSelected },
];

/** Why `rule` does not match, or undefined when it does. A check that throws (bad data) rejects the rule. */
export function whyNotMatched(
  rule: RuleLike,
  job: JobRecord,
  outcome: Outcome,
  context: MatchContext,
): { check: CheckName; reason: string } | undefined {
  for (const { name, check } of CHECKS) {
    let reason: string | undefined;
    try {
      reason = check(rule, job, outcome, context);
    } catch (error) {
      reason = `the rule could not be evaluated: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (reason !== undefined) return { check: name, reason };
  }
  return undefined;
}

/**
 * Whether `rule` selects this Job at all, whatever its outcome will be: every check but the event. A rule that
 * selects a running Job is owed a say about how it ends, so the Job is held until then.
 */
export function selectsJob(rule: RuleLike, job: JobRecord, context: MatchContext): boolean {
  return passes(rule, job, context, () => true);
}

/** The checks that read only the Job's namespace: their answer holds for every Job of that namespace. */
const NAMESPACE_CHECKS: ReadonlySet<CheckName> = new Set(['suspended', 'tenancy', 'namespace']);

function passes(rule: RuleLike, job: JobRecord, context: MatchContext, which: (name: CheckName) => boolean) {
  const anyOutcome: Outcome = { event: rule.spec.events?.[0] ?? 'Failed', at: job.creationTimestamp };
  for (const { name, check } of CHECKS) {
    if (name === 'event' || !which(name)) continue;
    try {
      if (check(rule, job, anyOutcome, context) !== undefined) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * selectsJob for many Jobs against the same rules (a sweep of every cached Job): the namespace-level checks run
 * once per namespace, so a Job costs only its own label and name checks against the rules that reach its
 * namespace. Build a new one whenever the rules or the namespaces' labels may have changed.
 */
export function namespaceIndexedSelector<R>(
  rules: readonly R[],
  ruleOf: (r: R) => RuleLike,
  context: MatchContext,
): (job: JobRecord) => R[] {
  const reaching = new Map<string, R[]>();
  return (job) => {
    let candidates = reaching.get(job.namespace);
    if (candidates === undefined) {
      candidates = rules.filter((r) => passes(ruleOf(r), job, context, (name) => NAMESPACE_CHECKS.has(name)));
      reaching.set(job.namespace, candidates);
    }
    if (candidates.length === 0) return candidates;
    return candidates.filter((r) => passes(ruleOf(r), job, context, (name) => !NAMESPACE_CHECKS.has(name)));
  };
}

/** Split `rules` into those that match the Job's outcome and, for the others, why not. */
export function matchRules<R extends RuleLike>(
  job: JobRecord,
  outcome: Outcome,
  rules: Iterable<R>,
  context: MatchContext,
): MatchResult<R> {
  const result: MatchResult<R> = { matched: [], rejected: [] };
  for (const rule of rules) {
    const rejection = whyNotMatched(rule, job, outcome, context);
    if (rejection === undefined) result.matched.push(rule);
    else result.rejected.push({ rule, ...rejection });
  }
  return result;
}

/**
 * The namespaces whose Jobs a rule may select, out of `known` (the namespaces that exist): its own by default,
 * else those in `namespaces` and matching `namespaceSelector` (both must hold when both are set), within what
 * tenancy lets it reach. The admission policy holds Jobs created in any of them (src/kube/admission-params.ts).
 */
export function namespacesReached(rule: RuleLike, known: Iterable<string>, context: MatchContext): string[] {
  const { namespaces, namespaceSelector } = rule.spec.selector ?? {};
  if (namespaces === undefined && namespaceSelector === undefined) return [rule.metadata.namespace];
  const candidates = namespaces ?? [...known];
  return candidates.filter((ns) => {
    if (!mayWatchNamespace(rule, ns, context.trustedNamespaces)) return false;
    if (namespaceSelector === undefined) return true;
    const labels = context.namespaceLabels(ns);
    return labels !== undefined && labelSelectorMatches(namespaceSelector, labels);
  });
}
