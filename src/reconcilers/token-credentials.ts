// Which bot token an integration uses, read from its Secrets, and when a rotating one is due for a refresh.
// Pure: the Secrets come in as the watch caches them, the time as a number.
//
// A rotating token (Slack apps with token rotation on: xoxe.xoxb-…, 12 hours, single-use refresh tokens) is
// kept in three keys of one Secret: the token under tokenSecretRef.key, `refresh-token` and `expires-at`
// (RFC 3339). With spec.tokenRotation.secretName the refreshed ones live in a Secret the operator owns; that
// Secret records a fingerprint of the refresh token it was seeded from, so that a new token put into the
// user's Secret (a reinstall) wins over the owned copy of an older one.
import { createHash } from 'node:crypto';
import type { SlackIntegration } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';

export const REFRESH_TOKEN_KEY = 'refresh-token';
export const EXPIRES_AT_KEY = 'expires-at';
export const DEFAULT_TOKEN_KEY = 'token';
export const DEFAULT_CLIENT_SECRET_KEY = 'client-secret';
/** on the owned Secret: the fingerprint of the user's refresh token it was seeded from */
export const SEEDED_FROM_ANNOTATION = 'jobherald.dev/seeded-from';
/** on the Secret written: when the operator last refreshed the token in it */
export const REFRESHED_AT_ANNOTATION = 'jobherald.dev/token-refreshed-at';
/**
 * Refresh this long before expiry. Slack's SDKs refresh with less than 2 hours left; 3 hours leaves room for
 * a failover, a Slack outage or a failed Secret write to be retried long before the token stops working.
 */
export const REFRESH_MARGIN_MS = 3 * 3_600_000;

/** A Secret as the watch caches it (base64 values). */
export interface CachedSecret {
  name: string;
  resourceVersion?: string;
  data: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Credentials {
  /** the Secret they were read from */
  secretName: string;
  token: string;
  refreshToken?: string;
  /** ms since the epoch; undefined when the Secret does not say (refresh at once to learn it) */
  expiresAt?: number;
  /** fingerprint of the user's refresh token (tokenSecretRef's), which an owned Secret is seeded from */
  sourceFingerprint?: string;
  /** when the operator last refreshed it (RFC 3339, from the Secret's annotation) */
  refreshedAt?: string;
}

export type CredentialsRead =
  { ok: true; credentials: Credentials } | { ok: false; reason: string; message: string };

/** A Secret value, decoded and trimmed; an empty one counts as absent. */
export const decode = (data: Record<string, string>, key: string): string | undefined => {
  const encoded = data[key];
  if (encoded === undefined || encoded === '') return undefined;
  const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
  return value === '' ? undefined : value;
};

/** A short, one-way name for a refresh token: safe in an annotation, enough to tell two apart. */
export const fingerprint = (refreshToken: string): string =>
  createHash('sha256').update(refreshToken).digest('hex').slice(0, 16);

function fromSecret(
  secret: CachedSecret,
  tokenKey: string,
): Omit<Credentials, 'sourceFingerprint'> | undefined {
  const token = decode(secret.data, tokenKey);
  if (token === undefined) return undefined;
  const credentials: Omit<Credentials, 'sourceFingerprint'> = { secretName: secret.name, token };
  const refreshToken = decode(secret.data, REFRESH_TOKEN_KEY);
  if (refreshToken !== undefined) credentials.refreshToken = refreshToken;
  const expiresAt = Date.parse(decode(secret.data, EXPIRES_AT_KEY) ?? '');
  if (Number.isFinite(expiresAt)) credentials.expiresAt = expiresAt;
  const refreshedAt = secret.annotations?.[REFRESHED_AT_ANNOTATION];
  if (refreshedAt !== undefined) credentials.refreshedAt = refreshedAt;
  return credentials;
}

/**
 * The token to use: from the owned Secret when it was seeded from the user's current refresh token, else
 * from tokenSecretRef's Secret.
 */
export function readCredentials(
  object: SlackIntegration,
  secret: (name: string) => CachedSecret | undefined,
): CredentialsRead {
  const ref = object.spec.tokenSecretRef;
  const tokenKey = ref.key ?? DEFAULT_TOKEN_KEY;
  const source = secret(ref.name);
  if (source === undefined)
    return {
      ok: false,
      reason: Reasons.SecretNotFound,
      message: `Secret "${ref.name}" not found in namespace "${object.metadata.namespace}"`,
    };
  const fromSource = fromSecret(source, tokenKey);
  if (fromSource === undefined)
    return {
      ok: false,
      reason: Reasons.SecretKeyMissing,
      message: `Secret "${ref.name}" has no key "${tokenKey}"`,
    };
  const sourceFingerprint =
    fromSource.refreshToken === undefined ? undefined : fingerprint(fromSource.refreshToken);
  const ownedName = object.spec.tokenRotation?.secretName;
  const owned = ownedName === undefined ? undefined : secret(ownedName);
  if (owned !== undefined && sourceFingerprint !== undefined) {
    const fromOwned = fromSecret(owned, tokenKey);
    if (fromOwned !== undefined && owned.annotations?.[SEEDED_FROM_ANNOTATION] === sourceFingerprint)
      return { ok: true, credentials: { ...fromOwned, sourceFingerprint } };
  }
  return {
    ok: true,
    credentials: { ...fromSource, ...(sourceFingerprint === undefined ? {} : { sourceFingerprint }) },
  };
}

/** Whether these credentials can ever be refreshed (a refresh token is there). */
export const isRotating = (c: Credentials): boolean =>
  c.refreshToken !== undefined || c.token.startsWith('xoxe.');

/** When to refresh: REFRESH_MARGIN_MS before expiry; at once when the expiry is unknown. */
export function refreshAfter(c: Credentials): number | undefined {
  if (c.refreshToken === undefined) return undefined;
  return c.expiresAt === undefined ? 0 : c.expiresAt - REFRESH_MARGIN_MS;
}

/** The Secret keys a SlackIntegration reads: the operator re-reconciles it when any of them changes. */
export function secretNamesOf(object: SlackIntegration): string[] {
  const names = [
    object.spec.tokenSecretRef?.name,
    object.spec.oauth?.clientSecretRef?.name,
    object.spec.tokenRotation?.secretName,
  ];
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''))];
}

/** The app's client secret, if spec.oauth names one that exists. */
export function clientSecretOf(
  object: SlackIntegration,
  secret: (name: string) => CachedSecret | undefined,
): { ok: true; clientId: string; clientSecret: string } | { ok: false; reason: string; message: string } {
  const oauth = object.spec.oauth;
  if (oauth === undefined)
    return {
      ok: false,
      reason: Reasons.TokenRotationNotConfigured,
      message:
        'spec.oauth is not set, so the rotating token cannot be refreshed: set spec.oauth.clientID and spec.oauth.clientSecretRef',
    };
  const ref = oauth.clientSecretRef;
  const key = ref.key ?? DEFAULT_CLIENT_SECRET_KEY;
  const stored = secret(ref.name);
  if (stored === undefined)
    return {
      ok: false,
      reason: Reasons.SecretNotFound,
      message: `Secret "${ref.name}" (spec.oauth.clientSecretRef) not found in namespace "${object.metadata.namespace}"`,
    };
  const clientSecret = decode(stored.data, key);
  if (clientSecret === undefined)
    return {
      ok: false,
      reason: Reasons.SecretKeyMissing,
      message: `Secret "${ref.name}" (spec.oauth.clientSecretRef) has no key "${key}"`,
    };
  return { ok: true, clientId: oauth.clientID, clientSecret };
}
