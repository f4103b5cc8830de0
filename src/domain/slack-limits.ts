// Slack's message limits (reference/slack-behaviour.md §4.1) and a checker that renderers' tests (and the
// Slack emulator, if it likes) use to prove a payload fits.
import type { SlackMessage } from './message.ts';

export const SLACK_LIMITS = {
  /** header block text (plain_text) */
  headerText: 150,
  /** section block text */
  sectionText: 3000,
  /** section fields: count and length of each */
  fields: 10,
  fieldText: 2000,
  /** context block elements */
  contextElements: 10,
  /** actions block elements */
  actions: 25,
  buttonText: 75,
  buttonUrl: 3000,
  actionId: 255,
  /** blocks per message (and per attachment) */
  blocks: 50,
  attachments: 100,
  /** top-level text: recommended maximum (hard limit 40,000, truncated beyond) */
  text: 4000,
  /**
   * Total text across all blocks: not documented; msg_blocks_too_long was observed around 12–13k
   * characters, so renderers stay under this budget.
   */
  totalBlockText: 10_000,
} as const;

type Json = Record<string, unknown>;

const textOf = (value: unknown): string =>
  typeof value === 'object' && value !== null && typeof (value as Json)['text'] === 'string'
    ? ((value as Json)['text'] as string)
    : '';

/** Every limit `blocks` break, as messages with a JSON-pointer-like path; also returns the text total. */
function checkBlocks(blocks: readonly Json[], where: string, problems: string[]): number {
  let total = 0;
  if (blocks.length > SLACK_LIMITS.blocks)
    problems.push(`${where}: ${blocks.length} blocks > ${SLACK_LIMITS.blocks}`);
  blocks.forEach((block, i) => {
    const at = `${where}/${i}`;
    const text = textOf(block['text']);
    total += text.length;
    if (block['type'] === 'header' && text.length > SLACK_LIMITS.headerText) {
      problems.push(`${at}/text: ${text.length} > ${SLACK_LIMITS.headerText}`);
    }
    if (block['type'] === 'section') {
      if (text.length > SLACK_LIMITS.sectionText)
        problems.push(`${at}/text: ${text.length} > ${SLACK_LIMITS.sectionText}`);
      const fields = (block['fields'] as Json[] | undefined) ?? [];
      if (block['text'] === undefined && fields.length === 0)
        problems.push(`${at}: section without text or fields`);
      if (text.length === 0 && block['text'] !== undefined) problems.push(`${at}/text: empty`);
      if (fields.length > SLACK_LIMITS.fields)
        problems.push(`${at}/fields: ${fields.length} > ${SLACK_LIMITS.fields}`);
      fields.forEach((field, j) => {
        const t = textOf(field);
        total += t.length;
        if (t.length > SLACK_LIMITS.fieldText)
          problems.push(`${at}/fields/${j}: ${t.length} > ${SLACK_LIMITS.fieldText}`);
      });
    }
    if (block['type'] === 'context') {
      const elements = (block['elements'] as Json[] | undefined) ?? [];
      if (elements.length > SLACK_LIMITS.contextElements) problems.push(`${at}/elements: too many`);
      for (const element of elements) total += textOf(element).length;
    }
    if (block['type'] === 'actions') {
      const elements = (block['elements'] as Json[] | undefined) ?? [];
      if (elements.length > SLACK_LIMITS.actions)
        problems.push(`${at}/elements: ${elements.length} > ${SLACK_LIMITS.actions}`);
      const ids = new Set<string>();
      elements.forEach((element, j) => {
        const label = textOf(element['text']);
        if (label.length === 0 || label.length > SLACK_LIMITS.buttonText)
          problems.push(`${at}/elements/${j}/text: length ${label.length}`);
        const url = element['url'];
        if (typeof url === 'string' && url.length > SLACK_LIMITS.buttonUrl)
          problems.push(`${at}/elements/${j}/url: too long`);
        const rawId = element['action_id'];
        const id = typeof rawId === 'string' ? rawId : '';
        if (id.length > SLACK_LIMITS.actionId || ids.has(id))
          problems.push(`${at}/elements/${j}/action_id: invalid or duplicate`);
        ids.add(id);
      });
    }
  });
  return total;
}

/** The limits `message` breaks; an empty list means Slack accepts it. */
export function checkSlackLimits(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (message.text.length === 0) problems.push('/text: empty');
  if (message.text.length > SLACK_LIMITS.text)
    problems.push(`/text: ${message.text.length} > ${SLACK_LIMITS.text}`);
  let total = checkBlocks(message.blocks ?? [], '/blocks', problems);
  const attachments = message.attachments ?? [];
  if (attachments.length > SLACK_LIMITS.attachments) problems.push('/attachments: too many');
  attachments.forEach((attachment, i) => {
    total += checkBlocks(
      (attachment['blocks'] as Json[] | undefined) ?? [],
      `/attachments/${i}/blocks`,
      problems,
    );
  });
  if (total > SLACK_LIMITS.totalBlockText)
    problems.push(`total block text ${total} > ${SLACK_LIMITS.totalBlockText}`);
  return problems;
}
