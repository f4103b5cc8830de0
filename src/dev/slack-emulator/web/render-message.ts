// A posted message as HTML, roughly as Slack's client shows it: Block Kit (header, section with fields
// and accessory, context, divider, actions with buttons, images as links, markdown, rich text) or the
// text, legacy attachments with their colour bar, "(edited)", and buttons that can be clicked.
import type { EmulatedMessage } from '../emulator.ts';
import { escapeHtml, linkHtml, mrkdwnToHtml, plainToHtml, type Directory } from './render-mrkdwn.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);

function textObject(value: unknown, dir: Directory): string {
  if (!isObject(value)) return '';
  return value.type === 'mrkdwn' ? mrkdwnToHtml(str(value.text), dir) : plainToHtml(str(value.text));
}

/** Where a click goes: the message it belongs to. */
interface ButtonContext {
  channel: string;
  ts: string;
}

function element(value: Json, dir: Directory, at: ButtonContext): string {
  switch (value.type) {
    case 'button': {
      const style = value.style === 'primary' || value.style === 'danger' ? ` ${value.style}` : '';
      const label = textObject(value.text, dir);
      if (typeof value.url === 'string' && /^https?:/i.test(value.url))
        return `<a class="btn${style}" href="${escapeHtml(value.url)}" target="_blank" rel="noreferrer">${label}</a>`;
      return `<button class="btn${style}" data-action-id="${escapeHtml(str(value.action_id))}" data-channel="${escapeHtml(at.channel)}" data-ts="${escapeHtml(at.ts)}">${label}</button>`;
    }
    case 'image':
      return imageLink(value);
    default: {
      const placeholder = isObject(value.placeholder) ? str(value.placeholder.text) : '';
      return `<span class="element">${escapeHtml(placeholder === '' ? str(value.type) : placeholder)} ▾</span>`;
    }
  }
}

function imageLink(value: Json): string {
  const label = str(value.alt_text) || 'image';
  return `<span class="image-link">Image: ${linkHtml(str(value.image_url), label)}</span>`;
}

function richText(value: unknown): string {
  if (Array.isArray(value)) return value.map(richText).join('');
  if (!isObject(value)) return '';
  if (typeof value.text === 'string') return value.text;
  if (value.type === 'user') return `@${str(value.user_id)}`;
  if (value.type === 'link') return str(value.text) || str(value.url);
  return richText(value.elements);
}

export function blockHtml(block: Json, dir: Directory, at: ButtonContext): string {
  switch (block.type) {
    case 'header':
      return `<div class="block header">${textObject(block.text, dir)}</div>`;
    case 'section': {
      const text =
        block.text === undefined ? '' : `<div class="section-text">${textObject(block.text, dir)}</div>`;
      const fields = list(block.fields);
      const grid =
        fields.length === 0
          ? ''
          : `<div class="fields">${fields.map((f) => `<div class="field">${textObject(f, dir)}</div>`).join('')}</div>`;
      const accessory = isObject(block.accessory)
        ? `<div class="accessory">${element(block.accessory, dir, at)}</div>`
        : '';
      return `<div class="block section"><div class="section-body">${text}${grid}</div>${accessory}</div>`;
    }
    case 'context':
      return `<div class="block context">${list(block.elements)
        .map((e) => (e.type === 'image' ? imageLink(e) : `<span>${textObject(e, dir)}</span>`))
        .join('')}</div>`;
    case 'divider':
      return '<hr class="block divider">';
    case 'actions':
      return `<div class="block actions">${list(block.elements)
        .map((e) => element(e, dir, at))
        .join('')}</div>`;
    case 'image': {
      const title = isObject(block.title) ? str(block.title.text) : '';
      return `<div class="block image">${imageLink({ ...block, alt_text: title || str(block.alt_text) })}</div>`;
    }
    case 'markdown':
      return `<div class="block markdown">${escapeHtml(str(block.text)).replace(/\n/g, '<br>')}</div>`;
    case 'rich_text':
      return `<div class="block rich-text">${escapeHtml(richText(block.elements)).replace(/\n/g, '<br>')}</div>`;
    default:
      return `<div class="block unknown">[${escapeHtml(str(block.type))} block]</div>`;
  }
}

const NAMED_COLOURS: Record<string, string> = { good: '#2eb886', warning: '#daa038', danger: '#a30200' };

export function attachmentColour(color: unknown): string {
  if (typeof color !== 'string') return '#dddddd';
  const named = NAMED_COLOURS[color];
  if (named !== undefined) return named;
  const hex = color.replace(/^#/, '');
  return /^([0-9a-f]{3}|[0-9a-f]{6})$/i.test(hex) ? `#${hex}` : '#dddddd';
}

function attachmentHtml(attachment: Json, dir: Directory, at: ButtonContext): string {
  const parts: string[] = [];
  if (typeof attachment.author_name === 'string')
    parts.push(`<div class="att-author">${escapeHtml(attachment.author_name)}</div>`);
  if (typeof attachment.title === 'string') {
    const title =
      typeof attachment.title_link === 'string'
        ? linkHtml(attachment.title_link, attachment.title)
        : escapeHtml(attachment.title);
    parts.push(`<div class="att-title">${title}</div>`);
  }
  if (typeof attachment.text === 'string')
    parts.push(`<div class="att-text">${mrkdwnToHtml(attachment.text, dir)}</div>`);
  const fields = list(attachment.fields);
  if (fields.length > 0)
    parts.push(
      `<div class="att-fields">${fields
        .map(
          (f) =>
            `<div class="att-field${f.short === true ? ' short' : ''}"><b>${escapeHtml(str(f.title))}</b><div>${mrkdwnToHtml(str(f.value), dir)}</div></div>`,
        )
        .join('')}</div>`,
    );
  for (const block of list(attachment.blocks)) parts.push(blockHtml(block, dir, at));
  if (typeof attachment.image_url === 'string')
    parts.push(imageLink({ image_url: attachment.image_url, alt_text: 'image' }));
  if (typeof attachment.footer === 'string')
    parts.push(`<div class="att-footer">${mrkdwnToHtml(attachment.footer, dir)}</div>`);
  const pretext =
    typeof attachment.pretext === 'string'
      ? `<div class="att-pretext">${mrkdwnToHtml(attachment.pretext, dir)}</div>`
      : '';
  const colour = attachmentColour(attachment.color);
  return `${pretext}<div class="attachment" data-color="${colour}" style="border-left-color:${colour}">${parts.join('')}</div>`;
}

export function formatTime(ts: string): string {
  const date = new Date(Number(ts.split('.')[0]) * 1000);
  return `${date.toISOString().slice(11, 19)} UTC`;
}

export interface Sender {
  name: string;
  isApp: boolean;
}

/** One message: sender, time, content (blocks, or text), attachments, and markers. */
export function messageHtml(message: EmulatedMessage, sender: Sender, dir: Directory): string {
  const at = { channel: message.channel, ts: message.ts };
  const blocks = message.blocks ?? [];
  const body =
    blocks.length > 0
      ? blocks.map((b) => blockHtml(b, dir, at)).join('')
      : message.text === ''
        ? ''
        : `<div class="text">${mrkdwnToHtml(message.text, dir)}</div>`;
  const attachments = (message.attachments ?? []).map((a) => attachmentHtml(a, dir, at)).join('');
  const markers = [
    message.updates > 0 ? '<span class="edited">(edited)</span>' : '',
    message.ephemeralFor === undefined ? '' : '<span class="ephemeral">Only visible to you</span>',
    message.poster.via === 'webhook' ? '<span class="via">via incoming webhook</span>' : '',
  ].join('');
  const name = escapeHtml(message.username ?? sender.name);
  const initial = escapeHtml((message.username ?? sender.name).slice(0, 1).toUpperCase());
  if (message.deleted === true)
    return `<div class="message deleted" data-ts="${escapeHtml(message.ts)}"><div class="avatar">·</div><div class="content"><i>This message was deleted.</i></div></div>`;
  return `<div class="message" data-ts="${escapeHtml(message.ts)}">
  <div class="avatar${sender.isApp ? ' app' : ''}">${initial}</div>
  <div class="content">
    <div class="meta"><span class="sender">${name}</span>${sender.isApp ? '<span class="app-badge">APP</span>' : ''}<span class="time">${formatTime(message.ts)}</span>${markers}</div>
    ${body}${attachments}
  </div>
</div>`;
}
