// GET /oauth/v2/authorize: the install page, approved at once by the workspace's first admin. It
// redirects to redirect_uri with a single-use code (and the state), which oauth.v2.access exchanges
// (slack-behaviour.md §7).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from './http-util.ts';
import type { WorkspaceState } from './state.ts';

const splitScopes = (value: string | null) =>
  (value ?? '')
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Mints a code as if a user had approved an install with these scopes. */
export function newOAuthCode(
  state: WorkspaceState,
  scopes: string[],
  userScopes: string[],
  redirectUri: string | undefined,
): string {
  const code = `${state.workspace.team.id}.${randomBytes(10).toString('hex')}`;
  const installer = state.workspace.users.find((u) => u.isAdmin === true) ?? state.workspace.users[0];
  state.oauthCodes.set(code, {
    code,
    scopes,
    userScopes,
    ...(redirectUri === undefined ? {} : { redirectUri }),
    installerId: installer?.id ?? state.workspace.bot.userId,
    used: false,
  });
  return code;
}

export function handleAuthorize(
  state: WorkspaceState,
  _req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  const query = url.searchParams;
  if (query.get('client_id') !== state.workspace.app.clientId) return sendText(res, 400, 'invalid_client_id');
  const redirectUri = query.get('redirect_uri');
  if (redirectUri === null) return sendText(res, 400, 'bad_redirect_uri');
  const scopes = splitScopes(query.get('scope'));
  const userScopes = splitScopes(query.get('user_scope'));
  const target = new URL(redirectUri);
  if (scopes.length === 0 && userScopes.length === 0) {
    target.searchParams.set('error', 'invalid_scope');
  } else {
    target.searchParams.set('code', newOAuthCode(state, scopes, userScopes, redirectUri));
  }
  const stateParam = query.get('state');
  if (stateParam !== null) target.searchParams.set('state', stateParam);
  res.writeHead(302, { location: target.toString() });
  res.end();
}
