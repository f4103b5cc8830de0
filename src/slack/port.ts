// What the operator needs from one Slack workspace, and nothing more. The delivery engine and the
// reconcilers depend on this interface; src/slack/client.ts implements it over @slack/web-api, and tests use
// fakes. Every method rejects with one of the errors of src/errors.ts (RetryableError, RateLimitedError,
// PermanentError, ChannelUnavailableError, AuthError) — never with a raw SDK error.
import type { SlackMessage } from '../domain/message.ts';

/** Slack's Web API; `spec.apiURL` replaces it (GovSlack, a proxy, the emulator). */
export const DEFAULT_API_URL = 'https://slack.com/api/';

export interface AuthInfo {
  teamId: string;
  team: string;
  url: string;
  /** the bot's user ID (U…) */
  userId: string;
  /** the bot's user name, as people type it in `/invite @name` */
  user?: string;
  botId?: string;
  /** from the x-oauth-scopes header; empty when Slack did not send it */
  scopes: string[];
}

export type ConversationType = 'public_channel' | 'private_channel' | 'im' | 'mpim';

export interface Conversation {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  isMember: boolean;
}

export interface PostedMessage {
  /** the conversation ID Slack resolved (a D… ID when posting to a user ID) */
  channel: string;
  ts: string;
}

export interface SlackPort {
  authTest(): Promise<AuthInfo>;
  /** Every conversation of the given types, following cursors to the end. */
  listConversations(options: {
    types: ConversationType[];
    excludeArchived?: boolean;
  }): Promise<Conversation[]>;
  conversationInfo(id: string): Promise<Conversation>;
  /** Join a public channel. Already being a member is success (`alreadyMember: true`). */
  join(id: string): Promise<{ alreadyMember: boolean }>;
  /** Leave a channel. Not being a member is success (`wasMember: false`). */
  leave(id: string): Promise<{ wasMember: boolean }>;
  postMessage(
    channel: string,
    message: SlackMessage,
    options?: { threadTs?: string },
  ): Promise<PostedMessage>;
  updateMessage(channel: string, ts: string, message: SlackMessage): Promise<PostedMessage>;
  /** The user ID for an email; rejects with PermanentError `users_not_found` when there is none. */
  lookupUserByEmail(email: string): Promise<string>;
  /** User-group handle → ID (S…), for `<!subteam^ID>` mentions. */
  listUserGroups(): Promise<Map<string, string>>;
}

/** How the composition root hands out clients: one per integration token (src/slack/client.ts implements it). */
export type SlackClientFactory = (options: {
  token: string;
  apiURL?: string;
  timeoutMs?: number;
}) => SlackPort;

/** What oauth.v2.access grants (an install's code exchange, or a refresh of a rotating token). */
export interface TokenGrant {
  /** the bot token (xoxb-…, or xoxe.xoxb-… when rotating); never logged */
  accessToken: string;
  /** the single-use refresh token of a rotating token (xoxe-1-…); never logged */
  refreshToken?: string;
  /** the access token's lifetime from now, in seconds (43,200 for Slack's rotating tokens) */
  expiresInSeconds?: number;
  scopes: string[];
  teamId: string;
  enterpriseId?: string;
  botUserId?: string;
}

/**
 * What the operator does with the Slack app's own credentials (client ID and secret) rather than a bot token.
 * Rejects with the errors of src/errors.ts: PermanentError `invalid_refresh_token`, `bad_client_secret`, ….
 */
export interface SlackAppPort {
  /** oauth.v2.access with grant_type=refresh_token: a new access token and a new refresh token */
  refresh(refreshToken: string): Promise<TokenGrant>;
  /** oauth.v2.access with an install's code (and the redirect URL the authorize request named) */
  exchange(code: string, redirectURL: string): Promise<TokenGrant>;
  /** auth.revoke of a token (one granted for the wrong workspace, say) */
  revoke(token: string): Promise<void>;
  /** apps.uninstall, called with a token of the workspace: the app leaves it, every token of it dies */
  uninstall(token: string): Promise<void>;
}

export type SlackAppClientFactory = (options: {
  clientId: string;
  clientSecret: string;
  apiURL?: string;
  timeoutMs?: number;
}) => SlackAppPort;
