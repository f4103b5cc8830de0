import { describe, expect, it } from 'vitest';
import { codeBlock, escapeAndTruncate, escapeMrkdwn, truncate } from '../../../src/domain/escape.ts';

describe('escapeMrkdwn', () => {
  it('escapes exactly &, < and >', () => {
    expect(escapeMrkdwn('<!channel> & <@U123|bob> "quoted" \'x\'')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U123|bob&gt; "quoted" \'x\'',
    );
  });

  it('escapes an already escaped string again (no double-decoding tricks)', () => {
    expect(escapeMrkdwn('&lt;!here&gt;')).toBe('&amp;lt;!here&amp;gt;');
  });
});

describe('escapeAndTruncate', () => {
  it('leaves short text alone apart from escaping', () => {
    expect(escapeAndTruncate('a<b', 10)).toBe('a&lt;b');
  });

  it('cuts with an ellipsis within the limit', () => {
    const out = escapeAndTruncate('x'.repeat(100), 10);
    expect(out).toBe(`${'x'.repeat(9)}…`);
    expect(out.length).toBe(10);
  });

  it('never splits an escape sequence', () => {
    for (let max = 1; max < 30; max++) {
      const out = escapeAndTruncate('<'.repeat(20), max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out.replace(/&lt;/g, '')).toMatch(/^…?$/);
    }
  });

  it('never splits a surrogate pair', () => {
    const out = escapeAndTruncate('😀'.repeat(10), 6);
    expect(out).toBe('😀😀…');
  });
});

describe('truncate', () => {
  it('cuts plain text with an ellipsis and does not escape', () => {
    expect(truncate('<b>', 10)).toBe('<b>');
    expect(truncate('abcdef', 4)).toBe('abc…');
  });
});

describe('codeBlock', () => {
  it('wraps escaped text and cannot be closed early by the content', () => {
    const out = codeBlock('oops ``` <!here>', 100);
    expect(out.startsWith('```')).toBe(true);
    expect(out.endsWith('```')).toBe(true);
    expect(out.slice(3, -3)).not.toContain('```');
    expect(out).toContain('&lt;!here&gt;');
  });

  it('stays within its limit', () => {
    expect(codeBlock('x'.repeat(5000), 100).length).toBeLessThanOrEqual(100);
  });
});
