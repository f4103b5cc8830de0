// chat.postMessage, chat.update, chat.getPermalink (slack-behaviour.md §3.2-3.4, §5).
import { booleanParam, jsonParam, NOT_JSON, stringParam } from '../api-request.ts';
import { MESSAGE_LIMITS } from '../block-kit.ts';
import { readMessageContent } from '../message-content.ts';
import { SlackApiError, success } from '../slack-error.ts';
import { messageObject, permalink } from '../slack-objects.ts';
import { keepVersion, type ChannelState, type StoredMessage, type TokenState } from '../state.ts';
import { callerToken, requireScope, visibleChannel, type MethodContext, type MethodSpec } from './method.ts';

const CHAT_WRITE = ['chat:write', 'chat:write:bot', 'chat:write:user'];

/** The conversation a post goes to: a user ID means the DM with that user (its D… ID comes back). */
function postTarget(ctx: MethodContext, token: TokenState, ref: string | undefined): ChannelState {
  if (ref !== undefined && /^[UW][A-Z0-9]+$/.test(ref) && ctx.state.users.has(ref)) {
    const dm = ctx.state.openDirectMessage(ref);
    if (dm === undefined) throw new SlackApiError('channel_not_found');
    return dm;
  }
  const channel = visibleChannel(ctx, token, ref);
  if (channel.isArchived) throw new SlackApiError('is_archived');
  if (!channel.members.has(token.userId) && !(token.type === 'bot' && token.scopes.has('chat:write.public')))
    throw new SlackApiError('not_in_channel');
  return channel;
}

function poster(ctx: MethodContext, token: TokenState): StoredMessage['poster'] {
  return token.type === 'bot'
    ? { userId: token.userId, botId: ctx.state.workspace.bot.botId, via: 'api' }
    : { userId: token.userId, via: 'api' };
}

export const postMessage: MethodSpec = {
  name: 'chat.postMessage',
  tier: 'tier4',
  acceptsJson: true,
  needsToken: true,
  acceptedScopes: CHAT_WRITE,
  handle(ctx) {
    const token = callerToken(ctx);
    requireScope(token, CHAT_WRITE);
    const { params } = ctx;
    const channel = postTarget(ctx, token, stringParam(params, 'channel'));
    const content = readMessageContent(params, {
      textLimit: MESSAGE_LIMITS.postMessageText,
      overLimit: 'truncate',
      blocksTextLimit: ctx.behaviour.blocksTextLimit,
    });
    let threadTs = stringParam(params, 'thread_ts');
    if (threadTs === '') threadTs = undefined;
    if (threadTs !== undefined) {
      const parent = channel.byTs.get(threadTs);
      if (parent === undefined && ctx.behaviour.threadTsNotFound === 'thread_not_found')
        throw new SlackApiError('thread_not_found');
      // A reply to a reply lands in the parent's thread.
      if (parent?.threadTs !== undefined) threadTs = parent.threadTs;
    }
    const metadata = jsonParam(params, 'metadata');
    if (metadata === NOT_JSON || (metadata !== undefined && typeof metadata !== 'object'))
      throw new SlackApiError('invalid_metadata_format');
    const customize = token.scopes.has('chat:write.customize');
    const message = ctx.state.addMessage(channel, {
      text: content.text ?? '',
      ...(content.blocks === undefined ? {} : { blocks: content.blocks }),
      ...(content.attachments === undefined ? {} : { attachments: content.attachments }),
      ...(threadTs === undefined ? {} : { threadTs }),
      ...(threadTs !== undefined && booleanParam(params, 'reply_broadcast') ? { replyBroadcast: true } : {}),
      ...(metadata === undefined ? {} : { metadata }),
      // Name and icon overrides need chat:write.customize; without it Slack ignores them.
      ...(customize && stringParam(params, 'username') !== undefined
        ? { username: stringParam(params, 'username') }
        : {}),
      ...(customize && stringParam(params, 'icon_emoji') !== undefined
        ? { iconEmoji: stringParam(params, 'icon_emoji') }
        : {}),
      ...(customize && stringParam(params, 'icon_url') !== undefined
        ? { iconUrl: stringParam(params, 'icon_url') }
        : {}),
      poster: poster(ctx, token),
    });
    return success(
      { channel: channel.id, ts: message.ts, message: messageObject(ctx.state, message) },
      { warnings: content.warnings, messages: content.messages },
    );
  },
};

export const update: MethodSpec = {
  name: 'chat.update',
  tier: 'tier3',
  acceptsJson: true,
  needsToken: true,
  acceptedScopes: CHAT_WRITE,
  handle(ctx) {
    const token = callerToken(ctx);
    requireScope(token, CHAT_WRITE);
    const { params, state } = ctx;
    // chat.update needs the conversation ID chat.postMessage returned: a user ID finds nothing.
    const channel = visibleChannel(ctx, token, stringParam(params, 'channel'));
    if (channel.isArchived) throw new SlackApiError('is_inactive');
    const message = channel.byTs.get(stringParam(params, 'ts') ?? '');
    if (message === undefined || message.deleted === true) throw new SlackApiError('message_not_found');
    if (message.poster.userId !== token.userId || message.ephemeralFor !== undefined)
      throw new SlackApiError('cant_update_message');
    const content = readMessageContent(params, {
      textLimit:
        ctx.behaviour.updateTextOverLimit === 'msg_too_long'
          ? MESSAGE_LIMITS.updateText
          : MESSAGE_LIMITS.postMessageText,
      overLimit: ctx.behaviour.updateTextOverLimit,
      blocksTextLimit: ctx.behaviour.blocksTextLimit,
    });
    keepVersion(message, state.clock.now());
    if (content.text !== undefined && content.text !== message.text)
      message.edited = { user: token.userId, ts: state.nextTs() };
    if (content.text !== undefined) message.text = content.text;
    // Text without blocks replaces the blocks; attachments stay unless given ([] clears them).
    if (content.blocks !== undefined) message.blocks = content.blocks;
    else if (content.text !== undefined) delete message.blocks;
    if (content.attachments !== undefined) {
      if (content.attachments.length === 0) delete message.attachments;
      else message.attachments = content.attachments;
    }
    message.updatedAt = state.clock.now();
    state.changed();
    const { user, bot_id, app_id, team, blocks, attachments, edited } = messageObject(state, message);
    return success(
      {
        channel: channel.id,
        ts: message.ts,
        text: message.text,
        message: { text: message.text, user, bot_id, app_id, team, blocks, attachments, edited },
      },
      { warnings: content.warnings, messages: content.messages },
    );
  },
};

export const getPermalink: MethodSpec = {
  name: 'chat.getPermalink',
  tier: 'tier4',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: [],
  handle(ctx) {
    const token = callerToken(ctx);
    const channel = visibleChannel(ctx, token, stringParam(ctx.params, 'channel'));
    const message = channel.byTs.get(stringParam(ctx.params, 'message_ts') ?? '');
    if (message === undefined || message.deleted === true) throw new SlackApiError('message_not_found');
    return success({ channel: channel.id, permalink: permalink(ctx.state, message) });
  },
};
