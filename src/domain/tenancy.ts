// Tenancy (product.md §1), as pure decisions with a reason for the rule's Ready condition:
//   - a rule selects Jobs in its own namespace only; namespaces/namespaceSelector that reach others are
//     honoured only for rules in trusted namespaces (--cluster-rule-namespaces)  → CrossNamespaceNotAllowed
//   - a rule may use an integration only if its allowedNamespaces admits the rule's namespace
//     (Same: the integration's own namespace; All; Selector: the rule namespace's labels) → NamespaceNotAllowed
//   - the referenced integration must exist                                       → IntegrationNotFound
import type { NotificationRule, SlackIntegration } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { labelSelectorMatches } from './selector.ts';

export type Decision =
  | { allowed: true }
  | {
      allowed: false;
      reason:
        | typeof Reasons.CrossNamespaceNotAllowed
        | typeof Reasons.NamespaceNotAllowed
        | typeof Reasons.IntegrationNotFound;
      message: string;
    };

/** Labels of a namespace, or undefined when the namespace is unknown. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

export type TrustedNamespaces = ReadonlySet<string> | readonly string[];

type RuleLike = Pick<NotificationRule, 'metadata' | 'spec'>;

const ALLOWED: Decision = { allowed: true };

const isTrusted = (trusted: TrustedNamespaces, namespace: string): boolean =>
  Array.isArray(trusted) ? trusted.includes(namespace) : (trusted as ReadonlySet<string>).has(namespace);

const describeTrusted = (trusted: TrustedNamespaces): string => {
  const list = [...trusted];
  return list.length === 0 ? 'none' : list.join(', ');
};

/** The integration a rule references, with the namespace defaulted to the rule's own. */
export function integrationRefOf(rule: RuleLike): { namespace: string; name: string } {
  return {
    namespace: rule.spec.integrationRef.namespace ?? rule.metadata.namespace,
    name: rule.spec.integrationRef.name,
  };
}

/**
 * What in a rule's selector can reach beyond its own namespace: listed namespaces other than its own, and
 * any namespaceSelector (labels can be put on any namespace, so a selector always can).
 */
export function crossNamespaceReach(rule: RuleLike): string[] {
  const own = rule.metadata.namespace;
  const reach = (rule.spec.selector?.namespaces ?? []).filter((ns) => ns !== own);
  if (rule.spec.selector?.namespaceSelector !== undefined) reach.push('namespaceSelector');
  return reach;
}

/** CrossNamespaceNotAllowed unless the rule stays in its namespace or lives in a trusted namespace. */
export function checkRuleReach(rule: RuleLike, trusted: TrustedNamespaces): Decision {
  const reach = crossNamespaceReach(rule);
  if (reach.length === 0 || isTrusted(trusted, rule.metadata.namespace)) return ALLOWED;
  return {
    allowed: false,
    reason: Reasons.CrossNamespaceNotAllowed,
    message:
      `the rule selects Jobs outside its namespace "${rule.metadata.namespace}" (${reach.join(', ')}), ` +
      `which only rules in trusted namespaces may do (trusted: ${describeTrusted(trusted)}); ` +
      `remove selector.namespaces/namespaceSelector, or move the rule to a trusted namespace`,
  };
}

/** Whether a rule may alert about a Job in `jobNamespace` at all (defence in depth for matching). */
export function mayWatchNamespace(rule: RuleLike, jobNamespace: string, trusted: TrustedNamespaces): boolean {
  return jobNamespace === rule.metadata.namespace || isTrusted(trusted, rule.metadata.namespace);
}

/**
 * Whether `integration` (undefined: not found) admits `rule`. For from: Selector the rule namespace's
 * labels come from `namespaceLabels`; an unknown namespace is not admitted.
 */
export function checkIntegrationAccess(
  rule: RuleLike,
  integration: Pick<SlackIntegration, 'metadata' | 'spec'> | undefined,
  namespaceLabels: NamespaceLabels,
): Decision {
  const ref = integrationRefOf(rule);
  const name = `${ref.namespace}/${ref.name}`;
  if (integration === undefined) {
    return {
      allowed: false,
      reason: Reasons.IntegrationNotFound,
      message: `SlackIntegration ${name} not found`,
    };
  }
  const ruleNamespace = rule.metadata.namespace;
  const allowed = integration.spec.allowedNamespaces ?? { from: 'Same' };
  const denied = (why: string): Decision => ({
    allowed: false,
    reason: Reasons.NamespaceNotAllowed,
    message: `SlackIntegration ${name} does not admit rules from namespace "${ruleNamespace}": ${why}`,
  });
  switch (allowed.from) {
    case 'All':
      return ALLOWED;
    case 'Selector': {
      if (allowed.selector === undefined)
        return denied('allowedNamespaces.from is Selector but no selector is set');
      const labels = namespaceLabels(ruleNamespace);
      if (labels === undefined) return denied(`the labels of namespace "${ruleNamespace}" are unknown`);
      return labelSelectorMatches(allowed.selector, labels)
        ? ALLOWED
        : denied(`its labels do not match allowedNamespaces.selector`);
    }
    default:
      return ruleNamespace === integration.metadata.namespace
        ? ALLOWED
        : denied(
            `allowedNamespaces.from is Same, which admits only namespace "${integration.metadata.namespace}"`,
          );
  }
}

/** Both tenancy checks, reach first: the decision for a rule's Ready condition. */
export function checkRuleTenancy(
  rule: RuleLike,
  integration: Pick<SlackIntegration, 'metadata' | 'spec'> | undefined,
  context: { trustedNamespaces: TrustedNamespaces; namespaceLabels: NamespaceLabels },
): Decision {
  const reach = checkRuleReach(rule, context.trustedNamespaces);
  if (!reach.allowed) return reach;
  return checkIntegrationAccess(rule, integration, context.namespaceLabels);
}
