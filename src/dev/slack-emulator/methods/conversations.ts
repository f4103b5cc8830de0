// conversations.list, .info, .join, .leave, .invite, .members (slack-behaviour.md §3.5-3.10).
import { booleanParam, stringParam } from '../api-request.ts';
import { SlackApiError, success } from '../slack-error.ts';
import { conversationObject } from '../slack-objects.ts';
import type { ChannelState } from '../state.ts';
import {
  callerToken,
  decodeCursor,
  encodeCursor,
  pageLimit,
  readScopeFor,
  requireScope,
  visibleChannel,
  type MethodSpec,
} from './method.ts';

const READ_SCOPES = ['channels:read', 'groups:read', 'im:read', 'mpim:read'];

const TYPE_SCOPES: Record<string, string> = {
  public_channel: 'channels:read',
  private_channel: 'groups:read',
  im: 'im:read',
  mpim: 'mpim:read',
};

function typeOf(channel: ChannelState): string {
  if (channel.isIm) return 'im';
  return channel.isPrivate ? 'private_channel' : 'public_channel';
}

export const list: MethodSpec = {
  name: 'conversations.list',
  tier: 'tier2',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: READ_SCOPES,
  handle(ctx) {
    const token = callerToken(ctx);
    const { params, state } = ctx;
    const types = (stringParam(params, 'types') ?? 'public_channel')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    if (types.length === 0 || types.some((t) => TYPE_SCOPES[t] === undefined))
      throw new SlackApiError('invalid_types');
    // A token needs the scope of every type it asks for.
    for (const type of types) requireScope(token, [TYPE_SCOPES[type] ?? type]);
    const excludeArchived = booleanParam(params, 'exclude_archived');
    const limit = pageLimit(params);
    const start = decodeCursor('channel', stringParam(params, 'cursor'));
    if (start > state.channelOrder.length) throw new SlackApiError('invalid_cursor');
    const wanted = (c: ChannelState) =>
      types.includes(typeOf(c)) &&
      !(excludeArchived && c.isArchived) &&
      (!c.isPrivate || c.members.has(token.userId));
    const page: ChannelState[] = [];
    let next = start;
    if (ctx.behaviour.shortPages) {
      // Slack cuts a "virtual page" of `limit` conversations first and filters it afterwards.
      for (; next < state.channelOrder.length && next < start + limit; next++) {
        const c = state.channelOrder[next];
        if (c !== undefined && wanted(c)) page.push(c);
      }
    } else {
      for (; next < state.channelOrder.length && page.length < limit; next++) {
        const c = state.channelOrder[next];
        if (c !== undefined && wanted(c)) page.push(c);
      }
    }
    return success({
      channels: page.map((c) => conversationObject(state, c, token.userId, !c.isIm)),
      response_metadata: {
        next_cursor: next < state.channelOrder.length ? encodeCursor('channel', next) : '',
      },
    });
  },
};

export const info: MethodSpec = {
  name: 'conversations.info',
  tier: 'tier3',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: READ_SCOPES,
  handle(ctx) {
    const token = callerToken(ctx);
    const channel = visibleChannel(ctx, token, stringParam(ctx.params, 'channel'));
    requireScope(token, [readScopeFor(channel)]);
    const numMembers = booleanParam(ctx.params, 'include_num_members');
    return success({ channel: conversationObject(ctx.state, channel, token.userId, numMembers) });
  },
};

export const join: MethodSpec = {
  name: 'conversations.join',
  tier: 'tier3',
  acceptsJson: true,
  needsToken: true,
  acceptedScopes: ['channels:join', 'channels:write'],
  handle(ctx) {
    const token = callerToken(ctx);
    requireScope(token, ['channels:join', 'channels:write'], {
      bot: 'channels:join',
      user: 'channels:write',
    });
    const channel = ctx.state.channel(stringParam(ctx.params, 'channel') ?? '');
    if (channel === undefined || (channel.isIm && !channel.members.has(token.userId)))
      throw new SlackApiError('channel_not_found');
    // Nobody joins a private conversation by themselves: someone in it must invite them.
    if (channel.isPrivate) throw new SlackApiError('method_not_supported_for_channel_type');
    if (channel.isArchived) throw new SlackApiError('is_archived');
    const already = channel.members.has(token.userId);
    if (!already) {
      channel.members.add(token.userId);
      ctx.state.changed();
    }
    return success(
      { channel: conversationObject(ctx.state, channel, token.userId, false) },
      already ? { warnings: ['already_in_channel'] } : {},
    );
  },
};

export const leave: MethodSpec = {
  name: 'conversations.leave',
  tier: 'tier3',
  acceptsJson: true,
  needsToken: true,
  acceptedScopes: ['channels:manage', 'channels:write', 'groups:write', 'im:write', 'mpim:write'],
  handle(ctx) {
    const token = callerToken(ctx);
    const channel = visibleChannel(ctx, token, stringParam(ctx.params, 'channel'));
    if (channel.isIm) throw new SlackApiError('method_not_supported_for_channel_type');
    if (channel.isPrivate) requireScope(token, ['groups:write']);
    else
      requireScope(token, ['channels:manage', 'channels:write'], {
        bot: 'channels:manage',
        user: 'channels:write',
      });
    if (channel.isArchived) throw new SlackApiError('is_archived');
    if (channel.isGeneral) throw new SlackApiError('cant_leave_general');
    if (!channel.members.has(token.userId)) {
      // Documented quirk: not an error, yet `ok: false` and no `error` (the SDK throws on it).
      return ctx.behaviour.leaveWhenNotMember === 'ok_false'
        ? success({ ok: false, not_in_channel: true }, { raw: true })
        : success({ not_in_channel: true });
    }
    if (channel.isPrivate && channel.members.size === 1) throw new SlackApiError('last_member');
    channel.members.delete(token.userId);
    ctx.state.changed();
    return success();
  },
};

export const invite: MethodSpec = {
  name: 'conversations.invite',
  tier: 'tier3',
  acceptsJson: true,
  needsToken: true,
  acceptedScopes: [
    'channels:manage',
    'channels:write.invites',
    'channels:write',
    'groups:write',
    'groups:write.invites',
    'im:write',
    'mpim:write',
  ],
  handle(ctx) {
    const token = callerToken(ctx);
    const { state } = ctx;
    const channel = visibleChannel(ctx, token, stringParam(ctx.params, 'channel'));
    if (channel.isIm) throw new SlackApiError('method_not_supported_for_channel_type');
    if (channel.isPrivate)
      requireScope(token, ['groups:write', 'groups:write.invites'], {
        bot: 'groups:write',
        user: 'groups:write',
      });
    else
      requireScope(token, ['channels:manage', 'channels:write.invites', 'channels:write'], {
        bot: 'channels:manage',
        user: 'channels:write',
      });
    const users = (stringParam(ctx.params, 'users') ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    if (users.length === 0) throw new SlackApiError('no_user');
    if (users.length > 100) throw new SlackApiError('too_many_users');
    if (channel.isArchived) throw new SlackApiError('is_archived');
    if (!channel.members.has(token.userId)) throw new SlackApiError('not_in_channel');
    const failures: { user: string; ok: false; error: string }[] = [];
    const valid: string[] = [];
    for (const user of users) {
      const known = state.users.get(user);
      const error =
        known === undefined || known.deleted === true
          ? 'user_not_found'
          : user === token.userId
            ? 'cant_invite_self'
            : channel.members.has(user)
              ? 'already_in_channel'
              : undefined;
      if (error === undefined) valid.push(user);
      else failures.push({ user, ok: false, error });
    }
    const force = booleanParam(ctx.params, 'force');
    const first = failures[0];
    if (first !== undefined && !(force && valid.length > 0)) {
      // One user: a plain error. Several: the first error, with every user's in `errors`.
      throw new SlackApiError(first.error, users.length > 1 ? { errors: failures } : {});
    }
    for (const user of valid) channel.members.add(user);
    state.changed();
    return success({ channel: conversationObject(state, channel, token.userId, false) });
  },
};

export const members: MethodSpec = {
  name: 'conversations.members',
  tier: 'tier4',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: READ_SCOPES,
  handle(ctx) {
    const token = callerToken(ctx);
    const channel = visibleChannel(ctx, token, stringParam(ctx.params, 'channel'));
    requireScope(token, [readScopeFor(channel)]);
    const limit = pageLimit(ctx.params);
    const start = decodeCursor('member', stringParam(ctx.params, 'cursor'));
    const all = [...channel.members];
    if (start > all.length) throw new SlackApiError('invalid_cursor');
    const page = all.slice(start, start + limit);
    const next = start + page.length;
    return success({
      members: page,
      response_metadata: { next_cursor: next < all.length ? encodeCursor('member', next) : '' },
    });
  },
};
