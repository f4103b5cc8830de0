import { describe, expect, it } from 'vitest';
import { MAX_DIGEST_ENTRIES, renderDigest, type DigestEntry } from '../../../src/domain/render.ts';
import { checkSlackLimits } from '../../../src/domain/slack-limits.ts';
import type { EventType } from '../../../src/api/types.ts';
import { mrkdwnTexts, strayMarkup } from './slack-text.ts';

function entry(i: number, event: EventType, name = `job-${i}`): DigestEntry {
  return {
    job: { namespace: 'data', name, uid: `u-${i}` },
    outcome: {
      event,
      at: new Date(Date.UTC(2026, 10, 21, 10, 0, i)).toISOString().replace('.000Z', 'Z'),
      ...(event === 'Failed' ? { reason: 'BackoffLimitExceeded' } : {}),
      ...(event === 'Cancelled' ? { reason: 'Deleted', cancellation: 'Deleted' as const } : {}),
    },
    mentions: ['<@U0ONCALL01>'],
  };
}

const events: EventType[] = ['Succeeded', 'Failed', 'Cancelled'];

describe('renderDigest', () => {
  it('counts outcomes in the headline, worst first, with the worst colour', () => {
    const entries = [entry(1, 'Succeeded'), entry(2, 'Failed'), entry(3, 'Failed'), entry(4, 'Cancelled')];
    const m = renderDigest(entries, { clusterName: 'prod-eu' });
    expect(m.text).toBe(
      ':x: *4 Job outcomes* on prod-eu: 2 failed, 1 cancelled, 1 succeeded · cc <@U0ONCALL01>',
    );
    expect(m.attachments?.[0]?.['color']).toBe('#e01e5a');
  });

  it('groups entries by outcome, Failed first, one line each', () => {
    const m = renderDigest([entry(1, 'Succeeded'), entry(2, 'Failed')]);
    const texts = mrkdwnTexts(m).slice(1);
    expect(texts[0]).toMatch(/^:x: \*Failed\* \(1\)\n• `data\/job-2` BackoffLimitExceeded · <!date\^/);
    expect(texts[1]).toMatch(/^:white_check_mark: \*Succeeded\* \(1\)\n• `data\/job-1` · <!date\^/);
  });

  it('mentions nobody when everything succeeded', () => {
    const m = renderDigest([entry(1, 'Succeeded')]);
    expect(m.text).toBe(':white_check_mark: *1 Job outcome*: 1 succeeded');
  });

  it(`lists at most ${MAX_DIGEST_ENTRIES} entries and counts the rest`, () => {
    const entries = Array.from({ length: MAX_DIGEST_ENTRIES + 5 }, (_, i) => entry(i, 'Failed'));
    const m = renderDigest(entries);
    const text = mrkdwnTexts(m).join('\n');
    expect(text.match(/^• /gm)).toHaveLength(MAX_DIGEST_ENTRIES);
    expect(text).toContain('…and 5 more not listed here');
    expect(m.text).toContain(`*${MAX_DIGEST_ENTRIES + 5} Job outcomes*`);
  });

  it('fits Slack limits with the longest names and reasons, and escapes them', () => {
    const long = `${'<!here>&'.repeat(40)}`;
    const entries = Array.from({ length: MAX_DIGEST_ENTRIES }, (_, i) => {
      const e = entry(i, events[i % 3] as EventType, `${'n'.repeat(240)}-${i}`);
      e.job.namespace = long;
      e.outcome.reason = long;
      return e;
    });
    const m = renderDigest(entries);
    expect(checkSlackLimits(m)).toEqual([]);
    expect(strayMarkup(m, ['<@U0ONCALL01>'])).toEqual([]);
  });

  it('turns a burst of 1,000 outcomes for one channel into at most 70 messages', () => {
    const burst = Array.from({ length: 1000 }, (_, i) => entry(i, events[i % 3] as EventType));
    const messages = [];
    for (let i = 0; i < burst.length; i += MAX_DIGEST_ENTRIES) {
      messages.push(renderDigest(burst.slice(i, i + MAX_DIGEST_ENTRIES)));
    }
    expect(messages.length).toBeLessThanOrEqual(70);
    for (const m of messages) expect(checkSlackLimits(m)).toEqual([]);
    const listed = messages.flatMap((m) => mrkdwnTexts(m).join('\n').match(/^• /gm) ?? []);
    expect(listed).toHaveLength(1000);
  });
});
