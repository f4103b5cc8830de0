// Structural defaulting, as the API server does it: every `default` in the CRD schema is applied where the
// field is absent, top-down, so `allowedNamespaces: {default: {}}` then gets `from: Same` inside it.
// Defaults that depend on other objects (integrationRef.namespace = the rule's namespace) are semantics, not
// schema: see src/domain/tenancy.ts integrationRefOf().
import { kubeSchema, type KubeSchema, type ResourceKind } from './crd-schema.ts';
import type { NotificationRule, SlackIntegration } from './types.ts';

/** A deep copy of `resource` with the CRD schema's defaults applied. Input of any shape is accepted. */
export function applyDefaults(resource: SlackIntegration): SlackIntegration;
export function applyDefaults(resource: NotificationRule): NotificationRule;
export function applyDefaults(resource: unknown): unknown;
export function applyDefaults(resource: unknown): unknown {
  const copy = structuredClone(resource);
  const kind = kindOf(copy);
  if (kind !== undefined) defaultInto(copy, kubeSchema(kind));
  return copy;
}

/** The jobherald kind of a resource, or undefined when it is not one. */
export function kindOf(resource: unknown): ResourceKind | undefined {
  if (typeof resource !== 'object' || resource === null) return undefined;
  const { kind } = resource as { kind?: unknown };
  return kind === 'SlackIntegration' || kind === 'NotificationRule' ? kind : undefined;
}

function defaultInto(value: unknown, schema: KubeSchema): void {
  if (Array.isArray(value)) {
    if (schema.items !== undefined) for (const item of value) defaultInto(item, schema.items);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (object[name] === undefined && child.default !== undefined)
      object[name] = structuredClone(child.default);
    if (object[name] !== undefined) defaultInto(object[name], child);
  }
  if (typeof schema.additionalProperties === 'object') {
    for (const [name, child] of Object.entries(object)) {
      if (!(name in (schema.properties ?? {}))) defaultInto(child, schema.additionalProperties);
    }
  }
}
