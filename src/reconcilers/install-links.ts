// The one-time install link of one integration (status.install): offered while spec.oauth is set and the
// operator serves OAuth (--oauth-public-url). Kept across restarts (read back from status), issued anew when it
// was used (the token Secret records which link installed it) or expires within the hour; links live 24
// hours. The URL is signed anew from the nonce and expiry with the current client secret, so a rotated client
// secret makes old links invalid and the status shows a valid one.
import type { SlackIntegration, SlackIntegrationStatus } from '../api/types.ts';
import { installScopes } from '../domain/scopes.ts';
import { rfc3339 as iso } from '../domain/time.ts';
import { INSTALLED_WITH_ANNOTATION, installURL, linkFromURL, type InstallLink } from '../oauth/link.ts';
import { newNonce } from '../oauth/state.ts';
import { clientSecretOf, type CachedSecret } from './token-credentials.ts';

const LIFETIME_MS = 24 * 3_600_000;
const RENEW_BEFORE_MS = 3_600_000;

export class InstallLinks {
  readonly #redirectURL: string | undefined;
  #link: InstallLink | undefined;
  /** the app's client secret, which signs the link; never in status or logs */
  #clientSecret: string | undefined;

  /** `redirectURL`: the OAuth redirect URL the operator serves; undefined: no install links */
  constructor(redirectURL: string | undefined) {
    this.#redirectURL = redirectURL;
  }

  /** Whether a link is offered (a missing token's message points at it). */
  get offered(): boolean {
    return this.#link !== undefined;
  }

  keep(object: SlackIntegration, secret: (name: string) => CachedSecret | undefined, now: number): void {
    if (this.#redirectURL === undefined || object.spec.oauth === undefined) {
      this.#link = undefined;
      return;
    }
    const client = clientSecretOf(object, secret);
    this.#clientSecret = client.ok ? client.clientSecret : undefined;
    this.#link ??= linkFromURL(object.status?.install?.url);
    const used =
      this.#link !== undefined &&
      secret(object.spec.tokenSecretRef.name)?.annotations?.[INSTALLED_WITH_ANNOTATION] === this.#link.nonce;
    if (this.#link === undefined || used || this.#link.expiresAt - now < RENEW_BEFORE_MS)
      this.#link = { nonce: newNonce(), expiresAt: now + LIFETIME_MS };
  }

  /**
   * status.install: the link signed with the current client secret. lastAttempt is never written from here:
   * the OAuth listener (any replica) patches it, and a JSON merge patch of `install: {url, expiresAt}` keeps
   * it, so a status write built from a cache that has not seen the newest attempt cannot undo it. Without a
   * link, `install` is left alone (a past attempt stays readable).
   */
  status(object: SlackIntegration): SlackIntegrationStatus['install'] {
    const oauth = object.spec.oauth;
    const redirect = this.#redirectURL;
    const link = this.#link;
    const client = this.#clientSecret;
    if (oauth === undefined || redirect === undefined || link === undefined || client === undefined)
      return undefined;
    return {
      url: installURL({
        apiURL: object.spec.apiURL,
        clientID: oauth.clientID,
        clientSecret: client,
        redirectURL: redirect,
        scopes: installScopes(object.spec.membership?.leaveUnused === true),
        teamID: object.spec.workspace?.teamID,
        state: { namespace: object.metadata.namespace, name: object.metadata.name, ...link },
      }),
      expiresAt: iso(new Date(link.expiresAt)),
    };
  }
}
