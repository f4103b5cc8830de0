// Refreshing one integration's rotating bot token and keeping the result: oauth.v2.access with the single-use
// refresh token, then a resourceVersion-checked write of the new token, refresh token and expiry. Run by the
// leader only (reconcilers run on the leader). The order of things is what keeps the refresh token:
//   1. read the Secret afresh (the watch may lag behind a previous leader's write, or our own write to the
//      owned Secret): a refresh token that changed since means someone refreshed already, so theirs is used
//      and nothing is spent;
//   2. refresh; `invalid_refresh_token` is checked against a fresh read once more before it is believed;
//   3. write; a conflict is re-read: the Secret still holding the spent refresh token is written again on its
//      new version, a Secret holding another one (a person put a new install there) wins over ours;
//   4. a write that fails is kept and retried, and the new token is not used until it is stored: a token the
//      operator used but never stored would die with the process.
import type { SlackIntegration } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { JobheraldError, PermanentError, describe } from '../errors.ts';
import { SecretConflictError, type SecretStore, type StoredSecret } from './sinks.ts';
import type { SlackAppPort } from '../slack/port.ts';
import {
  EXPIRES_AT_KEY,
  REFRESH_TOKEN_KEY,
  REFRESHED_AT_ANNOTATION,
  SEEDED_FROM_ANNOTATION,
  DEFAULT_TOKEN_KEY,
  decode,
  type Credentials,
} from './token-credentials.ts';
import { rfc3339 } from '../domain/time.ts';

export type RefreshOutcome =
  /** stored and ready to use */
  | { kind: 'refreshed'; credentials: Credentials }
  /** someone else's newer token is in the Secret: use it */
  | { kind: 'adopted'; credentials: Credentials }
  /** a new token was granted but could not be stored yet; the old one is used until it is */
  | { kind: 'unstored'; message: string }
  /** Slack refused or could not be reached; `stalled`: only a person can fix it */
  | { kind: 'failed'; reason: string; message: string; stalled: boolean };

interface Pending {
  values: Record<string, string>;
  spentRefreshToken: string;
  credentials: Credentials;
}

export class TokenRotation {
  readonly #secrets: SecretStore;
  readonly #now: () => number;
  /** a granted token not stored yet */
  #pending: Pending | undefined;

  constructor(secrets: SecretStore, now: () => number) {
    this.#secrets = secrets;
    this.#now = now;
  }

  get hasUnstored(): boolean {
    return this.#pending !== undefined;
  }

  /** Forget an unstored token (the integration's spec or Secret changed under it). */
  reset(): void {
    this.#pending = undefined;
  }

  async refresh(
    object: SlackIntegration,
    current: Credentials,
    app: Pick<SlackAppPort, 'refresh'>,
  ): Promise<RefreshOutcome> {
    const namespace = object.metadata.namespace;
    const tokenKey = object.spec.tokenSecretRef.key ?? DEFAULT_TOKEN_KEY;
    const target = object.spec.tokenRotation?.secretName ?? object.spec.tokenSecretRef.name;
    if (this.#pending === undefined) {
      const spent = current.refreshToken;
      if (spent === undefined)
        return {
          kind: 'failed',
          reason: Reasons.RefreshTokenInvalid,
          message: 'no refresh token',
          stalled: true,
        };
      let newer: Credentials | undefined;
      try {
        newer = await this.#freshNewer(namespace, target, tokenKey, spent, current);
      } catch (error) {
        return { kind: 'failed', reason: Reasons.Retrying, message: describe(error), stalled: false };
      }
      if (newer !== undefined) return { kind: 'adopted', credentials: newer };
      let grant;
      try {
        grant = await app.refresh(spent);
      } catch (error) {
        return this.#refused(error, namespace, target, current, tokenKey, spent);
      }
      const expiresAt =
        grant.expiresInSeconds === undefined ? undefined : this.#now() + grant.expiresInSeconds * 1000;
      const refreshToken = grant.refreshToken ?? spent;
      const values: Record<string, string> = {
        [tokenKey]: grant.accessToken,
        [REFRESH_TOKEN_KEY]: refreshToken,
      };
      if (expiresAt !== undefined) values[EXPIRES_AT_KEY] = rfc3339(new Date(expiresAt));
      this.#pending = {
        values,
        spentRefreshToken: spent,
        credentials: {
          secretName: target,
          token: grant.accessToken,
          refreshToken,
          ...(expiresAt === undefined ? {} : { expiresAt }),
          ...(current.sourceFingerprint === undefined
            ? {}
            : { sourceFingerprint: current.sourceFingerprint }),
        },
      };
    }
    return this.#store(object, target, tokenKey);
  }

  /**
   * Credentials newer than the ones about to be spent, read afresh from the API server: from the Secret they
   * came from (another replica refreshed, a person reinstalled), else from the owned target Secret when it is
   * seeded from the same user token. The second read matters while the watch lags behind our own write to the
   * owned Secret: the cache still offers the user's Secret, whose refresh token was spent into the owned one.
   */
  async #freshNewer(
    namespace: string,
    target: string,
    tokenKey: string,
    spent: string,
    current: Credentials,
  ): Promise<Credentials | undefined> {
    const fresh = await this.#secrets.read(namespace, current.secretName);
    const newer = fresh === undefined ? undefined : this.#newer(fresh, tokenKey, spent, current);
    if (newer !== undefined || target === current.secretName || current.sourceFingerprint === undefined)
      return newer;
    const owned = await this.#secrets.read(namespace, target);
    if (owned === undefined || owned.annotations[SEEDED_FROM_ANNOTATION] !== current.sourceFingerprint)
      return undefined;
    return this.#newer(owned, tokenKey, spent, current);
  }

  /** Credentials in `fresh` that differ from the ones about to be spent, or undefined. */
  #newer(
    fresh: StoredSecret,
    tokenKey: string,
    spent: string,
    current: Credentials,
  ): Credentials | undefined {
    const refreshToken = decode(fresh.data, REFRESH_TOKEN_KEY);
    const token = decode(fresh.data, tokenKey);
    if (refreshToken === undefined || refreshToken === spent || token === undefined) return undefined;
    const expiresAt = Date.parse(decode(fresh.data, EXPIRES_AT_KEY) ?? '');
    return {
      ...current,
      secretName: fresh.name,
      token,
      refreshToken,
      ...(Number.isFinite(expiresAt) ? { expiresAt } : { expiresAt: undefined }),
    };
  }

  async #refused(
    error: unknown,
    namespace: string,
    target: string,
    current: Credentials,
    tokenKey: string,
    spent: string,
  ): Promise<RefreshOutcome> {
    const code = error instanceof JobheraldError ? error.code : 'unknown_error';
    if (code === 'invalid_refresh_token') {
      // Another writer may have spent it a moment ago and stored the next one: look once more.
      const newer = await this.#freshNewer(namespace, target, tokenKey, spent, current).catch(
        () => undefined,
      );
      if (newer !== undefined) return { kind: 'adopted', credentials: newer };
      return {
        kind: 'failed',
        reason: Reasons.RefreshTokenInvalid,
        message:
          `Slack said invalid_refresh_token: the refresh token in Secret "${current.secretName}" was used already or revoked. ` +
          'Install the app again, or put a new token and refresh token in the Secret',
        stalled: true,
      };
    }
    if (code === 'invalid_client_id' || code === 'bad_client_secret')
      return {
        kind: 'failed',
        reason: Reasons.OAuthClientInvalid,
        message: `Slack said ${code}: check spec.oauth.clientID and the client secret its clientSecretRef names`,
        stalled: true,
      };
    // a proxy's page or an HTTP error is not Slack refusing: retried, as for any other call
    const slack = error instanceof PermanentError && code !== 'invalid_response' && !code.startsWith('http_');
    return {
      kind: 'failed',
      reason: slack ? Reasons.AuthFailed : Reasons.SlackUnavailable,
      message: `refreshing the token: ${describe(error)}`,
      stalled: slack,
    };
  }

  async #store(object: SlackIntegration, target: string, tokenKey: string): Promise<RefreshOutcome> {
    const pending = this.#pending!;
    const namespace = object.metadata.namespace;
    const owned = object.spec.tokenRotation?.secretName !== undefined;
    const annotations: Record<string, string> = { [REFRESHED_AT_ANNOTATION]: rfc3339(new Date(this.#now())) };
    if (owned && pending.credentials.sourceFingerprint !== undefined)
      annotations[SEEDED_FROM_ANNOTATION] = pending.credentials.sourceFingerprint;
    // two tries: the version the fresh read gives, and once more after a conflict that still holds the spent token
    for (let attempt = 0; attempt < 2; attempt++) {
      let existing: StoredSecret | undefined;
      try {
        existing = await this.#secrets.read(namespace, target);
        // on every try, the first one too: a person may have put a new install there during the refresh
        const theirs =
          existing === undefined
            ? undefined
            : this.#newer(existing, tokenKey, pending.spentRefreshToken, pending.credentials);
        const ownedStale =
          owned && existing?.annotations[SEEDED_FROM_ANNOTATION] !== annotations[SEEDED_FROM_ANNOTATION];
        if (
          theirs !== undefined &&
          theirs.refreshToken !== pending.values[REFRESH_TOKEN_KEY] &&
          !ownedStale
        ) {
          this.#pending = undefined;
          return { kind: 'adopted', credentials: theirs };
        }
        await this.#secrets.write({
          namespace,
          name: target,
          resourceVersion: existing?.resourceVersion,
          values: pending.values,
          annotations,
          ...(owned && existing === undefined
            ? {
                owner: {
                  apiVersion: object.apiVersion,
                  kind: object.kind,
                  name: object.metadata.name,
                  uid: object.metadata.uid ?? '',
                },
              }
            : {}),
        });
        this.#pending = undefined;
        return { kind: 'refreshed', credentials: pending.credentials };
      } catch (error) {
        if (error instanceof SecretConflictError && attempt === 0) continue;
        return {
          kind: 'unstored',
          message: `storing the refreshed token in Secret "${target}": ${describe(error)}`,
        };
      }
    }
    return {
      kind: 'unstored',
      message: `storing the refreshed token in Secret "${target}": it keeps changing`,
    };
  }
}
