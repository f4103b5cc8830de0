import { describe, expect, it } from 'vitest';
import {
  labelKeyProblem,
  labelSelectorMatches,
  labelSelectorProblems,
  labelValueProblem,
} from '../../../src/domain/selector.ts';

const labels = { app: 'etl', tier: 'batch', 'example.com/team': 'data' };

describe('labelSelectorMatches', () => {
  it('an empty selector selects everything, including no labels', () => {
    expect(labelSelectorMatches({}, labels)).toBe(true);
    expect(labelSelectorMatches({}, undefined)).toBe(true);
  });

  it('matchLabels needs every pair', () => {
    expect(labelSelectorMatches({ matchLabels: { app: 'etl' } }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { app: 'etl', tier: 'web' } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchLabels: { missing: '' } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchLabels: { 'example.com/team': 'data' } }, labels)).toBe(true);
  });

  it('In needs the label with one of the values', () => {
    const sel = { matchExpressions: [{ key: 'app', operator: 'In' as const, values: ['etl', 'dbt'] }] };
    expect(labelSelectorMatches(sel, labels)).toBe(true);
    expect(labelSelectorMatches(sel, { app: 'web' })).toBe(false);
    expect(labelSelectorMatches(sel, {})).toBe(false);
  });

  it('NotIn holds when the label is missing or has another value', () => {
    const sel = { matchExpressions: [{ key: 'app', operator: 'NotIn' as const, values: ['web'] }] };
    expect(labelSelectorMatches(sel, labels)).toBe(true);
    expect(labelSelectorMatches(sel, {})).toBe(true);
    expect(labelSelectorMatches(sel, { app: 'web' })).toBe(false);
  });

  it('Exists and DoesNotExist look at the key only', () => {
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(
      true,
    );
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, {})).toBe(false);
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels),
    ).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels)).toBe(
      true,
    );
  });

  it('ANDs matchLabels and every expression', () => {
    const sel = {
      matchLabels: { app: 'etl' },
      matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['web'] }],
    };
    expect(labelSelectorMatches(sel, labels)).toBe(false);
  });

  it('a malformed selector selects nothing', () => {
    const badOperator = { matchExpressions: [{ key: 'app', operator: 'Contains', values: ['e'] }] };
    expect(labelSelectorMatches(badOperator as never, labels)).toBe(false);
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, labels),
    ).toBe(false);
    expect(
      labelSelectorMatches(
        { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['etl'] }] },
        labels,
      ),
    ).toBe(false);
  });

  it('does not match inherited object properties', () => {
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {})).toBe(
      false,
    );
  });
});

describe('label syntax', () => {
  it.each(['app', 'app.kubernetes.io/name', 'a', 'A_b-c.d', 'x/y'])('accepts key %s', (key) => {
    expect(labelKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', 'name part must be non-empty'],
    ['app name', 'name part must consist'],
    ['-app', 'name part must consist'],
    ['Example.com/app', 'prefix part must be a lowercase RFC 1123 subdomain'],
    ['/app', 'prefix part must be non-empty'],
    ['example.com/', 'name part must be non-empty'],
    ['a'.repeat(64), 'name part must be no more than 63 characters'],
  ])('rejects key %j', (key, problem) => {
    expect(labelKeyProblem(key)).toContain(problem);
  });

  it('checks values', () => {
    expect(labelValueProblem('')).toBeUndefined();
    expect(labelValueProblem('etl-1.2_b')).toBeUndefined();
    expect(labelValueProblem('data team')).toContain('a valid label value');
    expect(labelValueProblem('x'.repeat(64))).toContain('63');
  });

  it('reports each problem with its path inside the selector', () => {
    expect(
      labelSelectorProblems({
        matchLabels: { 'bad key': 'ok', good: 'bad value' },
        matchExpressions: [{ key: 'ok', operator: 'In', values: ['fine', 'not fine'] }],
      }).map((p) => p.path),
    ).toEqual(['matchLabels', 'matchLabels.good', 'matchExpressions[0].values[1]']);
  });

  it('ignores input of the wrong shape instead of throwing', () => {
    expect(labelSelectorProblems(null)).toEqual([]);
    expect(labelSelectorProblems({ matchLabels: 3, matchExpressions: 'x' })).toEqual([]);
    expect(labelSelectorProblems({ matchExpressions: [null, 4] })).toEqual([]);
  });
});
