// Channel membership: the channels the allowed rules name (desired) against what Slack says (actual) →
// one status entry per channel and the join/leave actions to take.
//
//   resolved, member                      → Member (or Joined if the operator joined it earlier)
//   public, not a member, membership.join → action join; state Joined (see applyJoinResult)
//   public, not a member, join disabled   → InviteRequired
//   private, not a member                 → InviteRequired ("private channel: invite the bot with …")
//   archived                              → Archived
//   not found                             → NotFound (Slack hides private channels the bot is not in)
//   joined by the operator, named by no rule any more, membership.leaveUnused → action leave
// Channels the bot was invited to (Member) are never left.
import type { ChannelStatus, DestinationState } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { CHANNEL_ID } from '../api/patterns.ts';

export type ChannelRef = { kind: 'id'; id: string } | { kind: 'name'; name: string };

/** `C0123ABCDE` / `G0456…` → an ID; `data-alerts` or `#data-alerts` → a name (without `#`). */
export function parseChannelRef(ref: string): ChannelRef {
  const trimmed = ref.trim();
  if (CHANNEL_ID.test(trimmed)) return { kind: 'id', id: trimmed };
  return { kind: 'name', name: trimmed.replace(/^#/, '').toLowerCase() };
}

/** How a channel reference is shown to people: `#name` or the ID. */
export function displayChannelRef(ref: ChannelRef): string {
  return ref.kind === 'id' ? ref.id : `#${ref.name}`;
}

/** A channel as Slack describes it (conversations.info / conversations.list). */
export interface ResolvedChannel {
  id: string;
  name: string;
  private: boolean;
  archived: boolean;
  /** whether the bot is a member */
  isMember: boolean;
}

export interface DesiredChannel {
  /** the reference as a rule wrote it: `data-alerts`, `#data-alerts`, `C0123ABCDE` */
  ref: string;
  /** `namespace/name` of the rules naming it */
  usedBy: readonly string[];
}

export interface MembershipInput {
  /** every channel destination of the rules allowed to use this integration */
  desired: readonly DesiredChannel[];
  /** Slack's view of a channel by ID or by name, or undefined when it cannot be found */
  resolve: (ref: ChannelRef) => ResolvedChannel | undefined;
  /** spec.membership.join (default true) */
  join: boolean;
  /** spec.membership.leaveUnused (default false) */
  leaveUnused: boolean;
  /** IDs of channels the operator joined itself: the IDs in status.channels with state Joined */
  joinedByOperator: ReadonlySet<string>;
  /** the bot's name for invite instructions (`/invite @jobherald`) */
  botName: string;
}

export interface MembershipAction {
  action: 'join' | 'leave';
  channelId: string;
  channelName: string;
}

export interface MembershipPlan {
  /** one entry per distinct channel, in the order rules first name them */
  channels: ChannelStatus[];
  actions: MembershipAction[];
}

export const inviteMessage = (botName: string, channelName: string, isPrivate: boolean): string =>
  `${isPrivate ? 'private channel' : 'membership.join is false'}: invite the bot with /invite @${botName} in #${channelName}`;

/** The IDs the operator joined itself, from the previous status. */
export function joinedByOperator(previous: readonly ChannelStatus[] | undefined): Set<string> {
  return new Set(
    (previous ?? []).filter((c) => c.state === 'Joined' && c.id !== undefined).map((c) => c.id as string),
  );
}

/** Decide states and actions. Pure: `resolve` is a lookup into data the caller fetched. */
export function planMembership(input: MembershipInput): MembershipPlan {
  const byKey = new Map<string, ChannelStatus>();
  const actions: MembershipAction[] = [];
  const desiredIds = new Set<string>();

  for (const { ref: raw, usedBy } of input.desired) {
    const ref = parseChannelRef(raw);
    const channel = input.resolve(ref);
    const key = channel !== undefined ? `id:${channel.id}` : `ref:${displayChannelRef(ref)}`;
    const existing = byKey.get(key);
    if (existing !== undefined) {
      existing.usedBy = [...new Set([...existing.usedBy, ...usedBy])].sort();
      continue;
    }
    const users = [...new Set(usedBy)].sort();
    if (channel === undefined) {
      const shown = displayChannelRef(ref);
      byKey.set(key, {
        name: ref.kind === 'name' ? ref.name : ref.id,
        state: 'NotFound',
        message: `channel ${shown} not found: it does not exist, or it is private and the bot is not in it (invite it with /invite @${input.botName})`,
        usedBy: users,
      });
      continue;
    }
    desiredIds.add(channel.id);
    const base = { name: channel.name, id: channel.id, private: channel.private, usedBy: users };
    if (channel.archived) {
      byKey.set(key, { ...base, state: 'Archived', message: `channel #${channel.name} is archived` });
    } else if (channel.isMember) {
      byKey.set(key, { ...base, state: input.joinedByOperator.has(channel.id) ? 'Joined' : 'Member' });
    } else if (!channel.private && input.join) {
      byKey.set(key, { ...base, state: 'Joined' });
      actions.push({ action: 'join', channelId: channel.id, channelName: channel.name });
    } else {
      byKey.set(key, {
        ...base,
        state: 'InviteRequired',
        message: inviteMessage(input.botName, channel.name, channel.private),
      });
    }
  }

  if (input.leaveUnused) {
    for (const id of [...input.joinedByOperator].sort()) {
      if (desiredIds.has(id)) continue;
      const channel = input.resolve({ kind: 'id', id });
      if (channel === undefined || !channel.isMember || channel.archived) continue;
      actions.push({ action: 'leave', channelId: id, channelName: channel.name });
    }
  }
  return { channels: [...byKey.values()], actions };
}

/**
 * The status of a channel after its join was attempted: unchanged (Joined) on success, otherwise the state
 * the Slack error code means (is_archived, channel_not_found, method_not_supported_for_channel_type…).
 */
export function applyJoinResult(
  channel: ChannelStatus,
  error: string | undefined,
  botName: string,
): ChannelStatus {
  if (error === undefined || error === 'already_in_channel') return { ...channel, state: 'Joined' };
  const without = { ...channel };
  delete without.message;
  switch (error) {
    case 'is_archived':
      return { ...without, state: 'Archived', message: `channel #${channel.name} is archived` };
    case 'channel_not_found':
      return { ...without, state: 'NotFound', message: `channel #${channel.name} not found` };
    case 'method_not_supported_for_channel_type':
      return { ...without, state: 'InviteRequired', message: inviteMessage(botName, channel.name, true) };
    case 'missing_scope':
      return {
        ...without,
        state: 'InviteRequired',
        message: `the token lacks the channels:join scope: add it, or invite the bot with /invite @${botName} in #${channel.name}`,
      };
    default:
      return {
        ...without,
        state: 'InviteRequired',
        message: `joining #${channel.name} failed (${error}): invite the bot with /invite @${botName} in #${channel.name}`,
      };
  }
}

const USABLE: ReadonlySet<string> = new Set(['Joined', 'Member']);

/** Whether the bot can post in a channel in this state. */
export const isUsable = (channel: Pick<ChannelStatus, 'state'>): boolean => USABLE.has(channel.state);

/** status.channelsReady: usable channels out of all, e.g. "3/4". */
export function channelsReadySummary(channels: readonly ChannelStatus[]): string {
  return `${channels.filter(isUsable).length}/${channels.length}`;
}

/** The ChannelsReady condition of an integration for these channels. */
export function channelsReadyCondition(channels: readonly ChannelStatus[]): {
  status: 'True' | 'False';
  reason: string;
  message: string;
} {
  if (channels.length === 0) {
    return { status: 'True', reason: Reasons.NoChannels, message: 'no allowed rule names a channel' };
  }
  const bad = channels.filter((c) => !isUsable(c));
  if (bad.length === 0) {
    return {
      status: 'True',
      reason: Reasons.ChannelsReady,
      message: `all ${channels.length} channels usable`,
    };
  }
  const reasonOf = (c: ChannelStatus) =>
    c.state === 'NotFound'
      ? Reasons.ChannelNotFound
      : c.state === 'Archived'
        ? Reasons.ChannelArchived
        : Reasons.InviteRequired;
  return {
    status: 'False',
    reason: reasonOf(bad[0] as ChannelStatus),
    message: bad.map((c) => `#${c.name}: ${c.message ?? c.state}`).join('; '),
  };
}

/** A rule's destination state for a channel's membership state. */
export function destinationStateOf(channel: Pick<ChannelStatus, 'state'>): DestinationState {
  switch (channel.state) {
    case 'Joined':
    case 'Member':
      return 'Resolved';
    case 'NotFound':
      return 'ChannelNotFound';
    case 'Archived':
      return 'Archived';
    case 'InviteRequired':
      return 'InviteRequired';
  }
}
