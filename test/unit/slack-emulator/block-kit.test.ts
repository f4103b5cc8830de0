// Block Kit checks: Slack's limits, worded like Slack's invalid_blocks errors, with their JSON pointers.
import { describe, expect, it } from 'vitest';
import { checkBlocks } from '../../../src/dev/slack-emulator/block-kit.ts';

const text = (t: string, type = 'mrkdwn') => ({ type, text: t });
const button = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: id,
  text: text('Go', 'plain_text'),
  ...extra,
});

describe('checkBlocks', () => {
  it('accepts what the operator sends', () => {
    const report = checkBlocks([
      { type: 'header', text: text('Job failed', 'plain_text') },
      { type: 'section', fields: [text('*Job*\nx'), text('*Pods*\n1')], accessory: button('a') },
      {
        type: 'context',
        elements: [text('footer'), { type: 'image', image_url: 'https://x/y.png', alt_text: 'y' }],
      },
      { type: 'divider' },
      { type: 'actions', elements: [button('b', { style: 'danger', url: 'https://x', value: 'v' })] },
      { type: 'image', image_url: 'https://x/z.png', alt_text: 'z', title: text('t', 'plain_text') },
    ]);
    // All text counts: header 10, fields 7 + 8, buttons 2 + 2, context 6, image title 1.
    expect(report).toEqual({ errors: [], textLength: 36 });
  });

  it('words each limit like Slack, with where it is', () => {
    const { errors } = checkBlocks([
      { type: 'section', fields: Array.from({ length: 11 }, () => text('f')) },
      { type: 'section', text: text('') },
      { type: 'header', text: text('mrkdwn header') },
      { type: 'context', elements: Array.from({ length: 11 }, () => text('c')) },
      { type: 'actions', elements: [button('same'), button('same'), button('s', { style: 'blue' })] },
      { type: 'image', image_url: 'https://x' },
      { type: 'section', text: { type: 'html', text: 'x' } },
      { type: 'carousel' },
      { type: 'divider', block_id: 'x'.repeat(256) },
      {
        type: 'actions',
        elements: [{ type: 'button', action_id: 'x', text: text('a'.repeat(76), 'plain_text') }],
      },
    ]);
    expect(errors).toEqual([
      'no more than 10 items allowed [json-pointer:/blocks/0/fields]',
      'must be more than 0 characters [json-pointer:/blocks/1/text/text]',
      'must be a plain_text text object [json-pointer:/blocks/2/text]',
      'no more than 10 items allowed [json-pointer:/blocks/3/elements]',
      'duplicate action_id: same [json-pointer:/blocks/4/elements/1/action_id]',
      'must be one of: primary, danger [json-pointer:/blocks/4/elements/2/style]',
      'missing required field: alt_text [json-pointer:/blocks/5]',
      'failed to match all allowed schemas [json-pointer:/blocks/6/text]',
      'unsupported type: carousel [json-pointer:/blocks/7/type]',
      'must be less than 256 characters [json-pointer:/blocks/8/block_id]',
      'must be less than 76 characters [json-pointer:/blocks/9/elements/0/text/text]',
    ]);
  });

  it('counts 50 blocks at most, and 25 elements per actions block', () => {
    expect(checkBlocks(Array.from({ length: 51 }, () => ({ type: 'divider' }))).errors).toEqual([
      'no more than 50 items allowed [json-pointer:/blocks]',
    ]);
    const actions = { type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) };
    expect(checkBlocks([actions], '/attachments/0/blocks').errors).toEqual([
      'no more than 25 items allowed [json-pointer:/attachments/0/blocks/0/elements]',
    ]);
  });
});
