// Block Kit validation as Slack does it for messages: the limits of slack-behaviour.md §4.1, each
// failure worded like Slack's `invalid_blocks` errors, "<what> [json-pointer:/blocks/0/text/text]".
// It also counts the text in the blocks, for the msg_blocks_too_long check.

export const MESSAGE_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  altText: 2000,
  markdownBlock: 12_000,
  attachments: 100,
  postMessageText: 40_000,
  updateText: 4_000,
} as const;

const MESSAGE_BLOCK_TYPES = new Set([
  'section',
  'header',
  'context',
  'divider',
  'actions',
  'image',
  'rich_text',
  'markdown',
  'file',
  'video',
  'table',
]);

const INTERACTIVE_ELEMENTS = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'overflow',
  'radio_buttons',
  'timepicker',
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
  'workflow_button',
]);

export interface BlocksReport {
  errors: string[];
  /** Characters of text in all blocks (Slack refuses too much with msg_blocks_too_long). */
  textLength: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

class Checker {
  readonly errors: string[] = [];
  textLength = 0;

  fail(message: string, pointer: string): void {
    this.errors.push(`${message} [json-pointer:${pointer}]`);
  }

  /** A string of at most `max` characters; `min` 1 unless said otherwise. */
  string(value: unknown, pointer: string, name: string, max: number, required: boolean, min = 1): boolean {
    if (value === undefined) {
      if (required) this.fail(`missing required field: ${name}`, pointer.replace(/\/[^/]*$/, ''));
      return false;
    }
    if (typeof value !== 'string') {
      this.fail('must be a string', pointer);
      return false;
    }
    if (value.length < min) this.fail(`must be more than ${min - 1} characters`, pointer);
    if (value.length > max) this.fail(`must be less than ${max + 1} characters`, pointer);
    return true;
  }

  /** A text object: `{type: plain_text|mrkdwn, text}`. */
  text(value: unknown, pointer: string, max: number, plainOnly = false): void {
    const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (!isObject(value) || typeof value.type !== 'string' || !allowed.includes(value.type)) {
      this.fail(
        plainOnly ? 'must be a plain_text text object' : 'failed to match all allowed schemas',
        pointer,
      );
      return;
    }
    if (this.string(value.text, `${pointer}/text`, 'text', max, true) && typeof value.text === 'string')
      this.textLength += value.text.length;
  }

  list(value: unknown, pointer: string, name: string, max: number, min = 1): unknown[] {
    if (!Array.isArray(value)) {
      this.fail(value === undefined ? `missing required field: ${name}` : 'must be an array', pointer);
      return [];
    }
    if (value.length < min) this.fail(`must provide at least ${min} items`, pointer);
    if (value.length > max) this.fail(`no more than ${max} items allowed`, pointer);
    return value;
  }

  element(value: unknown, pointer: string, actionIds?: Set<string>): void {
    if (!isObject(value)) {
      this.fail('failed to match all allowed schemas', pointer);
      return;
    }
    if (value.type === 'image') {
      this.image(value, pointer);
      return;
    }
    if (typeof value.type !== 'string' || !INTERACTIVE_ELEMENTS.has(value.type)) {
      this.fail(`unsupported type: ${String(value.type)}`, `${pointer}/type`);
      return;
    }
    if (this.string(value.action_id, `${pointer}/action_id`, 'action_id', MESSAGE_LIMITS.actionId, false)) {
      const actionId = value.action_id as string;
      if (actionIds?.has(actionId)) this.fail(`duplicate action_id: ${actionId}`, `${pointer}/action_id`);
      actionIds?.add(actionId);
    }
    if (value.type === 'button') {
      this.text(value.text, `${pointer}/text`, MESSAGE_LIMITS.buttonText, true);
      this.string(value.value, `${pointer}/value`, 'value', MESSAGE_LIMITS.buttonValue, false);
      this.string(value.url, `${pointer}/url`, 'url', MESSAGE_LIMITS.url, false);
      if (value.style !== undefined && value.style !== 'primary' && value.style !== 'danger')
        this.fail('must be one of: primary, danger', `${pointer}/style`);
    }
  }

  image(value: Json, pointer: string): void {
    if (value.slack_file === undefined)
      this.string(value.image_url, `${pointer}/image_url`, 'image_url', MESSAGE_LIMITS.url, true);
    this.string(value.alt_text, `${pointer}/alt_text`, 'alt_text', MESSAGE_LIMITS.altText, true);
  }

  block(block: unknown, pointer: string, blockIds: Set<string>): void {
    if (!isObject(block)) {
      this.fail('failed to match all allowed schemas', pointer);
      return;
    }
    if (typeof block.type !== 'string') {
      this.fail('missing required field: type', pointer);
      return;
    }
    if (!MESSAGE_BLOCK_TYPES.has(block.type)) {
      this.fail(`unsupported type: ${block.type}`, `${pointer}/type`);
      return;
    }
    if (this.string(block.block_id, `${pointer}/block_id`, 'block_id', MESSAGE_LIMITS.blockId, false)) {
      const blockId = block.block_id as string;
      if (blockIds.has(blockId)) this.fail(`duplicate block_id: ${blockId}`, `${pointer}/block_id`);
      blockIds.add(blockId);
    }
    switch (block.type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined) {
          this.fail('must define either `text` or `fields`', `${pointer}/type`);
          break;
        }
        if (block.text !== undefined) this.text(block.text, `${pointer}/text`, MESSAGE_LIMITS.sectionText);
        if (block.fields !== undefined) {
          const fields = this.list(block.fields, `${pointer}/fields`, 'fields', MESSAGE_LIMITS.sectionFields);
          fields.forEach((f, i) => this.text(f, `${pointer}/fields/${i}`, MESSAGE_LIMITS.fieldText));
        }
        if (block.accessory !== undefined) this.element(block.accessory, `${pointer}/accessory`);
        break;
      }
      case 'header':
        this.text(block.text, `${pointer}/text`, MESSAGE_LIMITS.headerText, true);
        break;
      case 'context': {
        const elements = this.list(
          block.elements,
          `${pointer}/elements`,
          'elements',
          MESSAGE_LIMITS.contextElements,
        );
        elements.forEach((e, i) => {
          const at = `${pointer}/elements/${i}`;
          if (isObject(e) && e.type === 'image') this.image(e, at);
          else this.text(e, at, MESSAGE_LIMITS.sectionText);
        });
        break;
      }
      case 'actions': {
        const elements = this.list(
          block.elements,
          `${pointer}/elements`,
          'elements',
          MESSAGE_LIMITS.actionsElements,
        );
        const actionIds = new Set<string>();
        elements.forEach((e, i) => {
          if (isObject(e) && e.type === 'image')
            this.fail('unsupported type: image', `${pointer}/elements/${i}/type`);
          else this.element(e, `${pointer}/elements/${i}`, actionIds);
        });
        break;
      }
      case 'image':
        this.image(block, pointer);
        if (block.title !== undefined)
          this.text(block.title, `${pointer}/title`, MESSAGE_LIMITS.altText, true);
        break;
      case 'markdown':
        if (this.string(block.text, `${pointer}/text`, 'text', MESSAGE_LIMITS.markdownBlock, true))
          this.textLength += (block.text as string).length;
        break;
      case 'rich_text':
        this.list(block.elements, `${pointer}/elements`, 'elements', Infinity);
        this.textLength += JSON.stringify(block.elements ?? []).length;
        break;
      default:
        break; // divider, file, video, table: nothing this emulator checks
    }
  }
}

/** Checks a message's blocks; `pointer` is where they sit (`/blocks`, `/attachments/0/blocks`). */
export function checkBlocks(blocks: unknown[], pointer = '/blocks'): BlocksReport {
  const checker = new Checker();
  if (blocks.length > MESSAGE_LIMITS.blocks)
    checker.fail(`no more than ${MESSAGE_LIMITS.blocks} items allowed`, pointer);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => checker.block(block, `${pointer}/${i}`, blockIds));
  return { errors: checker.errors, textLength: checker.textLength };
}
