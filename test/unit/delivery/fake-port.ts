// A scriptable SlackPort for the queue tests: records every chat.postMessage with its simulated time, answers
// after a simulated latency, and fails calls on demand.
import type { SlackMessage } from '../../../src/domain/message.ts';
import type { AuthInfo, Conversation, PostedMessage, SlackPort } from '../../../src/slack/port.ts';
import type { ManualClock } from './fake-clock.ts';

export interface PostCall {
  channel: string;
  message: SlackMessage;
  threadTs?: string;
  at: number;
  ok: boolean;
}

type Answer = Error | ((call: PostCall) => Error | undefined);

export class FakeSlackPort implements SlackPort {
  readonly calls: PostCall[] = [];
  latencyMs: number;
  inFlight = 0;
  maxInFlight = 0;
  readonly #clock: ManualClock;
  readonly #script = new Map<string, Answer[]>();
  #fallback: ((call: PostCall) => Error | undefined) | undefined;
  #seq = 0;

  constructor(clock: ManualClock, latencyMs = 0) {
    this.#clock = clock;
    this.latencyMs = latencyMs;
  }

  /** The next calls to `channel` fail with these errors, in order; later ones succeed. */
  failNext(channel: string, ...errors: Answer[]): this {
    this.#script.set(channel, [...(this.#script.get(channel) ?? []), ...errors]);
    return this;
  }

  /** Decide every call not scripted with failNext (return an Error to fail it). */
  answerWith(fn: (call: PostCall) => Error | undefined): this {
    this.#fallback = fn;
    return this;
  }

  callsTo(channel: string): PostCall[] {
    return this.calls.filter((c) => c.channel === channel);
  }

  postMessage(
    channel: string,
    message: SlackMessage,
    options: { threadTs?: string } = {},
  ): Promise<PostedMessage> {
    const call: PostCall = { channel, message, at: this.#clock.now(), ok: false };
    if (options.threadTs !== undefined) call.threadTs = options.threadTs;
    this.calls.push(call);
    const scripted = this.#script.get(channel)?.shift();
    const answer = scripted ?? this.#fallback;
    const error = typeof answer === 'function' ? answer(call) : answer;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const ts = `${1_790_000_000 + this.#seq++}.000100`;
    return new Promise((resolve, reject) => {
      const finish = () => {
        this.inFlight--;
        if (error) reject(error);
        else {
          call.ok = true;
          resolve({ channel, ts });
        }
      };
      if (this.latencyMs > 0) this.#clock.setTimeout(finish, this.latencyMs);
      else finish();
    });
  }

  authTest(): Promise<AuthInfo> {
    return Promise.reject(new Error('not used'));
  }
  listConversations(): Promise<Conversation[]> {
    return Promise.reject(new Error('not used'));
  }
  conversationInfo(): Promise<Conversation> {
    return Promise.reject(new Error('not used'));
  }
  join(): Promise<{ alreadyMember: boolean }> {
    return Promise.reject(new Error('not used'));
  }
  leave(): Promise<{ wasMember: boolean }> {
    return Promise.reject(new Error('not used'));
  }
  updateMessage(): Promise<PostedMessage> {
    return Promise.reject(new Error('not used'));
  }
  lookupUserByEmail(): Promise<string> {
    return Promise.reject(new Error('not used'));
  }
  listUserGroups(): Promise<Map<string, string>> {
    return Promise.reject(new Error('not used'));
  }
}
