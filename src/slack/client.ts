// SlackPort over @slack/web-api: one WebClient per SlackIntegration. This directory is the only code that
// imports the SDK (ESLint enforces it).
//
// The client is configured so that retry decisions stay with jobherald (slack-behaviour.md §2.3–2.4):
//   rejectRateLimitedCalls: true  → a 429 rejects this call with WebAPIRateLimitedError instead of pausing the
//                                   SDK's single request queue (which would stall every channel)
//   retryConfig: { retries: 0 }   → no hidden p-retry loop; the delivery queue retries per channel, in order
//   timeout                       → each request is bounded (AbortSignal.timeout)
import { ErrorCode, WebClient } from '@slack/web-api';
import type { WebAPICallResult } from '@slack/web-api';
import type { SlackMessage } from '../domain/message.ts';
import {
  AUTH_ERROR_CODES,
  AuthError,
  CHANNEL_ERROR_CODES,
  ChannelUnavailableError,
  JobheraldError,
  PermanentError,
  RateLimitedError,
  RetryableError,
  TRANSIENT_ERROR_CODES,
  safeCause,
} from '../errors.ts';
import type { LogSink } from './logging.ts';
import { silentLog, slackSdkLogger } from './logging.ts';
import type { AuthInfo, Conversation, ConversationType, PostedMessage, SlackPort } from './port.ts';

import { DEFAULT_API_URL } from './port.ts';

export { DEFAULT_API_URL };
export const DEFAULT_TIMEOUT_MS = 10_000;
/** When Slack rate-limits without a usable Retry-After (the 200 `rate_limited` variant). */
export const DEFAULT_RATE_LIMIT_MS = 1_000;

export interface SlackClientOptions {
  /** the bot token (xoxb-…); never logged, never part of an error */
  token: string;
  /** `spec.apiURL` of the SlackIntegration (GovSlack, a proxy, the emulator); default https://slack.com/api/ */
  apiURL?: string;
  /** per-request timeout; default 10 s */
  timeoutMs?: number;
  log?: LogSink;
  /** in-flight requests of this client; the dispatcher bounds sends itself, this bounds everything else too */
  maxRequestConcurrency?: number;
  /** a custom fetch (proxies, TLS) */
  fetch?: typeof globalThis.fetch;
}

export function createSlackClient(options: SlackClientOptions): SlackPort {
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiURL || DEFAULT_API_URL,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logger: slackSdkLogger(options.log ?? silentLog),
    maxRequestConcurrency: options.maxRequestConcurrency ?? 32,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return new WebClientPort(client);
}

/** Arguments we send with every chat.postMessage / chat.update: alerts never unfurl links. */
function messageArgs(message: SlackMessage): Record<string, unknown> {
  return {
    text: message.text,
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.attachments ? { attachments: message.attachments } : {}),
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** A Web API answer: the SDK's envelope plus the method's own fields, read defensively. */
type Result = WebAPICallResult & Record<string, unknown>;

class WebClientPort implements SlackPort {
  readonly #client: WebClient;

  constructor(client: WebClient) {
    this.#client = client;
  }

  async #call(method: string, args: Record<string, unknown>, channel?: string): Promise<Result> {
    try {
      return (await this.#client.apiCall(method, args)) as Result;
    } catch (err) {
      throw mapSlackError(err, { method, ...(channel ? { channel } : {}) });
    }
  }

  async authTest(): Promise<AuthInfo> {
    const r = await this.#call('auth.test', {});
    const info: AuthInfo = {
      teamId: str(r.team_id),
      team: str(r.team),
      url: str(r.url),
      userId: str(r.user_id),
      user: typeof r.user === 'string' && r.user !== '' ? r.user : undefined,
      scopes: r.response_metadata?.scopes ?? [],
    };
    if (typeof r.bot_id === 'string') info.botId = r.bot_id;
    return info;
  }

  async listConversations(options: {
    types: ConversationType[];
    excludeArchived?: boolean;
  }): Promise<Conversation[]> {
    const out: Conversation[] = [];
    let cursor = '';
    // Follow next_cursor until it is empty; a page may be short or even empty while a cursor remains.
    for (let page = 0; page < 10_000; page++) {
      const r = await this.#call('conversations.list', {
        types: options.types.join(','),
        exclude_archived: options.excludeArchived ?? false,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const c of arr(r.channels)) out.push(toConversation(c));
      cursor = str(r.response_metadata?.next_cursor);
      if (!cursor) return out;
    }
    throw new PermanentError('pagination_loop', 'conversations.list: too many pages');
  }

  async conversationInfo(id: string): Promise<Conversation> {
    const r = await this.#call('conversations.info', { channel: id }, id);
    return toConversation(r.channel);
  }

  async join(id: string): Promise<{ alreadyMember: boolean }> {
    try {
      const r = await this.#call('conversations.join', { channel: id }, id);
      const warnings = [...str(r.warning).split(','), ...(r.response_metadata?.warnings ?? [])];
      return { alreadyMember: warnings.includes('already_in_channel') };
    } catch (err) {
      if (err instanceof JobheraldError && err.code === 'already_in_channel') return { alreadyMember: true };
      throw err;
    }
  }

  async leave(id: string): Promise<{ wasMember: boolean }> {
    try {
      await this.#client.apiCall('conversations.leave', { channel: id });
      return { wasMember: true };
    } catch (err) {
      // Documented quirk: {"ok":false,"not_in_channel":true} with no `error` means "you were not in it".
      if (platformData(err)?.not_in_channel === true || platformData(err)?.error === 'not_in_channel') {
        return { wasMember: false };
      }
      throw mapSlackError(err, { method: 'conversations.leave', channel: id });
    }
  }

  async postMessage(
    channel: string,
    message: SlackMessage,
    options: { threadTs?: string } = {},
  ): Promise<PostedMessage> {
    const r = await this.#call(
      'chat.postMessage',
      { channel, ...messageArgs(message), ...(options.threadTs ? { thread_ts: options.threadTs } : {}) },
      channel,
    );
    return posted(r, channel);
  }

  async updateMessage(channel: string, ts: string, message: SlackMessage): Promise<PostedMessage> {
    const r = await this.#call('chat.update', { channel, ts, ...messageArgs(message) }, channel);
    return posted(r, channel);
  }

  async lookupUserByEmail(email: string): Promise<string> {
    const r = await this.#call('users.lookupByEmail', { email });
    const user = r.user as { id?: unknown } | undefined;
    if (typeof user?.id !== 'string')
      throw new PermanentError('users_not_found', 'users.lookupByEmail: no user id');
    return user.id;
  }

  async listUserGroups(): Promise<Map<string, string>> {
    const r = await this.#call('usergroups.list', { include_disabled: false });
    const out = new Map<string, string>();
    for (const g of arr(r.usergroups)) {
      const { handle, id } = g as { handle?: unknown; id?: unknown };
      if (typeof handle === 'string' && typeof id === 'string') out.set(handle, id);
    }
    return out;
  }
}

function posted(r: Result, channel: string): PostedMessage {
  const ts = str(r.ts);
  if (!ts) throw new RetryableError('invalid_response', 'Slack answered ok without a message ts');
  return { channel: str(r.channel) || channel, ts };
}

function toConversation(raw: unknown): Conversation {
  const c = (raw ?? {}) as Record<string, unknown>;
  return {
    id: str(c.id),
    name: str(c.name),
    isPrivate: c.is_private === true || c.is_group === true,
    isArchived: c.is_archived === true,
    isMember: c.is_member === true,
  };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

// ----------------------------------------------------------------------------------- error mapping

interface SdkError {
  code?: unknown;
  data?: Record<string, unknown>;
  retryAfter?: unknown;
  statusCode?: unknown;
  headers?: Record<string, string>;
  original?: unknown;
}

function platformData(err: unknown): Record<string, unknown> | undefined {
  const e = err as SdkError | null;
  return e && typeof e === 'object' && e.code === ErrorCode.PlatformError ? e.data : undefined;
}

/**
 * Turn whatever the SDK threw into a jobherald error. Branches on `error.code` (works for v7's plain errors and
 * v8's classes alike, slack-behaviour.md §2.5), then on Slack's own error string for platform errors.
 */
export function mapSlackError(
  err: unknown,
  context: { method?: string; channel?: string } = {},
): JobheraldError {
  if (err instanceof JobheraldError) return err;
  const e = (err ?? {}) as SdkError;
  const method = context.method ?? 'slack';
  const cause = safeCause(err);
  switch (e.code) {
    case ErrorCode.RateLimitedError: {
      const sec = typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter : undefined;
      return new RateLimitedError(sec === undefined ? DEFAULT_RATE_LIMIT_MS : sec * 1000, scopeOf(context), {
        cause,
      });
    }
    case ErrorCode.PlatformError: {
      const data = e.data ?? {};
      const raw = typeof data.error === 'string' && data.error ? data.error : 'unknown_error';
      // A body that is not JSON (a proxy's HTML page, a captive portal) arrives as `error`, and a JSON body
      // without `ok` is not Slack's either. Neither is echoed: a page can be large, carry markup, or echo the
      // request; status and Events say only that the answer was not Slack's, and where to look.
      if (!/^[a-z0-9_]{1,64}$/.test(raw) || data.ok === undefined) {
        return new PermanentError(
          'invalid_response',
          `${method}: the answer was not a Slack Web API response (not JSON, or no "ok" field): check spec.apiURL and any proxy in between`,
          { cause: notSlack(err) },
        );
      }
      const code = raw;
      const message = `${method}: ${code}${platformDetail(data)}`;
      if (AUTH_ERROR_CODES.has(code)) return new AuthError(code, message, { cause });
      if (CHANNEL_ERROR_CODES.has(code)) {
        return new ChannelUnavailableError(code, message, {
          cause,
          ...(context.channel ? { channel: context.channel } : {}),
        });
      }
      if (code === 'ratelimited' || code === 'rate_limited') {
        const sec = (data.response_metadata as { retryAfter?: unknown } | undefined)?.retryAfter;
        const ms = typeof sec === 'number' ? sec * 1000 : DEFAULT_RATE_LIMIT_MS;
        return new RateLimitedError(ms, scopeOf(context), { cause, code });
      }
      if (TRANSIENT_ERROR_CODES.has(code)) return new RetryableError(code, message, { cause });
      return new PermanentError(code, message, { cause });
    }
    case ErrorCode.HTTPError: {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      const message = `${method}: HTTP ${status}`;
      if (status >= 500 || status === 408 || status === 425 || status === 429) {
        const retryAfter = Number.parseInt(e.headers?.['retry-after'] ?? '', 10);
        return new RetryableError(`http_${status}`, message, {
          cause,
          ...(Number.isNaN(retryAfter) ? {} : { retryAfterMs: retryAfter * 1000 }),
        });
      }
      // Slack itself only answers 200/429; any other 4xx comes from a proxy or a wrong apiURL.
      return new PermanentError(`http_${status}`, message, { cause });
    }
    case ErrorCode.RequestError: {
      const original = e.original as { name?: unknown; message?: unknown } | undefined;
      const timedOut = original?.name === 'TimeoutError' || original?.name === 'AbortError';
      const code = timedOut ? 'timeout' : 'request_error';
      const why = typeof original?.message === 'string' ? original.message : 'request failed';
      return new RetryableError(code, `${method}: ${timedOut ? 'request timed out' : why}`, { cause });
    }
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return new RetryableError('unexpected_error', `${method}: ${message}`, { cause });
    }
  }
}

/** The SDK's error without the body it quotes (its message holds the whole page): a safe `cause`. */
function notSlack(err: unknown): Error {
  const copy = new Error('a response that is not a Slack Web API response (body not kept)');
  copy.name = err instanceof Error ? err.name : 'Error';
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

function scopeOf(context: { method?: string; channel?: string }) {
  return {
    ...(context.method ? { method: context.method } : {}),
    ...(context.channel ? { channel: context.channel } : {}),
  };
}

/** Slack's extra explanation: `needed` scope, block validation errors. Redacted by the error constructor. */
function platformDetail(data: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof data.needed === 'string') parts.push(`needed scope ${data.needed}`);
  if (Array.isArray(data.errors)) {
    for (const x of data.errors.slice(0, 3)) parts.push(typeof x === 'string' ? x : JSON.stringify(x));
  }
  return parts.length ? ` (${parts.join('; ').slice(0, 500)})` : '';
}
