// The logger's output as it leaves the process: captured from the destination stream, parsed as JSON lines.
// The token must not appear anywhere, whichever way it was logged (quality bar R8).
import { describe, expect, it } from 'vitest';
import {
  childFor,
  createLogger,
  maskSecretFields,
  newReconcileID,
  parseLogLevel,
} from '../../../src/observability/logger.ts';
import type { LogLevel, Logger } from '../../../src/observability/logger.ts';
import { RetryableError } from '../../../src/errors.ts';
import type { LogSink } from '../../../src/slack/logging.ts';

const TOKEN = 'xoxb-1234-5678-abcdefghijklmnop';
/** The part of the token that must never be written (the masked form keeps the `xoxb-` prefix). */
const SECRET_PART = '1234-5678-abcdefghijklmnop';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';

function capture(level: LogLevel = 'debug'): {
  log: Logger;
  lines: () => Record<string, unknown>[];
  raw: () => string;
} {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => void chunks.push(s) } });
  const raw = () => chunks.join('');
  const lines = () =>
    raw()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, raw };
}

/** Every line was written, none holds the secret, and the masked form shows where the token was. */
function expectMasked(raw: string, lineCount: number, lines: Record<string, unknown>[]): void {
  expect(lines).toHaveLength(lineCount);
  expect(raw).not.toContain(SECRET_PART);
  expect(raw).not.toContain(TOKEN);
}

describe('createLogger: JSON lines', () => {
  it('writes one JSON object per line with an ISO time, the level as a label and the message', () => {
    const { log, lines } = capture('info');
    log.info({ component: 'test' }, 'hello');
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', msg: 'hello', component: 'test' });
    expect(line?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line).not.toHaveProperty('pid');
  });

  it('drops lines below the configured level', () => {
    const { log, lines } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines().map((l) => l.level)).toEqual(['warn', 'error']);
  });

  it('accepts only debug|info|warn|error as --log-level', () => {
    expect(parseLogLevel('INFO')).toBe('info');
    expect(parseLogLevel(' debug ')).toBe('debug');
    expect(() => parseLogLevel('trace')).toThrow(
      /invalid log level "trace": expected one of debug, info, warn, error/,
    );
    expect(() => createLogger({ level: 'verbose' as LogLevel })).toThrow(/invalid log level/);
  });

  it('refuses pretty output', () => {
    expect(() => createLogger({ level: 'info', pretty: true as unknown as false })).toThrow(/pino-pretty/);
  });
});

describe('createLogger: the token never appears', () => {
  it('masks the token logged as a field under secret-looking names, keeping unrelated fields', () => {
    const { log, lines, raw } = capture();
    log.info(
      {
        token: TOKEN,
        botToken: TOKEN,
        slackBotToken: TOKEN,
        secret: 'not-a-slack-token-but-secret',
        headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        secretName: 'slack-bot',
        tokens: 3,
        hasToken: true,
      },
      'fields',
    );
    expectMasked(raw(), 1, lines());
    expect(lines()[0]).toMatchObject({
      token: '***',
      botToken: '***',
      slackBotToken: '***',
      secret: '***',
      headers: { Authorization: '***', 'content-type': 'application/json' },
      secretName: 'slack-bot',
      tokens: 3,
      hasToken: true,
    });
    expect(raw()).not.toContain('not-a-slack-token-but-secret');
  });

  it('masks the token inside a message, an interpolated argument and a webhook URL', () => {
    const { log, lines, raw } = capture();
    log.warn(`auth.test failed for ${TOKEN}`);
    log.info('calling %s with %s', 'chat.postMessage', TOKEN);
    log.info({ url: new URL(WEBHOOK), text: `posting to ${WEBHOOK}` }, 'webhook');
    expectMasked(raw(), 3, lines());
    expect(raw()).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
    const [a, b, c] = lines();
    expect(a?.msg).toBe('auth.test failed for xoxb-***');
    expect(b?.msg).toBe('calling chat.postMessage with xoxb-***');
    expect(c).toMatchObject({
      url: 'https://hooks.slack.com/services/***',
      text: 'posting to https://hooks.slack.com/services/***',
    });
  });

  it("masks the token inside an error's message, stack and cause, wherever the error is logged", () => {
    const { log, lines, raw } = capture();
    const cause = new Error(`socket closed while sending ${TOKEN}`);
    const err = Object.assign(new Error(`invalid_auth for token ${TOKEN}`, { cause }), {
      config: { headers: { authorization: 'Bearer opaque-credential' } },
    });
    log.error(err);
    log.error({ err }, 'with err key');
    log.warn({ error: err, detail: { failure: err } }, 'under other keys');
    expectMasked(raw(), 3, lines());
    expect(raw()).not.toContain('opaque-credential');
    const [first, second, third] = lines();
    expect(first?.msg).toBe('invalid_auth for token xoxb-***');
    for (const serialized of [first?.err, second?.err, (third as { error?: unknown }).error]) {
      expect(serialized).toMatchObject({
        type: 'Error',
        message: 'invalid_auth for token xoxb-***: socket closed while sending xoxb-***',
        config: { headers: { authorization: '***' } },
      });
      expect((serialized as { stack: string }).stack).toMatch(/^Error: invalid_auth for token xoxb-\*\*\*\n/);
      expect((serialized as { stack: string }).stack).toContain(
        'caused by: Error: socket closed while sending xoxb-***',
      );
    }
    expect((third as { detail: { failure: { message: string } } }).detail.failure.message).toContain(
      'xoxb-***',
    );
  });

  it("keeps a JobheraldError's code and class", () => {
    const { log, lines, raw } = capture();
    log.error({ err: new RetryableError('http_500', `POST failed with ${TOKEN}`) }, 'retry');
    expectMasked(raw(), 1, lines());
    expect(lines()[0]?.err).toMatchObject({
      type: 'RetryableError',
      code: 'http_500',
      message: 'POST failed with xoxb-***',
    });
  });

  it('masks the token in nested objects and arrays at any depth', () => {
    const { log, lines, raw } = capture();
    log.info(
      {
        integration: {
          spec: { auth: { credentials: { botToken: TOKEN } } },
          status: { conditions: [{ type: 'Authenticated', message: `token ${TOKEN} revoked` }] },
        },
        a: { b: { c: { d: { e: { f: { g: { h: { i: { j: { k: { l: TOKEN } } } } } } } } } } },
        list: [TOKEN, { note: `x ${TOKEN} y` }],
        secretData: { data: { token: Buffer.from(TOKEN).toString('base64') } },
      },
      'nested',
    );
    expectMasked(raw(), 1, lines());
    expect(raw()).not.toContain(Buffer.from(TOKEN).toString('base64'));
    const [line] = lines();
    expect(line).toMatchObject({
      integration: {
        spec: { auth: { credentials: '***' } },
        status: { conditions: [{ type: 'Authenticated', message: 'token xoxb-*** revoked' }] },
      },
      list: ['xoxb-***', { note: 'x xoxb-*** y' }],
      secretData: { data: { token: '***' } },
    });
  });

  it('masks the token in child logger bindings', () => {
    const { log, lines, raw } = capture();
    log.child({ token: TOKEN, note: `bound ${TOKEN}` }).info('child');
    expectMasked(raw(), 1, lines());
    expect(lines()[0]).toMatchObject({ token: '***', note: 'bound xoxb-***' });
  });

  it('survives cycles', () => {
    const { log, lines, raw } = capture();
    const loop: Record<string, unknown> = { name: 'loop', token: TOKEN };
    loop.self = loop;
    log.info({ loop }, 'cycle');
    expectMasked(raw(), 1, lines());
    expect(lines()[0]).toMatchObject({ loop: { name: 'loop', token: '***', self: '[Circular]' } });
  });
});

describe('maskSecretFields', () => {
  it('copies without touching the original', () => {
    const original = { auth: { token: TOKEN }, n: 1 };
    expect(maskSecretFields(original)).toEqual({ auth: { token: '***' }, n: 1 });
    expect(original.auth.token).toBe(TOKEN);
  });
});

describe('childFor', () => {
  it('adds controller, namespace, name and reconcileID to every line', () => {
    const { log, lines } = capture();
    const reconcileID = newReconcileID();
    const child = childFor(log, {
      controller: 'notificationrule',
      namespace: 'data',
      name: 'etl',
      reconcileID,
    });
    child.info({ step: 'match' }, 'reconciling');
    child.child({ destination: '#alerts' }).warn('nested');
    const [a, b] = lines();
    expect(a).toMatchObject({
      controller: 'notificationrule',
      namespace: 'data',
      name: 'etl',
      reconcileID,
      step: 'match',
      msg: 'reconciling',
    });
    expect(b).toMatchObject({
      controller: 'notificationrule',
      reconcileID,
      destination: '#alerts',
      level: 'warn',
    });
    expect(reconcileID).toMatch(/^[0-9a-f-]{36}$/);
    expect(newReconcileID()).not.toBe(reconcileID);
  });

  it('is accepted where the Slack and delivery layers take a LogSink', () => {
    const { log, lines } = capture();
    const sink: LogSink = childFor(log, { controller: 'delivery', namespace: 'ops', name: 'acme' });
    sink.error({ code: 'invalid_auth' }, 'Slack token rejected');
    expect(lines()[0]).toMatchObject({ level: 'error', controller: 'delivery', code: 'invalid_auth' });
  });

  it('leaves reconcileID out when there is none', () => {
    const { log, lines } = capture();
    childFor(log, { controller: 'slackintegration', namespace: 'ops', name: 'acme' }).info('x');
    const [line] = lines();
    expect(line).toMatchObject({ controller: 'slackintegration', namespace: 'ops', name: 'acme' });
    expect(line).not.toHaveProperty('reconcileID');
  });
});
