// Slack's mrkdwn to HTML for the web view: control sequences (<@U…>, <!subteam^S…>, <#C…>, <url|text>),
// *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes, and a few emoji shortcodes. Everything
// from the message is HTML-escaped: alerts carry Job names and logs, which must not become markup.

export interface Directory {
  userName(id: string): string | undefined;
  groupHandle(id: string): string | undefined;
  channelName(id: string): string | undefined;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Slack escapes only &, < and > in message text; undo that before escaping for HTML. */
function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  warning: '⚠️',
  rotating_light: '🚨',
  red_circle: '🔴',
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  fire: '🔥',
  boom: '💥',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  stopwatch: '⏱️',
  repeat: '🔁',
  arrows_counterclockwise: '🔄',
  information_source: 'ℹ️',
  bell: '🔔',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  tada: '🎉',
  skull: '💀',
  package: '📦',
  gear: '⚙️',
  memo: '📝',
  link: '🔗',
};

const SAFE_URL = /^(https?:|mailto:)/i;

export function linkHtml(url: string, label: string): string {
  const text = escapeHtml(label);
  return SAFE_URL.test(url)
    ? `<a href="${escapeHtml(url)}" target="_blank" rel="noreferrer">${text}</a>`
    : text;
}

function controlSequence(body: string, dir: Directory): string {
  const bar = body.indexOf('|');
  const target = decodeSlackEntities(bar === -1 ? body : body.slice(0, bar));
  const label = bar === -1 ? undefined : decodeSlackEntities(body.slice(bar + 1));
  const mention = (text: string) => `<span class="mention">${escapeHtml(text)}</span>`;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return mention(`@${label ?? dir.userName(id) ?? id}`);
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return mention(`#${label ?? dir.channelName(id) ?? id}`);
  }
  if (target.startsWith('!subteam^')) {
    const id = target.slice('!subteam^'.length);
    const handle = dir.groupHandle(id);
    return mention(label ?? (handle === undefined ? `@${id}` : `@${handle}`));
  }
  if (target === '!here' || target === '!channel' || target === '!everyone')
    return mention(`@${target.slice(1)}`);
  if (target.startsWith('!date^')) return escapeHtml(slackDate(target, label));
  if (target.startsWith('!')) return escapeHtml(label ?? target);
  return linkHtml(target, label ?? target);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * `<!date^SECONDS^FORMAT|fallback>` in UTC (Slack uses each reader's time zone): {date_num}, {date},
 * {date_short}, {date_long}, their _pretty forms (without "today"/"yesterday"), {time}, {time_secs}.
 */
function slackDate(target: string, fallback: string | undefined): string {
  const [, seconds = '', format = ''] = target.split('^');
  const when = new Date(Number(seconds) * 1000);
  if (!/^\d+$/.test(seconds) || Number.isNaN(when.getTime())) return fallback ?? target;
  const iso = when.toISOString();
  const month = MONTHS[when.getUTCMonth()] ?? '';
  const day = when.getUTCDate();
  const year = when.getUTCFullYear();
  const tokens: Record<string, string> = {
    date_num: iso.slice(0, 10),
    date: `${month} ${day}, ${year}`,
    date_short: `${month.slice(0, 3)} ${day}, ${year}`,
    date_long: `${['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][when.getUTCDay()] ?? ''}, ${month} ${day}, ${year}`,
    time: iso.slice(11, 16),
    time_secs: iso.slice(11, 19),
  };
  for (const base of ['date', 'date_short', 'date_long']) tokens[`${base}_pretty`] = tokens[base] ?? '';
  return format.replace(/\{(\w+)\}/g, (whole, name: string) => tokens[name] ?? whole);
}

/** Inline formatting on already-escaped text. */
function inline(html: string): string {
  const edge = '(^|[\\s(>\\[])';
  const end = '(?=$|[\\s.,!?;:)<\\]])';
  return html
    .replace(new RegExp(`${edge}\\*([^*\\n]+)\\*${end}`, 'g'), '$1<b>$2</b>')
    .replace(new RegExp(`${edge}_([^_\\n]+)_${end}`, 'g'), '$1<i>$2</i>')
    .replace(new RegExp(`${edge}~([^~\\n]+)~${end}`, 'g'), '$1<s>$2</s>')
    .replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

function renderPlainSegment(segment: string, dir: Directory): string {
  // Pull out control sequences and inline code first, so formatting never reaches inside them.
  const held: string[] = [];
  const hold = (html: string) => `\uE000${held.push(html) - 1}\uE001`;
  let text = segment.replace(/<([^<>\n]+)>/g, (_whole, body: string) => hold(controlSequence(body, dir)));
  text = text.replace(/`([^`\n]+)`/g, (_whole, code: string) =>
    hold(`<code>${escapeHtml(decodeSlackEntities(code))}</code>`),
  );
  const lines = text.split('\n').map((line) => {
    const quote = /^>\s?(.*)$/.exec(line);
    const content = inline(escapeHtml(decodeSlackEntities(quote === null ? line : (quote[1] ?? ''))));
    return quote === null ? content : `<span class="quote">${content}</span>`;
  });
  return lines.join('<br>').replace(/\uE000(\d+)\uE001/g, (_whole, i: string) => held[Number(i)] ?? '');
}

export function mrkdwnToHtml(text: string, dir: Directory): string {
  return text
    .split(/```/)
    .map((part, i) =>
      i % 2 === 1
        ? `<pre>${escapeHtml(decodeSlackEntities(part.replace(/^\n/, '')))}</pre>`
        : renderPlainSegment(part, dir),
    )
    .join('');
}

/** plain_text objects: no formatting, only emoji shortcodes. */
export function plainToHtml(text: string): string {
  return escapeHtml(text).replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}
