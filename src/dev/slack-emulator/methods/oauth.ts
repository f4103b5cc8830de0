// oauth.v2.access (the install's code exchange, and refreshing rotated tokens) and apps.uninstall
// (slack-behaviour.md §3.13, §3.15, §7). Codes come from the /oauth/v2/authorize route (oauth-authorize.ts).
import { randomBytes } from 'node:crypto';
import { stringParam } from '../api-request.ts';
import { SlackApiError, success } from '../slack-error.ts';
import type { WorkspaceState } from '../state.ts';
import { callerToken, type MethodContext, type MethodSpec } from './method.ts';

const ROTATING_TOKEN_LIFETIME_SECONDS = 43_200;

/** Client credentials: HTTP Basic (preferred by Slack) or client_id/client_secret arguments. */
function checkClient(ctx: MethodContext): void {
  const { app } = ctx.state.workspace;
  const clientId = ctx.request.basic?.user ?? stringParam(ctx.params, 'client_id');
  const clientSecret = ctx.request.basic?.password ?? stringParam(ctx.params, 'client_secret');
  if (clientId !== app.clientId) throw new SlackApiError('invalid_client_id');
  if (clientSecret !== app.clientSecret) throw new SlackApiError('bad_client_secret');
}

const secret = () => randomBytes(12).toString('hex');

function issueToken(state: WorkspaceState, type: 'bot' | 'user', scopes: string[], userId?: string) {
  const rotation = state.workspace.app.tokenRotation === true;
  const prefix = type === 'bot' ? 'xoxb' : 'xoxp';
  const token = `${rotation ? 'xoxe.' : ''}${prefix}-${state.workspace.team.id}-${secret()}`;
  const expiresAt = rotation ? state.clock.now() + ROTATING_TOKEN_LIFETIME_SECONDS * 1000 : undefined;
  state.addToken(token, type, scopes, userId, expiresAt);
  const grant: Record<string, unknown> = { access_token: token, token_type: type, scope: scopes.join(',') };
  if (rotation) {
    const refreshToken = `xoxe-1-${secret()}`;
    state.refreshTokens.set(refreshToken, { accessToken: token });
    grant.expires_in = ROTATING_TOKEN_LIFETIME_SECONDS;
    grant.refresh_token = refreshToken;
  }
  return grant;
}

export const access: MethodSpec = {
  name: 'oauth.v2.access',
  tier: 'tier4',
  acceptsJson: false,
  needsToken: false,
  acceptedScopes: [],
  handle(ctx) {
    checkClient(ctx);
    const { state, params } = ctx;
    const { team, app, bot } = state.workspace;
    const installation = {
      app_id: app.id,
      team: { name: team.name, id: team.id },
      enterprise: null,
      is_enterprise_install: false,
    };
    const grantType = stringParam(params, 'grant_type') ?? 'authorization_code';
    if (grantType === 'refresh_token') {
      const refreshToken = stringParam(params, 'refresh_token') ?? '';
      const previous = state.refreshTokens.get(refreshToken);
      if (previous === undefined) throw new SlackApiError('invalid_refresh_token');
      state.refreshTokens.delete(refreshToken); // a refresh token works once
      const old = state.tokens.get(previous.accessToken);
      const grant = issueToken(state, old?.type ?? 'bot', [...(old?.scopes ?? [])], old?.userId);
      return success({ ...grant, bot_user_id: bot.userId, ...installation });
    }
    if (grantType !== 'authorization_code') throw new SlackApiError('invalid_grant_type');
    const code = state.oauthCodes.get(stringParam(params, 'code') ?? '');
    if (code === undefined || code.used) throw new SlackApiError('invalid_code');
    if (code.redirectUri !== undefined && stringParam(params, 'redirect_uri') !== code.redirectUri)
      throw new SlackApiError('bad_redirect_uri');
    code.used = true;
    state.appUninstalled = false;
    const body: Record<string, unknown> = { ok: true };
    if (code.scopes.length > 0)
      Object.assign(body, issueToken(state, 'bot', code.scopes), { bot_user_id: bot.userId });
    Object.assign(body, installation);
    const authedUser: Record<string, unknown> = { id: code.installerId };
    if (code.userScopes.length > 0)
      Object.assign(authedUser, issueToken(state, 'user', code.userScopes, code.installerId));
    body.authed_user = authedUser;
    if (code.scopes.includes('incoming-webhook')) body.incoming_webhook = newWebhook(ctx);
    delete body.ok;
    return success(body);
  },
};

// An install with the incoming-webhook scope gets a webhook URL for the first public channel.
function newWebhook(ctx: MethodContext): Record<string, unknown> {
  const { state } = ctx;
  const channel = state.channelOrder.find((c) => !c.isPrivate && !c.isArchived && !c.isIm);
  if (channel === undefined) return {};
  const path = `${state.workspace.team.id}/B${randomBytes(5).toString('hex').toUpperCase()}/${secret()}`;
  state.webhooks.set(path, { channel: channel.id, disabled: false });
  return {
    channel: `#${channel.name}`,
    channel_id: channel.id,
    configuration_url: `https://${state.workspace.team.domain}.slack.com/services/${path.split('/')[1] ?? ''}`,
    url: `${ctx.baseUrl}/services/${path}`,
  };
}

export const uninstall: MethodSpec = {
  name: 'apps.uninstall',
  tier: 'tier1',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: [],
  handle(ctx) {
    callerToken(ctx);
    checkClient(ctx);
    uninstallApp(ctx.state);
    return success();
  },
};

/** Every token of the app dies: bot tokens then get account_inactive, user tokens token_revoked. */
export function uninstallApp(state: WorkspaceState): void {
  state.appUninstalled = true;
  for (const token of state.tokens.values())
    token.dead ??= token.type === 'bot' ? 'account_inactive' : 'token_revoked';
  for (const hook of state.webhooks.values()) hook.disabled = true;
  state.changed();
}
