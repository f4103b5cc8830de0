// Button clicks, as Slack delivers them to an app's Request URL (slack-behaviour.md §6): a
// `block_actions` payload in one `payload` form field, signed with the v0 signature, and the
// response_url the app may answer through (5 uses within 30 minutes).
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './api-request.ts';
import type { Behaviour } from './behaviour.ts';
import { sendJson, sendText } from './http-util.ts';
import { messageObject } from './slack-objects.ts';
import { keepVersion, type StoredMessage, type WorkspaceState } from './state.ts';

const RESPONSE_URL_USES = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;
const ACK_TIMEOUT_MS = 3_000;

/** `v0=` + hex(HMAC-SHA256(signing secret, "v0:<timestamp>:<raw body>")). */
export function slackSignature(signingSecret: string, timestampSeconds: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex')}`;
}

export interface Click {
  /** Channel ID or name. */
  channel: string;
  /** The message's ts. */
  ts: string;
  actionId: string;
  /** Who clicks; the first workspace user by default. */
  userId?: string;
}

export interface ClickResult {
  /** The app's HTTP status, or 0 when it could not be reached within 3 s. */
  status: number;
  body: string;
  /** The payload that was sent, parsed. */
  payload: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function findButton(
  message: StoredMessage,
  actionId: string,
): { element: Json; blockId: string } | undefined {
  const blockLists = [
    message.blocks ?? [],
    ...(message.attachments ?? []).map((a) => (a.blocks as Json[] | undefined) ?? []),
  ];
  for (const blocks of blockLists) {
    for (const block of blocks) {
      const elements = [
        ...(Array.isArray(block.elements) ? (block.elements as Json[]) : []),
        ...(typeof block.accessory === 'object' && block.accessory !== null ? [block.accessory as Json] : []),
      ];
      const element = elements.find((e) => e.action_id === actionId);
      if (element !== undefined) return { element, blockId: String(block.block_id) };
    }
  }
  return undefined;
}

/** Builds the block_actions payload for a click on a message's button and POSTs it, signed, to the Request URL. */
export async function clickButton(
  state: WorkspaceState,
  baseUrl: string,
  click: Click,
): Promise<ClickResult> {
  const { workspace } = state;
  const requestUrl = state.requestUrl;
  if (requestUrl === undefined)
    throw new Error('no Request URL is configured (workspace app.requestUrl, or POST /_control/request-url)');
  const channel = state.channel(click.channel);
  const message = channel?.byTs.get(click.ts);
  if (channel === undefined || message === undefined)
    throw new Error(`no message ${click.ts} in ${click.channel}`);
  const button = findButton(message, click.actionId);
  if (button === undefined)
    throw new Error(`message ${click.ts} has no element with action_id ${click.actionId}`);
  const user = state.users.get(click.userId ?? workspace.users[0]?.id ?? '');
  if (user === undefined) throw new Error(`unknown user ${click.userId ?? ''}`);

  const responsePath = `${workspace.team.id}/${Date.now()}${randomBytes(2).toString('hex')}/${randomBytes(12).toString('hex')}`;
  state.responseUrls.set(responsePath, {
    channel: channel.id,
    messageTs: message.ts,
    userId: user.id,
    usesLeft: RESPONSE_URL_USES,
    expiresAt: state.clock.now() + RESPONSE_URL_LIFETIME_MS,
  });
  const { element, blockId } = button;
  const payload: Json = {
    type: 'block_actions',
    user: { id: user.id, username: user.name, name: user.name, team_id: workspace.team.id },
    api_app_id: workspace.app.id,
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: message.ts, channel_id: channel.id, is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    team: { id: workspace.team.id, domain: workspace.team.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel.id, name: channel.name },
    message: messageObject(state, message),
    state: { values: {} },
    response_url: `${baseUrl}/actions/${responsePath}`,
    actions: [
      {
        action_id: click.actionId,
        block_id: blockId,
        ...(element.text === undefined ? {} : { text: element.text }),
        ...(element.value === undefined ? {} : { value: element.value }),
        ...(element.style === undefined ? {} : { style: element.style }),
        ...(element.url === undefined ? {} : { url: element.url }),
        type: element.type,
        action_ts: state.nextTs(),
      },
    ],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = Math.floor(state.clock.now() / 1000);
  try {
    const response = await fetch(requestUrl, {
      method: 'POST',
      // Exactly this content type, no charset: bolt-js compares it as is.
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(workspace.app.signingSecret, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
    return { status: response.status, body: await response.text(), payload };
  } catch (error) {
    return { status: 0, body: error instanceof Error ? error.message : String(error), payload };
  }
}

/** POST /actions/…: an app answering a click (replace or delete the message, or reply). */
export async function handleResponseUrl(
  state: WorkspaceState,
  behaviour: Behaviour,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const entry = state.responseUrls.get(url.pathname.slice('/actions/'.length));
  if (entry === undefined || entry.expiresAt <= state.clock.now()) return sendText(res, 404, 'expired_url');
  if (entry.usesLeft <= 0) return sendText(res, 404, 'used_url');
  let body: Json;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8')) as Json;
  } catch {
    return sendText(res, 400, 'invalid_payload');
  }
  const channel = state.channels.get(entry.channel);
  const original = channel?.byTs.get(entry.messageTs);
  if (channel === undefined || original === undefined) return sendText(res, 404, 'message_not_found');
  entry.usesLeft -= 1;
  const content = {
    text: typeof body.text === 'string' ? body.text : '',
    ...(Array.isArray(body.blocks) ? { blocks: body.blocks as Json[] } : {}),
    ...(Array.isArray(body.attachments) ? { attachments: body.attachments as Json[] } : {}),
  };
  if (body.delete_original === true) {
    original.deleted = true;
    state.changed();
  } else if (body.replace_original === true) {
    keepVersion(original, state.clock.now());
    original.text = content.text;
    if (content.blocks === undefined) delete original.blocks;
    else original.blocks = content.blocks;
    if (content.attachments === undefined) delete original.attachments;
    else original.attachments = content.attachments;
    original.updatedAt = state.clock.now();
    state.changed();
  } else {
    state.addMessage(channel, {
      ...content,
      ...(typeof body.thread_ts === 'string' ? { threadTs: body.thread_ts } : {}),
      ...(body.response_type === 'in_channel' ? {} : { ephemeralFor: entry.userId }),
      poster: { userId: state.workspace.bot.userId, botId: state.workspace.bot.botId, via: 'response_url' },
    });
  }
  if (behaviour.responseUrlSuccess === 'json') sendJson(res, 200, { ok: true });
  else sendText(res, 200, 'ok', 'text/html');
}
