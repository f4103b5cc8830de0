// Test helpers: every mrkdwn text of a message, and a check that user text injected no Slack markup.
import type { SlackMessage } from '../../../src/domain/message.ts';

type Json = Record<string, unknown>;

/** All strings that Slack parses as mrkdwn: the top-level text and every mrkdwn object in the blocks. */
export function mrkdwnTexts(message: SlackMessage): string[] {
  const out = [message.text];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) {
      const object = node as Json;
      if (object['type'] === 'mrkdwn' && typeof object['text'] === 'string') out.push(object['text']);
      Object.values(object).forEach(visit);
    }
  };
  visit(message.blocks ?? []);
  visit(message.attachments ?? []);
  return out;
}

/** Every plain_text string (headers, button labels). */
export function plainTexts(message: SlackMessage): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) {
      const object = node as Json;
      if (object['type'] === 'plain_text' && typeof object['text'] === 'string') out.push(object['text']);
      Object.values(object).forEach(visit);
    }
  };
  visit(message.attachments ?? []);
  return out;
}

const DATE = /<!date\^\d+\^[^|<>]*\|[^<>]*>/g;

/**
 * The control sequences (`<…>`) left in mrkdwn once our own date tokens and the `allowed` mention strings
 * are removed: must be empty, or user text got through unescaped.
 */
export function strayMarkup(message: SlackMessage, allowed: readonly string[] = []): string[] {
  const stray: string[] = [];
  for (let text of mrkdwnTexts(message)) {
    text = text.replace(DATE, '');
    for (const a of allowed) text = text.replaceAll(a, '');
    stray.push(...(text.match(/[<>]/g) ?? []));
    stray.push(...(text.match(/&(?!amp;|lt;|gt;)/g) ?? []));
  }
  return stray;
}
