// The content of a message (text, blocks, attachments, markdown_text) as chat.postMessage and
// chat.update read it, with Slack's checks in Slack's order and its answers: no_text,
// invalid_blocks(_format), too_many_attachments, msg_blocks_too_long, truncation or msg_too_long.
import { NOT_JSON, jsonParam, stringParam, type Params } from './api-request.ts';
import { MESSAGE_LIMITS, checkBlocks } from './block-kit.ts';
import { SlackApiError } from './slack-error.ts';

export interface ContentLimits {
  /** Characters of `text` accepted. */
  textLimit: number;
  /** What happens above it: truncation with a `message_truncated` warning, or `msg_too_long`. */
  overLimit: 'truncate' | 'msg_too_long';
  blocksTextLimit: number;
}

export interface ReadContent {
  /** Only the fields the call gave; chat.update keeps what is absent. */
  text?: string;
  blocks?: Record<string, unknown>[];
  attachments?: Record<string, unknown>[];
  warnings: string[];
  messages: string[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function readMessageContent(params: Params, limits: ContentLimits): ReadContent {
  const result: ReadContent = { warnings: [], messages: [] };
  let text = stringParam(params, 'text');
  const markdownText = stringParam(params, 'markdown_text');

  const blocks = jsonParam(params, 'blocks');
  if (blocks !== undefined && (blocks === NOT_JSON || !Array.isArray(blocks)))
    throw new SlackApiError('invalid_blocks_format');
  const attachments = jsonParam(params, 'attachments');
  if (
    attachments !== undefined &&
    (attachments === NOT_JSON || !Array.isArray(attachments) || !attachments.every(isObject))
  )
    throw new SlackApiError('invalid_attachments');

  if (markdownText !== undefined && ((text ?? '') !== '' || blocks !== undefined))
    throw new SlackApiError('markdown_text_conflict');
  const hasContent =
    (text ?? '') !== '' ||
    (markdownText ?? '') !== '' ||
    (Array.isArray(blocks) && blocks.length > 0) ||
    (Array.isArray(attachments) && attachments.length > 0);
  if (!hasContent) throw new SlackApiError('no_text');
  if (Array.isArray(attachments) && attachments.length > MESSAGE_LIMITS.attachments)
    throw new SlackApiError('too_many_attachments');

  const errors: string[] = [];
  let blocksText = 0;
  if (Array.isArray(blocks)) {
    const report = checkBlocks(blocks);
    errors.push(...report.errors);
    blocksText += report.textLength;
  }
  if (Array.isArray(attachments)) {
    attachments.forEach((attachment, i) => {
      if (attachment.blocks === undefined) return;
      if (!Array.isArray(attachment.blocks)) {
        errors.push(`must be an array [json-pointer:/attachments/${i}/blocks]`);
        return;
      }
      const report = checkBlocks(attachment.blocks, `/attachments/${i}/blocks`);
      errors.push(...report.errors);
      blocksText += report.textLength;
    });
  }
  if (errors.length > 0)
    throw new SlackApiError('invalid_blocks', {
      errors,
      response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
    });
  if (blocksText > limits.blocksTextLimit) throw new SlackApiError('msg_blocks_too_long');

  if (markdownText !== undefined) {
    if (markdownText.length > MESSAGE_LIMITS.markdownBlock) throw new SlackApiError('msg_too_long');
    // Slack turns markdown_text into a markdown block; the text stays as the notification fallback.
    text = markdownText;
    result.blocks = [{ type: 'markdown', text: markdownText, block_id: newBlockId() }];
  }
  if (text !== undefined && text.length > limits.textLimit) {
    if (limits.overLimit === 'msg_too_long') throw new SlackApiError('msg_too_long');
    text = text.slice(0, limits.textLimit);
    result.warnings.push('message_truncated');
    result.messages.push(
      `[WARN] Your message was truncated but still posted. The \`text\` field accepts up to ${limits.textLimit.toLocaleString('en-US')} characters.`,
    );
  }
  if (text !== undefined) result.text = text;
  if (Array.isArray(blocks)) result.blocks = (blocks as Json[]).map(withBlockId);
  if (Array.isArray(attachments)) result.attachments = attachments.map(normalizeAttachment);
  return result;
}

// Slack's look like "Xb2a". They need only be unique within a message; crypto would cost 5% of a post.
function newBlockId(): string {
  return Math.random().toString(36).slice(2, 7);
}

// Slack gives every block a block_id when it has none; the click payloads need them.
function withBlockId(block: Json): Json {
  return typeof block.block_id === 'string' ? block : { ...block, block_id: newBlockId() };
}

// Slack numbers attachments, strips the `#` off hex colours and gives blocks their IDs.
function normalizeAttachment(attachment: Json, index: number): Json {
  const normalized: Json = { ...attachment, id: index + 1 };
  if (typeof attachment.color === 'string') normalized.color = attachment.color.replace(/^#/, '');
  if (Array.isArray(attachment.blocks)) normalized.blocks = (attachment.blocks as Json[]).map(withBlockId);
  if (normalized.fallback === undefined && attachment.blocks !== undefined)
    normalized.fallback = '[no preview available]';
  return normalized;
}
