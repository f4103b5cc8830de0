// The SlackPort adapter against the real @slack/web-api WebClient, talking HTTP to a tiny loopback server that
// answers like Slack does (slack-behaviour.md). Errors come from the SDK itself, not from hand-made objects.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  ChannelUnavailableError,
  JobheraldError,
  PermanentError,
  RateLimitedError,
  RetryableError,
  describe as describeError,
} from '../../../src/errors.ts';
import { createSlackClient } from '../../../src/slack/client.ts';
import type { LogSink } from '../../../src/slack/logging.ts';
import type { SlackPort } from '../../../src/slack/port.ts';

const TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';

interface Seen {
  method: string;
  args: Record<string, string>;
  authorization: string | undefined;
}
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  /** never answer (for the timeout test) */
  hang?: boolean;
}
type Handler = (args: Record<string, string>, seen: Seen) => Reply;

let server: Server;
let apiURL: string;
let routes: Record<string, Handler> = {};
let seen: Seen[] = [];
const logLines: string[] = [];
const log: LogSink = {
  debug: (o, m) => logLines.push(JSON.stringify({ o, m })),
  info: (o, m) => logLines.push(JSON.stringify({ o, m })),
  warn: (o, m) => logLines.push(JSON.stringify({ o, m })),
  error: (o, m) => logLines.push(JSON.stringify({ o, m })),
};

function handle(req: IncomingMessage, res: ServerResponse): void {
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
  req.on('end', () => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = Object.fromEntries(new URLSearchParams(raw));
    const s: Seen = { method, args, authorization: req.headers.authorization };
    seen.push(s);
    const handler = routes[method];
    const reply: Reply = handler ? handler(args, s) : { body: { ok: false, error: 'unknown_method' } };
    if (reply.hang) return;
    res.writeHead(reply.status ?? 200, {
      'content-type': 'application/json; charset=utf-8',
      'x-oauth-scopes': 'chat:write,channels:join,channels:read',
      ...reply.headers,
    });
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  routes = {};
  seen = [];
  logLines.length = 0;
});

const client = (timeoutMs = 5_000): SlackPort => createSlackClient({ token: TOKEN, apiURL, timeoutMs, log });

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<JobheraldError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(JobheraldError);
    return err as JobheraldError;
  }
  throw new Error('expected a rejection');
}

const assertNoToken = (err: JobheraldError) => {
  expect(err.message).not.toContain(TOKEN);
  expect(String(err.stack)).not.toContain(TOKEN);
  expect(err.code).not.toContain(TOKEN);
  const cause = err.cause as Error | undefined;
  if (cause) expect(`${cause.message} ${cause.stack}`).not.toContain(TOKEN);
};

describe('Slack client: requests', () => {
  it('posts with the bearer token and alert defaults, and returns the resolved channel and ts', async () => {
    routes['chat.postMessage'] = () => ({ body: { ok: true, channel: 'D0DM', ts: '1732200000.000100' } });
    const posted = await client().postMessage(
      'U0ALICE',
      { text: 'Job failed', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }] },
      { threadTs: '1732100000.000001' },
    );
    expect(posted).toEqual({ channel: 'D0DM', ts: '1732200000.000100' });
    expect(seen[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.args).toMatchObject({
      channel: 'U0ALICE',
      text: 'Job failed',
      thread_ts: '1732100000.000001',
      unfurl_links: 'false',
      unfurl_media: 'false',
    });
    expect(JSON.parse(seen[0]?.args.blocks ?? '[]')).toHaveLength(1);
  });

  it('reads auth.test and the scopes header', async () => {
    routes['auth.test'] = () => ({
      body: {
        ok: true,
        url: 'https://acme.slack.com/',
        team: 'Acme',
        user: 'bot',
        team_id: 'T1',
        user_id: 'U0BOT',
        bot_id: 'B1',
      },
    });
    expect(await client().authTest()).toEqual({
      teamId: 'T1',
      team: 'Acme',
      url: 'https://acme.slack.com/',
      userId: 'U0BOT',
      user: 'bot',
      botId: 'B1',
      scopes: ['chat:write', 'channels:join', 'channels:read'],
    });
  });

  it('follows conversations.list cursors, including short and empty pages', async () => {
    const pages: Record<string, Reply> = {
      '': {
        body: {
          ok: true,
          channels: [{ id: 'C1', name: 'a', is_member: true }],
          response_metadata: { next_cursor: 'p2' },
        },
      },
      p2: { body: { ok: true, channels: [], response_metadata: { next_cursor: 'p3' } } },
      p3: {
        body: {
          ok: true,
          channels: [{ id: 'G2', name: 'secret', is_private: true, is_archived: true }],
          response_metadata: { next_cursor: '' },
        },
      },
    };
    routes['conversations.list'] = (args) =>
      pages[args.cursor ?? ''] ?? { body: { ok: false, error: 'invalid_cursor' } };
    const list = await client().listConversations({
      types: ['public_channel', 'private_channel'],
      excludeArchived: true,
    });
    expect(list).toEqual([
      { id: 'C1', name: 'a', isPrivate: false, isArchived: false, isMember: true },
      { id: 'G2', name: 'secret', isPrivate: true, isArchived: true, isMember: false },
    ]);
    expect(seen.map((s) => s.args.cursor ?? '')).toEqual(['', 'p2', 'p3']);
    expect(seen[0]?.args).toMatchObject({
      types: 'public_channel,private_channel',
      exclude_archived: 'true',
    });
  });

  it('treats the already_in_channel warning of conversations.join as success', async () => {
    routes['conversations.join'] = () => ({
      body: {
        ok: true,
        channel: { id: 'C1' },
        warning: 'already_in_channel',
        response_metadata: { warnings: ['already_in_channel'] },
      },
    });
    expect(await client().join('C1')).toEqual({ alreadyMember: true });
    routes['conversations.join'] = () => ({ body: { ok: true, channel: { id: 'C1' } } });
    expect(await client().join('C1')).toEqual({ alreadyMember: false });
  });

  it("treats conversations.leave's {ok:false, not_in_channel:true} as success", async () => {
    routes['conversations.leave'] = () => ({ body: { ok: false, not_in_channel: true } });
    expect(await client().leave('C1')).toEqual({ wasMember: false });
    routes['conversations.leave'] = () => ({ body: { ok: true } });
    expect(await client().leave('C1')).toEqual({ wasMember: true });
    routes['conversations.leave'] = () => ({ body: { ok: false, error: 'cant_leave_general' } });
    expect(await rejection(client().leave('C1'))).toBeInstanceOf(PermanentError);
  });

  it('looks users up by email and maps users_not_found to a permanent error', async () => {
    routes['users.lookupByEmail'] = (args) =>
      args.email === 'alice@example.com'
        ? { body: { ok: true, user: { id: 'U0ALICE' } } }
        : { body: { ok: false, error: 'users_not_found' } };
    expect(await client().lookupUserByEmail('alice@example.com')).toBe('U0ALICE');
    const err = await rejection(client().lookupUserByEmail('bob@example.com'));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('users_not_found');
  });

  it('maps user-group handles to ids', async () => {
    routes['usergroups.list'] = () => ({
      body: {
        ok: true,
        usergroups: [
          { id: 'S1', handle: 'data-oncall' },
          { id: 'S2', handle: 'sre' },
        ],
      },
    });
    expect(await client().listUserGroups()).toEqual(
      new Map([
        ['data-oncall', 'S1'],
        ['sre', 'S2'],
      ]),
    );
  });

  it('updates a message in place', async () => {
    routes['chat.update'] = () => ({ body: { ok: true, channel: 'C1', ts: '1.000002' } });
    expect(await client().updateMessage('C1', '1.000002', { text: 'now succeeded' })).toEqual({
      channel: 'C1',
      ts: '1.000002',
    });
    expect(seen[0]?.args).toMatchObject({ channel: 'C1', ts: '1.000002', text: 'now succeeded' });
  });
});

describe('Slack client: error mapping from real WebClient errors', () => {
  it('maps a 429 to RateLimitedError with Retry-After in ms, scoped to the channel, without retrying', async () => {
    routes['chat.postMessage'] = () => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { ok: false, error: 'ratelimited' },
    });
    const err = await rejection(client().postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(7_000);
    expect((err as RateLimitedError).scope).toEqual({ method: 'chat.postMessage', channel: 'C1' });
    expect(seen).toHaveLength(1);
  });

  it('maps the 200 rate_limited variant to RateLimitedError', async () => {
    routes['chat.postMessage'] = () => ({ body: { ok: false, error: 'rate_limited' } });
    const err = await rejection(client().postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.code).toBe('rate_limited');
  });

  it.each(['not_in_channel', 'channel_not_found', 'is_archived'])(
    'maps %s to ChannelUnavailableError',
    async (code) => {
      routes['chat.postMessage'] = () => ({ body: { ok: false, error: code } });
      const err = await rejection(client().postMessage('C9', { text: 'x' }));
      expect(err).toBeInstanceOf(ChannelUnavailableError);
      expect(err.code).toBe(code);
      expect((err as ChannelUnavailableError).channel).toBe('C9');
    },
  );

  it.each(['invalid_auth', 'not_authed', 'token_revoked', 'account_inactive', 'token_expired'])(
    'maps %s to AuthError',
    async (code) => {
      routes['chat.postMessage'] = () => ({ body: { ok: false, error: code } });
      const err = await rejection(client().postMessage('C1', { text: 'x' }));
      expect(err).toBeInstanceOf(AuthError);
      expect(err.code).toBe(code);
    },
  );

  it('maps invalid_blocks to a permanent error carrying Slack’s explanation', async () => {
    routes['chat.postMessage'] = () => ({
      body: {
        ok: false,
        error: 'invalid_blocks',
        errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
      },
    });
    const err = await rejection(client().postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('invalid_blocks');
    expect(err.message).toContain('3001 characters');
  });

  it('maps missing_scope to a permanent error naming the scope', async () => {
    routes['users.lookupByEmail'] = () => ({
      body: { ok: false, error: 'missing_scope', needed: 'users:read.email' },
    });
    const err = await rejection(client().lookupUserByEmail('a@b.c'));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.message).toContain('users:read.email');
  });

  it('maps internal_error (HTTP 200) to a retryable error', async () => {
    routes['chat.postMessage'] = () => ({ body: { ok: false, error: 'internal_error' } });
    expect(await rejection(client().postMessage('C1', { text: 'x' }))).toBeInstanceOf(RetryableError);
  });

  it('maps HTTP 503 to a retryable error, with its Retry-After, and does not retry inside the SDK', async () => {
    routes['chat.postMessage'] = () => ({
      status: 503,
      headers: { 'retry-after': '3' },
      body: 'upstream down',
    });
    const err = await rejection(client().postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).not.toBeInstanceOf(RateLimitedError);
    expect(err.code).toBe('http_503');
    expect((err as RetryableError).retryAfterMs).toBe(3_000);
    expect(seen).toHaveLength(1);
  });

  it('maps an HTTP 404 from a wrong apiURL or a proxy to a permanent error', async () => {
    routes['chat.postMessage'] = () => ({ status: 404, body: 'not found' });
    const err = await rejection(client().postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('http_404');
  });

  it('maps a refused connection to a retryable request error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const c = createSlackClient({ token: TOKEN, apiURL: `http://127.0.0.1:${port}/api/`, log });
    const err = await rejection(c.postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('request_error');
    assertNoToken(err);
  });

  it('maps a request that outlives the timeout to a retryable timeout', async () => {
    routes['chat.postMessage'] = () => ({ hang: true, body: null });
    const err = await rejection(client(150).postMessage('C1', { text: 'x' }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('timeout');
  });
});

describe('Slack client: answers that are not Slack', () => {
  const PAGE = '<html><body><h1>502 Bad Gateway</h1><p>upstream said: internal-marker-7731</p></body></html>';

  it.each([
    ['an HTML page with HTTP 200', { body: PAGE, headers: { 'content-type': 'text/html' } }],
    ['plain text with HTTP 200', { body: 'internal-marker-7731 upstream unavailable' }],
    ['JSON without "ok"', { body: { message: 'internal-marker-7731' } }],
    ['JSON whose error is not a code', { body: { ok: false, error: '<b>internal-marker-7731</b>' } }],
  ])('reports %s as invalid_response without echoing its body', async (_name, reply) => {
    routes['auth.test'] = () => reply;
    const err = await rejection(client().authTest());
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('invalid_response');
    expect(err.message).toContain('auth.test: the answer was not a Slack Web API response');
    expect(err.message).toContain('spec.apiURL');
    // not in the message, the cause, nor what describe() (conditions, logs) makes of both
    expect(describeError(err)).not.toContain('internal-marker-7731');
    expect(describeError(err)).not.toContain('<');
    const cause = err.cause as Error;
    expect(`${cause.message} ${cause.stack}`).not.toContain('internal-marker-7731');
  });

  it('still maps a real Slack error code as before', async () => {
    routes['auth.test'] = () => ({ body: { ok: false, error: 'invalid_auth' } });
    const err = await rejection(client().authTest());
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe('auth.test: invalid_auth');
  });
});

describe('Slack client: secrets', () => {
  it('never puts the token into an error, even when a proxy echoes it back', async () => {
    routes['chat.postMessage'] = (_args, s) => ({ body: `<html>denied for ${s.authorization ?? ''}</html>` });
    const err = await rejection(client().postMessage('C1', { text: 'x' }));
    expect(err.code).toBe('invalid_response');
    assertNoToken(err);
    // the page is not quoted at all, redacted or not (it reaches status and Events)
    expect(err.message).not.toContain('denied for');
    expect(describeError(err)).not.toContain('<html>');

    routes['chat.postMessage'] = (_args, s) => ({ status: 502, body: { echo: s.authorization } });
    assertNoToken(await rejection(client().postMessage('C1', { text: 'x' })));
  });

  it('never writes the token to the log, whatever the SDK logs', async () => {
    routes['chat.postMessage'] = (_args, s) => ({
      body: {
        ok: true,
        channel: 'C1',
        ts: '1.1',
        response_metadata: { warnings: [`odd ${s.authorization ?? ''}`] },
      },
    });
    await client().postMessage('C1', { text: `mention ${TOKEN}` });
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(TOKEN);
  });
});
