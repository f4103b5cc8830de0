import { readdirSync, readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  validateNotificationRule,
  validateResource,
  validateSlackIntegration,
} from '../../../src/api/validate.ts';
import { badResources, integration, rule } from '../../support/bad-resources.ts';

const EXAMPLES = new URL('../../../examples/', import.meta.url);

function exampleDocuments(): unknown[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => yaml.loadAll(readFileSync(new URL(f, EXAMPLES), 'utf8')))
    .filter((d) => (d as { apiVersion?: string }).apiVersion?.startsWith('jobherald.dev/'));
}

describe('examples/', () => {
  const docs = exampleDocuments();

  it('has a SlackIntegration and NotificationRules', () => {
    const kinds = docs.map((d) => (d as { kind: string }).kind);
    expect(kinds).toContain('SlackIntegration');
    expect(kinds.filter((k) => k === 'NotificationRule').length).toBeGreaterThanOrEqual(2);
  });

  it.each(docs.map((d) => [(d as { metadata: { name: string } }).metadata.name, d] as const))(
    '%s is valid',
    (_name, doc) => {
      expect(validateResource(doc)).toEqual({ ok: true, value: doc });
    },
  );
});

describe('bad resources', () => {
  it.each(badResources.map((b) => [b.name, b] as const))('%s', (_name, bad) => {
    const result = validateResource(bad.resource);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const matching = result.errors.filter((e) => e.path === bad.path && e.message.includes(bad.message));
    expect(matching, JSON.stringify(result.errors)).not.toEqual([]);
    if (bad.enforcedBy === 'cel') expect(matching.map((e) => e.message)).toContain(bad.message);
    // each bad document breaks exactly one thing
    expect(
      result.errors.every((e) => e.path === bad.path),
      JSON.stringify(result.errors),
    ).toBe(true);
  });

  it('covers every enforcement layer', () => {
    expect(new Set(badResources.map((b) => b.enforcedBy))).toEqual(new Set(['schema', 'cel', 'operator']));
  });
});

describe('spec.channelPolicy', () => {
  it('accepts names, globs, IDs, user groups and namespace selectors', () => {
    const result = validateSlackIntegration(
      integration({
        channelPolicy: {
          allow: [
            { channels: ['#general', 'C0SHARED01'], userGroups: ['oncall'] },
            {
              namespaceSelector: {
                matchLabels: { team: 'a' },
                matchExpressions: [
                  { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a'] },
                ],
              },
              channels: ['team-a-*', '[!x-z]-alerts', 'G0456PRIVATE'],
              userGroups: ['@team-a-*', 'S0123ABCDE'],
            },
            { userGroups: ['*'] },
          ],
        },
      }),
    );
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('accepts allow: [] (nothing allowed) and reports every bad entry at its own path', () => {
    expect(validateSlackIntegration(integration({ channelPolicy: { allow: [] } })).ok).toBe(true);
    const result = validateSlackIntegration(
      integration({ channelPolicy: { allow: [{ channels: ['ok', 'Not OK'] }, { userGroups: ['[b-a]'] }] } }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toEqual([
      'spec.channelPolicy.allow[0].channels[1]',
      'spec.channelPolicy.allow[1].userGroups[0]',
    ]);
  });
});

describe('validateResource', () => {
  it('accepts the minimal resources', () => {
    expect(validateResource(integration()).ok).toBe(true);
    expect(validateResource(rule()).ok).toBe(true);
  });

  it('returns the input itself, not a defaulted copy', () => {
    const doc = integration();
    const result = validateSlackIntegration(doc);
    expect(result.ok && result.value).toBe(doc);
    expect((doc['spec'] as Record<string, unknown>)['membership']).toBeUndefined();
  });

  it('dispatches on kind and checks apiVersion', () => {
    expect(validateResource({ ...rule(), apiVersion: 'jobherald.dev/v1' })).toEqual({
      ok: false,
      errors: [
        {
          path: 'apiVersion',
          message: 'Unsupported value: "jobherald.dev/v1": supported values: "jobherald.dev/v1alpha1"',
        },
      ],
    });
    expect(validateResource({ ...rule(), kind: 'Alert' })).toEqual({
      ok: false,
      errors: [
        {
          path: 'kind',
          message: 'Unsupported value: "Alert": supported values: "SlackIntegration", "NotificationRule"',
        },
      ],
    });
    expect(validateResource({ apiVersion: 'jobherald.dev/v1alpha1' })).toEqual({
      ok: false,
      errors: [{ path: 'kind', message: 'Required value' }],
    });
    expect(validateNotificationRule(integration()).ok).toBe(false);
  });

  it('words structural errors like the API server', () => {
    const result = validateResource(rule({ events: ['Exploded'], suspend: 'no', mentions: [{ user: 3 }] }));
    expect(result.ok ? [] : result.errors).toEqual(
      expect.arrayContaining([
        {
          path: 'spec.events[0]',
          message: 'Unsupported value: "Exploded": supported values: "Succeeded", "Failed", "Cancelled"',
        },
        {
          path: 'spec.suspend',
          message: 'Invalid value: "string": spec.suspend in body must be of type boolean: "string"',
        },
        {
          path: 'spec.mentions[0].user',
          message:
            'Invalid value: "integer": spec.mentions[0].user in body must be of type string: "integer"',
        },
      ]),
    );
  });

  it('skips CEL rules when a type error makes them meaningless, as the API server does', () => {
    const result = validateResource(rule({ destinations: [{ channel: 42 }] }));
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['spec.destinations[0].channel']);
  });

  it('requires metadata.name and checks name and namespace syntax', () => {
    const noName = { ...rule(), metadata: { namespace: 'data' } };
    expect(validateResource(noName)).toMatchObject({ ok: false, errors: [{ path: 'metadata.name' }] });
    const badNamespace = { ...rule(), metadata: { name: 'x', namespace: 'Data_1' } };
    expect(validateResource(badNamespace)).toMatchObject({
      ok: false,
      errors: [{ path: 'metadata.namespace' }],
    });
    const noMetadata = { ...rule() };
    delete noMetadata['metadata'];
    expect(validateResource(noMetadata)).toMatchObject({
      ok: false,
      errors: [{ path: 'metadata', message: 'Required value' }],
    });
  });

  it('never throws, whatever it is given', () => {
    const garbage: unknown[] = [
      null,
      undefined,
      0,
      'NotificationRule',
      [],
      {},
      { apiVersion: 'jobherald.dev/v1alpha1', kind: 'NotificationRule' },
      { apiVersion: 'jobherald.dev/v1alpha1', kind: 'NotificationRule', metadata: 'x', spec: [] },
      { apiVersion: 'jobherald.dev/v1alpha1', kind: 'SlackIntegration', metadata: null, spec: null },
      rule({ selector: 'all', events: 'Failed', destinations: { channel: 'x' }, links: [null, 1, 'x'] }),
      rule({
        selector: { jobSelector: { matchLabels: [], matchExpressions: [null, { key: 1, operator: [] }] } },
      }),
      integration({ allowedNamespaces: 'All', membership: [], tokenSecretRef: 'x' }),
      integration({
        allowedNamespaces: {
          from: 'Selector',
          selector: { matchLabels: { ['x'.repeat(1000)]: 'y'.repeat(1000) } },
        },
      }),
      rule({ destinations: [{ channel: 'x'.repeat(100_000) }] }),
    ];
    for (const doc of garbage) {
      const result = validateResource(doc);
      expect(result.ok, JSON.stringify(doc)?.slice(0, 200)).toBe(false);
    }
  });

  it('never throws on random mutations of a valid rule', () => {
    const values: unknown[] = [null, true, 7, -1, '', 'x', '<!here>', [], [null], {}, { a: 1 }];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const paths = [
      ['spec', 'events'],
      ['spec', 'destinations', 0],
      ['spec', 'destinations', 0, 'channel'],
      ['spec', 'selector'],
      ['spec', 'selector', 'jobSelector'],
      ['spec', 'integrationRef'],
      ['spec', 'links'],
      ['metadata', 'name'],
      ['spec'],
    ];
    for (let i = 0; i < 300; i++) {
      const doc = rule({
        selector: { jobNames: ['a*'], jobSelector: { matchLabels: { a: 'b' } } },
        links: [{ text: 'a', url: 'https://x/' }],
      });
      const path = paths[Math.floor(random() * paths.length)]!;
      let node = doc as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) node = (node[key] ?? {}) as Record<string | number, unknown>;
      node[path.at(-1)!] = values[Math.floor(random() * values.length)];
      expect(() => validateResource(doc)).not.toThrow();
    }
  });
});
