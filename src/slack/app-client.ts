// SlackAppPort over @slack/web-api: calls made with the Slack app's client credentials instead of a bot token
// (oauth.v2.access). The credentials go as HTTP Basic, as Slack prefers (slack-behaviour.md §3.13), so the
// client secret is in a header the SDK never logs, not in a form body; no retries (the reconciler retries).
import { WebClient } from '@slack/web-api';
import { PermanentError } from '../errors.ts';
import { DEFAULT_API_URL, DEFAULT_TIMEOUT_MS, mapSlackError } from './client.ts';
import { silentLog, slackSdkLogger, type LogSink } from './logging.ts';
import type { SlackAppPort, TokenGrant } from './port.ts';

export interface SlackAppClientOptions {
  clientId: string;
  /** never logged, never part of an error */
  clientSecret: string;
  apiURL?: string;
  timeoutMs?: number;
  log?: LogSink;
}

export function createSlackAppClient(options: SlackAppClientOptions): SlackAppPort {
  const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
  const client = new WebClient(undefined, {
    slackApiUrl: options.apiURL || DEFAULT_API_URL,
    headers: { Authorization: `Basic ${basic}` },
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // the SDK's debug dumps would hold client_secret, code and tokens: its chatter is dropped here
    logger: slackSdkLogger(silentLog),
  });
  /** A call made with a workspace token rather than the client credentials. */
  const withToken = async (token: string, method: string, args: Record<string, string>): Promise<void> => {
    const caller = new WebClient(token, {
      slackApiUrl: options.apiURL || DEFAULT_API_URL,
      retryConfig: { retries: 0 },
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // the SDK's debug dumps would hold client_secret, code and tokens: its chatter is dropped here
      logger: slackSdkLogger(silentLog),
    });
    try {
      await caller.apiCall(method, args);
    } catch (err) {
      throw mapSlackError(err, { method });
    }
  };
  const access = async (args: Record<string, string>): Promise<TokenGrant> => {
    let r: Record<string, unknown>;
    try {
      r = (await client.apiCall('oauth.v2.access', args)) as unknown as Record<string, unknown>;
    } catch (err) {
      throw mapSlackError(err, { method: 'oauth.v2.access' });
    }
    return toGrant(r);
  };
  return {
    refresh: (refreshToken) => access({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    exchange: (code, redirectURL) => access({ code, redirect_uri: redirectURL }),
    revoke: (token) => withToken(token, 'auth.revoke', {}),
    // apps.uninstall takes the client credentials as arguments (no Basic) and a workspace token as the bearer
    uninstall: (token) =>
      withToken(token, 'apps.uninstall', {
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
  };
}

function toGrant(r: Record<string, unknown>): TokenGrant {
  const accessToken = typeof r.access_token === 'string' ? r.access_token : '';
  if (accessToken === '')
    throw new PermanentError('invalid_response', 'oauth.v2.access: the answer holds no access_token');
  const team = (r.team ?? {}) as { id?: unknown };
  const enterprise = (r.enterprise ?? {}) as { id?: unknown };
  const grant: TokenGrant = {
    accessToken,
    scopes: typeof r.scope === 'string' && r.scope !== '' ? r.scope.split(',') : [],
    teamId: typeof team.id === 'string' ? team.id : '',
  };
  if (typeof r.refresh_token === 'string' && r.refresh_token !== '') grant.refreshToken = r.refresh_token;
  if (typeof r.expires_in === 'number' && r.expires_in > 0) grant.expiresInSeconds = r.expires_in;
  if (typeof enterprise.id === 'string') grant.enterpriseId = enterprise.id;
  if (typeof r.bot_user_id === 'string') grant.botUserId = r.bot_user_id;
  return grant;
}
