// The Web API as Slack answers it: the wire protocol, auth errors, and each method's successes and
// errors, over raw HTTP against the default workspace (slack-behaviour.md §1, §3).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { call } from './raw-call.ts';

let slack: SlackEmulator;
const api = (method: string, params: Record<string, unknown> = {}, options = {}) =>
  call(slack.apiUrl, method, params, options);

beforeAll(async () => {
  slack = await startSlackEmulator({ rateLimits: 'off' });
});
afterAll(() => slack.stop());
beforeEach(() => slack.control.reset());

describe('wire protocol', () => {
  it('answers errors with HTTP 200, a JSON body and the token scope headers', async () => {
    const response = await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'hi' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.body).toEqual({ ok: false, error: 'not_in_channel' });
    expect(response.headers.get('x-oauth-scopes')).toContain('chat:write');
    expect(response.headers.get('x-accepted-oauth-scopes')).toBe('chat:write,chat:write:bot,chat:write:user');
  });

  it('answers unknown methods with HTTP 200 unknown_method', async () => {
    const response = await api('chat.postMessages', { channel: 'C0ALERTS01' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('takes the token from a form field, and arguments from GET query strings', async () => {
    const viaField = await api('auth.test', { token: 'xoxb-demo' }, { token: null });
    expect(viaField.body).toMatchObject({ ok: true, user_id: 'U0JOBHERLD', bot_id: 'B0JOBHERLD' });
    const viaQuery = await api('conversations.info', { channel: 'C0GENERAL1' }, { get: true });
    expect(viaQuery.body).toMatchObject({ ok: true, channel: { id: 'C0GENERAL1', name: 'general' } });
  });

  it('takes JSON on write methods, with a missing_charset warning when the charset is absent', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' }, { json: true });
    const response = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-demo', 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C0ALERTS01', text: 'from JSON', blocks: [{ type: 'divider' }] }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      ok: true,
      warning: 'missing_charset',
      response_metadata: { warnings: ['missing_charset'] },
    });
    expect((await slack.control.messages('alerts'))[0]).toMatchObject({
      text: 'from JSON',
      blocks: [{ type: 'divider' }],
    });
  });

  it('refuses a JSON body whose token is not in the Authorization header', async () => {
    const response = await fetch(`${slack.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ token: 'xoxb-demo' }),
    });
    expect(await response.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('reports content-type problems as Slack does', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${slack.apiUrl}auth.test`, {
        method: 'POST',
        headers: { authorization: 'Bearer xoxb-demo', ...headers },
        body,
      }).then((r) => r.json());
    expect(await post({ 'content-type': 'application/x-www-form-urlencoded' }, '{"a":1}')).toMatchObject({
      error: 'invalid_form_data',
    });
    expect(await post({ 'content-type': 'text/xml' }, '<a/>')).toMatchObject({ error: 'invalid_post_type' });
    expect(await post({ 'content-type': 'application/json; charset=koi8-r' }, '{}')).toMatchObject({
      error: 'invalid_charset',
    });
    expect(await post({ 'content-type': 'application/json; charset=utf-8' }, '{oops')).toMatchObject({
      error: 'invalid_json',
    });
    expect(
      await post({ 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, 'a=1'),
    ).toMatchObject({
      ok: true,
      warning: 'superfluous_charset',
    });
  });
});

describe('authentication', () => {
  it('tells a missing token, an unknown one, a revoked one and an uninstalled app apart', async () => {
    expect((await api('auth.test', {}, { token: null })).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await api('auth.test', {}, { token: 'xoxb-nope' })).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    await slack.control.revokeToken('xoxp-demo-alice');
    expect((await api('auth.test', {}, { token: 'xoxp-demo-alice' })).body).toEqual({
      ok: false,
      error: 'token_revoked',
    });
    await slack.control.uninstall();
    expect((await api('auth.test')).body).toEqual({ ok: false, error: 'account_inactive' });
  });

  it('auth.revoke kills the calling token unless test=1', async () => {
    expect((await api('auth.revoke', { test: '1' })).body).toEqual({ ok: true, revoked: false });
    expect((await api('auth.test')).body.ok).toBe(true);
    expect((await api('auth.revoke')).body).toEqual({ ok: true, revoked: true });
    expect((await api('auth.test')).body).toEqual({ ok: false, error: 'token_revoked' });
  });

  it('answers missing_scope with what is needed and what the token has', async () => {
    const response = await api('conversations.leave', { channel: 'C0GENERAL1' });
    expect(response.body).toEqual({
      ok: false,
      error: 'missing_scope',
      needed: 'channels:manage',
      provided:
        'chat:write,channels:read,channels:join,groups:read,im:read,users:read,users:read.email,usergroups:read',
    });
  });
});

describe('chat.postMessage', () => {
  it('tells a public channel the bot is not in from a private one it cannot see, and archived ones', async () => {
    const post = (channel: string) =>
      api('chat.postMessage', { channel, text: 'hi' }).then((r) => r.body.error);
    expect(await post('C0ALERTS01')).toBe('not_in_channel');
    expect(await post('C0OPSPRIV1')).toBe('channel_not_found');
    expect(await post('C0NOTHERE1')).toBe('channel_not_found');
    expect(await post('C0OLDALRT1')).toBe('is_archived');
  });

  it('posts to a public channel it is not in with chat:write.public', async () => {
    await slack.control.addToken({
      token: 'xoxb-public',
      type: 'bot',
      scopes: ['chat:write', 'chat:write.public'],
    });
    const response = await api(
      'chat.postMessage',
      { channel: 'alerts', text: 'hi' },
      { token: 'xoxb-public' },
    );
    expect(response.body).toMatchObject({ ok: true, channel: 'C0ALERTS01' });
  });

  it('stores blocks inside coloured attachments and answers with the message', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const attachments = [
      {
        color: '#e01e5a',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*backup* failed <@U0ALICE001>' } }],
      },
    ];
    const response = await api('chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'Job backup failed',
      attachments,
    });
    expect(response.body).toMatchObject({
      ok: true,
      channel: 'C0ALERTS01',
      ts: expect.stringMatching(/^\d{10}\.\d{6}$/) as unknown,
      message: {
        type: 'message',
        user: 'U0JOBHERLD',
        bot_id: 'B0JOBHERLD',
        app_id: 'A0JOBHERLD',
        team: 'T0DEMO0001',
        text: 'Job backup failed',
        attachments: [
          { id: 1, color: 'e01e5a', blocks: [{ type: 'section', block_id: expect.any(String) as unknown }] },
        ],
      },
    });
    const [stored] = await slack.control.messages('alerts');
    expect(stored).toMatchObject({
      channel: 'C0ALERTS01',
      ts: response.body.ts,
      text: 'Job backup failed',
      poster: { userId: 'U0JOBHERLD', botId: 'B0JOBHERLD', via: 'api' },
    });
  });

  it('opens the DM when posting to a user ID and answers with its D… ID', async () => {
    const response = await api('chat.postMessage', { channel: 'U0BOB00001', text: 'psst' });
    expect(response.body).toMatchObject({ ok: true, channel: 'D0BOB00001' });
    expect((await slack.control.messages('D0BOB00001')).map((m) => m.text)).toEqual(['psst']);
    // chat.update wants the conversation ID: the user ID finds no channel.
    const update = await api('chat.update', { channel: 'U0BOB00001', ts: response.body.ts, text: 'x' });
    expect(update.body.error).toBe('channel_not_found');
  });

  it('gives timestamps that increase within a channel', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const ts: string[] = [];
    for (let i = 0; i < 5; i++)
      ts.push((await api('chat.postMessage', { channel: 'C0ALERTS01', text: `${i}` })).body.ts as string);
    expect(new Set(ts).size).toBe(5);
    expect([...ts].sort()).toEqual(ts);
  });

  it('refuses empty messages, bad blocks JSON and too many attachments', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const post = (params: Record<string, unknown>) =>
      api('chat.postMessage', { channel: 'C0ALERTS01', ...params }).then((r) => r.body.error);
    expect(await post({})).toBe('no_text');
    expect(await post({ text: '' })).toBe('no_text');
    expect(await post({ blocks: '[{"type":' })).toBe('invalid_blocks_format');
    expect(await post({ blocks: '{"type":"divider"}' })).toBe('invalid_blocks_format');
    expect(await post({ attachments: Array.from({ length: 101 }, () => ({ text: 'a' })) })).toBe(
      'too_many_attachments',
    );
    expect(await post({ text: 'a', markdown_text: '*b*' })).toBe('markdown_text_conflict');
  });

  it('answers invalid_blocks with Slack-worded errors, at top level and inside attachments', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const response = await api('chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      attachments: [{ color: 'danger', blocks: [{ type: 'section' }] }],
    });
    const errors = [
      'must be less than 151 characters [json-pointer:/blocks/0/text/text]',
      'must define either `text` or `fields` [json-pointer:/attachments/0/blocks/0/type]',
    ];
    expect(response.body).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors,
      response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
    });
  });

  it('refuses too much block text with msg_blocks_too_long', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const section = { type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3000) } };
    const response = await api('chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      blocks: Array(5).fill(section),
    });
    expect(response.body.error).toBe('msg_blocks_too_long');
  });

  it('truncates text over 40,000 characters and says so', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const response = await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'y'.repeat(40_010) });
    expect(response.body).toMatchObject({
      ok: true,
      warning: 'message_truncated',
      response_metadata: {
        warnings: ['message_truncated'],
        messages: [
          '[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters.',
        ],
      },
    });
    expect((await slack.control.messages('alerts'))[0]?.text).toHaveLength(40_000);
  });

  it('threads replies under their parent, also when replying to a reply', async () => {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const parent = (await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'parent' })).body
      .ts as string;
    const reply = await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'r1', thread_ts: parent });
    expect(reply.body).toMatchObject({ message: { thread_ts: parent, parent_user_id: 'U0JOBHERLD' } });
    await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'r2', thread_ts: reply.body.ts });
    const messages = await slack.control.messages('alerts');
    expect(messages.map((m) => [m.text, m.threadTs])).toEqual([
      ['parent', undefined],
      ['r1', parent],
      ['r2', parent],
    ]);
    expect(messages[0]?.replies).toMatchObject({ count: 2, users: ['U0JOBHERLD'] });
  });
});

describe('chat.update and chat.getPermalink', () => {
  async function posted(): Promise<string> {
    await api('conversations.join', { channel: 'C0ALERTS01' });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'running' } }];
    return (await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'running', blocks })).body
      .ts as string;
  }

  it('replaces blocks and keeps the earlier version in the history', async () => {
    const ts = await posted();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'done' } }];
    const response = await api('chat.update', { channel: 'C0ALERTS01', ts, text: 'done', blocks });
    expect(response.body).toMatchObject({
      ok: true,
      channel: 'C0ALERTS01',
      ts,
      text: 'done',
      message: { text: 'done' },
    });
    const [message] = await slack.control.messages('alerts');
    expect(message).toMatchObject({ ts, text: 'done', updates: 1, history: [{ text: 'running' }] });
    expect(message?.blocks?.[0]).toMatchObject({ text: { text: 'done' } });
  });

  it('drops the blocks when an update gives text alone, and keeps attachments unless given', async () => {
    const ts = await posted();
    await api('chat.update', { channel: 'C0ALERTS01', ts, attachments: [{ color: 'good', text: 'ok' }] });
    await api('chat.update', { channel: 'C0ALERTS01', ts, text: 'plain now' });
    const [message] = await slack.control.messages('alerts');
    expect(message?.blocks).toBeUndefined();
    expect(message?.attachments).toEqual([{ id: 1, color: 'good', text: 'ok' }]);
  });

  it("refuses another poster's message, unknown messages, archived channels and long text", async () => {
    const ts = await posted();
    const update = (params: Record<string, unknown>, token?: string) =>
      api('chat.update', { channel: 'C0ALERTS01', ts, text: 'x', ...params }, { token }).then(
        (r) => r.body.error,
      );
    expect(await update({}, 'xoxp-demo-alice')).toBe('cant_update_message');
    expect(await update({ ts: '1000000000.000001' })).toBe('message_not_found');
    expect(await update({ text: 'z'.repeat(4001) })).toBe('msg_too_long');
    await slack.control.setArchived('alerts', true);
    expect(await update({})).toBe('is_inactive');
  });

  it('builds permalinks, with the thread for replies', async () => {
    const ts = await posted();
    const reply = (await api('chat.postMessage', { channel: 'C0ALERTS01', text: 'r', thread_ts: ts })).body
      .ts as string;
    const link = (message_ts: string) =>
      api('chat.getPermalink', { channel: 'C0ALERTS01', message_ts }).then((r) => r.body);
    expect(await link(ts)).toEqual({
      ok: true,
      channel: 'C0ALERTS01',
      permalink: `https://demo.slack.com/archives/C0ALERTS01/p${ts.replace('.', '')}`,
    });
    expect((await link(reply)).permalink).toBe(
      `https://demo.slack.com/archives/C0ALERTS01/p${reply.replace('.', '')}?thread_ts=${ts}&cid=C0ALERTS01`,
    );
    expect((await link('1000000000.000001')).error).toBe('message_not_found');
  });
});

describe('conversations', () => {
  it('lists the types asked for, hiding private channels the bot is not in', async () => {
    const names = async (params: Record<string, unknown>) =>
      ((await api('conversations.list', params)).body.channels as { name: string }[]).map((c) => c.name);
    expect(await names({})).toEqual(['general', 'alerts', 'old-alerts']);
    expect(await names({ exclude_archived: 'true' })).toEqual(['general', 'alerts']);
    expect(await names({ types: 'private_channel' })).toEqual([]);
    await slack.control.setMembership('ops-private', true);
    expect(await names({ types: 'public_channel,private_channel', exclude_archived: true })).toEqual([
      'general',
      'alerts',
      'ops-private',
    ]);
  });

  it('pages with opaque cursors, short pages included, ending with an empty next_cursor', async () => {
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor = '';
    do {
      const body = (await api('conversations.list', { limit: 2, exclude_archived: true, cursor })).body;
      const channels = body.channels as { name: string }[];
      pages.push(channels.length);
      seen.push(...channels.map((c) => c.name));
      cursor = (body.response_metadata as { next_cursor: string }).next_cursor;
    } while (cursor !== '');
    expect(seen).toEqual(['general', 'alerts']);
    // Page 2 holds ops-private (hidden) and old-alerts (archived): empty, yet not the end.
    expect(pages).toEqual([2, 0]);
    expect((await api('conversations.list', { cursor: 'bm9wZQ==' })).body.error).toBe('invalid_cursor');
    expect((await api('conversations.list', { limit: 'ten' })).body.error).toBe('invalid_limit');
  });

  it('asks for the scope of each type requested', async () => {
    await slack.control.addToken({ token: 'xoxb-narrow', type: 'bot', scopes: ['channels:read'] });
    const response = await api(
      'conversations.list',
      { types: 'public_channel,private_channel' },
      { token: 'xoxb-narrow' },
    );
    expect(response.body).toMatchObject({
      ok: false,
      error: 'missing_scope',
      needed: 'groups:read',
      provided: 'channels:read',
    });
    expect((await api('conversations.list', { types: 'public_channel,rooms' })).body.error).toBe(
      'invalid_types',
    );
  });

  it('info: public channels with is_member false, private ones not found', async () => {
    const info = (channel: string) =>
      api('conversations.info', { channel, include_num_members: true }).then((r) => r.body);
    expect(await info('C0ALERTS01')).toMatchObject({
      ok: true,
      channel: { id: 'C0ALERTS01', name: 'alerts', is_private: false, is_member: false, num_members: 2 },
    });
    expect((await info('C0OPSPRIV1')).error).toBe('channel_not_found');
  });

  it('join: joins public channels, warns when already in, refuses private and archived ones', async () => {
    const join = (channel: string) => api('conversations.join', { channel }).then((r) => r.body);
    expect(await join('C0ALERTS01')).toMatchObject({
      ok: true,
      channel: { id: 'C0ALERTS01', is_member: true },
    });
    expect(await join('C0ALERTS01')).toMatchObject({
      ok: true,
      warning: 'already_in_channel',
      response_metadata: { warnings: ['already_in_channel'] },
    });
    expect((await join('C0OPSPRIV1')).error).toBe('method_not_supported_for_channel_type');
    expect((await join('C0OLDALRT1')).error).toBe('is_archived');
    expect((await join('C0NOTHERE1')).error).toBe('channel_not_found');
    expect((await slack.control.workspace()).channels.find((c) => c.name === 'alerts')?.botIsMember).toBe(
      true,
    );
  });

  it('leave: the documented {ok:false, not_in_channel:true} when not a member, and #general cannot be left', async () => {
    await slack.control.addToken({
      token: 'xoxb-manage',
      type: 'bot',
      scopes: ['channels:manage', 'channels:join'],
    });
    const leave = (channel: string) =>
      api('conversations.leave', { channel }, { token: 'xoxb-manage' }).then((r) => r.body);
    expect(await leave('C0ALERTS01')).toEqual({ ok: false, not_in_channel: true });
    await api('conversations.join', { channel: 'C0ALERTS01' }, { token: 'xoxb-manage' });
    expect(await leave('C0ALERTS01')).toEqual({ ok: true });
    expect((await leave('C0GENERAL1')).error).toBe('cant_leave_general');
  });

  it('invite: by a member; already_in_channel, cant_invite_self and user_not_found, with errors[] for several users', async () => {
    const invite = (users: string, channel = 'C0OPSPRIV1') =>
      api('conversations.invite', { channel, users }, { token: 'xoxp-demo-alice' }).then((r) => r.body);
    expect(await invite('U0JOBHERLD')).toMatchObject({ ok: true, channel: { id: 'C0OPSPRIV1' } });
    // The bot now sees the private channel.
    expect((await api('chat.postMessage', { channel: 'C0OPSPRIV1', text: 'in' })).body.ok).toBe(true);
    expect((await invite('U0JOBHERLD')).error).toBe('already_in_channel');
    expect(await invite('U0NOBODY01,U0ALICE001')).toEqual({
      ok: false,
      error: 'user_not_found',
      errors: [
        { user: 'U0NOBODY01', ok: false, error: 'user_not_found' },
        { user: 'U0ALICE001', ok: false, error: 'cant_invite_self' },
      ],
    });
    expect((await invite('')).error).toBe('no_user');
    expect((await invite('U0BOB00001', 'C0OLDALRT1')).error).toBe('is_archived');
  });

  it('members: pages through member IDs', async () => {
    const first = (await api('conversations.members', { channel: 'C0GENERAL1', limit: 1 })).body;
    expect(first.members).toEqual(['U0ALICE001']);
    const cursor = (first.response_metadata as { next_cursor: string }).next_cursor;
    const second = (await api('conversations.members', { channel: 'C0GENERAL1', limit: 1, cursor })).body;
    expect(second).toEqual({ ok: true, members: ['U0BOB00001'], response_metadata: { next_cursor: '' } });
    expect((await api('conversations.members', { channel: 'C0OPSPRIV1' })).body.error).toBe(
      'channel_not_found',
    );
  });
});

describe('users and user groups', () => {
  it('looks users up by email (users_not_found, plural) and by ID (user_not_found)', async () => {
    expect((await api('users.lookupByEmail', { email: 'Alice@Example.com' })).body).toMatchObject({
      ok: true,
      user: { id: 'U0ALICE001', name: 'alice', profile: { email: 'alice@example.com' } },
    });
    expect((await api('users.lookupByEmail', { email: 'carol@example.com' })).body.error).toBe(
      'users_not_found',
    );
    expect((await api('users.info', { user: 'U0BOB00001' })).body).toMatchObject({
      ok: true,
      user: { real_name: 'Bob Example' },
    });
    expect((await api('users.info', { user: 'U0NOBODY01' })).body.error).toBe('user_not_found');
  });

  it('shows emails only to tokens with users:read.email', async () => {
    await slack.control.addToken({ token: 'xoxb-users', type: 'bot', scopes: ['users:read'] });
    const user = (await api('users.info', { user: 'U0BOB00001' }, { token: 'xoxb-users' })).body.user as {
      profile: Record<string, unknown>;
    };
    expect(user.profile.email).toBeUndefined();
    expect(
      (await api('users.lookupByEmail', { email: 'bob@example.com' }, { token: 'xoxb-users' })).body,
    ).toMatchObject({
      error: 'missing_scope',
      needed: 'users:read.email',
    });
  });

  it('lists user groups with their users on request', async () => {
    const body = (await api('usergroups.list', { include_users: true, include_count: true })).body;
    expect(body.usergroups).toEqual([
      expect.objectContaining({ id: 'S0ONCALL01', handle: 'oncall', users: ['U0ALICE001'], user_count: 1 }),
    ]);
  });
});
