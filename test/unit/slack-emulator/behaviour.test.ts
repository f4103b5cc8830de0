// The switches for slack-behaviour.md §11's open questions: each alternative answer really changes the answer.
import { afterEach, describe, expect, it } from 'vitest';
import {
  startSlackEmulator,
  type Behaviour,
  type SlackEmulator,
} from '../../../src/dev/slack-emulator/index.ts';
import { call } from './raw-call.ts';

let slack: SlackEmulator | undefined;
afterEach(async () => {
  await slack?.stop();
  slack = undefined;
});

async function emulator(behaviour: Partial<Behaviour>): Promise<SlackEmulator> {
  slack = await startSlackEmulator({ rateLimits: 'off', behaviour });
  await slack.control.setMembership('alerts', true);
  return slack;
}

describe('behaviour switches', () => {
  it('unknownMethodStatus: 404', async () => {
    const s = await emulator({ unknownMethodStatus: 404 });
    expect(await call(s.apiUrl, 'no.such')).toMatchObject({
      status: 404,
      body: { ok: false, error: 'unknown_method' },
    });
  });

  it('updateTextOverLimit: truncate', async () => {
    const s = await emulator({ updateTextOverLimit: 'truncate' });
    const ts = (await call(s.apiUrl, 'chat.postMessage', { channel: 'alerts', text: 'x' })).body.ts;
    const updated = await call(s.apiUrl, 'chat.update', {
      channel: 'C0ALERTS01',
      ts,
      text: 'y'.repeat(40_001),
    });
    expect(updated.body).toMatchObject({ ok: true, warning: 'message_truncated' });
    expect((updated.body.text as string).length).toBe(40_000);
  });

  it('leaveWhenNotMember: ok_true', async () => {
    const s = await emulator({ leaveWhenNotMember: 'ok_true' });
    await s.control.addToken({ token: 'xoxb-m', type: 'bot', scopes: ['channels:manage'] });
    await s.control.setMembership('alerts', false);
    const left = await call(s.apiUrl, 'conversations.leave', { channel: 'C0ALERTS01' }, { token: 'xoxb-m' });
    expect(left.body).toEqual({ ok: true, not_in_channel: true });
  });

  it('revokeTestModeRevoked and threadTsNotFound', async () => {
    const s = await emulator({ revokeTestModeRevoked: true, threadTsNotFound: 'thread_not_found' });
    expect((await call(s.apiUrl, 'auth.revoke', { test: 'true' })).body).toEqual({ ok: true, revoked: true });
    const orphan = await call(s.apiUrl, 'chat.postMessage', {
      channel: 'alerts',
      text: 'x',
      thread_ts: '1000000000.000001',
    });
    expect(orphan.body.error).toBe('thread_not_found');
  });

  it('responseUrlSuccess: text', async () => {
    const s = await emulator({ responseUrlSuccess: 'text' });
    await s.control.setRequestUrl(`${s.url}/no-app-here`); // the click's answer does not matter here
    const blocks = [
      {
        type: 'actions',
        elements: [{ type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } }],
      },
    ];
    const ts = (await call(s.apiUrl, 'chat.postMessage', { channel: 'alerts', text: 'x', blocks })).body
      .ts as string;
    const { payload } = await s.control.clickButton({ channel: 'alerts', ts, actionId: 'go' });
    const response = await fetch(String(payload.response_url), {
      method: 'POST',
      body: JSON.stringify({ text: 'thanks' }),
    });
    expect([response.status, await response.text()]).toEqual([200, 'ok']);
  });

  it('blocksTextLimit and shortPages: false', async () => {
    const s = await emulator({ blocksTextLimit: 10, shortPages: false });
    const long = await call(s.apiUrl, 'chat.postMessage', {
      channel: 'alerts',
      text: 'x',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'eleven char' } }],
    });
    expect(long.body.error).toBe('msg_blocks_too_long');
    const page = await call(s.apiUrl, 'conversations.list', {
      limit: 2,
      exclude_archived: true,
      types: 'public_channel',
    });
    expect(page.body).toMatchObject({
      channels: [{ name: 'general' }, { name: 'alerts' }],
      response_metadata: { next_cursor: expect.any(String) as unknown },
    });
    const next = (page.body.response_metadata as { next_cursor: string }).next_cursor;
    expect(
      (await call(s.apiUrl, 'conversations.list', { limit: 2, exclude_archived: true, cursor: next })).body,
    ).toEqual({
      ok: true,
      channels: [],
      response_metadata: { next_cursor: '' },
    });
  });
});
