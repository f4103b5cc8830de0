// What @slack/web-api makes of the emulator, configured as the operator configures it: the SDK must see
// what it would see from Slack (platform errors and their data, rate-limited errors with retryAfter,
// retries on 5xx and dropped connections, warnings, pagination, the conversations.leave quirk).
import {
  ErrorCode,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebClient,
  WebClientEvent,
  retryPolicies,
  type Logger,
} from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../../src/dev/slack-emulator/index.ts';
import { ManualClock } from './raw-call.ts';

const clock = new ManualClock();
let slack: SlackEmulator;

/** A logger that remembers, so tests can see what the SDK logged (and that it stays quiet otherwise). */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (...msg: unknown[]) =>
      lines.push(`${level} ${msg.map(String).join(' ')}`);
  return {
    lines,
    debug: () => undefined,
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    setLevel: () => undefined,
    getLevel: () => LogLevel.WARN,
    setName: () => undefined,
  };
}

// A named import of rapidRetryPolicy comes out undefined from this CommonJS package (Node even refuses
// it), and the SDK then retries with its default policy for minutes: take it from retryPolicies.
const { rapidRetryPolicy } = retryPolicies;

function operatorClient(token = 'xoxb-demo', logger = recordingLogger()): WebClient {
  return new WebClient(token, {
    slackApiUrl: slack.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logger,
  });
}

async function platformError(promise: Promise<unknown>): Promise<WebAPIPlatformError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebAPIPlatformError);
  return error as WebAPIPlatformError;
}

beforeAll(async () => {
  slack = await startSlackEmulator({ clock });
});
afterAll(() => slack.stop());
beforeEach(() => slack.control.reset());

describe('platform errors', () => {
  it('arrive as WebAPIPlatformError with the code and Slack data', async () => {
    const client = operatorClient();
    const notIn = await platformError(client.chat.postMessage({ channel: 'C0ALERTS01', text: 'x' }));
    expect(notIn.code).toBe(ErrorCode.PlatformError);
    expect(notIn.message).toBe('An API error occurred: not_in_channel');
    expect(notIn.data).toMatchObject({
      ok: false,
      error: 'not_in_channel',
      response_metadata: { scopes: expect.arrayContaining(['chat:write']) as unknown },
    });
    expect(
      (await platformError(client.chat.postMessage({ channel: 'C0OPSPRIV1', text: 'x' }))).data.error,
    ).toBe('channel_not_found');
    const scope = await platformError(client.conversations.leave({ channel: 'C0GENERAL1' }));
    expect(scope.data).toMatchObject({ error: 'missing_scope', needed: 'channels:manage' });
    expect(scope.data.response_metadata?.acceptedScopes).toContain('channels:manage');
  });

  it('invalid_blocks carries errors[] and the SDK logs the [ERROR] messages', async () => {
    const logger = recordingLogger();
    const client = operatorClient('xoxb-demo', logger);
    await client.conversations.join({ channel: 'C0ALERTS01' });
    const error = await platformError(
      client.chat.postMessage({
        channel: 'C0ALERTS01',
        text: 'x',
        blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })),
      }),
    );
    expect(error.data.error).toBe('invalid_blocks');
    expect((error.data as unknown as { errors: string[] }).errors).toEqual([
      'no more than 50 items allowed [json-pointer:/blocks]',
    ]);
    expect(logger.lines).toContain('error no more than 50 items allowed [json-pointer:/blocks]');
  });

  it('auth failures: token_revoked, account_inactive, invalid_auth, not_authed', async () => {
    await slack.control.revokeToken('xoxp-demo-alice');
    expect((await platformError(operatorClient('xoxp-demo-alice').auth.test())).data.error).toBe(
      'token_revoked',
    );
    expect((await platformError(operatorClient('xoxb-who').auth.test())).data.error).toBe('invalid_auth');
    expect(
      (await platformError(new WebClient(undefined, { slackApiUrl: slack.apiUrl }).auth.test())).data.error,
    ).toBe('not_authed');
    await slack.control.uninstall();
    expect((await platformError(operatorClient().auth.test())).data.error).toBe('account_inactive');
  });

  it("conversations.leave's {ok:false, not_in_channel:true} reaches the caller as an error without a code", async () => {
    await slack.control.addToken({ token: 'xoxb-manage', type: 'bot', scopes: ['channels:manage'] });
    const error = await platformError(
      operatorClient('xoxb-manage').conversations.leave({ channel: 'C0ALERTS01' }),
    );
    expect(error.message).toBe('An API error occurred: undefined');
    expect(error.data).toMatchObject({ ok: false, not_in_channel: true });
  });
});

describe('success', () => {
  it('posts Block Kit inside coloured attachments, mentions and DMs as the operator does', async () => {
    const client = operatorClient();
    await client.conversations.join({ channel: 'C0ALERTS01' });
    const alert = {
      text: 'Job batch/backup failed <@U0ALICE001> <!subteam^S0ONCALL01>',
      attachments: [
        {
          color: '#e01e5a',
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: 'Job backup failed' } },
            {
              type: 'section',
              fields: [
                { type: 'mrkdwn', text: '*Namespace*\nbatch' },
                { type: 'mrkdwn', text: '*Reason*\nBackoffLimitExceeded' },
              ],
            },
          ],
        },
      ],
      unfurl_links: false,
      unfurl_media: false,
    };
    const posted = await client.chat.postMessage({ channel: 'C0ALERTS01', ...alert });
    expect(posted).toMatchObject({ ok: true, channel: 'C0ALERTS01', message: { bot_id: 'B0JOBHERLD' } });
    const dm = await client.chat.postMessage({ channel: 'U0ALICE001', ...alert });
    expect(dm.channel).toBe('D0ALICE001');
    const updated = await client.chat.update({
      channel: dm.channel ?? '',
      ts: dm.ts ?? '',
      text: 'resolved',
      attachments: [],
    });
    expect(updated).toMatchObject({ ok: true, ts: dm.ts, text: 'resolved' });
    const messages = await slack.control.messages();
    expect(messages.map((m) => [m.channel, m.text])).toEqual([
      ['C0ALERTS01', alert.text],
      ['D0ALICE001', 'resolved'],
    ]);
    expect(messages[0]?.attachments?.[0]).toMatchObject({
      color: 'e01e5a',
      blocks: [{ type: 'header' }, { type: 'section' }],
    });
  });

  it('logs already_in_channel as a warning and paginates conversations.list to the end', async () => {
    const logger = recordingLogger();
    const client = operatorClient('xoxb-demo', logger);
    await client.conversations.join({ channel: 'C0ALERTS01' });
    await client.conversations.join({ channel: 'C0ALERTS01' });
    // The SDK logs each warning with forEach's extra arguments.
    expect(logger.lines.some((line) => line.startsWith('warn already_in_channel'))).toBe(true);
    const names: string[] = [];
    for await (const page of client.paginate('conversations.list', { types: 'public_channel', limit: 1 }))
      names.push(...((page as { channels?: { name: string }[] }).channels ?? []).map((c) => c.name));
    expect(names).toEqual(['general', 'alerts', 'old-alerts']);
  });
});

describe('rate limits and transport failures', () => {
  it('a 429 becomes WebAPIRateLimitedError with retryAfter under rejectRateLimitedCalls, and the event fires', async () => {
    const client = operatorClient();
    const events: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (retryAfter: number) => events.push(retryAfter));
    await client.conversations.join({ channel: 'C0ALERTS01' });
    const errors: unknown[] = [];
    for (let i = 0; i < 5; i++)
      await client.chat
        .postMessage({ channel: 'C0ALERTS01', text: `${i}` })
        .catch((e: unknown) => errors.push(e));
    expect(errors).toHaveLength(2); // a burst of 3 per channel
    const [first] = errors;
    expect(first).toBeInstanceOf(WebAPIRateLimitedError);
    expect(first).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    expect(events).toEqual([1, 1]);
  });

  it('an injected 429 storm carries the chosen Retry-After', async () => {
    await slack.control.injectFault({
      method: 'users.lookupByEmail',
      action: { kind: 'ratelimit', retryAfter: 30 },
      count: 1,
    });
    await expect(operatorClient().users.lookupByEmail({ email: 'bob@example.com' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 30,
    });
  });

  it('retries 5xx answers and dropped connections, then succeeds', async () => {
    await slack.control.injectFault({ method: 'auth.test', action: { kind: 'http', status: 503 }, count: 2 });
    await slack.control.injectFault({ method: 'auth.test', action: { kind: 'drop' }, count: 1 });
    const client = new WebClient('xoxb-demo', {
      slackApiUrl: slack.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: rapidRetryPolicy,
      logger: recordingLogger(),
    });
    expect((await client.auth.test()).ok).toBe(true);
    expect((await slack.control.requestCounts())['auth.test']).toEqual({
      calls: 4,
      ok: 1,
      errors: 0,
      rateLimited: 0,
      failed: 3,
    });
  });

  it('without retries a 5xx is a WebAPIHTTPError with the status', async () => {
    await slack.control.injectFault({
      method: 'auth.test',
      action: { kind: 'http', status: 500, body: 'oops' },
      count: 1,
    });
    const error: unknown = await operatorClient()
      .auth.test()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIHTTPError);
    expect(error).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500, body: 'oops' });
  });

  it('unknown methods are not retried: a platform error at once', async () => {
    const client = new WebClient('xoxb-demo', {
      slackApiUrl: slack.apiUrl,
      retryConfig: rapidRetryPolicy,
      logger: recordingLogger(),
    });
    expect((await platformError(client.apiCall('chat.postMessages'))).data.error).toBe('unknown_method');
    expect((await slack.control.requestCounts())['chat.postMessages']?.calls).toBe(1);
  });
});
