// Building blocks shared by the alert, test and digest messages: outcome styles, Slack date tokens,
// durations, and Block Kit element constructors that enforce Slack's limits.
import type { EventType } from '../api/types.ts';
import { escapeAndTruncate, escapeMrkdwn, truncate } from './escape.ts';
import { SLACK_LIMITS } from './slack-limits.ts';

export interface OutcomeStyle {
  emoji: string;
  /** attachment colour bar */
  color: string;
  label: string;
}

export const OUTCOME_STYLES: Readonly<Record<EventType, OutcomeStyle>> = {
  Succeeded: { emoji: ':white_check_mark:', color: '#2eb67d', label: 'Succeeded' },
  Failed: { emoji: ':x:', color: '#e01e5a', label: 'Failed' },
  Cancelled: { emoji: ':no_entry_sign:', color: '#ecb22e', label: 'Cancelled' },
};

/** Colour of the test message. */
export const TEST_COLOR = '#36c5f0';

/**
 * A Slack date token: rendered in each reader's time zone, with the RFC 3339 time as fallback.
 * Unparseable input is shown escaped as it is.
 */
export function slackDate(rfc3339: string, format = '{date_short_pretty} {time_secs}'): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return escapeAndTruncate(rfc3339, 64);
  const seconds = Math.floor(ms / 1000);
  const fallback = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  return `<!date^${seconds}^${format}|${fallback}>`;
}

/** `3s`, `4m 5s`, `2h 3m`, `1d 2h`; undefined when either end is missing or unparseable or reversed. */
export function formatDuration(from: string | undefined, to: string | undefined): string | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** An inline code span of user text: escaped, backticks replaced (they would end the span), bounded. */
export function codeSpan(raw: string, max: number): string {
  return '`' + escapeAndTruncate(raw.replaceAll('`', "'"), Math.max(1, max - 2)) + '`';
}

export type Block = Record<string, unknown>;

export const mrkdwn = (text: string): Block => ({ type: 'mrkdwn', text });

/** A section with trusted, already escaped mrkdwn, cut to the section limit if needed. */
export function section(text: string): Block {
  return { type: 'section', text: mrkdwn(fitMarkup(text, SLACK_LIMITS.sectionText)) };
}

/** A section of at most 10 fields, each `*label*\nvalue` with the value escaped by the caller. */
export function fieldsSection(fields: readonly { label: string; value: string }[]): Block {
  return {
    type: 'section',
    fields: fields
      .slice(0, SLACK_LIMITS.fields)
      .map(({ label, value }) => mrkdwn(fitMarkup(`*${label}*\n${value}`, SLACK_LIMITS.fieldText))),
  };
}

export function context(texts: readonly string[]): Block {
  return { type: 'context', elements: texts.slice(0, SLACK_LIMITS.contextElements).map(mrkdwn) };
}

export function button(text: string, url: string, actionId: string): Block {
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(text, SLACK_LIMITS.buttonText), emoji: true },
    url,
    action_id: actionId,
  };
}

/**
 * Cut trusted mrkdwn to `max` without splitting an entity (`&amp;`) or a control sequence (`<…>`): the cut
 * moves back to before the sequence it would split. Renderers build texts within limits; this is the
 * last line of defence.
 */
export function fitMarkup(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const open = text.lastIndexOf('<', cut);
  if (open >= 0 && text.lastIndexOf('>', cut) < open) cut = open;
  const amp = text.lastIndexOf('&', cut);
  if (amp >= 0 && text.indexOf(';', amp) >= cut) cut = amp;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut) + '…';
}

/** Plain text for notifications and attachment fallbacks: escaped and bounded. */
export const plain = (raw: string, max: number): string => escapeAndTruncate(raw, max);

const MENTION = /^(<@[UW][A-Z0-9]{2,30}>|<!subteam\^S[A-Z0-9]{2,30}(\|@?[a-z0-9._-]{1,80})?>)$/;

/** Mentions as markup when they are well-formed resolved mentions, escaped text otherwise. */
export function renderMentions(mentions: readonly string[] | undefined): string {
  return [...new Set(mentions ?? [])]
    .slice(0, 30)
    .map((m) => (MENTION.test(m) ? m : escapeAndTruncate(m, 100)))
    .join(' ');
}

export { escapeMrkdwn };
