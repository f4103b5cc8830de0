// The alert message (product.md §3) as a SlackMessage: a one-line headline in `text` (it is what
// notifications, screen readers and the channel list show, with the mentions) and the details in one
// attachment whose colour bar shows the outcome (docs/adr/0006-alerts-in-a-coloured-attachment.md).
// Everything user-controlled (Job names, labels, reasons, messages, termination messages, link labels) is
// escaped, and every piece is bounded so the payload fits Slack's limits (slack-limits.ts).
import type { EventType, Link } from '../api/types.ts';
import type { FailedPodDetail, JobRecord } from './job.ts';
import type { SlackMessage } from './message.ts';
import type { Outcome } from './outcome-types.ts';
import { codeBlock, escapeAndTruncate } from './escape.ts';
import { expandTemplate, isHttpUrl } from './template.ts';
import { SLACK_LIMITS } from './slack-limits.ts';
import {
  OUTCOME_STYLES,
  TEST_COLOR,
  button,
  codeSpan,
  context,
  fieldsSection,
  formatDuration,
  plain,
  renderMentions,
  section,
  slackDate,
  type Block,
} from './render-parts.ts';

export { renderDigest, MAX_DIGEST_ENTRIES, type DigestEntry, type DigestContext } from './digest.ts';
export { OUTCOME_STYLES, renderMentions } from './render-parts.ts';

export interface AlertInput {
  job: JobRecord;
  outcome: Outcome;
  /** shown in the message; the integration's clusterName or the operator's --cluster-name */
  clusterName?: string;
  /** details of failed pods, when the caller fetched them (Failed alerts) */
  failedPods?: readonly FailedPodDetail[];
  /**
   * Mentions already resolved by the caller, as `<@U…>` or `<!subteam^S…>`; rendered for Failed and
   * Cancelled only. Anything else is shown as escaped text, never as markup.
   */
  mentions?: readonly string[];
  /** link buttons from the rule; url templates are expanded from the Job, invalid results skipped */
  links?: readonly Link[];
}

/** At most this many failed pods get their own section; the rest are counted. */
export const MAX_POD_SECTIONS = 5;
const MAX_NAME = 253;
const MAX_REASON = 200;
const MAX_OUTCOME_MESSAGE = 1500;
const MAX_TERMINATION_MESSAGE = 600;

function jobTitle(job: Pick<JobRecord, 'namespace' | 'name'>, max = MAX_NAME): string {
  return escapeAndTruncate(`${job.namespace}/${job.name}`, max);
}

function cancellationText(outcome: Outcome): string {
  switch (outcome.cancellation ?? outcome.reason) {
    case 'Deleted':
      return 'deleted before it finished';
    case 'Suspended':
      return 'suspended after it had started';
    default:
      return 'stopped before it finished';
  }
}

function outcomeSummary(outcome: Outcome): string {
  if (outcome.event === 'Cancelled') return `Cancelled: ${cancellationText(outcome)}`;
  if (outcome.event === 'Failed' && outcome.reason !== undefined) return `Failed: ${outcome.reason}`;
  return outcome.event;
}

/** The values for link templates. */
export function templateValues(job: JobRecord, clusterName: string | undefined) {
  return {
    namespace: job.namespace,
    name: job.name,
    cronjob: job.cronJob ?? '',
    uid: job.uid,
    cluster: clusterName ?? '',
  };
}

/** Link buttons for the links whose templates expand to an http(s) URL within Slack's limit. */
export function linkButtons(
  links: readonly Link[] | undefined,
  job: JobRecord,
  clusterName: string | undefined,
): Block[] {
  const buttons: Block[] = [];
  for (const link of links ?? []) {
    if (buttons.length >= SLACK_LIMITS.actions) break;
    if (typeof link.text !== 'string' || link.text.trim() === '' || typeof link.url !== 'string') continue;
    const url = expandTemplate(link.url, templateValues(job, clusterName));
    if (!url.ok || !isHttpUrl(url.value, SLACK_LIMITS.buttonUrl)) continue;
    buttons.push(button(link.text.trim(), url.value, `jobherald-link-${buttons.length}`));
  }
  return buttons;
}

function podSection(pod: FailedPodDetail): Block {
  const facts = [`*${escapeAndTruncate(pod.pod, MAX_NAME)}*`, `container ${codeSpan(pod.container, 80)}`];
  if (pod.exitCode !== undefined) facts.push(`exit code ${pod.exitCode}`);
  if (pod.reason !== undefined && pod.reason !== '') facts.push(`*${escapeAndTruncate(pod.reason, 100)}*`);
  let text = facts.join(' · ');
  if (pod.message !== undefined && pod.message.trim() !== '') {
    text += '\n' + codeBlock(pod.message.trim(), MAX_TERMINATION_MESSAGE);
  }
  return section(text);
}

/** The headline: `:x: *Failed* · data/nightly-etl-29373 on prod-eu`, plus mentions. */
function headline(
  job: JobRecord,
  outcome: Outcome,
  clusterName: string | undefined,
  mentions: string,
): string {
  const style = OUTCOME_STYLES[outcome.event];
  let text = `${style.emoji} *${style.label}* · ${jobTitle(job)}`;
  if (outcome.event === 'Failed' && outcome.reason !== undefined)
    text += ` (${escapeAndTruncate(outcome.reason, 100)})`;
  if (outcome.event === 'Cancelled') text += ` (${cancellationText(outcome)})`;
  if (clusterName !== undefined && clusterName !== '') text += ` on ${escapeAndTruncate(clusterName, 128)}`;
  if (mentions !== '') text += ` · cc ${mentions}`;
  return text;
}

/** The alert for one Job outcome. */
export function renderAlert(input: AlertInput): SlackMessage {
  const { job, outcome, clusterName } = input;
  const style = OUTCOME_STYLES[outcome.event];
  const notable: readonly EventType[] = ['Failed', 'Cancelled'];
  const mentions = notable.includes(outcome.event) ? renderMentions(input.mentions) : '';

  const fields: { label: string; value: string }[] = [{ label: 'Job', value: jobTitle(job) }];
  if (job.cronJob !== undefined)
    fields.push({ label: 'CronJob', value: escapeAndTruncate(job.cronJob, MAX_NAME) });
  if (clusterName !== undefined && clusterName !== '') {
    fields.push({ label: 'Cluster', value: escapeAndTruncate(clusterName, 128) });
  }
  fields.push({ label: 'Outcome', value: escapeAndTruncate(outcomeSummary(outcome), MAX_REASON) });
  if (job.startTime !== undefined) fields.push({ label: 'Started', value: slackDate(job.startTime) });
  fields.push({
    label: outcome.event === 'Cancelled' ? 'Cancelled' : 'Finished',
    value: slackDate(outcome.at),
  });
  const duration = formatDuration(
    job.startTime,
    outcome.event === 'Succeeded' ? (job.completionTime ?? outcome.at) : outcome.at,
  );
  if (duration !== undefined) fields.push({ label: 'Duration', value: duration });
  const pods = [`${job.succeeded} succeeded`, `${job.failed} failed`];
  if (job.active > 0) pods.push(`${job.active} active`);
  fields.push({ label: 'Pods', value: pods.join(' · ') });

  const blocks: Block[] = [fieldsSection(fields)];

  if (outcome.event !== 'Succeeded' && (outcome.reason !== undefined || outcome.message !== undefined)) {
    const parts: string[] = [];
    if (outcome.reason !== undefined)
      parts.push(`*Reason:* ${escapeAndTruncate(outcome.reason, MAX_REASON)}`);
    if (outcome.message !== undefined && outcome.message.trim() !== '') {
      parts.push(codeBlock(outcome.message.trim(), MAX_OUTCOME_MESSAGE));
    }
    blocks.push(section(parts.join('\n')));
  }

  const failedPods = input.failedPods ?? [];
  for (const pod of failedPods.slice(0, MAX_POD_SECTIONS)) blocks.push(podSection(pod));
  if (failedPods.length > MAX_POD_SECTIONS) {
    blocks.push(context([`…and ${failedPods.length - MAX_POD_SECTIONS} more failed pods`]));
  }

  const buttons = linkButtons(input.links, job, clusterName);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'jobherald-links', elements: buttons });

  const footer = [`jobherald · Job UID ${codeSpan(job.uid === '' ? 'unknown' : job.uid, 80)}`];
  blocks.push(context(footer));

  const fallback = plain(
    `${style.label}: ${job.namespace}/${job.name}${outcome.event === 'Failed' && outcome.reason !== undefined ? ` (${outcome.reason})` : ''}`,
    300,
  );
  return {
    text: headline(job, outcome, clusterName, mentions),
    attachments: [{ color: style.color, fallback, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

export interface TestMessageInput {
  /** the integration, `namespace/name` */
  integration: { namespace: string; name: string };
  nonce: string;
  clusterName?: string;
  /** rules using this channel, `namespace/name` */
  usedBy?: readonly string[];
}

/** The message posted to every channel in use when an integration's testNonce changes. */
export function renderTestMessage(input: TestMessageInput): SlackMessage {
  const integration = escapeAndTruncate(`${input.integration.namespace}/${input.integration.name}`, 300);
  const cluster =
    input.clusterName !== undefined && input.clusterName !== ''
      ? ` on ${escapeAndTruncate(input.clusterName, 128)}`
      : '';
  const usedBy = [...(input.usedBy ?? [])];
  const blocks: Block[] = [
    section(
      `This is a test from SlackIntegration ${integration}${cluster}, requested by changing its testNonce to ${codeSpan(input.nonce, 140)}. ` +
        'Job alerts for this channel will arrive here.',
    ),
  ];
  if (usedBy.length > 0) {
    const shown = usedBy.slice(0, 20).map((r) => codeSpan(r, 120));
    const more = usedBy.length > 20 ? ` and ${usedBy.length - 20} more` : '';
    blocks.push(context([`Rules posting here: ${shown.join(', ')}${more}`]));
  }
  return {
    text: `:wave: *jobherald test message* from ${integration}${cluster}`,
    attachments: [
      { color: TEST_COLOR, fallback: plain(`jobherald test message (${input.nonce})`, 300), blocks },
    ],
  };
}
