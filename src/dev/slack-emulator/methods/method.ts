// What every Web API method is made of (its tier, whether it takes JSON, the scopes that admit a
// token) and the checks they share: who is calling, with which scopes, and which channels they see.
import type { ApiRequest, Params } from '../api-request.ts';
import type { Behaviour } from '../behaviour.ts';
import type { Tier } from '../rate-limits.ts';
import { SlackApiError, type MethodResult } from '../slack-error.ts';
import type { ChannelState, TokenState, WorkspaceState } from '../state.ts';

export interface MethodContext {
  state: WorkspaceState;
  params: Params;
  request: ApiRequest;
  behaviour: Behaviour;
  /** The calling token, already checked alive; absent only for methods that need none. */
  token: TokenState | undefined;
  /** Where the emulator listens, e.g. http://127.0.0.1:3000 (webhook URLs point back at it). */
  baseUrl: string;
}

export interface MethodSpec {
  name: string;
  /** Rate-limit tier; chat.postMessage has its own limits on top (rate-limits.ts). */
  tier: Tier;
  /** Slack takes JSON bodies on write methods only. */
  acceptsJson: boolean;
  needsToken: boolean;
  /** Scopes that let a token call the method, sent back as `x-accepted-oauth-scopes`. */
  acceptedScopes: string[];
  handle(ctx: MethodContext): MethodResult | Promise<MethodResult>;
}

export function callerToken(ctx: MethodContext): TokenState {
  if (ctx.token === undefined) throw new SlackApiError('not_authed');
  return ctx.token;
}

/**
 * Passes when the token holds any of `anyOf`; otherwise Slack's `missing_scope` with `needed` (the
 * scope to ask for, which depends on the token type) and `provided` (what the token has).
 */
export function requireScope(
  token: TokenState,
  anyOf: string[],
  needed = { bot: anyOf[0], user: anyOf[0] },
): void {
  if (anyOf.some((scope) => token.scopes.has(scope))) return;
  throw new SlackApiError('missing_scope', {
    needed: (token.type === 'bot' ? needed.bot : needed.user) ?? anyOf.join(','),
    provided: [...token.scopes].join(','),
  });
}

/** The `read` scope for a kind of conversation (conversations.info, .members, .list). */
export function readScopeFor(channel: ChannelState): string {
  if (channel.isIm) return 'im:read';
  return channel.isPrivate ? 'groups:read' : 'channels:read';
}

/**
 * The channel a caller refers to, if they can see it: Slack answers `channel_not_found` alike for an
 * ID that does not exist and for a private channel or DM the caller is not in.
 */
export function visibleChannel(ctx: MethodContext, token: TokenState, ref: string | undefined): ChannelState {
  const channel = ref === undefined || ref === '' ? undefined : ctx.state.channel(ref);
  if (channel === undefined) throw new SlackApiError('channel_not_found');
  if (channel.isPrivate && !channel.members.has(token.userId)) throw new SlackApiError('channel_not_found');
  return channel;
}

/** Opaque cursors, like Slack's base64 `dXNlcjpVMDYxTkZUVDI=`: "<kind>:<position>". */
export function encodeCursor(kind: string, position: number): string {
  return Buffer.from(`${kind}:${position}`).toString('base64');
}

export function decodeCursor(kind: string, cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const match = new RegExp(`^${kind}:(\\d+)$`).exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (match?.[1] === undefined) throw new SlackApiError('invalid_cursor');
  return Number(match[1]);
}

/** `limit`: default 100; Slack refuses what is not a positive integer and caps at 1000. */
export function pageLimit(params: Params): number {
  const raw = params.limit;
  if (raw === undefined || raw === '') return 100;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 0) throw new SlackApiError('invalid_limit');
  return limit === 0 ? 100 : Math.min(limit, 1000);
}
