// Offline validation of jobherald resources with the same rules as the API server, in three passes:
//   1. structure: the CRD's openAPIV3Schema compiled with ajv (crd-schema.ts), errors worded like the API
//      server's (`Required value`, `Unsupported value: …`, `unknown field "spec.x"`);
//   2. CEL: every x-kubernetes-validations rule through its TypeScript twin (cel-twins.ts), reporting the
//      rule's own message at the same path the API server uses (`spec.destinations[0]`);
//   3. what the API server cannot check: label selector keys and values, globs that compile (jobNames and
//      channelPolicy entries), link templates with known placeholders only.
// Like the API server, passes 2 and 3 run on the defaulted object and only when pass 1 found no type or
// enum error (a CEL rule cannot be evaluated on a value of the wrong type).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ajvSchema, kubeSchema, type KubeSchema, type ResourceKind } from './crd-schema.ts';
import { celTwins } from './cel-twins.ts';
import { applyDefaults } from './defaults.ts';
import { API_VERSION, type NotificationRule, type SlackIntegration } from './types.ts';
import {
  CHANNEL_POLICY_ENTRY,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  JOB_NAME_GLOB,
  USERGROUP_POLICY_ENTRY,
} from './patterns.ts';
import { labelSelectorProblems } from '../domain/selector.ts';
import { compileGlob } from '../domain/glob.ts';
import { checkLinkTemplate } from '../domain/template.ts';

export interface ValidationError {
  /** JSON path as the API server writes it: `spec.destinations[0].channel`; `` for the whole object */
  path: string;
  message: string;
}

export type JobheraldResource = SlackIntegration | NotificationRule;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationError[] };

let ajv: Ajv | undefined;
const compiled = new Map<ResourceKind, ValidateFunction>();

function newAjv(): Ajv {
  const instance = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  instance.addFormat('int64', true);
  instance.addFormat('int32', true);
  instance.addFormat('date-time', (value: string) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)));
  return instance;
}

function validatorFor(kind: ResourceKind): ValidateFunction {
  let validate = compiled.get(kind);
  if (validate === undefined) {
    ajv ??= newAjv();
    validate = ajv.compile(ajvSchema(kind));
    compiled.set(kind, validate);
  }
  return validate;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Validate any object as a jobherald resource, dispatching on `kind`. Never throws on bad input. */
export function validateResource(obj: unknown): ValidationResult<JobheraldResource> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return fail('', `Invalid value: ${typeName(obj)}: a ${API_VERSION} resource must be an object`);
  }
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== API_VERSION) {
    return fail(
      'apiVersion',
      apiVersion === undefined
        ? 'Required value'
        : `Unsupported value: ${JSON.stringify(apiVersion)}: supported values: "${API_VERSION}"`,
    );
  }
  if (kind === 'SlackIntegration') return validateSlackIntegration(obj);
  if (kind === 'NotificationRule') return validateNotificationRule(obj);
  return fail(
    'kind',
    kind === undefined
      ? 'Required value'
      : `Unsupported value: ${JSON.stringify(kind)}: supported values: "SlackIntegration", "NotificationRule"`,
  );
}

export function validateSlackIntegration(obj: unknown): ValidationResult<SlackIntegration> {
  return validateKind<SlackIntegration>('SlackIntegration', obj);
}

export function validateNotificationRule(obj: unknown): ValidationResult<NotificationRule> {
  return validateKind<NotificationRule>('NotificationRule', obj);
}

function validateKind<T extends JobheraldResource>(kind: ResourceKind, obj: unknown): ValidationResult<T> {
  const errors: ValidationError[] = [];
  const defaulted = applyDefaults(obj);
  const validate = validatorFor(kind);
  let blocking = false;
  if (!validate(defaulted)) {
    for (const error of validate.errors ?? []) {
      const mapped = mapAjvError(error, defaulted);
      if (mapped === undefined) continue;
      errors.push(mapped.error);
      blocking ||= mapped.blocking;
    }
  }
  errors.push(...metadataErrors(defaulted));
  if (!blocking) {
    runCelTwins(kubeSchema(kind), defaulted, '', errors);
    errors.push(...(kind === 'NotificationRule' ? ruleExtras(defaulted) : integrationExtras(defaulted)));
  }
  if (errors.length > 0) return { ok: false, errors: dedupe(errors) };
  return { ok: true, value: obj as T };
}

function fail(path: string, message: string): { ok: false; errors: ValidationError[] } {
  return { ok: false, errors: [{ path, message }] };
}

function dedupe(errors: ValidationError[]): ValidationError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ------------------------------------------------------------------------------------------ pass 1: ajv

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `/spec/destinations/0/channel` → `spec.destinations[0].channel` (array indexes are looked up in data). */
function toKubePath(instancePath: string, data: unknown): string {
  if (instancePath === '') return '';
  let path = '';
  let node: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      path += `[${segment}]`;
      node = node[Number(segment)];
    } else {
      path += path === '' ? segment : `.${segment}`;
      node =
        typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

function valueAt(instancePath: string, data: unknown): unknown {
  let node: unknown = data;
  for (const raw of instancePath === '' ? [] : instancePath.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return node;
}

const join = (path: string, child: string) => (path === '' ? child : `${path}.${child}`);
const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function mapAjvError(
  error: ErrorObject,
  data: unknown,
): { error: ValidationError; blocking: boolean } | undefined {
  const path = toKubePath(error.instancePath, data);
  const value = valueAt(error.instancePath, data);
  const p = error.params as Record<string, unknown>;
  const shown = path === '' ? '<root>' : path;
  switch (error.keyword) {
    case 'required':
      return {
        error: { path: join(path, String(p['missingProperty'])), message: 'Required value' },
        blocking: false,
      };
    case 'additionalProperties': {
      const field = join(path, String(p['additionalProperty']));
      return { error: { path: field, message: `unknown field "${field}"` }, blocking: false };
    }
    case 'enum': {
      const allowed = (p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return {
        error: { path, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed}` },
        blocking: true,
      };
    }
    case 'type':
      return {
        error: {
          path,
          message: `Invalid value: "${typeName(value)}": ${shown} in body must be of type ${String(p['type'])}: "${typeName(value)}"`,
        },
        blocking: true,
      };
    case 'format':
      return {
        error: {
          path,
          message: `Invalid value: ${show(value)}: ${shown} in body must be of type ${String(p['format'])}: ${show(value)}`,
        },
        blocking: true,
      };
    case 'maxItems':
    case 'maxProperties': {
      const count = Array.isArray(value) ? value.length : Object.keys(value as object).length;
      return {
        error: { path, message: `Too many: ${count}: must have at most ${String(p['limit'])} items` },
        blocking: false,
      };
    }
    case 'minItems':
      return {
        error: {
          path,
          message: `Invalid value: ${(value as unknown[]).length}: ${shown} in body should have at least ${String(p['limit'])} items`,
        },
        blocking: false,
      };
    case 'maxLength':
      return {
        error: { path, message: `Too long: may not be more than ${String(p['limit'])} bytes` },
        blocking: false,
      };
    case 'minLength':
      return {
        error: {
          path,
          message: `Invalid value: ${show(value)}: ${shown} in body should be at least ${String(p['limit'])} chars long`,
        },
        blocking: false,
      };
    case 'pattern':
      return {
        error: {
          path,
          message: `Invalid value: ${show(value)}: ${shown} in body should match '${String(p['pattern'])}'`,
        },
        blocking: false,
      };
    case 'minimum':
      return {
        error: {
          path,
          message: `Invalid value: ${show(value)}: ${shown} in body should be greater than or equal to ${String(p['limit'])}`,
        },
        blocking: false,
      };
    case 'uniqueItems':
      return {
        error: {
          path: `${path}[${Math.max(Number(p['i']), Number(p['j']))}]`,
          message: `Duplicate value: ${JSON.stringify((value as unknown[])[Number(p['i'])])}`,
        },
        blocking: false,
      };
    default:
      return { error: { path, message: error.message ?? error.keyword }, blocking: false };
  }
}

function metadataErrors(obj: unknown): ValidationError[] {
  const metadata = (obj as { metadata?: unknown }).metadata;
  if (metadata === undefined) return [{ path: 'metadata', message: 'Required value' }];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return [];
  const { name, namespace } = metadata as { name?: unknown; namespace?: unknown };
  const errors: ValidationError[] = [];
  if (name === undefined) {
    errors.push({ path: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    errors.push({
      path: 'metadata.name',
      message: `Invalid value: ${show(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (
    namespace !== undefined &&
    (typeof namespace !== 'string' || namespace.length > 63 || !DNS_LABEL.test(namespace))
  ) {
    errors.push({
      path: 'metadata.namespace',
      message: `Invalid value: ${show(namespace)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
    });
  }
  return errors;
}

// ------------------------------------------------------------------------------------------ pass 2: CEL

function runCelTwins(schema: KubeSchema, value: unknown, path: string, errors: ValidationError[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    if (schema.items !== undefined) {
      value.forEach((item: unknown, i) =>
        runCelTwins(schema.items as KubeSchema, item, `${path}[${i}]`, errors),
      );
    }
  } else if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      runCelTwins(child, object[name], join(path, name), errors);
    }
  }
  for (const { rule, message } of schema['x-kubernetes-validations'] ?? []) {
    const twin = celTwins.get(rule);
    let holds: boolean;
    try {
      holds = twin === undefined || twin(value);
    } catch {
      holds = false;
    }
    if (!holds) errors.push({ path, message: message ?? `failed rule: ${rule}` });
  }
}

// ------------------------------------------------------------------------------------------ pass 3: extras

function selectorErrors(selector: unknown, path: string): ValidationError[] {
  return labelSelectorProblems(selector).map((p) => ({ path: `${path}.${p.path}`, message: p.message }));
}

function ruleExtras(obj: unknown): ValidationError[] {
  const spec = (obj as { spec?: NotificationRule['spec'] }).spec;
  if (typeof spec !== 'object' || spec === null) return [];
  const errors: ValidationError[] = [];
  const selector = spec.selector;
  if (typeof selector === 'object' && selector !== null) {
    errors.push(...selectorErrors(selector.namespaceSelector, 'spec.selector.namespaceSelector'));
    errors.push(...selectorErrors(selector.jobSelector, 'spec.selector.jobSelector'));
    (Array.isArray(selector.jobNames) ? selector.jobNames : []).forEach((glob, i) => {
      if (typeof glob !== 'string' || !JOB_NAME_GLOB.test(glob)) return; // the CEL rule already said why
      const compiled = compileGlob(glob);
      if (!compiled.ok) {
        errors.push({
          path: `spec.selector.jobNames[${i}]`,
          message: `Invalid value: ${JSON.stringify(glob)}: invalid glob: ${compiled.error}`,
        });
      }
    });
  }
  (Array.isArray(spec.links) ? spec.links : []).forEach((link, i) => {
    if (typeof link !== 'object' || link === null || typeof link.url !== 'string') return;
    const problem = checkLinkTemplate(link.url);
    if (problem !== undefined) {
      errors.push({
        path: `spec.links[${i}].url`,
        message: `Invalid value: ${JSON.stringify(link.url)}: ${problem}`,
      });
    }
  });
  return errors;
}

function integrationExtras(obj: unknown): ValidationError[] {
  const spec = (obj as { spec?: SlackIntegration['spec'] }).spec;
  if (typeof spec !== 'object' || spec === null) return [];
  const errors: ValidationError[] = channelPolicyExtras(spec.channelPolicy);
  const allowed = spec.allowedNamespaces;
  if (typeof allowed === 'object' && allowed !== null)
    errors.unshift(...selectorErrors(allowed.selector, 'spec.allowedNamespaces.selector'));
  if (spec.onDelete === 'UninstallApp' && spec.oauth === undefined)
    errors.push({
      path: 'spec.onDelete',
      message: 'UninstallApp needs spec.oauth: apps.uninstall takes the app’s client ID and secret',
    });
  // The owned Secret is rewritten wholesale by the operator: it must never be the user's own Secret.
  const rotated = spec.tokenRotation?.secretName;
  if (rotated !== undefined && rotated === spec.tokenSecretRef?.name)
    errors.push({
      path: 'spec.tokenRotation.secretName',
      message: `must name a Secret the operator owns, not tokenSecretRef's Secret "${rotated}"`,
    });
  return errors;
}

/** spec.channelPolicy: namespaceSelector syntax, and globs that compile (the CEL rules checked characters). */
function channelPolicyExtras(policy: SlackIntegration['spec']['channelPolicy']): ValidationError[] {
  if (typeof policy !== 'object' || policy === null || !Array.isArray(policy.allow)) return [];
  const errors: ValidationError[] = [];
  policy.allow.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null) return;
    const path = `spec.channelPolicy.allow[${i}]`;
    errors.push(...selectorErrors(entry.namespaceSelector, `${path}.namespaceSelector`));
    const globs = (field: 'channels' | 'userGroups', pattern: RegExp, sigil: string) =>
      (Array.isArray(entry[field]) ? entry[field] : []).forEach((glob, j) => {
        if (typeof glob !== 'string' || !pattern.test(glob)) return; // the CEL rule already said why
        const compiled = compileGlob(glob.replace(sigil, ''));
        if (!compiled.ok) {
          errors.push({
            path: `${path}.${field}[${j}]`,
            message: `Invalid value: ${JSON.stringify(glob)}: invalid glob: ${compiled.error}`,
          });
        }
      });
    globs('channels', CHANNEL_POLICY_ENTRY, '#');
    globs('userGroups', USERGROUP_POLICY_ENTRY, '@');
  });
  return errors;
}
