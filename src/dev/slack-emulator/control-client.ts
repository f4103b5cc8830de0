// Typed helpers over the /_control/ API, for tests and the demo. They speak HTTP, so they work the same
// against an in-process emulator (startSlackEmulator) and one started by the CLI (connectSlackEmulator).
import type { DeadTokenError } from './state.ts';
import type { EmulatedMessage } from './emulator.ts';
import type { FaultRule } from './faults.ts';
import type { ClickResult } from './interactivity.ts';
import type { RateLimitOption } from './rate-limits.ts';
import type { MethodCounts } from './request-counts.ts';

export interface WaitOptions {
  /** Only this channel's messages (ID or name). */
  channel?: string;
  /** Wait until at least this many messages are listed. */
  count?: number;
  /** Or until this returns true for the listed messages. */
  until?: (messages: EmulatedMessage[]) => boolean;
  /** Default 5000 ms. */
  timeoutMs?: number;
}

export interface WorkspaceSummary {
  version: number;
  team: { id: string; name: string; domain: string };
  bot: { userId: string; botId: string; name: string };
  users: { id: string; name: string; realName: string }[];
  userGroups: { id: string; handle: string; name: string }[];
  channels: {
    id: string;
    name: string;
    private: boolean;
    archived: boolean;
    im: boolean;
    members: string[];
    botIsMember: boolean;
    messageCount: number;
  }[];
  requestUrl: string | null;
}

export class SlackEmulatorControl {
  readonly url: string;

  /** `url`: the emulator's base URL, e.g. http://127.0.0.1:3000 */
  constructor(url: string) {
    this.url = url.replace(/\/$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_control${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const result = (await response.json()) as T & { error?: string };
    if (!response.ok)
      throw new Error(`slack emulator: ${method} /_control${path}: ${result.error ?? response.status}`);
    return result;
  }

  /** Posted messages (their current version), oldest first; all channels, or one by ID or name. */
  async messages(channel?: string): Promise<EmulatedMessage[]> {
    const query = channel === undefined ? '' : `?channel=${encodeURIComponent(channel)}`;
    return (await this.call<{ messages: EmulatedMessage[] }>('GET', `/messages${query}`)).messages;
  }

  /**
   * Resolves with the messages once the condition holds (`count` reached, or `until` true), waiting on
   * the emulator's long-poll rather than sleeping; rejects after `timeoutMs`, listing what it saw.
   */
  async waitForMessages(options: WaitOptions): Promise<EmulatedMessage[]> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    const done = (messages: EmulatedMessage[]) =>
      (options.count === undefined || messages.length >= options.count) &&
      (options.until === undefined || options.until(messages));
    const channel = options.channel === undefined ? '' : `&channel=${encodeURIComponent(options.channel)}`;
    let after = -1;
    for (;;) {
      const waitMs = Math.max(0, deadline - Date.now());
      const page = await this.call<{ version: number; messages: EmulatedMessage[] }>(
        'GET',
        `/messages?after=${after}&waitMs=${waitMs}${channel}`,
      );
      if (done(page.messages)) return page.messages;
      if (Date.now() >= deadline) {
        const seen = page.messages.map((m) => `${m.channel} ${m.ts}: ${m.text.slice(0, 80)}`).join('\n  ');
        throw new Error(
          `slack emulator: timed out waiting for messages${options.channel === undefined ? '' : ` in ${options.channel}`}; saw ${page.messages.length}:\n  ${seen}`,
        );
      }
      after = page.version;
    }
  }

  /** Back to the workspace as loaded: messages, membership, tokens, faults, rate limits and counts. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset', {});
  }

  /** Adds the bot (or `user`) to a channel, or removes it: `setMembership('alerts', false)` kicks the bot. */
  async setMembership(channel: string, member: boolean, user?: string): Promise<void> {
    await this.call('POST', '/membership', { channel, member, ...(user === undefined ? {} : { user }) });
  }

  async setArchived(channel: string, archived: boolean): Promise<void> {
    await this.call('POST', '/archive', { channel, archived });
  }

  /** Later calls with this token get `error` (token_revoked unless said otherwise). */
  async revokeToken(token: string, error?: DeadTokenError): Promise<void> {
    await this.call('POST', '/tokens/revoke', { token, ...(error === undefined ? {} : { error }) });
  }

  async addToken(token: {
    token: string;
    type: 'bot' | 'user';
    scopes: string[];
    userId?: string;
  }): Promise<void> {
    await this.call('POST', '/tokens', token);
  }

  /** As if the app were removed in Slack: bot tokens get account_inactive, user tokens token_revoked. */
  async uninstall(): Promise<void> {
    await this.call('POST', '/uninstall', {});
  }

  /** Lets `ms` pass on the emulator's clock (tokens expire, buckets refill); returns the total offset. */
  async advanceClock(ms: number): Promise<number> {
    return (await this.call<{ offsetMs: number }>('POST', '/clock', { advanceMs: ms })).offsetMs;
  }

  /** Turns token rotation on or off for installs and refreshes from now on (oauth.v2.access). */
  async setTokenRotation(enabled: boolean): Promise<void> {
    await this.call('POST', '/token-rotation', { enabled });
  }

  /** Returns the fault's ID, for removeFault. */
  async injectFault(rule: FaultRule): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/faults', rule)).id;
  }

  async removeFault(id: string): Promise<void> {
    await this.call('DELETE', `/faults/${encodeURIComponent(id)}`);
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  /** Calls per method since start or reset, e.g. `(await requestCounts())['chat.postMessage'].ok`. */
  async requestCounts(): Promise<Record<string, MethodCounts>> {
    return (await this.call<{ counts: Record<string, MethodCounts> }>('GET', '/requests')).counts;
  }

  async resetRequestCounts(): Promise<void> {
    await this.call('DELETE', '/requests');
  }

  async setRateLimits(rateLimits: RateLimitOption): Promise<void> {
    await this.call('POST', '/rate-limits', { rateLimits });
  }

  /** Where clickButton POSTs block_actions payloads (undefined: nowhere). */
  async setRequestUrl(url: string | undefined): Promise<void> {
    await this.call('POST', '/request-url', url === undefined ? {} : { url });
  }

  /** A user clicks a button of a posted message: the signed block_actions payload goes to the Request URL. */
  async clickButton(click: {
    channel: string;
    ts: string;
    actionId: string;
    userId?: string;
  }): Promise<ClickResult> {
    return this.call<ClickResult>('POST', '/click', click);
  }

  /** A code for oauth.v2.access, as if a user had approved an install with these scopes. */
  async oauthCode(
    scopes: string[],
    options: { userScopes?: string[]; redirectUri?: string } = {},
  ): Promise<string> {
    return (await this.call<{ code: string }>('POST', '/oauth/code', { scopes, ...options })).code;
  }

  async workspace(): Promise<WorkspaceSummary> {
    return this.call<WorkspaceSummary>('GET', '/workspace');
  }
}
