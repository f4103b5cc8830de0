// Errors that carry their retry meaning (kopf's TemporaryError/PermanentError, @slack/web-api's coded
// errors). Callers decide from the class — never from message text:
//
//   RetryableError          try again later (retryAfterMs if the server said when); 5xx, network, timeout
//     RateLimitedError      429 / ratelimited: wait exactly retryAfterMs; scoped to a channel or a method
//   PermanentError          this request will never succeed as is (invalid_blocks, users_not_found, …)
//   ChannelUnavailableError not_in_channel / channel_not_found / is_archived: re-check membership, park
//   AuthError               the token is dead (invalid_auth, token_revoked, …): the whole integration stops
//
// Every message is passed through redact(): no token or webhook secret can reach a log, an Event or status.
import { redact } from './slack/redact.ts';

export interface ErrorOptions {
  cause?: unknown;
}

export class JobheraldError extends Error {
  /** Stable machine-readable code: Slack's error string (`channel_not_found`) or ours (`timeout`). */
  readonly code: string;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = safeCode(code);
  }
}

export class RetryableError extends JobheraldError {
  /** When the server said to come back; otherwise the caller's backoff decides. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: ErrorOptions & { retryAfterMs?: number } = {}) {
    super(code, message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** What a rate limit applies to: one channel's queue (chat.postMessage) or one Web API method. */
export interface RateLimitScope {
  method?: string;
  channel?: string;
}

export class RateLimitedError extends RetryableError {
  declare readonly retryAfterMs: number;
  readonly scope: RateLimitScope;

  constructor(retryAfterMs: number, scope: RateLimitScope, options: ErrorOptions & { code?: string } = {}) {
    const where = scope.channel ? ` for ${scope.channel}` : '';
    super(
      options.code ?? 'ratelimited',
      `Slack rate limit${scope.method ? ` on ${scope.method}` : ''}${where}: retry in ${retryAfterMs} ms`,
      { ...options, retryAfterMs },
    );
    this.scope = scope;
  }
}

export class PermanentError extends JobheraldError {}

/** Integration-wide: the token no longer works. Every queue of the integration parks. */
export class AuthError extends JobheraldError {}

/** The bot cannot post to this channel right now; a membership re-check may make it usable again. */
export class ChannelUnavailableError extends JobheraldError {
  readonly channel: string | undefined;

  constructor(code: string, message: string, options: ErrorOptions & { channel?: string } = {}) {
    super(code, message, options);
    this.channel = options.channel;
  }
}

/** Slack's error codes that mean the token itself is unusable (slack-behaviour.md §1.4). */
export const AUTH_ERROR_CODES: ReadonlySet<string> = new Set([
  'not_authed',
  'invalid_auth',
  'token_revoked',
  'account_inactive',
  'token_expired',
  'no_permission',
  'team_access_not_granted',
  'org_login_required',
  'ekm_access_denied',
  'enterprise_is_restricted',
  'two_factor_setup_required',
  'team_added_to_org',
  'not_allowed_token_type',
]);

/** Errors of chat.postMessage / conversations.* that depend on the bot's membership of the channel. */
export const CHANNEL_ERROR_CODES: ReadonlySet<string> = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'is_inactive',
]);

/** Platform errors (HTTP 200, ok:false) that are Slack's own trouble, worth retrying. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'update_failed',
]);

/**
 * Any thrown value as a JobheraldError. Unknown errors are treated as retryable (`unexpected_error`): a bug or
 * an unforeseen transport failure is retried up to the delivery deadline and then reported, never dropped.
 */
export function asJobheraldError(err: unknown): JobheraldError {
  if (err instanceof JobheraldError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RetryableError('unexpected_error', `unexpected error: ${message}`, { cause: safeCause(err) });
}

/**
 * The error to keep as `cause`: the original unless its message would leak a secret, in which case a redacted
 * copy (same name, no stack) stands in for it.
 */
export function safeCause(err: unknown): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? redact(err) : err;
  if (redact(err.message) === err.message && redact(err.stack ?? '') === (err.stack ?? '')) return err;
  const copy = new Error(redact(err.message));
  copy.name = err.name;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

/** Codes are identifiers; anything else (a raw HTML body turned into `error` by the SDK) becomes `invalid_response`. */
function safeCode(code: string): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(code) && redact(code) === code ? code : 'invalid_response';
}

/** An error's message with its cause's, for logs and conditions. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
