// Logging glue: the pino options that keep secrets out of every log line, the minimal logger shape the
// Slack and delivery layers accept, and an adapter that gives @slack/web-api's WebClient a logger that
// writes through it (redacted, at the SDK's level mapped down so the SDK cannot flood the operator's logs).
import type { LoggerOptions } from 'pino';
import type { Logger as SlackLogger } from '@slack/web-api';
import { LogLevel } from '@slack/web-api';
import { MASK, PINO_REDACT_PATHS, redact } from './redact.ts';

/** The part of a pino logger that jobherald's Slack and delivery code uses. A pino Logger satisfies it. */
export interface LogSink {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLog: LogSink = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Options to spread into the root `pino({...})`: fields named like tokens are censored by path, and the final
 * JSON of every line goes through redact(), so a token inside a message, an error, a stack or a URL is masked
 * whatever the field. Use it for the one pino root the process creates.
 */
export function pinoRedaction(): Pick<LoggerOptions, 'redact' | 'hooks'> {
  return {
    redact: { paths: [...PINO_REDACT_PATHS], censor: MASK },
    hooks: { streamWrite: (line: string) => redact(line) },
  };
}

const LEVELS: readonly LogLevel[] = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

/**
 * A @slack/web-api Logger writing to `log`. The SDK's own chatter (debug request dumps, `already_in_channel`
 * warnings, "http request failed") is useful when debugging and noise otherwise: everything below `minLevel`
 * (default warn) is written at debug. Every argument is stringified and redacted.
 */
export function slackSdkLogger(log: LogSink, minLevel: LogLevel = LogLevel.WARN): SlackLogger {
  let level = LogLevel.DEBUG;
  let name = 'web-api';
  const at = (lvl: LogLevel) => LEVELS.indexOf(lvl);
  const write =
    (lvl: LogLevel) =>
    (...parts: unknown[]): void => {
      if (at(lvl) < at(level)) return;
      const msg = redact(parts.map((p) => (typeof p === 'string' ? p : safeStringify(p))).join(' '));
      const fields = { component: 'slack-sdk', logger: name };
      if (at(lvl) < at(minLevel)) log.debug(fields, msg);
      else if (lvl === LogLevel.WARN) log.warn(fields, msg);
      else if (lvl === LogLevel.ERROR) log.error(fields, msg);
      else log.info(fields, msg);
    };
  return {
    debug: write(LogLevel.DEBUG),
    info: write(LogLevel.INFO),
    warn: write(LogLevel.WARN),
    error: write(LogLevel.ERROR),
    setLevel(l: LogLevel) {
      level = l;
    },
    getLevel: () => level,
    setName(n: string) {
      name = n;
    },
  };
}

function safeStringify(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
