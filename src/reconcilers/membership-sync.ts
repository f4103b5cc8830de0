// Keeping the bot's channel membership in line with the rules, for one integration: the plan (which channels
// to join, which to leave, which need an invite) is domain/membership.ts's; this carries it out against Slack
// and returns the channels as they are afterwards. A join Slack refuses is that channel's state; an auth
// error or a transient failure ends the pass (the reconcile retries it).
import type { ChannelStatus, SlackIntegration } from '../api/types.ts';
import type { parseChannelRef } from '../domain/membership.ts';
import {
  applyJoinResult,
  joinedByOperator,
  planMembership,
  type DesiredChannel,
  type ResolvedChannel,
} from '../domain/membership.ts';
import { AuthError, describe, JobheraldError, RetryableError } from '../errors.ts';
import type { LogSink } from '../slack/logging.ts';
import type { AuthInfo, SlackPort } from '../slack/port.ts';
import type { Directory } from './channel-directory.ts';

/** The bot's name for humans (`/invite @name`): auth.test's user, else its user ID. */
export const botHandle = (auth: AuthInfo): string => auth.user ?? auth.userId;

export async function syncMembership(input: {
  integration: string;
  object: SlackIntegration;
  port: SlackPort;
  directory: Directory;
  /** the channels the rules may use (the channel policy applied) */
  desired: DesiredChannel[];
  /** the channels as the last pass (or, after a restart, the status) left them */
  previous: ChannelStatus[];
  auth: AuthInfo | undefined;
  log: LogSink;
}): Promise<ChannelStatus[]> {
  const { directory, previous, port } = input;
  const membership = input.object.spec.membership ?? {};
  const resolve = (ref: ReturnType<typeof parseChannelRef>): ResolvedChannel | undefined => {
    const c = ref.kind === 'id' ? directory.byId.get(ref.id) : directory.byName.get(ref.name);
    if (c !== undefined) {
      return { id: c.id, name: c.name, private: c.isPrivate, archived: c.isArchived, isMember: c.isMember };
    }
    // Slack hides a private channel from a bot that is not in it. One we saw before as private (the bot
    // was removed from it) still exists: it needs an invite, it is not "not found".
    const known = previous.find(
      (p) =>
        p.private === true &&
        p.id !== undefined &&
        (ref.kind === 'id' ? p.id === ref.id : p.name === ref.name),
    );
    return known?.id === undefined
      ? undefined
      : { id: known.id, name: known.name, private: true, archived: false, isMember: false };
  };
  const botName = input.auth !== undefined ? botHandle(input.auth) : 'jobherald';
  const plan = planMembership({
    desired: input.desired,
    resolve,
    join: membership.join ?? true,
    leaveUnused: membership.leaveUnused ?? false,
    joinedByOperator: joinedByOperator(previous),
    botName,
  });
  let channels = plan.channels;
  const joined = (id: string, error: string | undefined): void => {
    channels = channels.map((c) => (c.id === id ? applyJoinResult(c, error, botName) : c));
  };
  for (const action of plan.actions) {
    if (action.action === 'join') {
      try {
        await port.join(action.channelId);
        joined(action.channelId, undefined);
        const c = directory.byId.get(action.channelId);
        if (c !== undefined) c.isMember = true;
      } catch (error) {
        if (error instanceof AuthError || error instanceof RetryableError) throw error;
        joined(action.channelId, error instanceof JobheraldError ? error.code : 'unknown_error');
      }
    } else {
      try {
        await port.leave(action.channelId);
        const c = directory.byId.get(action.channelId);
        if (c !== undefined) c.isMember = false;
      } catch (error) {
        if (error instanceof AuthError || error instanceof RetryableError) throw error;
        input.log.warn(
          { integration: input.integration, channel: action.channelName },
          `leave failed: ${describe(error)}`,
        );
      }
    }
  }
  return channels;
}
