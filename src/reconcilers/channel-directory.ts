// What Slack last said the workspace's channels are (conversations.list, public and private), by ID and by
// name, for one integration. Listed again when it is older than the re-check interval, when a rule names a
// channel not in it (at most every 5 s), and after a send found a channel gone. The last listing is kept when a
// send asks for a re-check: the channel policy matches names and IDs against it meanwhile.
import { parseChannelRef } from '../domain/membership.ts';
import { PermanentError } from '../errors.ts';
import type { Conversation, SlackPort } from '../slack/port.ts';

/** A channel a rule names and the listing lacks is looked for again at most this often. */
const LOOKUP_AGAIN_MS = 5_000;

export interface Directory {
  byId: Map<string, Conversation>;
  byName: Map<string, Conversation>;
}

export class ChannelDirectory {
  #current: (Directory & { at: number }) | undefined;
  #last: Directory | undefined;

  /** Slack changed under us (a send said channel_not_found…): list again at the next reconcile. */
  invalidate(): void {
    this.#current = undefined;
  }

  /** Another token, maybe another workspace: nothing listed holds. */
  forget(): void {
    this.#current = undefined;
    this.#last = undefined;
  }

  /** Whether channels were ever listed (before that, the policy cannot tell a name's ID). */
  get looked(): boolean {
    return (this.#current ?? this.#last) !== undefined;
  }

  /** The channel a reference names, as last listed. */
  find(ref: string): Conversation | undefined {
    const parsed = parseChannelRef(ref);
    const directory = this.#current ?? this.#last;
    return parsed.kind === 'id' ? directory?.byId.get(parsed.id) : directory?.byName.get(parsed.name);
  }

  /** The listing, listed again first when it is due for the channels `refs` names. */
  async current(port: SlackPort, refs: readonly string[], maxAgeMs: number, now: number): Promise<Directory> {
    const current = this.#current;
    const missing = refs.some((r) => {
      const ref = parseChannelRef(r);
      return ref.kind === 'name' ? !current?.byName.has(ref.name) : !current?.byId.has(ref.id);
    });
    const age = now - (current?.at ?? 0);
    if (current === undefined || age > maxAgeMs || (missing && age > LOOKUP_AGAIN_MS))
      return this.#list(port, now);
    return current;
  }

  async #list(port: SlackPort, now: number): Promise<Directory> {
    let conversations: Conversation[];
    try {
      conversations = await port.listConversations({ types: ['public_channel', 'private_channel'] });
    } catch (error) {
      // A token without groups:read can still see public channels.
      if (error instanceof PermanentError && error.code === 'missing_scope') {
        conversations = await port.listConversations({ types: ['public_channel'] });
      } else throw error;
    }
    const byId = new Map<string, Conversation>();
    const byName = new Map<string, Conversation>();
    for (const c of conversations) {
      byId.set(c.id, c);
      // a live channel wins over an archived one of the same name
      const existing = byName.get(c.name);
      if (existing === undefined || (existing.isArchived && !c.isArchived)) byName.set(c.name, c);
    }
    this.#current = { byId, byName, at: now };
    this.#last = this.#current;
    return this.#current;
  }
}
