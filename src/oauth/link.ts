// The install link in a SlackIntegration's status: Slack's authorize page with the scopes jobherald needs,
// the operator's redirect URL and a signed state (state.ts). Slack's pages live beside its Web API: the
// authorize URL is the API URL with /api/ replaced (https://slack.com/api/ → https://slack.com/oauth/v2/authorize;
// the emulator and GovSlack follow the same shape).
import { DEFAULT_API_URL } from '../slack/port.ts';
import { peekState, signState, type InstallState } from './state.ts';

/** On the token Secret an install wrote: the nonce of the link that wrote it (that link is then used up). */
export const INSTALLED_WITH_ANNOTATION = 'jobherald.dev/installed-with';

export interface InstallLink {
  nonce: string;
  /** ms since the epoch */
  expiresAt: number;
}

export function authorizeURL(apiURL: string | undefined): string {
  const api = new URL(apiURL || DEFAULT_API_URL);
  const base = api.pathname.replace(/\/api\/?$/, '/');
  return new URL(`${base.endsWith('/') ? base : `${base}/`}oauth/v2/authorize`, api.origin).toString();
}

export function installURL(options: {
  apiURL: string | undefined;
  clientID: string;
  clientSecret: string;
  redirectURL: string;
  scopes: readonly string[];
  teamID: string | undefined;
  state: InstallState;
}): string {
  const url = new URL(authorizeURL(options.apiURL));
  url.searchParams.set('client_id', options.clientID);
  url.searchParams.set('scope', options.scopes.join(','));
  url.searchParams.set('redirect_uri', options.redirectURL);
  url.searchParams.set('state', signState(options.state, options.clientSecret));
  if (options.teamID !== undefined) url.searchParams.set('team', options.teamID);
  return url.toString();
}

/** The link a status URL carries (after a restart, so that it stays valid). */
export function linkFromURL(url: string | undefined): InstallLink | undefined {
  if (url === undefined) return undefined;
  let state: string | null;
  try {
    state = new URL(url).searchParams.get('state');
  } catch {
    return undefined;
  }
  const claims = state === null ? undefined : peekState(state);
  return claims === undefined ? undefined : { nonce: claims.nonce, expiresAt: claims.expiresAt };
}
