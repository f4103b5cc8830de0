// The emulated workspace at run time: channels with their members and messages, users, tokens and
// their fate (revoked, uninstalled, expired), OAuth codes. Built from a Workspace fixture; every lookup
// a request needs is a Map access, and messages are kept per channel, so no request rescans the
// workspace. A version number, bumped on every visible change, lets clients long-poll for changes.
import type { Clock } from './clock.ts';
import type { Workspace, WorkspaceUser, WorkspaceUserGroup } from './workspace.ts';

export interface ChannelState {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  isGeneral: boolean;
  /** A direct message with `imUser`, opened when something first posts to that user's ID. */
  isIm: boolean;
  imUser?: string;
  members: Set<string>;
  created: number;
  creator: string;
  topic: string;
  purpose: string;
  messages: StoredMessage[];
  byTs: Map<string, StoredMessage>;
}

export interface Poster {
  userId: string;
  botId?: string;
  /** Which door the message came in by. */
  via: 'api' | 'webhook' | 'response_url';
}

export interface MessageContent {
  text: string;
  blocks?: Record<string, unknown>[];
  attachments?: Record<string, unknown>[];
}

export interface StoredMessage extends MessageContent {
  seq: number;
  channel: string;
  ts: string;
  threadTs?: string;
  replyBroadcast?: boolean;
  metadata?: unknown;
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
  poster: Poster;
  postedAt: number;
  updatedAt?: number;
  /** Set when an update changed the text (Slack shows "(edited)" then, not for block-only updates). */
  edited?: { user: string; ts: string };
  /** Earlier versions, oldest first. */
  history: (MessageContent & { replacedAt: number })[];
  replies?: { count: number; users: string[]; latest: string };
  deleted?: boolean;
  /** Ephemeral: shown to this user only (response_url replies). */
  ephemeralFor?: string;
}

/** Keeps the current content of a message in its history, before an update replaces it. */
export function keepVersion(message: StoredMessage, now: number): void {
  message.history.push({
    text: message.text,
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    ...(message.attachments === undefined ? {} : { attachments: message.attachments }),
    replacedAt: now,
  });
}

export type DeadTokenError = 'token_revoked' | 'invalid_auth' | 'account_inactive';

export interface TokenState {
  token: string;
  type: 'bot' | 'user';
  userId: string;
  scopes: Set<string>;
  /** Set once revoked or uninstalled: the error every later call gets. */
  dead?: DeadTokenError;
  /** Rotating (xoxe.) tokens expire; later calls get token_expired. */
  expiresAt?: number;
}

export interface OAuthCode {
  code: string;
  scopes: string[];
  userScopes: string[];
  redirectUri?: string;
  installerId: string;
  used: boolean;
}

export interface ResponseUrlState {
  channel: string;
  messageTs: string;
  userId: string;
  usesLeft: number;
  expiresAt: number;
}

export class WorkspaceState {
  readonly workspace: Workspace;
  readonly clock: Clock;
  readonly users = new Map<string, WorkspaceUser>();
  readonly usersByEmail = new Map<string, WorkspaceUser>();
  readonly userGroups: WorkspaceUserGroup[];
  readonly channels = new Map<string, ChannelState>();
  private readonly channelsByName = new Map<string, ChannelState>();
  /** Channels in creation order, and each one's position in it: conversations.list pages walk this. */
  readonly channelOrder: ChannelState[] = [];
  readonly channelPosition = new Map<string, number>();
  readonly tokens = new Map<string, TokenState>();
  readonly refreshTokens = new Map<string, { accessToken: string }>();
  readonly oauthCodes = new Map<string, OAuthCode>();
  readonly responseUrls = new Map<string, ResponseUrlState>();
  readonly webhooks = new Map<string, { channel: string; disabled: boolean }>();
  /** Every message in posting order, for the control API's unfiltered listing. */
  readonly allMessages: StoredMessage[] = [];
  requestUrl: string | undefined;
  appUninstalled = false;
  version = 0;
  private lastTsMicros = 0;
  private nextSeq = 1;
  private waiters = new Set<() => void>();

  constructor(workspace: Workspace, clock: Clock) {
    this.workspace = workspace;
    this.clock = clock;
    this.requestUrl = workspace.app.requestUrl;
    const created = Math.floor(clock.now() / 1000) - 86_400;
    const creator = workspace.users.find((u) => u.isAdmin === true)?.id ?? workspace.bot.userId;
    this.users.set(workspace.bot.userId, {
      id: workspace.bot.userId,
      name: workspace.bot.name,
      realName: workspace.bot.name,
    });
    for (const user of workspace.users) {
      this.users.set(user.id, user);
      if (user.email !== undefined) this.usersByEmail.set(user.email.toLowerCase(), user);
    }
    this.userGroups = workspace.userGroups;
    for (const c of workspace.channels) {
      this.addChannel({
        id: c.id,
        name: c.name,
        isPrivate: c.private === true,
        isArchived: c.archived === true,
        isGeneral: c.general === true,
        isIm: false,
        members: new Set(c.members),
        created,
        creator,
        topic: c.topic ?? '',
        purpose: c.purpose ?? '',
        messages: [],
        byTs: new Map(),
      });
    }
    for (const t of workspace.tokens) this.addToken(t.token, t.type, t.scopes, t.userId);
    for (const hook of workspace.webhooks)
      this.webhooks.set(hook.path, { channel: hook.channel, disabled: false });
  }

  addToken(
    token: string,
    type: 'bot' | 'user',
    scopes: string[],
    userId?: string,
    expiresAt?: number,
  ): TokenState {
    const state: TokenState = {
      token,
      type,
      userId: type === 'bot' ? this.workspace.bot.userId : (userId ?? ''),
      scopes: new Set(scopes),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
    this.tokens.set(token, state);
    return state;
  }

  private addChannel(channel: ChannelState): void {
    this.channels.set(channel.id, channel);
    if (!channel.isIm) this.channelsByName.set(channel.name, channel);
    this.channelPosition.set(channel.id, this.channelOrder.length);
    this.channelOrder.push(channel);
  }

  /** A channel by ID, or by name with or without `#`. (User IDs resolve through openDirectMessage.) */
  channel(ref: string): ChannelState | undefined {
    return this.channels.get(ref) ?? this.channelsByName.get(ref.replace(/^#/, ''));
  }

  /** The names a channel reference goes by, for fault matching. */
  channelAliases(ref: string | undefined): string[] {
    if (ref === undefined) return [];
    const channel = this.channel(ref);
    return channel === undefined ? [ref.replace(/^#/, '')] : [channel.id, channel.name];
  }

  /** The DM between the bot and a user, opened on first use as Slack does when you post to a user ID. */
  openDirectMessage(userId: string): ChannelState | undefined {
    const user = this.users.get(userId);
    if (user === undefined || user.deleted === true || userId === this.workspace.bot.userId) return undefined;
    const id = `D${userId.slice(1)}`;
    const existing = this.channels.get(id);
    if (existing !== undefined) return existing;
    const dm: ChannelState = {
      id,
      name: id,
      isPrivate: true,
      isArchived: false,
      isGeneral: false,
      isIm: true,
      imUser: userId,
      members: new Set([userId, this.workspace.bot.userId]),
      created: Math.floor(this.clock.now() / 1000),
      creator: this.workspace.bot.userId,
      topic: '',
      purpose: '',
      messages: [],
      byTs: new Map(),
    };
    this.addChannel(dm);
    this.changed();
    return dm;
  }

  /** Slack timestamps: "<seconds>.<6 digits>", strictly increasing, so unique in every channel. */
  nextTs(): string {
    const micros = Math.max(Math.floor(this.clock.now() * 1000), this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  addMessage(
    channel: ChannelState,
    fields: Omit<StoredMessage, 'seq' | 'channel' | 'ts' | 'postedAt' | 'history'>,
  ): StoredMessage {
    const message: StoredMessage = {
      ...fields,
      seq: this.nextSeq++,
      channel: channel.id,
      ts: this.nextTs(),
      postedAt: this.clock.now(),
      history: [],
    };
    channel.messages.push(message);
    channel.byTs.set(message.ts, message);
    this.allMessages.push(message);
    if (message.threadTs !== undefined) {
      const parent = channel.byTs.get(message.threadTs);
      if (parent !== undefined) {
        const replies = parent.replies ?? { count: 0, users: [], latest: message.ts };
        replies.count += 1;
        replies.latest = message.ts;
        if (!replies.users.includes(message.poster.userId)) replies.users.push(message.poster.userId);
        parent.replies = replies;
      }
    }
    this.changed();
    return message;
  }

  /** Marks a change that clients may be waiting for (messages, membership, archive state). */
  changed(): void {
    this.version += 1;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves with the version once it is past `after`, or after `timeoutMs` regardless. */
  waitForChange(after: number, timeoutMs: number): Promise<number> {
    if (this.version > after || timeoutMs <= 0) return Promise.resolve(this.version);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(this.version);
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }

  /** Wakes every waiter now (used when the server stops). */
  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  botUserId(): string {
    return this.workspace.bot.userId;
  }
}
