// The web view at `/`: channels in a sidebar, the selected channel's messages with their threads. The
// server renders the HTML; the page's script long-polls /_control/version and swaps in fresh fragments
// (/_view/fragment) when anything changes, so posts and updates appear live.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toEmulatedMessage, type Emulator } from '../emulator.ts';
import { sendJson, sendText } from '../http-util.ts';
import type { ChannelState, WorkspaceState } from '../state.ts';
import { clientScript, styleSheet } from './assets.ts';
import { messageHtml, type Sender } from './render-message.ts';
import { escapeHtml, type Directory } from './render-mrkdwn.ts';

// An inline icon rather than an emoji: browsers without an emoji font (CI's) would show a box.
const LOCK =
  '<svg class="lock" viewBox="0 0 16 16" width="12" height="12" aria-label="private"><path fill="currentColor" d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z"/></svg>';

const MAX_SHOWN = 500;

function directory(state: WorkspaceState): Directory {
  return {
    userName: (id) => state.users.get(id)?.name,
    groupHandle: (id) => state.userGroups.find((g) => g.id === id)?.handle,
    channelName: (id) => state.channels.get(id)?.name,
  };
}

function channelLabel(state: WorkspaceState, channel: ChannelState): string {
  if (channel.isIm) return `@${state.users.get(channel.imUser ?? '')?.name ?? channel.imUser ?? ''}`;
  return channel.name;
}

/** The channel asked for (ID or name), else the one with the latest message, else the first. */
function selectedChannel(state: WorkspaceState, ref: string | null): ChannelState | undefined {
  if (ref !== null && ref !== '') {
    const channel = state.channel(ref);
    if (channel !== undefined) return channel;
  }
  const latest = state.allMessages.at(-1);
  return (latest === undefined ? undefined : state.channels.get(latest.channel)) ?? state.channelOrder[0];
}

function sidebarHtml(state: WorkspaceState, selected: ChannelState | undefined): string {
  const item = (c: ChannelState) => {
    const icon = c.isIm ? '●' : c.isPrivate ? LOCK : '#';
    const classes = ['channel', c === selected ? 'selected' : '', c.isArchived ? 'archived' : ''].filter(
      (x) => x !== '',
    );
    const count = c.messages.length === 0 ? '' : `<span class="count">${c.messages.length}</span>`;
    return `<a class="${classes.join(' ')}" href="/?channel=${encodeURIComponent(c.id)}" data-channel="${escapeHtml(c.id)}"><span class="icon">${icon}</span><span class="name">${escapeHtml(channelLabel(state, c))}</span>${c.isArchived ? '<span class="tag">archived</span>' : ''}${count}</a>`;
  };
  const channels = state.channelOrder.filter((c) => !c.isIm);
  const dms = state.channelOrder.filter((c) => c.isIm);
  return `<div class="team">${escapeHtml(state.workspace.team.name)}<div class="team-sub">Slack emulator</div></div>
<div class="section-title">Channels</div>${channels.map(item).join('')}
${dms.length === 0 ? '' : `<div class="section-title">Direct messages</div>${dms.map(item).join('')}`}`;
}

function mainHtml(state: WorkspaceState, channel: ChannelState | undefined): string {
  if (channel === undefined) return '<div class="empty">No channels in this workspace.</div>';
  const dir = directory(state);
  const { bot } = state.workspace;
  const sender = (userId: string, botId: string | undefined): Sender =>
    botId !== undefined
      ? { name: bot.name, isApp: true }
      : { name: state.users.get(userId)?.realName ?? userId, isApp: false };
  // The latest messages only: a benchmark may post tens of thousands while the page is open.
  const hidden = Math.max(0, channel.messages.length - MAX_SHOWN);
  const messages = channel.messages.slice(hidden).map(toEmulatedMessage);
  const shown = new Set(messages.map((m) => m.ts));
  const replies = new Map<string, typeof messages>();
  const topLevel: typeof messages = [];
  for (const m of messages) {
    const isReply = m.threadTs !== undefined && m.threadTs !== m.ts && shown.has(m.threadTs);
    if (isReply) replies.set(m.threadTs ?? '', [...(replies.get(m.threadTs ?? '') ?? []), m]);
    if (!isReply || m.replyBroadcast === true) topLevel.push(m);
  }
  const body = topLevel
    .map((m) => {
      const html = messageHtml(m, sender(m.poster.userId, m.poster.botId), dir);
      const thread = m.threadTs === undefined || m.threadTs === m.ts ? replies.get(m.ts) : undefined;
      if (thread === undefined) return html;
      const label = `${thread.length} ${thread.length === 1 ? 'reply' : 'replies'}`;
      return `${html}<div class="thread" data-thread-ts="${escapeHtml(m.ts)}"><div class="thread-label">${label}</div>${thread
        .map((r) => messageHtml(r, sender(r.poster.userId, r.poster.botId), dir))
        .join('')}</div>`;
    })
    .join('');
  const botIsMember = channel.members.has(bot.userId);
  const badges = [
    channel.isPrivate && !channel.isIm ? '<span class="badge">private</span>' : '',
    channel.isArchived ? '<span class="badge archived">archived</span>' : '',
    channel.isIm
      ? ''
      : `<span class="badge${botIsMember ? '' : ' warn'}">${escapeHtml(bot.name)} ${botIsMember ? 'is a member' : 'is not a member'}</span>`,
  ].join('');
  const icon = channel.isIm ? '' : channel.isPrivate ? `${LOCK} ` : '# ';
  return `<header class="channel-header"><h1>${icon}${escapeHtml(channelLabel(state, channel))}</h1>${badges}<span class="channel-id">${escapeHtml(channel.id)}</span></header>
<div class="messages" id="messages">${hidden > 0 ? `<div class="empty">${hidden} earlier messages not shown.</div>` : ''}${body === '' ? '<div class="empty">No messages yet.</div>' : body}</div>`;
}

function pageHtml(state: WorkspaceState, channel: ChannelState | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(channel === undefined ? '' : `${channelLabel(state, channel)} · `)}${escapeHtml(state.workspace.team.name)} · Slack emulator</title>
<link rel="stylesheet" href="/_view/style.css">
</head>
<body data-channel="${escapeHtml(channel?.id ?? '')}" data-version="${state.version}">
<div class="app">
<nav class="sidebar" id="sidebar">${sidebarHtml(state, channel)}</nav>
<main class="main" id="main">${mainHtml(state, channel)}</main>
</div>
<div id="toast" hidden></div>
<script src="/_view/app.js"></script>
</body>
</html>`;
}

/** Answers the web view's routes; false when the path is not one of them. */
export function handleWebView(
  emulator: Emulator,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const state = emulator.state;
  switch (url.pathname) {
    case '/': {
      sendText(
        res,
        200,
        pageHtml(state, selectedChannel(state, url.searchParams.get('channel'))),
        'text/html; charset=utf-8',
      );
      return true;
    }
    case '/_view/fragment': {
      const channel = selectedChannel(state, url.searchParams.get('channel'));
      sendJson(res, 200, {
        version: state.version,
        sidebar: sidebarHtml(state, channel),
        main: mainHtml(state, channel),
      });
      return true;
    }
    case '/_view/app.js':
      sendText(res, 200, clientScript, 'text/javascript; charset=utf-8');
      return true;
    case '/_view/style.css':
      sendText(res, 200, styleSheet, 'text/css; charset=utf-8');
      return true;
    default:
      return false;
  }
}
