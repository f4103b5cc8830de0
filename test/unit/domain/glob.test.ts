import { describe, expect, it } from 'vitest';
import { compileGlob, globMatches } from '../../../src/domain/glob.ts';

describe('globMatches', () => {
  it.each([
    ['nightly-*', 'nightly-etl-29373', true],
    ['nightly-*', 'nightly-', true],
    ['nightly-*', 'hourly-etl', false],
    ['*-etl', 'nightly-etl', true],
    ['*-etl', 'nightly-etl-2', false],
    ['etl', 'etl', true],
    ['etl', 'etl-2', false],
    ['etl', 'my-etl', false],
    ['job-?', 'job-1', true],
    ['job-?', 'job-12', false],
    ['job-?', 'job-', false],
    ['job-[0-9]', 'job-7', true],
    ['job-[0-9]', 'job-a', false],
    ['job-[!0-9]', 'job-a', true],
    ['job-[!0-9]', 'job-7', false],
    ['job-[^0-9]', 'job-7', false],
    ['job-[abc]x', 'job-bx', true],
    ['job-[abc]x', 'job-dx', false],
    ['job-[a-c.-]', 'job-.', true],
    ['job-[a-c.-]', 'job--', true],
    ['*', '', true],
    ['*', 'anything.at.all', true],
    ['**', 'x', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['a.b', 'aXb', false],
  ])('%s on %s → %s', (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
  });

  it('treats regex metacharacters literally', () => {
    expect(globMatches('a.b', 'a.b')).toBe(true);
    expect(globMatches('a+b', 'aab')).toBe(false);
    expect(globMatches('(x)', '(x)')).toBe(true);
  });

  it('matches hostile globs in linear-ish time (no catastrophic backtracking)', () => {
    const glob = `${'*a'.repeat(60)}*b`;
    const name = 'a'.repeat(253);
    const started = performance.now();
    expect(globMatches(glob, name)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('compileGlob', () => {
  it.each([
    ['job-[0-9', 'unterminated character class at position 5'],
    ['job-[]', 'empty character class at position 5'],
    ['job-[!]', 'empty character class at position 5'],
    ['job-[9-0]', 'reversed range 9-0 in character class'],
    ['job-]', 'unmatched ] at position 5'],
    ['', 'empty glob'],
  ])('rejects %j: %s', (glob, error) => {
    expect(compileGlob(glob)).toEqual({ ok: false, error });
  });

  it('an invalid glob matches nothing', () => {
    expect(globMatches('job-[0-9', 'job-[0-9')).toBe(false);
  });

  it('accepts valid globs', () => {
    expect(compileGlob('nightly-[a-z]?-*').ok).toBe(true);
  });
});
