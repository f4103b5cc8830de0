import { describe, expect, it } from 'vitest';
import { celTwins } from '../../../src/api/cel-twins.ts';
import {
  RESOURCE_KINDS,
  assertEveryRuleHasATwin,
  kubeSchema,
  type KubeSchema,
} from '../../../src/api/crd-schema.ts';
import {
  CHANNEL_POLICY_ENTRY,
  CHANNEL_REF,
  JOB_NAME_GLOB,
  SLACK_USER,
  USERGROUP_POLICY_ENTRY,
  USERGROUP_REF,
} from '../../../src/api/patterns.ts';

function rulesIn(schema: KubeSchema): string[] {
  const own = (schema['x-kubernetes-validations'] ?? []).map((v) => v.rule);
  const children = [
    ...Object.values(schema.properties ?? {}),
    ...(schema.items !== undefined ? [schema.items] : []),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
  ];
  return [...own, ...children.flatMap(rulesIn)];
}

const allRules = RESOURCE_KINDS.flatMap((kind) => rulesIn(kubeSchema(kind)));

/** The pattern of a CEL `self.matches("…")`, with CEL's string escapes undone. */
function celPattern(rule: string): string | undefined {
  const literal = /^self\.matches\("((?:[^"\\]|\\.)*)"\)$/.exec(rule)?.[1];
  return literal?.replace(/\\(.)/g, '$1');
}

describe('CEL twins', () => {
  it('exist for every CEL rule of both CRDs (the schema loader refuses otherwise)', () => {
    expect(allRules.length).toBeGreaterThanOrEqual(10);
    for (const rule of allRules) expect(celTwins.has(rule), rule).toBe(true);
  });

  it('are all used by some rule (no stale twin)', () => {
    for (const rule of celTwins.keys()) expect(allRules, rule).toContain(rule);
  });

  it('use exactly the regular expressions of src/api/patterns.ts', () => {
    const patterns = allRules.map(celPattern).filter((p): p is string => p !== undefined);
    expect(new Set(patterns)).toEqual(
      new Set([
        JOB_NAME_GLOB.source,
        CHANNEL_REF.source,
        SLACK_USER.source,
        USERGROUP_REF.source,
        CHANNEL_POLICY_ENTRY.source,
        USERGROUP_POLICY_ENTRY.source,
      ]),
    );
  });

  it('make the schema loader refuse a CEL rule without a twin', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            x: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self != "y"', message: 'm' }] },
          },
        },
      },
    };
    expect(() => assertEveryRuleHasATwin(schema, 'Test')).toThrow(
      'Test.spec.x: CEL rule without a TypeScript twin: self != "y"',
    );
    expect(() => kubeSchema('NotificationRule')).not.toThrow();
  });

  it.each([
    [
      'channel',
      CHANNEL_REF,
      ['data-alerts', '#data-alerts', 'a_b', 'C0123ABCDE', 'G0456PRIVATE'],
      ['Data', '#', 'data alerts', '<!channel>', 'C0123', `${'a'.repeat(81)}`],
    ],
    [
      'user',
      SLACK_USER,
      ['alice@example.com', 'a.b+c@sub.example.co', 'U0123ABCDE', 'W0123ABCDE'],
      ['bob', 'bob@', '@example.com', 'u0123abcde', '<@U0123ABCDE>'],
    ],
    [
      'group',
      USERGROUP_REF,
      ['data-oncall', '@data-oncall', 'S0123ABCDE'],
      ['Data Oncall', '<!subteam^S1>', '@'],
    ],
    [
      'glob',
      JOB_NAME_GLOB,
      ['nightly-*', 'job-?', 'job-[0-9]', 'job-[!a-c]x', '*'],
      ['Nightly', 'a_b', 'job-[', 'job-]', 'job-[]'],
    ],
    [
      'channelPolicy channel',
      CHANNEL_POLICY_ENTRY,
      ['data-alerts', '#data-alerts', 'team-a-*', '#[a-c]-alerts', '*', 'x?', 'C0123ABCDE', 'G0456PRIVATE'],
      ['Team-A', 'team a', '#', 'C0123', 'C*', 'team-[', '[]', '<!channel>'],
    ],
    [
      'channelPolicy user group',
      USERGROUP_POLICY_ENTRY,
      ['oncall', '@oncall', 'team.a-*', '@*', 'S0123ABCDE'],
      ['On-Call', '@', 'S*', 'a b', '<!subteam^S1>'],
    ],
  ] as const)('%s pattern accepts and refuses what it should', (_name, pattern, good, bad) => {
    for (const value of good) expect(pattern.test(value), value).toBe(true);
    for (const value of bad) expect(pattern.test(value), value).toBe(false);
  });

  it('tolerate values of the wrong type instead of throwing (structural validation reports those)', () => {
    for (const twin of celTwins.values()) {
      for (const value of [
        null,
        3,
        'x',
        [],
        {},
        { operator: 7, values: 'x' },
        { from: 'Selector', selector: null },
      ]) {
        expect(() => twin(value)).not.toThrow();
      }
    }
  });
});
