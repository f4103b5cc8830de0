// The objects Slack returns (conversation, user, user group, message), built from the emulator's state
// in the shapes of Slack's documentation and OpenAPI spec.
import type { ChannelState, StoredMessage, WorkspaceState } from './state.ts';
import type { WorkspaceUser, WorkspaceUserGroup } from './workspace.ts';

type Json = Record<string, unknown>;

export function conversationObject(
  state: WorkspaceState,
  channel: ChannelState,
  viewerId: string,
  includeNumMembers: boolean,
): Json {
  if (channel.isIm) {
    return {
      id: channel.id,
      created: channel.created,
      is_im: true,
      is_org_shared: false,
      user: channel.imUser,
      is_user_deleted: state.users.get(channel.imUser ?? '')?.deleted === true,
      priority: 0,
    };
  }
  const legacyGroup = channel.id.startsWith('G');
  return {
    id: channel.id,
    name: channel.name,
    is_channel: !legacyGroup,
    is_group: legacyGroup,
    is_im: false,
    is_mpim: false,
    is_private: channel.isPrivate,
    created: channel.created,
    creator: channel.creator,
    is_archived: channel.isArchived,
    is_general: channel.isGeneral,
    unlinked: 0,
    name_normalized: channel.name,
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    pending_shared: [],
    is_pending_ext_shared: false,
    is_member: channel.members.has(viewerId),
    topic: { value: channel.topic, creator: '', last_set: 0 },
    purpose: { value: channel.purpose, creator: '', last_set: 0 },
    previous_names: [],
    ...(includeNumMembers ? { num_members: channel.members.size } : {}),
  };
}

const AVATAR = 'https://a.slack-edge.com/80588/img/avatars/ava_0010-72.png';

export function userObject(state: WorkspaceState, user: WorkspaceUser, includeEmail: boolean): Json {
  const team = state.workspace.team.id;
  const isBot = user.id === state.workspace.bot.userId;
  return {
    id: user.id,
    team_id: team,
    name: user.name,
    deleted: user.deleted === true,
    color: isBot ? '4bbe2e' : '9f69e7',
    real_name: user.realName,
    tz: user.tz ?? 'Europe/London',
    tz_label: 'Greenwich Mean Time',
    tz_offset: 0,
    profile: {
      avatar_hash: 'g0000000000',
      status_text: '',
      status_emoji: '',
      real_name: user.realName,
      display_name: user.name,
      real_name_normalized: user.realName,
      display_name_normalized: user.name,
      title: '',
      phone: '',
      skype: '',
      fields: null,
      ...(includeEmail && user.email !== undefined ? { email: user.email } : {}),
      ...(isBot
        ? { bot_id: state.workspace.bot.botId, api_app_id: state.workspace.app.id, always_active: true }
        : {}),
      image_24: AVATAR,
      image_48: AVATAR,
      image_72: AVATAR,
      team,
    },
    is_admin: user.isAdmin === true,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: isBot,
    is_app_user: false,
    updated: Math.floor(state.clock.now() / 1000),
  };
}

export function userGroupObject(
  state: WorkspaceState,
  group: WorkspaceUserGroup,
  options: { includeUsers: boolean; includeCount: boolean },
): Json {
  const creator = state.workspace.users.find((u) => u.isAdmin === true)?.id ?? state.workspace.bot.userId;
  return {
    id: group.id,
    team_id: state.workspace.team.id,
    is_usergroup: true,
    is_subteam: true,
    name: group.name,
    description: group.description ?? '',
    handle: group.handle,
    is_external: false,
    date_create: 1_600_000_000,
    date_update: 1_600_000_000,
    date_delete: group.disabled === true ? 1_700_000_000 : 0,
    auto_type: null,
    auto_provision: false,
    enterprise_subteam_id: '',
    created_by: creator,
    updated_by: creator,
    deleted_by: null,
    prefs: { channels: [], groups: [] },
    ...(options.includeUsers ? { users: group.users } : {}),
    ...(options.includeCount ? { user_count: group.users.length } : {}),
  };
}

/** A message as chat.postMessage returns it: modern bot messages carry `user` (the bot user) and bot_id. */
export function messageObject(state: WorkspaceState, message: StoredMessage): Json {
  const { workspace } = state;
  const fromBot = message.poster.botId !== undefined;
  return {
    user: message.poster.userId,
    type: 'message',
    ts: message.ts,
    ...(fromBot ? { bot_id: message.poster.botId, app_id: workspace.app.id } : {}),
    text: message.text,
    team: workspace.team.id,
    ...(fromBot
      ? {
          bot_profile: {
            id: workspace.bot.botId,
            deleted: false,
            name: workspace.bot.name,
            updated: 1_600_000_000,
            app_id: workspace.app.id,
            icons: { image_36: AVATAR, image_48: AVATAR, image_72: AVATAR },
            team_id: workspace.team.id,
          },
        }
      : {}),
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    ...(message.attachments === undefined ? {} : { attachments: message.attachments }),
    ...(message.threadTs === undefined
      ? {}
      : {
          thread_ts: message.threadTs,
          parent_user_id:
            state.channels.get(message.channel)?.byTs.get(message.threadTs)?.poster.userId ??
            message.poster.userId,
        }),
    ...(message.edited === undefined ? {} : { edited: message.edited }),
  };
}

/** https://<domain>.slack.com/archives/<channel>/p<ts without the dot>, with the thread for replies. */
export function permalink(state: WorkspaceState, message: StoredMessage): string {
  const base = `https://${state.workspace.team.domain}.slack.com/archives/${message.channel}/p${message.ts.replace('.', '')}`;
  return message.threadTs === undefined || message.threadTs === message.ts
    ? base
    : `${base}?thread_ts=${message.threadTs}&cid=${message.channel}`;
}
