import { Writable } from 'node:stream';
import {
  ErrorCode,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from '@slack/web-api';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ChannelUnavailableError,
  JobheraldError,
  PermanentError,
  RateLimitedError,
  RetryableError,
  asJobheraldError,
  safeCause,
} from '../../../src/errors.ts';
import { mapSlackError } from '../../../src/slack/client.ts';
import { pinoRedaction } from '../../../src/slack/logging.ts';
import { containsSecret, redact, redactDeep } from '../../../src/slack/redact.ts';

const BOT = 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy';
const HOOK = 'https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('redact', () => {
  it.each([
    [BOT, 'xoxb-***'],
    ['xoxp-1234-5678-abcdef', 'xoxp-***'],
    ['xoxe.xoxb-1-MS0yLTE3NjUzNjcyNDgx', 'xoxe.xoxb-***'],
    ['xoxe-1-My0xLTE3NjUzNjcyNDgxLTE5', 'xoxe-***'],
    ['xapp-1-A0123-456-abcdef', 'xapp-***'],
    [`Authorization: Bearer ${BOT}`, 'Authorization: Bearer ***'],
    ['Bearer sk-live-anything', 'Bearer ***'],
    [HOOK, 'https://hooks.slack.com/services/***'],
  ])('masks %s', (secret, masked) => {
    expect(redact(`before ${secret} after`)).toBe(`before ${masked} after`);
    expect(containsSecret(secret)).toBe(true);
  });

  it('leaves ordinary text, IDs and timestamps alone', () => {
    const text = 'posted to C0123ABCDE as U0BOT at 1732200000.000100 for data/nightly-etl-29373 (xoxo)';
    expect(redact(text)).toBe(text);
    expect(containsSecret(text)).toBe(false);
  });

  it('masks deep inside objects, errors and token-named fields', () => {
    const err = new Error(`failed with ${BOT}`);
    const out = JSON.stringify(
      redactDeep({
        token: 'plain-secret',
        nested: { url: HOOK, list: [BOT] },
        err,
        headers: { Authorization: 'x' },
      }),
    );
    expect(out).not.toContain(BOT);
    expect(out).not.toContain('plain-secret');
    expect(out).not.toContain('XXXXXXXX');
    expect(out).toContain('failed with xoxb-***');
  });
});

describe('error classes', () => {
  it('carry a stable code and cause, and mask secrets in every message', () => {
    const cause = new Error('root');
    const err = new PermanentError('invalid_blocks', `rejected for ${BOT}`, { cause });
    expect(err).toBeInstanceOf(JobheraldError);
    expect(err.name).toBe('PermanentError');
    expect(err.code).toBe('invalid_blocks');
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('rejected for xoxb-***');
    expect(err.stack).not.toContain(BOT);
  });

  it('never let a secret or junk become a code', () => {
    expect(new PermanentError(BOT, 'x').code).toBe('invalid_response');
    expect(new PermanentError('<html>', 'x').code).toBe('invalid_response');
  });

  it('encode retry meaning in the class hierarchy', () => {
    const rl = new RateLimitedError(30_000, { channel: 'C1', method: 'chat.postMessage' });
    expect(rl).toBeInstanceOf(RetryableError);
    expect(rl.retryAfterMs).toBe(30_000);
    expect(rl.code).toBe('ratelimited');
    expect(rl.message).toContain('chat.postMessage');
    expect(new AuthError('invalid_auth', 'x')).not.toBeInstanceOf(RetryableError);
    expect(new ChannelUnavailableError('not_in_channel', 'x')).not.toBeInstanceOf(RetryableError);
  });

  it('turns unknown throwables into retryable unexpected_error, keeping a safe cause', () => {
    const err = asJobheraldError(new TypeError(`bad ${BOT}`));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('unexpected_error');
    expect(err.message).not.toContain(BOT);
    expect((err.cause as Error).message).toBe('bad xoxb-***');
    expect((err.cause as Error).name).toBe('TypeError');
    const plain = new Error('fine');
    expect(safeCause(plain)).toBe(plain);
    const same = new AuthError('invalid_auth', 'x');
    expect(asJobheraldError(same)).toBe(same);
  });
});

describe('mapSlackError', () => {
  it('maps the v8 SDK classes', () => {
    expect(mapSlackError(new WebAPIRateLimitedError(12), { channel: 'C1' })).toMatchObject({
      retryAfterMs: 12_000,
      scope: { channel: 'C1' },
    });
    expect(mapSlackError(new WebAPIPlatformError({ ok: false, error: 'token_revoked' }))).toBeInstanceOf(
      AuthError,
    );
    expect(mapSlackError(new WebAPIPlatformError({ ok: false, error: 'is_archived' }))).toBeInstanceOf(
      ChannelUnavailableError,
    );
    expect(mapSlackError(new WebAPIPlatformError({ ok: false, error: 'no_text' }))).toBeInstanceOf(
      PermanentError,
    );
    expect(mapSlackError(new WebAPIHTTPError(500, 'Internal', {}, ''))).toMatchObject({ code: 'http_500' });
    expect(mapSlackError(new WebAPIHTTPError(500, 'Internal', {}, ''))).toBeInstanceOf(RetryableError);
    const timeout = new Error('The operation was aborted due to timeout');
    timeout.name = 'TimeoutError';
    expect(mapSlackError(new WebAPIRequestError(timeout)).code).toBe('timeout');
    expect(mapSlackError(new WebAPIRequestError(new Error('ECONNRESET'))).code).toBe('request_error');
  });

  it('branches on error.code, so v7-style plain errors map the same', () => {
    const v7 = Object.assign(new Error('An API error occurred: not_in_channel'), {
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'not_in_channel' },
    });
    expect(mapSlackError(v7, { channel: 'C7' })).toMatchObject({ code: 'not_in_channel', channel: 'C7' });
    const rl7 = Object.assign(new Error('rate'), { code: ErrorCode.RateLimitedError, retryAfter: 3 });
    expect(mapSlackError(rl7)).toBeInstanceOf(RateLimitedError);
  });

  it('does not decide from message text', () => {
    // a plain error that merely *says* "invalid_auth" is an unexpected (retryable) error, not an auth error
    expect(mapSlackError(new Error('invalid_auth'))).toBeInstanceOf(RetryableError);
    expect(mapSlackError(new Error('invalid_auth'))).not.toBeInstanceOf(AuthError);
  });
});

describe('pino redaction', () => {
  it('keeps tokens and webhook secrets out of every log line', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = pino({ level: 'debug', ...pinoRedaction() }, sink);
    log.info({ token: 'opaque-secret-value' }, 'token field');
    log.info({ secretRef: { botToken: 'another-secret' } }, 'nested token field');
    log.warn({ url: HOOK }, `message with ${BOT}`);
    log.error({ err: new Error(`request failed: Bearer ${BOT}`) }, 'error object');
    log.debug({ headers: { authorization: `Bearer ${BOT}` } }, 'headers');
    const out = lines.join('');
    expect(lines).toHaveLength(5);
    for (const secret of [BOT, 'opaque-secret-value', 'another-secret', 'XXXXXXXXXXXXXXXX']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('message with xoxb-***');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
