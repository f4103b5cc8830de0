// Drives every covered method through its successes and its errors, and returns each response the
// emulator gave: the input of the conformance test (conformance.test.ts).
import { startSlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { call } from './raw-call.ts';

export interface Recorded {
  method: string;
  /** What the call was for, to name it in failures. */
  label: string;
  body: Record<string, unknown>;
}

const CLIENT = { client_id: '1000000001.2000000001', client_secret: 'demo-client-secret' };

export async function recordResponses(): Promise<Recorded[]> {
  const slack = await startSlackEmulator({ rateLimits: 'off' });
  const recorded: Recorded[] = [];
  const run = async (
    label: string,
    method: string,
    params: Record<string, unknown> = {},
    token: string | null = 'xoxb-demo',
  ) => {
    const response = await call(slack.apiUrl, method, params, { token });
    if (response.status !== 200) throw new Error(`${method} (${label}): HTTP ${response.status}`);
    recorded.push({ method, label, body: response.body });
    return response.body;
  };
  const { control } = slack;
  try {
    await control.addToken({ token: 'xoxb-bare', type: 'bot', scopes: ['chat:write.public'] });
    await control.addToken({
      token: 'xoxb-manage',
      type: 'bot',
      scopes: ['channels:manage', 'channels:join', 'groups:write', 'im:write'],
    });
    await control.addToken({
      token: 'xoxp-bob',
      type: 'user',
      userId: 'U0BOB00001',
      scopes: ['channels:write'],
    });

    // auth.test
    await run('bot token', 'auth.test');
    await run('user token', 'auth.test', {}, 'xoxp-demo-alice');
    await run('no token', 'auth.test', {}, null);
    await run('unknown token', 'auth.test', {}, 'xoxb-unknown');

    // conversations.join
    await run('public channel', 'conversations.join', { channel: 'C0ALERTS01' });
    await run('already in', 'conversations.join', { channel: 'C0ALERTS01' });
    await run('private channel', 'conversations.join', { channel: 'C0OPSPRIV1' });
    await run('archived', 'conversations.join', { channel: 'C0OLDALRT1' });
    await run('unknown channel', 'conversations.join', { channel: 'C0NOTHERE1' });
    await run('no scope', 'conversations.join', { channel: 'C0GENERAL1' }, 'xoxb-bare');

    // chat.postMessage
    const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
    const parent = await run('text', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'Job backup succeeded',
    });
    await run('blocks in a coloured attachment', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'Job backup failed',
      attachments: [
        {
          color: '#e01e5a',
          blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Failed' } }, section('*why*')],
        },
      ],
    });
    await run('top-level blocks', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      blocks: [section('hello'), { type: 'divider' }],
    });
    await run('thread reply', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'reply',
      thread_ts: parent.ts,
    });
    await run('DM to a user ID', 'chat.postMessage', { channel: 'U0ALICE001', text: 'dm' });
    await run('truncated text', 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x'.repeat(40_001) });
    await run('public channel, not a member', 'chat.postMessage', { channel: 'C0GENERAL1', text: 'x' });
    await run('private channel, not a member', 'chat.postMessage', { channel: 'C0OPSPRIV1', text: 'x' });
    await run('archived', 'chat.postMessage', { channel: 'C0OLDALRT1', text: 'x' });
    await run('no content', 'chat.postMessage', { channel: 'C0ALERTS01' });
    await run('invalid blocks', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      blocks: [{ type: 'section' }],
    });
    await run('blocks not JSON', 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x', blocks: '[{' });
    await run('attachments not JSON', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      attachments: '{',
    });
    await run('101 attachments', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      attachments: Array(101).fill({ text: 'a' }),
    });
    await run('too much block text', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      blocks: Array(5).fill(section('y'.repeat(3000))),
    });
    await run('markdown_text with text', 'chat.postMessage', {
      channel: 'C0ALERTS01',
      text: 'x',
      markdown_text: 'y',
    });
    await run('no chat:write', 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' }, 'xoxb-manage');
    await run('revoked token', 'chat.postMessage', { channel: 'C0ALERTS01', text: 'x' }, 'xoxb-unknown');

    // chat.update
    const ts = parent.ts as string;
    await run('text and blocks', 'chat.update', {
      channel: 'C0ALERTS01',
      ts,
      text: 'done',
      blocks: [section('done')],
    });
    await run('attachments', 'chat.update', {
      channel: 'C0ALERTS01',
      ts,
      attachments: [{ color: 'good', text: 'ok' }],
    });
    await run('another poster', 'chat.update', { channel: 'C0ALERTS01', ts, text: 'x' }, 'xoxp-demo-alice');
    await run('unknown ts', 'chat.update', { channel: 'C0ALERTS01', ts: '1000000000.000001', text: 'x' });
    await run('text over 4000', 'chat.update', { channel: 'C0ALERTS01', ts, text: 'x'.repeat(4001) });
    await run('no content', 'chat.update', { channel: 'C0ALERTS01', ts });
    await run('invalid blocks', 'chat.update', {
      channel: 'C0ALERTS01',
      ts,
      blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }],
    });
    await run('user ID as channel', 'chat.update', { channel: 'U0ALICE001', ts, text: 'x' });

    // chat.getPermalink
    await run('message', 'chat.getPermalink', { channel: 'C0ALERTS01', message_ts: ts });
    const reply = recorded.find((r) => r.label === 'thread reply')?.body.ts;
    await run('thread reply', 'chat.getPermalink', { channel: 'C0ALERTS01', message_ts: reply });
    await run('unknown ts', 'chat.getPermalink', { channel: 'C0ALERTS01', message_ts: '1000000000.000001' });
    await run('private channel', 'chat.getPermalink', { channel: 'C0OPSPRIV1', message_ts: ts });

    // conversations.invite (Alice brings the bot into the private channel)
    await run(
      'bot into private channel',
      'conversations.invite',
      { channel: 'C0OPSPRIV1', users: 'U0JOBHERLD' },
      'xoxp-demo-alice',
    );
    await run(
      'already in',
      'conversations.invite',
      { channel: 'C0OPSPRIV1', users: 'U0JOBHERLD' },
      'xoxp-demo-alice',
    );
    await run(
      'several users',
      'conversations.invite',
      { channel: 'C0OPSPRIV1', users: 'U0NOBODY01,U0ALICE001' },
      'xoxp-demo-alice',
    );
    await run(
      'self',
      'conversations.invite',
      { channel: 'C0OPSPRIV1', users: 'U0ALICE001' },
      'xoxp-demo-alice',
    );
    await run('no users', 'conversations.invite', { channel: 'C0OPSPRIV1' }, 'xoxp-demo-alice');
    await run(
      'archived',
      'conversations.invite',
      { channel: 'C0OLDALRT1', users: 'U0BOB00001' },
      'xoxp-demo-alice',
    );
    await run(
      'unknown channel',
      'conversations.invite',
      { channel: 'C0NOTHERE1', users: 'U0BOB00001' },
      'xoxp-demo-alice',
    );
    await control.setMembership('general', false, 'U0BOB00001');
    await run(
      'inviter not in channel',
      'conversations.invite',
      { channel: 'C0GENERAL1', users: 'U0ALICE001' },
      'xoxp-bob',
    );
    await run('no scope', 'conversations.invite', { channel: 'C0ALERTS01', users: 'U0BOB00001' });

    // conversations.list
    await run('default', 'conversations.list');
    const firstPage = await run('first page', 'conversations.list', {
      types: 'public_channel,private_channel,im',
      limit: 2,
    });
    await run('next page', 'conversations.list', {
      types: 'public_channel,private_channel,im',
      limit: 2,
      cursor: (firstPage.response_metadata as { next_cursor: string }).next_cursor,
    });
    await run('exclude archived', 'conversations.list', { exclude_archived: true });
    await run('bad cursor', 'conversations.list', { cursor: 'bm9wZQ==' });
    await run('bad limit', 'conversations.list', { limit: 'ten' });
    await run('bad types', 'conversations.list', { types: 'rooms' });
    await run('no scope', 'conversations.list', {}, 'xoxb-bare');

    // conversations.info
    await run('public channel', 'conversations.info', { channel: 'C0GENERAL1' });
    await run('private channel, member', 'conversations.info', {
      channel: 'C0OPSPRIV1',
      include_num_members: true,
    });
    await run('DM', 'conversations.info', { channel: 'D0ALICE001' });
    await run('unknown channel', 'conversations.info', { channel: 'C0NOTHERE1' });
    await run('no scope', 'conversations.info', { channel: 'C0GENERAL1' }, 'xoxb-bare');

    // conversations.members
    const members = await run('first page', 'conversations.members', { channel: 'C0GENERAL1', limit: 1 });
    await run('last page', 'conversations.members', {
      channel: 'C0GENERAL1',
      cursor: (members.response_metadata as { next_cursor: string }).next_cursor,
    });
    await run('unknown channel', 'conversations.members', { channel: 'C0NOTHERE1' });
    await run('bad cursor', 'conversations.members', { channel: 'C0GENERAL1', cursor: 'bm9wZQ==' });
    await run('bad limit', 'conversations.members', { channel: 'C0GENERAL1', limit: '-1' });
    await run('no scope', 'conversations.members', { channel: 'C0GENERAL1' }, 'xoxb-bare');

    // conversations.leave
    await run('member', 'conversations.leave', { channel: 'C0ALERTS01' }, 'xoxb-manage');
    await run(
      'not a member (documented quirk)',
      'conversations.leave',
      { channel: 'C0ALERTS01' },
      'xoxb-manage',
    );
    await run('general', 'conversations.leave', { channel: 'C0GENERAL1' }, 'xoxb-manage');
    await run('archived', 'conversations.leave', { channel: 'C0OLDALRT1' }, 'xoxb-manage');
    await run('private, not a member', 'conversations.leave', { channel: 'C0OPSPRIV1' }, 'xoxb-manage');
    await run('DM', 'conversations.leave', { channel: 'D0ALICE001' });
    await run('no scope', 'conversations.leave', { channel: 'C0ALERTS01' });

    // users.*, usergroups.list
    await run('known email', 'users.lookupByEmail', { email: 'bob@example.com' });
    await run('unknown email', 'users.lookupByEmail', { email: 'carol@example.com' });
    await run('no scope', 'users.lookupByEmail', { email: 'bob@example.com' }, 'xoxb-bare');
    await run('user', 'users.info', { user: 'U0ALICE001' });
    await run('the bot user', 'users.info', { user: 'U0JOBHERLD' });
    await run('unknown user', 'users.info', { user: 'U0NOBODY01' });
    await run('no scope', 'users.info', { user: 'U0ALICE001' }, 'xoxb-bare');
    await run('groups', 'usergroups.list');
    await run('groups with users', 'usergroups.list', {
      include_users: true,
      include_count: true,
      include_disabled: true,
    });
    await run('no scope', 'usergroups.list', {}, 'xoxb-bare');

    // oauth.v2.access
    const code = await control.oauthCode(['chat:write', 'incoming-webhook'], {
      userScopes: ['users:read'],
      redirectUri: 'https://operator.example/cb',
    });
    await run(
      'bad redirect_uri',
      'oauth.v2.access',
      { ...CLIENT, code, redirect_uri: 'https://x.example/' },
      null,
    );
    await run(
      'install',
      'oauth.v2.access',
      { ...CLIENT, code, redirect_uri: 'https://operator.example/cb' },
      null,
    );
    await run('used code', 'oauth.v2.access', { ...CLIENT, code }, null);
    await run('bad client_id', 'oauth.v2.access', { ...CLIENT, client_id: 'nope', code }, null);
    await run('bad secret', 'oauth.v2.access', { ...CLIENT, client_secret: 'nope', code }, null);
    await run('bad grant_type', 'oauth.v2.access', { ...CLIENT, grant_type: 'password' }, null);

    // auth.revoke, then the app goes away
    await run('test mode', 'auth.revoke', { test: 1 }, 'xoxp-bob');
    await run('revoke', 'auth.revoke', {}, 'xoxp-bob');
    await run('revoked token', 'auth.revoke', {}, 'xoxp-bob');
    await run('revoked user token', 'auth.test', {}, 'xoxp-bob');
    await run('no token', 'auth.revoke', {}, null);
    await run('bad client_id', 'apps.uninstall', { client_id: 'nope', client_secret: 'x' });
    await run('bad secret', 'apps.uninstall', { ...CLIENT, client_secret: 'nope' });
    await run('uninstall', 'apps.uninstall', CLIENT);
    await run('after uninstall', 'auth.test');
    await run('after uninstall', 'apps.uninstall', CLIENT);
    return recorded;
  } finally {
    await slack.stop();
  }
}
