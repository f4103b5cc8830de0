// A digest: one message listing many outcomes for one channel, used by the delivery queue when a burst
// would otherwise drain at Slack's ~1 message/second/channel. Entries are grouped by outcome (Failed first),
// one compact line each, with counts in the headline. MAX_DIGEST_ENTRIES entries always fit Slack's limits
// (1,000 outcomes → 25 messages).
import type { JobRecord } from './job.ts';
import type { SlackMessage } from './message.ts';
import type { Outcome } from './outcome-types.ts';
import type { EventType } from '../api/types.ts';
import { escapeAndTruncate } from './escape.ts';
import {
  OUTCOME_STYLES,
  codeSpan,
  context,
  plain,
  renderMentions,
  section,
  slackDate,
  type Block,
} from './render-parts.ts';
import { SLACK_LIMITS } from './slack-limits.ts';

/** The most outcomes one digest message lists; the caller splits longer backlogs. */
export const MAX_DIGEST_ENTRIES = 40;

export interface DigestEntry {
  job: Pick<JobRecord, 'namespace' | 'name' | 'uid'> & { cronJob?: string };
  outcome: Outcome;
  /** resolved mentions of the matching rule; shown once in the headline for Failed/Cancelled entries */
  mentions?: readonly string[];
}

export interface DigestContext {
  clusterName?: string;
}

const ORDER: readonly EventType[] = ['Failed', 'Cancelled', 'Succeeded'];
const MAX_LINE_NAME = 100;
const MAX_LINE_REASON = 60;

function line(entry: DigestEntry): string {
  const { job, outcome } = entry;
  let text = `• ${codeSpan(`${job.namespace}/${job.name}`, MAX_LINE_NAME)}`;
  const reason = outcome.event === 'Succeeded' ? undefined : (outcome.cancellation ?? outcome.reason);
  if (reason !== undefined) text += ` ${escapeAndTruncate(reason, MAX_LINE_REASON)}`;
  return `${text} · ${slackDate(outcome.at, '{time_secs}')}`;
}

/** Pack lines into sections of at most the section limit. */
function packLines(title: string, lines: readonly string[]): Block[] {
  const sections: Block[] = [];
  let current = title;
  for (const l of lines) {
    if (current.length + 1 + l.length > SLACK_LIMITS.sectionText) {
      sections.push(section(current));
      current = l;
    } else {
      current += `\n${l}`;
    }
  }
  sections.push(section(current));
  return sections;
}

/** One message for up to MAX_DIGEST_ENTRIES outcomes; extra entries are counted, not listed. */
export function renderDigest(
  entries: readonly DigestEntry[],
  digestContext: DigestContext = {},
): SlackMessage {
  const shown = entries.slice(0, MAX_DIGEST_ENTRIES);
  const hidden = entries.length - shown.length;
  const counts = new Map<EventType, number>();
  for (const e of entries) counts.set(e.outcome.event, (counts.get(e.outcome.event) ?? 0) + 1);
  const worst = ORDER.find((event) => (counts.get(event) ?? 0) > 0) ?? 'Succeeded';

  const summary = ORDER.filter((event) => (counts.get(event) ?? 0) > 0)
    .map((event) => `${counts.get(event)} ${event.toLowerCase()}`)
    .join(', ');
  const cluster =
    digestContext.clusterName !== undefined && digestContext.clusterName !== ''
      ? ` on ${escapeAndTruncate(digestContext.clusterName, 128)}`
      : '';
  const mentions = renderMentions(
    entries.filter((e) => e.outcome.event !== 'Succeeded').flatMap((e) => e.mentions ?? []),
  );
  let text = `${OUTCOME_STYLES[worst].emoji} *${entries.length} Job outcome${entries.length === 1 ? '' : 's'}*${cluster}: ${summary}`;
  if (mentions !== '') text += ` · cc ${mentions}`;

  const blocks: Block[] = [];
  for (const event of ORDER) {
    const group = shown.filter((e) => e.outcome.event === event);
    if (group.length === 0) continue;
    const style = OUTCOME_STYLES[event];
    blocks.push(...packLines(`${style.emoji} *${style.label}* (${counts.get(event)})`, group.map(line)));
  }
  if (hidden > 0) blocks.push(context([`…and ${hidden} more not listed here`]));
  blocks.push(
    context(['jobherald digest: a burst of outcomes for this channel, coalesced into one message']),
  );

  return {
    text,
    attachments: [
      {
        color: OUTCOME_STYLES[worst].color,
        fallback: plain(`${entries.length} Job outcomes: ${summary}`, 300),
        blocks: blocks.slice(0, SLACK_LIMITS.blocks),
      },
    ],
  };
}
