// The one pino root of the process and the child loggers the controllers use.
//
// Secrets are kept out of every line in three layers (quality bar R8):
//   1. fields whose name says they hold a secret (`token`, `botToken`, `authorization`, `clientSecret`,
//      `password`, `cookie`, …) are masked at any depth by the `log` formatter, and by pino's own `redact`
//      paths for the well-known shapes (`*.headers.Authorization`);
//   2. errors, anywhere in a line, are serialized (message, stack, causes) rather than dropped as `{}`;
//   3. the finished JSON line goes through src/slack/redact.ts, so a token, a bearer header or a webhook
//      secret inside a message, an error's message or stack, a URL or any nested string is masked.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger, LoggerOptions } from 'pino';
import { pinoRedaction } from '../slack/logging.ts';
import { MASK } from '../slack/redact.ts';

export type Logger = PinoLogger;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `--log-level` as given on the command line; throws on anything but debug|info|warn|error. */
export function parseLogLevel(value: string): LogLevel {
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`invalid log level "${value}": expected one of ${LOG_LEVELS.join(', ')}`);
}

export interface LoggerConfig {
  level: LogLevel;
  /** Pretty printing is not supported: the operator always writes JSON lines (pipe them to pino-pretty). */
  pretty?: false;
  /** where lines go; default stdout. Tests pass a stream to capture them. */
  destination?: DestinationStream;
}

/** Extra pino `redact` paths, on top of the Slack layer's PINO_REDACT_PATHS. */
const EXTRA_REDACT_PATHS: readonly string[] = [
  'secret',
  '*.secret',
  'password',
  '*.password',
  'appToken',
  '*.appToken',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'clientSecret',
  '*.clientSecret',
  'signingSecret',
  '*.signingSecret',
  'headers.cookie',
  '*.headers.cookie',
  'headers["proxy-authorization"]',
  '*.headers["proxy-authorization"]',
];

export function createLogger(config: LoggerConfig): Logger {
  const level = parseLogLevel(config.level);
  if ((config.pretty as boolean | undefined) === true)
    throw new Error('pretty logs are not supported; pipe the JSON output to pino-pretty');
  const redaction = pinoRedaction();
  const basePaths = redaction.redact && !Array.isArray(redaction.redact) ? redaction.redact.paths : [];
  const options: LoggerOptions = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => maskSecretFields(bindings) as Record<string, unknown>,
      log: (object) => maskSecretFields(object) as Record<string, unknown>,
    },
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: [...new Set([...basePaths, ...EXTRA_REDACT_PATHS])], censor: MASK },
    ...(redaction.hooks ? { hooks: redaction.hooks } : {}),
  };
  // Without a destination pino writes to stdout synchronously: no line is lost when the process exits.
  return config.destination === undefined ? pino(options) : pino(options, config.destination);
}

export interface ChildContext {
  controller: string;
  namespace: string;
  name: string;
  reconcileID?: string;
}

/** A child logger for one reconcile (or one object): every line carries controller, namespace, name, reconcileID. */
export function childFor(logger: Logger, context: ChildContext): Logger {
  const { controller, namespace, name, reconcileID } = context;
  return logger.child(
    reconcileID === undefined
      ? { controller, namespace, name }
      : { controller, namespace, name, reconcileID },
  );
}

/** A fresh reconcile ID (a UUID, as controller-runtime uses). */
export function newReconcileID(): string {
  return randomUUID();
}

// Field names that hold a secret: they end in one of these words (`botToken`, `x-api-key`, `clientSecret`),
// so `secretName`, `secretRef` or `tokens` (a count) are kept.
const SECRET_FIELD = /(?:token|authorization|secret|password|passwd|cookie|api[-_]?key|credentials?)$/i;
const MAX_DEPTH = 10;

/**
 * A copy of `value` for logging: values under secret-named keys are masked at any depth (numbers and booleans
 * are kept: `hasToken: true` leaks nothing), errors are serialized with their causes, cycles and depth bounded.
 * Strings are not rewritten here: the stream hook redacts the whole line.
 */
export function maskSecretFields(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Depth limit]';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return maskSecretFields(toJSON.call(value) as unknown, depth + 1, seen);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v: unknown) => maskSecretFields(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_FIELD.test(key) && isMaskable(v) ? MASK : maskSecretFields(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function isMaskable(v: unknown): boolean {
  return v !== null && v !== undefined && typeof v !== 'number' && typeof v !== 'boolean';
}

/**
 * pino's standard error serializer (type, message and stack including causes, own fields), with secret-named
 * fields masked. Values that are not errors (already serialized by the log formatter) pass through.
 */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(serialized)) {
    if (v === undefined) continue;
    out[key] = SECRET_FIELD.test(key) && isMaskable(v) ? MASK : maskSecretFields(v, 1);
  }
  return out;
}
