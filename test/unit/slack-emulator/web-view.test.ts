// The web view's routes over HTTP: the page, its assets, and the fragments the live refresh swaps in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { call } from './raw-call.ts';

let slack: SlackEmulator;
beforeAll(async () => {
  slack = await startSlackEmulator({ rateLimits: 'off' });
  await slack.control.setMembership('alerts', true);
});
afterAll(() => slack.stop());

describe('web view routes', () => {
  it('serves the page with its script and stylesheet', async () => {
    const page = await fetch(`${slack.url}/?channel=general`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<title>general · Demo · Slack emulator</title>');
    expect(html).toContain('data-channel="C0GENERAL1"');
    expect((await fetch(`${slack.url}/_view/app.js`)).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect(await (await fetch(`${slack.url}/_view/style.css`)).text()).toContain('.attachment');
  });

  it('renders the latest 500 messages of a channel, and says how many it left out', async () => {
    for (let i = 0; i < 502; i++)
      await call(slack.apiUrl, 'chat.postMessage', { channel: 'C0ALERTS01', text: `m${i}` });
    const fragment = (await (await fetch(`${slack.url}/_view/fragment?channel=alerts`)).json()) as {
      main: string;
      version: number;
    };
    expect(fragment.main).toContain('2 earlier messages not shown.');
    expect(fragment.main).not.toContain('>m1<');
    expect(fragment.main).toContain('>m2<');
    expect(fragment.main).toContain('>m501<');
    expect(fragment.version).toBe((await slack.control.workspace()).version);
  });
});
