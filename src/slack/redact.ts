// Secret masking for everything that leaves the process as text: error messages, log lines, status, Events.
// Slack tokens (xoxb-/xoxp-/xoxa-/xoxr-/xoxs-, rotated xoxe.xoxb-…, refresh xoxe-…, app-level xapp-…),
// bearer headers and the secret path of incoming-webhook URLs. This file imports nothing from @slack/*, so
// any layer may use it (src/errors.ts does).

const TOKEN = /\b(?:xoxe\.xox[a-z]|xox[a-z]|xoxe|xapp)-[A-Za-z0-9-]+/g;
const BEARER = /\b(Bearer\s+)[^\s"',;]+/gi;
const WEBHOOK = /\b(hooks\.slack(?:-gov)?\.com\/(?:services|workflows|triggers|actions)\/)[^\s"'<>)]+/gi;

export const MASK = '***';

/** Mask every secret in `text`, keeping the token's kind (`xoxb-***`) so a log still says what it was. */
export function redact(text: string): string {
  return text
    .replace(TOKEN, (token) => `${token.slice(0, token.indexOf('-') + 1)}${MASK}`)
    .replace(BEARER, `$1${MASK}`)
    .replace(WEBHOOK, `$1${MASK}`);
}

/** True when `text` holds something `redact` would mask. */
export function containsSecret(text: string): boolean {
  return redact(text) !== text;
}

/**
 * A deep copy of `value` with every string redacted and every property whose name says "token",
 * "authorization" or "secret" replaced by the mask. Cycles and depth are bounded; functions are dropped.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (seen.has(value) || depth > 8) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  const keys =
    value instanceof Error ? ['name', 'message', 'code', 'stack', ...Object.keys(value)] : Object.keys(value);
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    out[key] = SECRET_KEY.test(key) && typeof v === 'string' ? MASK : redactDeep(v, depth + 1, seen);
  }
  if (value instanceof Error && value.cause !== undefined)
    out.cause = redactDeep(value.cause, depth + 1, seen);
  return out;
}

const SECRET_KEY = /token|authorization|secret|password/i;

/**
 * Paths for pino's own `redact` option (fast-redact): objects that carry a token under a well-known key.
 * Strings anywhere else are masked by `pinoRedaction()`'s hooks.
 */
export const PINO_REDACT_PATHS: readonly string[] = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];
