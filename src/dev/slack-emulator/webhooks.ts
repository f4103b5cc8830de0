// Incoming webhooks, /services/T…/B…/…: a JSON message in, plain `ok` out, or one of Slack's plain-text
// error strings with its HTTP status (slack-behaviour.md §8). App webhooks ignore channel, username
// and icon overrides, and post as the app's bot into the channel chosen at install.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './api-request.ts';
import { MESSAGE_LIMITS } from './block-kit.ts';
import type { Behaviour } from './behaviour.ts';
import type { Faults } from './faults.ts';
import { delay, sendJson, sendText } from './http-util.ts';
import { readMessageContent } from './message-content.ts';
import type { RateLimiter } from './rate-limits.ts';
import type { RequestCounts } from './request-counts.ts';
import { SlackApiError } from './slack-error.ts';
import type { WorkspaceState } from './state.ts';

export interface WebhookDeps {
  state: () => WorkspaceState;
  faults: Faults;
  rateLimiter: () => RateLimiter;
  behaviour: Behaviour;
  counts: RequestCounts;
}

// Statuses from Slack's 2016 changelog; the newer strings' statuses are believed, not confirmed.
const STATUS: Record<string, number> = {
  invalid_payload: 400,
  no_text: 400,
  too_many_attachments: 400,
  invalid_blocks: 400,
  user_not_found: 400,
  action_prohibited: 403,
  channel_not_found: 404,
  no_service: 404,
  channel_is_archived: 410,
};

const COUNTS_KEY = 'webhook';

export async function handleWebhook(
  deps: WebhookDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const state = deps.state();
  const path = url.pathname.slice('/services/'.length);
  const hook = state.webhooks.get(path);
  const channel = hook === undefined ? undefined : state.channels.get(hook.channel);
  const fail = (error: string) => {
    deps.counts.record(COUNTS_KEY, 'errors');
    sendText(res, STATUS[error] ?? 400, error, 'text/html');
  };

  const fault = deps.faults.decide(COUNTS_KEY, channel === undefined ? [] : [channel.id, channel.name]);
  if (fault.latencyMs > 0) await delay(fault.latencyMs);
  switch (fault.action?.kind) {
    case 'drop':
      deps.counts.record(COUNTS_KEY, 'failed');
      req.socket.destroy();
      return;
    case 'http':
      deps.counts.record(COUNTS_KEY, 'failed');
      sendText(res, fault.action.status, fault.action.body ?? '', 'text/html');
      return;
    case 'ratelimit':
      deps.counts.record(COUNTS_KEY, 'rateLimited');
      sendJson(
        res,
        429,
        { retry_after: fault.action.retryAfter, ok: false, error: 'rate_limited' },
        {
          'retry-after': String(fault.action.retryAfter),
        },
      );
      return;
    case 'error':
      fail(fault.action.error);
      return;
    case undefined:
      break;
  }

  if (hook === undefined || hook.disabled) return fail('no_service');
  if (req.method !== 'POST') return fail('invalid_payload');
  if (channel === undefined) return fail('channel_not_found');
  const payload = parsePayload(req.headers['content-type'] ?? '', await readBody(req));
  if (payload === undefined) return fail('invalid_payload');
  if (channel.isArchived) return fail('channel_is_archived');

  const admission = deps.rateLimiter().admitWebhook(path);
  if (!admission.allowed) {
    deps.counts.record(COUNTS_KEY, 'rateLimited');
    sendJson(
      res,
      429,
      { retry_after: admission.retryAfterSeconds, ok: false, error: 'rate_limited' },
      {
        'retry-after': String(admission.retryAfterSeconds),
      },
    );
    return;
  }

  let content;
  try {
    content = readMessageContent(payload, {
      textLimit: MESSAGE_LIMITS.postMessageText,
      overLimit: 'truncate',
      blocksTextLimit: deps.behaviour.blocksTextLimit,
    });
  } catch (error) {
    if (!(error instanceof SlackApiError)) throw error;
    const known = ['no_text', 'too_many_attachments', 'invalid_blocks'];
    return fail(known.includes(error.error) ? error.error : 'invalid_payload');
  }
  state.addMessage(channel, {
    text: content.text ?? '',
    ...(content.blocks === undefined ? {} : { blocks: content.blocks }),
    ...(content.attachments === undefined ? {} : { attachments: content.attachments }),
    ...(typeof payload.thread_ts === 'string' ? { threadTs: payload.thread_ts } : {}),
    poster: { userId: state.workspace.bot.userId, botId: state.workspace.bot.botId, via: 'webhook' },
  });
  deps.counts.record(COUNTS_KEY, 'ok');
  sendText(res, 200, 'ok', 'text/html');
}

/** JSON bodies, or the legacy form with one `payload` field holding the JSON. */
function parsePayload(contentType: string, body: Buffer): Record<string, unknown> | undefined {
  let text = body.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded'))
    text = new URLSearchParams(text).get('payload') ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
