// Slack mrkdwn escaping and length limits. Slack treats `&`, `<` and `>` as control characters (links,
// mentions, `<!here>`); every user-controlled string goes through escapeMrkdwn before it reaches a mrkdwn
// text, so a Job name or a termination message can never inject a mention or a link
// (reference/slack-behaviour.md §4.3). Truncation counts UTF-16 code units (what JavaScript and, to be
// safe, Slack count), never splits a surrogate pair, and never cuts an escape sequence in half.

export const ELLIPSIS = '…';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`; nothing else is encoded. */
export function escapeMrkdwn(raw: string): string {
  return raw.replace(/[&<>]/g, (c) => ENTITIES[c] ?? c);
}

/**
 * Escape `raw` for mrkdwn and fit it into `max` UTF-16 code units, ending with `…` when something was cut.
 * The cut falls between whole characters of the raw text, so `&amp;` is either complete or absent.
 */
export function escapeAndTruncate(raw: string, max: number): string {
  const full = escapeMrkdwn(raw);
  if (full.length <= max) return full;
  return fit(
    Array.from(raw, (c) => ENTITIES[c] ?? c),
    max,
  );
}

/** Fit plain text (plain_text objects, URLs already checked) into `max` code units with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return fit(Array.from(text.slice(0, max + 1)), max);
}

function fit(pieces: string[], max: number): string {
  if (max <= 0) return '';
  const budget = max - ELLIPSIS.length;
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return out + ELLIPSIS;
}

/**
 * A mrkdwn code block of `raw`, escaped, at most `max` code units in total. A run of three backticks
 * inside would end the block early, so it is broken with a zero-width space.
 */
export function codeBlock(raw: string, max: number): string {
  const safe = raw.replace(/```/g, '``\u200b`');
  return '```' + escapeAndTruncate(safe, Math.max(0, max - 6)) + '```';
}
