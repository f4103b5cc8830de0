// The Slack emulator's web view in headless Chromium: after real posts it shows the channels, Block Kit,
// attachments with their colour bar, threads and updates, refreshes live, and sends button clicks to
// the app. Needs no cluster: JOBHERALD_E2E_NO_CLUSTER=1 npx vitest run --project e2e test/e2e/slack-emulator-web.test.ts
// JOBHERALD_UPDATE_SCREENSHOT=1 also rewrites docs/slack-emulator.png (the README's picture).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebClient } from '@slack/web-api';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../src/dev/slack-emulator/index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../docs/slack-emulator.png', import.meta.url));

let slack: SlackEmulator;
let client: WebClient;
let browser: BrowserContext;
let page: Page;
let userDataDir: string;
let app: Server;
const clicks: string[] = [];
let failedTs = '';
let runningTs = '';

// What the page computes, through a tiny typed view of the browser (this project compiles without DOM types).
interface BrowserGlobals {
  getComputedStyle(element: unknown): { borderLeftColor: string };
}
const barColour = (locator: Locator) =>
  locator.evaluate(
    (element) => (globalThis as unknown as BrowserGlobals).getComputedStyle(element).borderLeftColor,
  );

async function links(locator: Locator): Promise<[string, string | null][]> {
  const result: [string, string | null][] = [];
  for (const link of await locator.all())
    result.push([await link.innerText(), await link.getAttribute('href')]);
  return result;
}

const headline =
  ':x: *Failed* · data/nightly-etl-29373 (BackoffLimitExceeded) on prod-eu · cc <@U0ALICE001> <!subteam^S0ONCALL01>';
const failedAlert = {
  channel: 'C0ALERTS01',
  text: headline,
  unfurl_links: false,
  unfurl_media: false,
  attachments: [
    {
      color: '#e01e5a',
      fallback: 'Failed: data/nightly-etl-29373 (BackoffLimitExceeded)',
      blocks: [
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Job*\ndata/nightly-etl-29373' },
            { type: 'mrkdwn', text: '*CronJob*\nnightly-etl' },
            { type: 'mrkdwn', text: '*Cluster*\nprod-eu' },
            { type: 'mrkdwn', text: '*Outcome*\nFailed: BackoffLimitExceeded' },
            {
              type: 'mrkdwn',
              text: '*Started*\n<!date^1768447800^{date_short_pretty} {time_secs}|2026-01-15T03:30:00Z>',
            },
            { type: 'mrkdwn', text: '*Duration*\n4m 12s' },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Reason:* BackoffLimitExceeded\n```Job has reached the specified backoff limit```',
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*nightly-etl-29373-x7k2p* · container `etl` · exit code 137 · *OOMKilled*',
          },
        },
        {
          type: 'actions',
          block_id: 'jobherald-links',
          elements: [
            {
              type: 'button',
              action_id: 'jobherald-link-0',
              text: { type: 'plain_text', text: 'View logs' },
              url: 'https://logs.example/data/nightly-etl-29373',
            },
            {
              type: 'button',
              action_id: 'jobherald-link-1',
              text: { type: 'plain_text', text: 'Dashboard' },
              url: 'https://grafana.example/d/jobs',
            },
            {
              type: 'button',
              action_id: 'acknowledge',
              text: { type: 'plain_text', text: 'Acknowledge' },
              style: 'primary',
              value: 'data/nightly-etl-29373',
            },
          ],
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: 'jobherald · Job UID `0b7c9a52-58e1-4f5e-9d1c-5a1e4b1c2d3e`' }],
        },
      ],
    },
  ],
};

function progressAlert(state: 'Running' | 'Succeeded') {
  const done = state === 'Succeeded';
  return {
    channel: 'C0ALERTS01',
    text: done
      ? ':white_check_mark: *Succeeded* · billing/invoice-export-8812 on prod-eu'
      : 'billing/invoice-export-8812 is running',
    attachments: [
      {
        color: done ? '#2eb67d' : '#36c5f0',
        blocks: [
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: '*Job*\nbilling/invoice-export-8812' },
              { type: 'mrkdwn', text: `*Outcome*\n${state}` },
              { type: 'mrkdwn', text: `*Pods*\n${done ? '1 succeeded · 0 failed' : '1 active'}` },
              { type: 'mrkdwn', text: `*Duration*\n${done ? '1m 03s' : '…'}` },
            ],
          },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: install Debian's package with \`apt-get update && apt-get install -y chromium\` (CI does), or set CHROMIUM_PATH`,
    );
  slack = await startSlackEmulator({ rateLimits: 'off' });
  client = new WebClient('xoxb-demo', {
    slackApiUrl: slack.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
  app = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as {
        actions?: { action_id: string }[];
      };
      clicks.push(payload.actions?.[0]?.action_id ?? '');
      res.end();
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  await slack.control.setRequestUrl(`http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/actions`);

  await client.conversations.join({ channel: 'C0ALERTS01' });
  failedTs = (await client.chat.postMessage(failedAlert)).ts ?? '';
  await client.chat.postMessage({
    channel: 'C0ALERTS01',
    thread_ts: failedTs,
    text: ':repeat: Retried by <@U0ALICE001>: data/nightly-etl-29374 is running',
  });
  runningTs = (await client.chat.postMessage(progressAlert('Running'))).ts ?? '';
  await client.chat.update({ ...progressAlert('Succeeded'), ts: runningTs });
  await client.chat.postMessage({
    channel: 'C0ALERTS01',
    text: 'Weekly summary',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Weekly Job summary' } },
      { type: 'divider' },
      {
        type: 'image',
        image_url: 'https://grafana.example/render/jobs.png',
        alt_text: 'Job outcomes this week',
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: '412 succeeded · 3 failed · 1 cancelled' }] },
    ],
  });

  userDataDir = mkdtempSync(join(tmpdir(), 'jobherald-chromium-'));
  // A fresh profile each run.
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${slack.url}/?channel=alerts`);
});

afterAll(async () => {
  await browser?.close();
  if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  await slack?.stop();
  await new Promise<void>((resolve) => (app === undefined ? resolve() : app.close(() => resolve())));
});

describe('Slack emulator web view', () => {
  it('lists the channels in the sidebar, with private and archived ones marked', async () => {
    expect(await page.locator('#sidebar a.channel .name').allInnerTexts()).toEqual([
      'general',
      'alerts',
      'ops-private',
      'old-alerts',
    ]);
    expect(await page.locator('#sidebar a.channel.selected .name').innerText()).toBe('alerts');
    expect(await page.locator('#sidebar a.channel.archived .name').allInnerTexts()).toEqual(['old-alerts']);
    expect(
      await page.locator('#sidebar a.channel', { hasText: 'ops-private' }).locator('svg.lock').count(),
    ).toBe(1);
    expect(await page.locator('.channel-header h1').innerText()).toBe('# alerts');
    expect(await page.locator('.channel-header').innerText()).toContain('jobherald is a member');
  });

  it('renders the alert: headline with mentions, colour bar, fields, code, buttons, footer', async () => {
    const alert = page.locator(`.message[data-ts="${failedTs}"]`);
    expect(await alert.locator('.text').innerText()).toBe(
      '❌ Failed · data/nightly-etl-29373 (BackoffLimitExceeded) on prod-eu · cc @alice @oncall',
    );
    expect(await alert.locator('.mention').allInnerTexts()).toEqual(['@alice', '@oncall']);
    const attachment = alert.locator('.attachment');
    expect(await barColour(attachment)).toBe('rgb(224, 30, 90)');
    expect(await attachment.locator('.field').allInnerTexts()).toEqual([
      'Job\ndata/nightly-etl-29373',
      'CronJob\nnightly-etl',
      'Cluster\nprod-eu',
      'Outcome\nFailed: BackoffLimitExceeded',
      'Started\nJan 15, 2026 03:30:00',
      'Duration\n4m 12s',
    ]);
    expect(await attachment.locator('pre').innerText()).toBe('Job has reached the specified backoff limit');
    expect(await attachment.locator('code').first().innerText()).toBe('etl');
    expect(await links(attachment.locator('a.btn'))).toEqual([
      ['View logs', 'https://logs.example/data/nightly-etl-29373'],
      ['Dashboard', 'https://grafana.example/d/jobs'],
    ]);
    expect(await attachment.locator('button.btn.primary').innerText()).toBe('Acknowledge');
    expect(await attachment.locator('.block.context').innerText()).toContain('Job UID 0b7c9a52');
  });

  it('shows the thread reply under its parent', async () => {
    const thread = page.locator(`.thread[data-thread-ts="${failedTs}"]`);
    expect(await thread.locator('.thread-label').innerText()).toBe('1 reply');
    expect(await thread.locator('.message .text').innerText()).toBe(
      '🔁 Retried by @alice: data/nightly-etl-29374 is running',
    );
    // Replies are not repeated in the channel.
    expect(await page.locator('#messages > .message').count()).toBe(3);
  });

  it('shows updates in place, marked (edited)', async () => {
    const updated = page.locator(`.message[data-ts="${runningTs}"]`);
    expect(await updated.locator('.text').innerText()).toBe(
      '✅ Succeeded · billing/invoice-export-8812 on prod-eu',
    );
    expect(await updated.locator('.edited').innerText()).toBe('(edited)');
    expect(await barColour(updated.locator('.attachment'))).toBe('rgb(46, 182, 125)');
  });

  it('renders top-level Block Kit: header, divider, image as a link, context', async () => {
    const summary = page.locator('#messages > .message').last();
    expect(await summary.locator('.block.header').innerText()).toBe('Weekly Job summary');
    expect(await summary.locator('hr.block.divider').count()).toBe(1);
    expect(await summary.locator('img').count()).toBe(0);
    expect(await summary.locator('.block.image a').getAttribute('href')).toBe(
      'https://grafana.example/render/jobs.png',
    );
    expect(await summary.locator('.block.image a').innerText()).toBe('Job outcomes this week');
    expect(await summary.locator('.text').count()).toBe(0); // with blocks, the text is only the fallback
  });

  it('screenshot for the docs', async () => {
    const path =
      process.env.JOBHERALD_UPDATE_SCREENSHOT === '1' ? SCREENSHOT : join(userDataDir, 'slack-emulator.png');
    const image = await page.screenshot({ path });
    expect(image.byteLength).toBeGreaterThan(10_000);
  });

  it('refreshes live: new posts and updates appear without a reload', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0ALERTS01', text: 'Live: *new* post' });
    await expect
      .poll(() =>
        page
          .locator(`.message[data-ts="${posted.ts ?? ''}"] .text`)
          .innerText()
          .catch(() => ''),
      )
      .toBe('Live: new post');
    await client.chat.update({ channel: 'C0ALERTS01', ts: posted.ts ?? '', text: 'Live: updated in place' });
    await expect
      .poll(() => page.locator(`.message[data-ts="${posted.ts ?? ''}"] .text`).innerText())
      .toBe('Live: updated in place');
    expect(await page.locator('#sidebar a.channel.selected .count').innerText()).toBe('5');
  });

  it("sends a button click to the app's Request URL", async () => {
    await page.locator(`.message[data-ts="${failedTs}"] button`, { hasText: 'Acknowledge' }).click();
    await expect.poll(() => clicks).toEqual(['acknowledge']);
    await expect.poll(() => page.locator('#toast').innerText()).toBe('Sent to the app: HTTP 200');
  });

  it('switches channels from the sidebar', async () => {
    await slack.control.setMembership('general', true);
    await client.chat.postMessage({ channel: 'C0GENERAL1', text: 'hello general' });
    await page.locator('#sidebar a.channel', { hasText: 'general' }).click();
    await expect.poll(() => page.locator('.channel-header h1').innerText()).toBe('# general');
    expect(await page.locator('#messages .message .text').allInnerTexts()).toEqual(['hello general']);
  });
});
