// Loads the CRDs in crds/ (the single source of truth for validation) and hands out, per kind, the
// v1alpha1 openAPIV3Schema as the API server sees it and as ajv can compile it.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { GROUP, VERSION } from './types.ts';
import { celTwins } from './cel-twins.ts';
import { packagePath } from '../package-root.ts';

/** The subset of a structural OpenAPI v3 schema (with Kubernetes extensions) that jobherald's CRDs use. */
export interface KubeSchema {
  type?: string;
  description?: string;
  properties?: Record<string, KubeSchema>;
  additionalProperties?: KubeSchema | boolean;
  items?: KubeSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  minimum?: number;
  'x-kubernetes-validations'?: { rule: string; message?: string; fieldPath?: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [keyword: string]: unknown;
}

export type ResourceKind = 'SlackIntegration' | 'NotificationRule';
export const RESOURCE_KINDS: readonly ResourceKind[] = ['SlackIntegration', 'NotificationRule'];

export const CRD_FILES: Record<ResourceKind, string> = {
  SlackIntegration: packagePath('crds', 'jobherald.dev_slackintegrations.yaml'),
  NotificationRule: packagePath('crds', 'jobherald.dev_notificationrules.yaml'),
};

interface CrdDocument {
  spec?: {
    group?: string;
    names?: { kind?: string };
    versions?: { name?: string; schema?: { openAPIV3Schema?: KubeSchema } }[];
  };
}

const cache = new Map<ResourceKind, KubeSchema>();

/** The openAPIV3Schema of `kind` at jobherald.dev/v1alpha1, exactly as written in the CRD file. */
export function kubeSchema(kind: ResourceKind): KubeSchema {
  const cached = cache.get(kind);
  if (cached !== undefined) return cached;
  const file = CRD_FILES[kind];
  const crd = yaml.load(readFileSync(file, 'utf8')) as CrdDocument;
  if (crd.spec?.group !== GROUP || crd.spec.names?.kind !== kind) {
    throw new Error(`${file}: not the CRD of ${kind}.${GROUP}`);
  }
  const schema = crd.spec.versions?.find((v) => v.name === VERSION)?.schema?.openAPIV3Schema;
  if (schema === undefined) throw new Error(`${file}: no openAPIV3Schema for version ${VERSION}`);
  assertEveryRuleHasATwin(schema, kind);
  cache.set(kind, schema);
  return schema;
}

/** Throws when a CEL rule in `schema` has no TypeScript twin (src/api/cel-twins.ts). */
export function assertEveryRuleHasATwin(schema: KubeSchema, where: string): void {
  for (const { rule } of schema['x-kubernetes-validations'] ?? []) {
    if (!celTwins.has(rule)) throw new Error(`${where}: CEL rule without a TypeScript twin: ${rule}`);
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    assertEveryRuleHasATwin(child, `${where}.${name}`);
  }
  if (schema.items !== undefined) assertEveryRuleHasATwin(schema.items, `${where}[]`);
  if (typeof schema.additionalProperties === 'object') {
    assertEveryRuleHasATwin(schema.additionalProperties, `${where}{}`);
  }
}

/**
 * The schema translated for ajv: Kubernetes extensions removed (x-kubernetes-list-type: set becomes
 * uniqueItems), and objects closed with additionalProperties: false so unknown fields are reported the way
 * `kubectl apply` (strict field validation) reports them. metadata stays open: the API server validates it.
 */
export function ajvSchema(kind: ResourceKind): Record<string, unknown> {
  return toAjv(kubeSchema(kind), []) as Record<string, unknown>;
}

function toAjv(schema: KubeSchema, path: string[]): unknown {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword.startsWith('x-kubernetes-') || keyword === 'description') continue;
    if (keyword === 'properties') {
      const properties: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(value as Record<string, KubeSchema>)) {
        properties[name] = toAjv(child, [...path, name]);
      }
      out['properties'] = properties;
    } else if (keyword === 'items' || (keyword === 'additionalProperties' && typeof value === 'object')) {
      out[keyword] = toAjv(value as KubeSchema, [...path, keyword]);
    } else {
      out[keyword] = value;
    }
  }
  if (schema['x-kubernetes-list-type'] === 'set') out['uniqueItems'] = true;
  const isMetadata = path.length === 1 && path[0] === 'metadata';
  if (
    schema.type === 'object' &&
    schema.additionalProperties === undefined &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true &&
    !isMetadata
  ) {
    out['additionalProperties'] = false;
    if (out['properties'] === undefined) out['properties'] = {};
  }
  return out;
}
