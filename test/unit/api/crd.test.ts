// The CRD files themselves: what the API server and kubectl need (product.md §1, §5).
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CRD_FILES, RESOURCE_KINDS, type KubeSchema } from '../../../src/api/crd-schema.ts';

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: object };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: KubeSchema };
    }[];
  };
}

const crds = Object.fromEntries(
  RESOURCE_KINDS.map((kind) => [kind, yaml.load(readFileSync(CRD_FILES[kind], 'utf8')) as Crd]),
) as Record<(typeof RESOURCE_KINDS)[number], Crd>;

const version = (kind: keyof typeof crds) => crds[kind].spec.versions[0]!;
const schemaOf = (kind: keyof typeof crds) => version(kind).schema.openAPIV3Schema;
const at = (schema: KubeSchema, path: string): KubeSchema =>
  path.split('.').reduce((node, key) => (key === '[]' ? node.items! : node.properties![key]!), schema);

/** Every schema node under `schema`, with its path. */
function walk(
  schema: KubeSchema,
  path: string,
  visit: (node: KubeSchema, path: string, isProperty: boolean) => void,
) {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    visit(child, `${path}.${name}`, true);
    walk(child, `${path}.${name}`, visit);
  }
  if (schema.items !== undefined) {
    visit(schema.items, `${path}[]`, false);
    walk(schema.items, `${path}[]`, visit);
  }
  if (typeof schema.additionalProperties === 'object') {
    visit(schema.additionalProperties, `${path}{}`, false);
    walk(schema.additionalProperties, `${path}{}`, visit);
  }
}

describe.each(RESOURCE_KINDS)('%s CRD', (kind) => {
  const crd = crds[kind];

  it('is a namespaced apiextensions.k8s.io/v1 CRD of jobherald.dev, served and stored at v1alpha1', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.jobherald.dev`);
    expect(crd.spec.group).toBe('jobherald.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names.kind).toBe(kind);
    expect(crd.spec.names.categories).toEqual(['jobherald']);
    expect(crd.spec.versions).toHaveLength(1);
    expect(version(kind)).toMatchObject({
      name: 'v1alpha1',
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it('has a description and a type on every field', () => {
    const missing: string[] = [];
    walk(schemaOf(kind), '', (node, path, isProperty) => {
      if (node.type === undefined) missing.push(`${path}: type`);
      if (isProperty && path !== '.metadata' && node.description === undefined)
        missing.push(`${path}: description`);
    });
    expect(missing).toEqual([]);
  });

  it('preserves unknown fields nowhere', () => {
    expect(JSON.stringify(crd)).not.toContain('x-kubernetes-preserve-unknown-fields');
  });

  it('bounds every list, map and string in spec, so CEL cost stays within the API server budget', () => {
    const unbounded: string[] = [];
    walk(at(schemaOf(kind), 'spec'), 'spec', (node, path) => {
      if (node.type === 'array' && node.maxItems === undefined) unbounded.push(path);
      if (node.type === 'string' && node.maxLength === undefined && node.enum === undefined)
        unbounded.push(path);
      if (typeof node.additionalProperties === 'object' && node.maxProperties === undefined)
        unbounded.push(path);
    });
    expect(unbounded).toEqual([]);
  });

  it('gives every CEL rule a message', () => {
    const rules: string[] = [];
    walk(schemaOf(kind), '', (node, path) => {
      for (const rule of node['x-kubernetes-validations'] ?? []) {
        if (typeof rule.message !== 'string' || rule.message === '') rules.push(`${path}: ${rule.rule}`);
      }
    });
    expect(rules).toEqual([]);
  });

  it('has the kstatus status shape: observedGeneration and metav1.Conditions keyed by type', () => {
    const status = at(schemaOf(kind), 'status');
    expect(status.properties?.['observedGeneration']).toMatchObject({ type: 'integer', format: 'int64' });
    const conditions = status.properties?.['conditions'];
    expect(conditions).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
    expect(conditions?.items?.required).toEqual([
      'type',
      'status',
      'lastTransitionTime',
      'reason',
      'message',
    ]);
  });

  it('prints READY and REASON from the Ready condition, and AGE', () => {
    const columns = version(kind).additionalPrinterColumns;
    expect(columns.find((c) => c.name === 'Ready')?.jsonPath).toBe(
      '.status.conditions[?(@.type=="Ready")].status',
    );
    expect(columns.find((c) => c.name === 'Reason')?.jsonPath).toBe(
      '.status.conditions[?(@.type=="Ready")].reason',
    );
    expect(columns.at(-1)).toMatchObject({
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
    });
  });
});

describe('SlackIntegration CRD specifics', () => {
  const schema = schemaOf('SlackIntegration');

  it('has the short name slackint and a CHANNELS column', () => {
    expect(crds.SlackIntegration.spec.names.shortNames).toEqual(['slackint']);
    expect(
      version('SlackIntegration').additionalPrinterColumns.find((c) => c.name === 'Channels')?.jsonPath,
    ).toBe('.status.channelsReady');
  });

  it('defaults key, allowedNamespaces.from, membership and suspend', () => {
    expect(at(schema, 'spec.tokenSecretRef.key').default).toBe('token');
    expect(at(schema, 'spec.allowedNamespaces').default).toEqual({ from: 'Same' });
    expect(at(schema, 'spec.allowedNamespaces.from')).toMatchObject({
      default: 'Same',
      enum: ['Same', 'All', 'Selector'],
    });
    expect(at(schema, 'spec.membership').default).toEqual({});
    expect(at(schema, 'spec.membership.join').default).toBe(true);
    expect(at(schema, 'spec.membership.leaveUnused').default).toBe(false);
    expect(at(schema, 'spec.suspend').default).toBe(false);
  });

  it('lists the channel states of product.md', () => {
    expect(at(schema, 'status.channels.[].state').enum).toEqual([
      'Joined',
      'Member',
      'InviteRequired',
      'NotFound',
      'Archived',
    ]);
  });
});

describe('NotificationRule CRD specifics', () => {
  const schema = schemaOf('NotificationRule');

  it('has the short name nrule and a LAST DELIVERY column', () => {
    expect(crds.NotificationRule.spec.names.shortNames).toEqual(['nrule']);
    expect(
      version('NotificationRule').additionalPrinterColumns.find((c) => c.name === 'Last Delivery'),
    ).toMatchObject({
      type: 'date',
      jsonPath: '.status.deliveries[0].time',
    });
  });

  it('allows exactly the three events, as a set', () => {
    expect(at(schema, 'spec.events.[]').enum).toEqual(['Succeeded', 'Failed', 'Cancelled']);
    expect(at(schema, 'spec.events')['x-kubernetes-list-type']).toBe('set');
  });

  it('requires integrationRef, events and destinations, and defaults suspend', () => {
    expect(at(schema, 'spec').required).toEqual(['integrationRef', 'events', 'destinations']);
    expect(at(schema, 'spec.suspend').default).toBe(false);
  });
});
