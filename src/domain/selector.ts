// Kubernetes label selectors (metav1.LabelSelector): matching with the API's semantics, and the syntax
// checks the CRD schema does not do (label keys and values). Pure: no client imports.
import type { LabelSelector, LabelSelectorRequirement } from '../api/types.ts';

export interface SelectorProblem {
  /** relative to the selector, e.g. `matchExpressions[0].values[1]` */
  path: string;
  message: string;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OPERATORS: ReadonlySet<string> = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Why `key` is not a valid label key (`[prefix/]name`), or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must be non-empty';
    if (prefix.length > 253) return 'prefix part must be no more than 253 characters';
    if (!PREFIX.test(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character";
    }
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (value !== '' && !NAME.test(value)) {
    return "a valid label value must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Every syntax problem of a selector; an empty list means it is valid. Input of any shape is accepted. */
export function labelSelectorProblems(selector: unknown): SelectorProblem[] {
  const problems: SelectorProblem[] = [];
  if (typeof selector !== 'object' || selector === null) return problems;
  const { matchLabels, matchExpressions } = selector as { matchLabels?: unknown; matchExpressions?: unknown };
  if (typeof matchLabels === 'object' && matchLabels !== null) {
    for (const [key, value] of Object.entries(matchLabels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem !== undefined) {
        problems.push({
          path: `matchLabels`,
          message: `Invalid value: ${JSON.stringify(key)}: ${keyProblem}`,
        });
      }
      const valueProblem = typeof value === 'string' ? labelValueProblem(value) : undefined;
      if (valueProblem !== undefined) {
        problems.push({
          path: `matchLabels.${key}`,
          message: `Invalid value: ${JSON.stringify(value)}: ${valueProblem}`,
        });
      }
    }
  }
  if (Array.isArray(matchExpressions)) {
    matchExpressions.forEach((requirement: unknown, i) => {
      if (typeof requirement !== 'object' || requirement === null) return;
      const { key, values } = requirement as { key?: unknown; values?: unknown };
      const keyProblem = typeof key === 'string' ? labelKeyProblem(key) : undefined;
      if (keyProblem !== undefined) {
        problems.push({
          path: `matchExpressions[${i}].key`,
          message: `Invalid value: ${JSON.stringify(key)}: ${keyProblem}`,
        });
      }
      if (Array.isArray(values)) {
        values.forEach((value: unknown, j) => {
          const valueProblem = typeof value === 'string' ? labelValueProblem(value) : undefined;
          if (valueProblem !== undefined) {
            problems.push({
              path: `matchExpressions[${i}].values[${j}]`,
              message: `Invalid value: ${JSON.stringify(value)}: ${valueProblem}`,
            });
          }
        });
      }
    });
  }
  return problems;
}

function requirementMatches(requirement: LabelSelectorRequirement, labels: Readonly<Record<string, string>>) {
  const present = Object.hasOwn(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(labels[requirement.key] as string);
    case 'NotIn':
      return !present || !values.includes(labels[requirement.key] as string);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

function isWellFormed(selector: LabelSelector): boolean {
  return (selector.matchExpressions ?? []).every((r) => {
    const count = (r.values ?? []).length;
    if (!OPERATORS.has(r.operator)) return false;
    return r.operator === 'In' || r.operator === 'NotIn' ? count > 0 : count === 0;
  });
}

/**
 * Whether `labels` satisfy `selector`, with Kubernetes semantics: every matchLabels entry and every
 * requirement must hold; `{}` selects everything; NotIn and DoesNotExist hold for a missing label.
 * A malformed selector (unknown operator, values where none belong) selects nothing, like the API machinery.
 */
export function labelSelectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const actual = labels ?? {};
  if (!isWellFormed(selector)) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(actual, key) || actual[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((r) => requirementMatches(r, actual));
}
