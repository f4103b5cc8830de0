import { describe, expect, it } from 'vitest';
import {
  MAX_POD_SECTIONS,
  renderAlert,
  renderTestMessage,
  type AlertInput,
} from '../../../src/domain/render.ts';
import { checkSlackLimits } from '../../../src/domain/slack-limits.ts';
import type { Outcome } from '../../../src/domain/outcome-types.ts';
import type { SlackMessage } from '../../../src/domain/message.ts';
import { cond, job, T1, T2 } from './records.ts';
import { mrkdwnTexts, plainTexts, strayMarkup } from './slack-text.ts';

const failed: Outcome = {
  event: 'Failed',
  reason: 'BackoffLimitExceeded',
  message: 'Job has reached the specified backoff limit',
  at: T2,
};

function alert(overrides: Partial<AlertInput> = {}): SlackMessage {
  return renderAlert({
    job: job({
      startTime: T1,
      failed: 2,
      succeeded: 1,
      cronJob: 'nightly-etl',
      conditions: [cond('Failed')],
    }),
    outcome: failed,
    clusterName: 'prod-eu',
    ...overrides,
  });
}

const attachment = (m: SlackMessage) => m.attachments?.[0] as Record<string, unknown>;
const blocks = (m: SlackMessage) => attachment(m)['blocks'] as Record<string, unknown>[];
const allText = (m: SlackMessage) => mrkdwnTexts(m).join('\n');

describe('renderAlert', () => {
  it('puts the outcome, emoji and Job in the headline and the colour on the attachment', () => {
    const m = alert();
    expect(m.text).toBe(':x: *Failed* · data/nightly-etl-29373 (BackoffLimitExceeded) on prod-eu');
    expect(attachment(m)['color']).toBe('#e01e5a');
    expect(attachment(m)['fallback']).toBe('Failed: data/nightly-etl-29373 (BackoffLimitExceeded)');
    expect(m.blocks).toBeUndefined();
  });

  it.each([
    ['Succeeded', ':white_check_mark:', '#2eb67d'],
    ['Failed', ':x:', '#e01e5a'],
    ['Cancelled', ':no_entry_sign:', '#ecb22e'],
  ] as const)('styles %s', (event, emoji, color) => {
    const m = alert({ outcome: { event, at: T2 } });
    expect(m.text.startsWith(`${emoji} *${event}*`)).toBe(true);
    expect(attachment(m)['color']).toBe(color);
  });

  it('shows Job, CronJob, cluster, outcome, start, finish, duration and pods as fields', () => {
    const fields = (blocks(alert())[0]?.['fields'] as { text: string }[]).map((f) => f.text);
    expect(fields).toEqual([
      '*Job*\ndata/nightly-etl-29373',
      '*CronJob*\nnightly-etl',
      '*Cluster*\nprod-eu',
      '*Outcome*\nFailed: BackoffLimitExceeded',
      `*Started*\n<!date^${Date.parse(T1) / 1000}^{date_short_pretty} {time_secs}|${T1}>`,
      `*Finished*\n<!date^${Date.parse(T2) / 1000}^{date_short_pretty} {time_secs}|${T2}>`,
      '*Duration*\n4m 30s',
      '*Pods*\n1 succeeded · 2 failed',
    ]);
  });

  it('leaves out what it does not know', () => {
    const m = renderAlert({ job: job(), outcome: { event: 'Succeeded', at: T2 } });
    const labels = (blocks(m)[0]?.['fields'] as { text: string }[]).map((f) => f.text.split('\n')[0]);
    expect(labels).toEqual(['*Job*', '*Outcome*', '*Finished*', '*Pods*']);
    expect(m.text).toBe(':white_check_mark: *Succeeded* · data/nightly-etl-29373');
  });

  it('shows the failure reason and message', () => {
    const text = allText(alert());
    expect(text).toContain('*Reason:* BackoffLimitExceeded');
    expect(text).toContain('```Job has reached the specified backoff limit```');
  });

  it('says how a Job was cancelled', () => {
    const deleted = alert({
      outcome: { event: 'Cancelled', reason: 'Deleted', cancellation: 'Deleted', at: T2 },
    });
    expect(deleted.text).toContain('(deleted before it finished)');
    const suspended = alert({
      outcome: { event: 'Cancelled', reason: 'Suspended', cancellation: 'Suspended', at: T2 },
    });
    expect(suspended.text).toContain('(suspended after it had started)');
    expect(allText(suspended)).toContain('*Cancelled*\n<!date^');
  });

  it('lists failed pods with container, exit code, reason and termination message', () => {
    const m = alert({
      failedPods: [
        {
          pod: 'nightly-etl-29373-abcde',
          container: 'main',
          exitCode: 137,
          reason: 'OOMKilled',
          message: 'killed <oom>',
        },
      ],
    });
    const text = allText(m);
    expect(text).toContain('*nightly-etl-29373-abcde* · container `main` · exit code 137 · *OOMKilled*');
    expect(text).toContain('```killed &lt;oom&gt;```');
  });

  it(`shows at most ${MAX_POD_SECTIONS} pods and counts the rest`, () => {
    const pods = Array.from({ length: 12 }, (_, i) => ({ pod: `p-${i}`, container: 'main', exitCode: 1 }));
    const text = allText(alert({ failedPods: pods }));
    expect(text).toContain('*p-4*');
    expect(text).not.toContain('*p-5*');
    expect(text).toContain('…and 7 more failed pods');
  });

  it('adds mentions to Failed and Cancelled alerts only', () => {
    const mentions = ['<@U0ALICE01>', '<!subteam^S0ONCALL1>'];
    expect(alert({ mentions }).text).toContain('· cc <@U0ALICE01> <!subteam^S0ONCALL1>');
    expect(alert({ mentions, outcome: { event: 'Cancelled', at: T2 } }).text).toContain('cc <@U0ALICE01>');
    expect(alert({ mentions, outcome: { event: 'Succeeded', at: T2 } }).text).not.toContain(' · cc ');
  });

  it('renders anything that is not a resolved mention as escaped text', () => {
    const m = alert({ mentions: ['<!channel>', 'bob@example.com', '<@U0ALICE01|alice>'] });
    expect(m.text).toContain('cc &lt;!channel&gt; bob@example.com &lt;@U0ALICE01|alice&gt;');
    expect(strayMarkup(m)).toEqual([]);
  });

  it('adds link buttons with templated, URL-encoded values', () => {
    const m = alert({
      links: [
        {
          text: 'Logs',
          url: 'https://grafana.example.com/explore?job={namespace}/{name}&cj={cronjob}&c={cluster}',
        },
        { text: 'Job', url: 'https://k8s.example.com/jobs/{uid}' },
      ],
    });
    const actions = blocks(m).find((b) => b['type'] === 'actions');
    expect(actions?.['elements']).toEqual([
      {
        type: 'button',
        text: { type: 'plain_text', text: 'Logs', emoji: true },
        url: 'https://grafana.example.com/explore?job=data/nightly-etl-29373&cj=nightly-etl&c=prod-eu',
        action_id: 'jobherald-link-0',
      },
      {
        type: 'button',
        text: { type: 'plain_text', text: 'Job', emoji: true },
        url: 'https://k8s.example.com/jobs/uid-1',
        action_id: 'jobherald-link-1',
      },
    ]);
  });

  it('skips links that do not expand to an http(s) URL, and has no actions block when none is left', () => {
    const m = alert({
      links: [
        { text: 'Bad placeholder', url: 'https://x/{job}' },
        { text: 'Script', url: 'javascript:alert(1)' },
        { text: '  ', url: 'https://x/' },
        { text: 'Huge', url: `https://x/${'y'.repeat(3000)}` },
      ],
    });
    expect(blocks(m).some((b) => b['type'] === 'actions')).toBe(false);
  });

  it('escapes every user-controlled string, so nothing can inject a mention or a link', () => {
    const evil = '<!channel> <https://evil.example|click> & <@U0ADMIN01>';
    const m = renderAlert({
      job: job({ namespace: evil, name: evil, cronJob: evil, uid: evil, startTime: T1 }),
      outcome: { event: 'Failed', reason: evil, message: evil, at: T2 },
      clusterName: evil,
      failedPods: [{ pod: evil, container: evil, reason: evil, message: evil, exitCode: 1 }],
      links: [{ text: evil, url: 'https://x/{name}' }],
    });
    expect(strayMarkup(m)).toEqual([]);
    expect(allText(m)).toContain('&lt;!channel&gt;');
    // the link label is plain_text (not parsed) and the URL value is percent-encoded
    expect(plainTexts(m)).toContain(evil);
    expect(JSON.stringify(m)).toContain('https://x/%3C!channel%3E');
  });

  it('stays within Slack limits with huge inputs', () => {
    const huge = 'x&<'.repeat(20_000);
    const m = renderAlert({
      job: job({ namespace: huge, name: huge, cronJob: huge, uid: huge, startTime: T1, labels: { a: huge } }),
      outcome: { event: 'Failed', reason: huge, message: huge, at: T2 },
      clusterName: huge,
      failedPods: Array.from({ length: 50 }, () => ({
        pod: huge,
        container: huge,
        reason: huge,
        message: huge,
      })),
      mentions: Array.from({ length: 100 }, (_, i) => `<@U${String(i).padStart(9, '0')}>`),
      links: Array.from({ length: 40 }, (_, i) => ({ text: huge, url: `https://x/${i}/{name}` })),
    });
    expect(checkSlackLimits(m)).toEqual([]);
    expect(
      strayMarkup(
        m,
        Array.from({ length: 100 }, (_, i) => `<@U${String(i).padStart(9, '0')}>`),
      ),
    ).toEqual([]);
  });

  it('survives garbage times', () => {
    const m = renderAlert({
      job: job({ startTime: 'yesterday' }),
      outcome: { event: 'Succeeded', at: '<soon>' },
    });
    expect(strayMarkup(m)).toEqual([]);
    expect(checkSlackLimits(m)).toEqual([]);
  });
});

describe('renderTestMessage', () => {
  it('names the integration, cluster and nonce', () => {
    const m = renderTestMessage({
      integration: { namespace: 'jobherald-system', name: 'acme' },
      nonce: '2026-11-21',
      clusterName: 'prod-eu',
      usedBy: ['data/etl-failures'],
    });
    expect(m.text).toBe(':wave: *jobherald test message* from jobherald-system/acme on prod-eu');
    expect(allText(m)).toContain('testNonce to `2026-11-21`');
    expect(allText(m)).toContain('`data/etl-failures`');
    expect(checkSlackLimits(m)).toEqual([]);
  });

  it('escapes the nonce', () => {
    const m = renderTestMessage({ integration: { namespace: 'a', name: 'b' }, nonce: '<!here>' });
    expect(strayMarkup(m)).toEqual([]);
  });
});
