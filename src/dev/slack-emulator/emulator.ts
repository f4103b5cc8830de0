// The emulator without its HTTP server: the workspace state and everything the control API can do to
// it (list messages, reset, kick the bot, archive, revoke, inject faults, count calls). The HTTP routes
// in control-routes.ts and the typed client in control-client.ts are two faces of these operations.
import { defaultBehaviour, type Behaviour } from './behaviour.ts';
import { AdjustableClock, type Clock } from './clock.ts';
import { Faults, type FaultRule } from './faults.ts';
import { clickButton, type Click, type ClickResult } from './interactivity.ts';
import { uninstallApp } from './methods/oauth.ts';
import { newOAuthCode } from './oauth-authorize.ts';
import { RateLimiter, type RateLimitOption } from './rate-limits.ts';
import { RequestCounts, type MethodCounts } from './request-counts.ts';
import { WorkspaceState, type ChannelState, type DeadTokenError, type StoredMessage } from './state.ts';
import type { Workspace } from './workspace.ts';

/** A message as the control API lists it. */
export interface EmulatedMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: Record<string, unknown>[];
  attachments?: Record<string, unknown>[];
  /** Who posted it, and through which door (Web API, incoming webhook, response_url). */
  poster: { userId: string; botId?: string; via: 'api' | 'webhook' | 'response_url' };
  postedAt: number;
  updatedAt?: number;
  /** How many times it was updated; `history` holds the earlier versions, oldest first. */
  updates: number;
  history: {
    text: string;
    blocks?: Record<string, unknown>[];
    attachments?: Record<string, unknown>[];
    replacedAt: number;
  }[];
  replyBroadcast?: boolean;
  replies?: { count: number; users: string[]; latest: string };
  ephemeralFor?: string;
  deleted?: boolean;
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
  metadata?: unknown;
}

export interface EmulatorOptions {
  workspace: Workspace;
  rateLimits?: RateLimitOption;
  clock?: Clock;
  behaviour?: Partial<Behaviour>;
}

export function toEmulatedMessage(m: StoredMessage): EmulatedMessage {
  const { seq: _seq, history, edited: _edited, ...rest } = m;
  return { ...rest, updates: history.length, history };
}

export class Emulator {
  readonly workspace: Workspace;
  readonly clock: Clock;
  readonly behaviour: Behaviour;
  readonly faults: Faults;
  readonly counts = new RequestCounts();
  private readonly initialRateLimits: RateLimitOption | undefined;
  private readonly initialTokenRotation: boolean | undefined;
  state: WorkspaceState;
  rateLimiter: RateLimiter;

  constructor(options: EmulatorOptions) {
    this.workspace = options.workspace;
    this.clock = options.clock ?? new AdjustableClock();
    this.behaviour = { ...defaultBehaviour, ...options.behaviour };
    this.faults = new Faults(this.clock);
    this.state = new WorkspaceState(this.workspace, this.clock);
    this.initialRateLimits = options.rateLimits;
    this.initialTokenRotation = options.workspace.app.tokenRotation;
    this.rateLimiter = new RateLimiter(options.rateLimits, this.clock);
  }

  private channelOrThrow(ref: string): ChannelState {
    const channel = this.state.channel(ref);
    if (channel === undefined) throw new ControlError(`unknown channel ${ref}`);
    return channel;
  }

  messages(channel?: string): EmulatedMessage[] {
    const list = channel === undefined ? this.state.allMessages : this.channelOrThrow(channel).messages;
    return list.map(toEmulatedMessage);
  }

  /** Back to the workspace as started: messages, membership, tokens, faults, rate limits and counts. */
  reset(): void {
    const previous = this.state;
    if (this.initialTokenRotation === undefined) delete this.workspace.app.tokenRotation;
    else this.workspace.app.tokenRotation = this.initialTokenRotation;
    this.state = new WorkspaceState(this.workspace, this.clock);
    this.state.version = previous.version + 1; // long-pollers must see a change, never a step back
    previous.wakeAll();
    this.faults.clear();
    this.rateLimiter = new RateLimiter(this.initialRateLimits, this.clock);
    this.counts.reset();
  }

  /** Adds a user (the bot by default) to a channel or removes them, e.g. to kick the bot. */
  setMembership(channel: string, member: boolean, userId = this.workspace.bot.userId): void {
    const target = this.channelOrThrow(channel);
    if (!this.state.users.has(userId)) throw new ControlError(`unknown user ${userId}`);
    if (member) target.members.add(userId);
    else target.members.delete(userId);
    this.state.changed();
  }

  setArchived(channel: string, archived: boolean): void {
    this.channelOrThrow(channel).isArchived = archived;
    this.state.changed();
  }

  /** Kills a token: later calls get `error` (token_revoked by default). */
  revokeToken(token: string, error: DeadTokenError = 'token_revoked'): void {
    const state = this.state.tokens.get(token);
    if (state === undefined) throw new ControlError('unknown token');
    state.dead = error;
  }

  addToken(token: { token: string; type: 'bot' | 'user'; scopes: string[]; userId?: string }): void {
    if (token.type === 'user' && (token.userId === undefined || !this.state.users.has(token.userId)))
      throw new ControlError('a user token needs the userId of a workspace user');
    this.state.addToken(token.token, token.type, token.scopes, token.userId);
  }

  /** As if someone removed the app in Slack: every token dies, webhooks stop. */
  uninstall(): void {
    uninstallApp(this.state);
  }

  injectFault(rule: FaultRule): string {
    return this.faults.inject(rule);
  }

  requestCounts(): Record<string, MethodCounts> {
    return this.counts.snapshot();
  }

  setRateLimits(option: RateLimitOption): void {
    this.rateLimiter = new RateLimiter(option, this.clock);
  }

  setRequestUrl(url: string | undefined): void {
    this.state.requestUrl = url;
  }

  click(baseUrl: string, click: Click): Promise<ClickResult> {
    return clickButton(this.state, baseUrl, click);
  }

  /** Lets time pass (token expiry, rate-limit refills): only for the emulator's own clock, not one passed in. */
  advanceClock(ms: number): number {
    if (!(this.clock instanceof AdjustableClock))
      throw new ControlError('this emulator runs on a clock of its caller; advance that one');
    this.clock.advance(ms);
    return this.clock.offsetMs;
  }

  /** Whether oauth.v2.access issues rotating tokens (xoxe., 12 hours, a refresh token) from now on. */
  setTokenRotation(enabled: boolean): void {
    this.workspace.app.tokenRotation = enabled;
  }

  oauthCode(scopes: string[], userScopes: string[] = [], redirectUri?: string): string {
    return newOAuthCode(this.state, scopes, userScopes, redirectUri);
  }
}

/** A control request that cannot be done (unknown channel…): HTTP 400 on the control API. */
export class ControlError extends Error {
  override name = 'ControlError';
}
