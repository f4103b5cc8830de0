// When one integration's rotating token is refreshed, and what the operator says meanwhile: refreshed
// REFRESH_MARGIN_MS before it expires, or at once when Slack said token_expired; after a failure, not before
// a backoff (a refused refresh token: five minutes, anything else: 30 s; an unstored grant: 2 s), so no
// wake-up calls Slack in a loop. A refresh that fails while the token still works leaves it in use and says
// why in status.token; an expired token stops sending with the last failure's reason. The refresh itself, and
// keeping the refresh token safe across writers, is TokenRotation's (token-rotation.ts).
import type { SlackIntegration, SlackIntegrationStatus } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import type { Clock } from '../delivery/clock.ts';
import { rfc3339 as iso } from '../domain/time.ts';
import type { SlackAppClientFactory } from '../slack/port.ts';
import type { LogSink } from '../slack/logging.ts';
import type { SecretStore } from './sinks.ts';
import {
  clientSecretOf,
  isRotating,
  refreshAfter,
  type CachedSecret,
  type Credentials,
} from './token-credentials.ts';
import { TokenRotation } from './token-rotation.ts';

/** After a failed refresh, try again this much later (a refused refresh token: not before five minutes). */
const REFRESH_RETRY_MS = 30_000;
const REFUSED_RETRY_MS = 5 * 60_000;
/** A granted token that could not be stored: the write is tried again this soon. */
const UNSTORED_RETRY_MS = 2_000;

/**
 * What to send with: the credentials, or why there is no usable token now. `drop`: the token itself is
 * unusable for good (forget it, as for a missing Secret); otherwise it expired and waits for a refresh.
 */
export type TokenVerdict =
  | { ok: true; credentials: Credentials }
  | { ok: false; drop: boolean; reason: string; message: string; stalled: boolean };

export interface TokenRefresherDeps {
  integration: string;
  secrets: SecretStore;
  clock: Clock;
  log: LogSink;
  createSlackAppClient: SlackAppClientFactory;
  slackTimeoutMs: number;
}

export class TokenRefresher {
  readonly #deps: TokenRefresherDeps;
  readonly #rotation: TokenRotation;
  /** the token Slack said token_expired to: refresh it now, whatever the Secret's expires-at says */
  #expiredToken: string | undefined;
  /** why the last refresh did not happen or failed, while the token still works */
  #refreshError: string | undefined;
  /** no refresh attempt before this (ms): after a failure */
  #notBefore = 0;
  /** the last refresh failure's reason, for an expired token waiting out the backoff */
  #lastFailure: { reason: string; stalled: boolean } | undefined;

  constructor(deps: TokenRefresherDeps) {
    this.#deps = deps;
    this.#rotation = new TokenRotation(deps.secrets, () => deps.clock.now());
  }

  /** Slack said token_expired to this token: the next reconcile refreshes it at once. */
  noteExpired(token: string | undefined): void {
    this.#expiredToken = token;
  }

  /** The Secret no longer holds a usable token: an unstored grant for the old one is worthless. */
  reset(): void {
    this.#rotation.reset();
  }

  /** Whether these credentials have a refresh token and the app credentials to spend it are configured. */
  canRefresh(credentials: Credentials | undefined, object: SlackIntegration | undefined): boolean {
    return credentials?.refreshToken !== undefined && object?.spec.oauth !== undefined;
  }

  /** When the next reconcile must run for the token's sake (ms from now), Infinity when never. */
  wakeupMs(credentials: Credentials | undefined, object: SlackIntegration | undefined): number {
    if (credentials === undefined) return Infinity;
    const due = refreshAfter(credentials);
    if (due === undefined || object?.spec.oauth === undefined) return Infinity;
    return Math.max(0, Math.max(due, this.#notBefore) - this.#deps.clock.now());
  }

  /** The credentials to use: refreshed first when due. */
  async ensureFresh(
    object: SlackIntegration,
    secret: (name: string) => CachedSecret | undefined,
    credentials: Credentials,
  ): Promise<TokenVerdict> {
    const now = this.#deps.clock.now();
    const expired =
      this.#expiredToken === credentials.token ||
      (credentials.expiresAt !== undefined && credentials.expiresAt <= now);
    const due = refreshAfter(credentials);
    if (due === undefined) {
      this.#refreshError = undefined;
      if (expired && isRotating(credentials))
        return {
          ok: false,
          drop: true,
          reason: Reasons.TokenExpired,
          message: `the rotating token in Secret "${credentials.secretName}" expired and the Secret holds no refresh-token to renew it: install the app again, or put a new token and refresh token in the Secret`,
          stalled: true,
        };
      return { ok: true, credentials };
    }
    if (!expired && !this.#rotation.hasUnstored && now < due) {
      if (object.spec.oauth !== undefined) this.#refreshError = undefined; // the last failure is behind us
      return { ok: true, credentials };
    }
    const client = clientSecretOf(object, secret);
    if (!client.ok) {
      this.#refreshError = client.message;
      this.#notBefore = now + REFRESH_RETRY_MS; // look again later, not at every wake-up
      if (!expired) return { ok: true, credentials };
      return {
        ok: false,
        drop: true,
        reason: client.reason,
        message: `the rotating token expired; ${client.message}`,
        stalled: true,
      };
    }
    // after a failure, not before the backoff — an expired token included, or every wake-up would call Slack;
    // meanwhile an expired token says why its refresh failed
    if (now < this.#notBefore) {
      if (!expired) return { ok: true, credentials };
      const last = this.#lastFailure ?? { reason: Reasons.Retrying, stalled: false };
      return expiredVerdict(last.reason, this.#refreshError ?? 'waiting to retry the refresh', last.stalled);
    }
    const app = this.#deps.createSlackAppClient({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      apiURL: object.spec.apiURL,
      timeoutMs: this.#deps.slackTimeoutMs,
    });
    const outcome = await this.#rotation.refresh(object, credentials, app);
    const log = this.#deps.log;
    const integration = this.#deps.integration;
    switch (outcome.kind) {
      case 'refreshed':
      case 'adopted': {
        this.#expiredToken = undefined;
        this.#refreshError = undefined;
        this.#notBefore = 0;
        const expiresAt = outcome.credentials.expiresAt;
        log.info(
          {
            integration,
            secret: outcome.credentials.secretName,
            ...(expiresAt === undefined ? {} : { expiresAt: iso(new Date(expiresAt)) }),
          },
          outcome.kind === 'refreshed'
            ? 'refreshed the rotating bot token'
            : 'using the newer token found in the Secret',
        );
        return {
          ok: true,
          credentials:
            outcome.kind === 'refreshed'
              ? { ...outcome.credentials, refreshedAt: iso(new Date(now)) }
              : outcome.credentials,
        };
      }
      case 'unstored':
        // the old token goes on working meanwhile; the granted one is used once stored
        this.#refreshError = outcome.message;
        this.#notBefore = now + UNSTORED_RETRY_MS;
        log.warn({ integration }, outcome.message);
        return expired ? expiredVerdict(Reasons.Retrying, outcome.message, false) : { ok: true, credentials };
      case 'failed':
        this.#lastFailure = { reason: outcome.reason, stalled: outcome.stalled };
        this.#refreshError = outcome.message;
        this.#notBefore = now + (outcome.stalled ? REFUSED_RETRY_MS : REFRESH_RETRY_MS);
        log.warn({ integration, reason: outcome.reason }, outcome.message);
        return expired
          ? expiredVerdict(outcome.reason, outcome.message, outcome.stalled)
          : { ok: true, credentials };
    }
  }

  /** status.token for the credentials in use, when they rotate. */
  status(
    credentials: Credentials | undefined,
    object: SlackIntegration,
  ): SlackIntegrationStatus['token'] | undefined {
    if (credentials === undefined || !isRotating(credentials)) return undefined;
    const due = refreshAfter(credentials);
    return {
      secretName: credentials.secretName,
      ...(credentials.expiresAt === undefined ? {} : { expiresAt: iso(new Date(credentials.expiresAt)) }),
      ...(credentials.refreshedAt === undefined ? {} : { refreshedAt: credentials.refreshedAt }),
      ...(due === undefined || object.spec.oauth === undefined
        ? {}
        : { refreshAfter: iso(new Date(Math.max(due, this.#notBefore, 0))) }),
      ...(this.#refreshError === undefined ? {} : { refreshError: this.#refreshError.slice(0, 1024) }),
    };
  }
}

const expiredVerdict = (reason: string, message: string, stalled: boolean): TokenVerdict => ({
  ok: false,
  drop: false,
  reason,
  message: `the rotating token expired; ${message}`,
  stalled,
});
