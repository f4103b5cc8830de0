// Shell-style globs on Job and CronJob names: `*` (any run of characters, possibly empty), `?` (exactly one
// character), `[abc]`, `[a-z]`, `[!abc]` / `[^abc]` (one character in / not in the class). A glob matches the
// whole name. Matching is the classic two-pointer wildcard algorithm, O(name × glob) with no regex, so a
// hostile glob such as `*a*a*a*a*b` cannot cause catastrophic backtracking.

type Token =
  | { kind: 'star' }
  | { kind: 'one' }
  | { kind: 'literal'; char: string }
  | { kind: 'class'; negated: boolean; ranges: [string, string][] };

export type CompiledGlob = { ok: true; tokens: readonly Token[] } | { ok: false; error: string };

const cache = new Map<string, CompiledGlob>();
const CACHE_LIMIT = 4096;

/** Parse `glob`; a syntax error (unterminated or empty class, reversed range) is returned, not thrown. */
export function compileGlob(glob: string): CompiledGlob {
  const cached = cache.get(glob);
  if (cached !== undefined) return cached;
  const compiled = parse(glob);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(glob, compiled);
  return compiled;
}

function parse(glob: string): CompiledGlob {
  const chars = Array.from(glob);
  const tokens: Token[] = [];
  if (chars.length === 0) return { ok: false, error: 'empty glob' };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'one' });
    } else if (c === '[') {
      const close = chars.indexOf(']', i + 1);
      if (close < 0) return { ok: false, error: `unterminated character class at position ${i + 1}` };
      let body = chars.slice(i + 1, close);
      const negated = body[0] === '!' || body[0] === '^';
      if (negated) body = body.slice(1);
      if (body.length === 0) return { ok: false, error: `empty character class at position ${i + 1}` };
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        const from = body[j] as string;
        const to = body[j + 2];
        if (body[j + 1] === '-' && to !== undefined) {
          if (from > to) return { ok: false, error: `reversed range ${from}-${to} in character class` };
          ranges.push([from, to]);
          j += 2;
        } else {
          ranges.push([from, from]);
        }
      }
      tokens.push({ kind: 'class', negated, ranges });
      i = close;
    } else if (c === ']') {
      return { ok: false, error: `unmatched ] at position ${i + 1}` };
    } else {
      tokens.push({ kind: 'literal', char: c });
    }
  }
  return { ok: true, tokens };
}

function matchesOne(token: Token, char: string): boolean {
  switch (token.kind) {
    case 'one':
      return true;
    case 'literal':
      return token.char === char;
    case 'class': {
      const inside = token.ranges.some(([from, to]) => char >= from && char <= to);
      return inside !== token.negated;
    }
    case 'star':
      return false;
  }
}

/** Whether `name` matches `glob` as a whole. An invalid glob matches nothing. */
export function globMatches(glob: string, name: string): boolean {
  const compiled = compileGlob(glob);
  if (!compiled.ok) return false;
  const tokens = compiled.tokens;
  const chars = Array.from(name);
  let t = 0;
  let c = 0;
  let starToken = -1;
  let starChar = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token !== undefined && token.kind === 'star') {
      starToken = t++;
      starChar = c;
    } else if (token !== undefined && matchesOne(token, chars[c] as string)) {
      t++;
      c++;
    } else if (starToken >= 0) {
      t = starToken + 1;
      c = ++starChar;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}
