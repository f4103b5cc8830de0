// spec.onDelete, done in Slack when a SlackIntegration is deleted: revoke the bot token (auth.revoke) or
// uninstall the app (apps.uninstall, with the app's client credentials). A token Slack already refuses counts
// as removed; anything else is reported for the reconciler to retry until --slack-removal-timeout.
import type { SlackIntegration } from '../api/types.ts';
import { insecureApiUrlProblem } from '../domain/api-url.ts';
import { AuthError, describe } from '../errors.ts';
import type { SlackAppClientFactory } from '../slack/port.ts';
import { clientSecretOf, readCredentials, type CachedSecret } from './token-credentials.ts';

export async function removeFromSlack(input: {
  object: SlackIntegration;
  mode: 'RevokeToken' | 'UninstallApp';
  secret: (name: string) => CachedSecret | undefined;
  /** the token last used: a namespace being deleted takes the Secret first */
  lastToken: string | undefined;
  allowInsecureApiURL: boolean;
  createSlackAppClient: SlackAppClientFactory;
  slackTimeoutMs: number;
}): Promise<{ ok: boolean; message: string }> {
  const { object, mode, secret } = input;
  const read = readCredentials(object, secret);
  const token = read.ok ? read.credentials.token : input.lastToken;
  if (token === undefined)
    return { ok: true, message: `nothing to remove in Slack: ${read.ok ? '' : read.message}` };
  const insecure = insecureApiUrlProblem(object.spec.apiURL, input.allowInsecureApiURL);
  if (insecure !== undefined) return { ok: false, message: insecure };
  const client = clientSecretOf(object, secret);
  if (mode === 'UninstallApp' && !client.ok) return { ok: false, message: client.message };
  const app = input.createSlackAppClient({
    clientId: client.ok ? client.clientId : '',
    clientSecret: client.ok ? client.clientSecret : '',
    apiURL: object.spec.apiURL,
    timeoutMs: input.slackTimeoutMs,
  });
  try {
    if (mode === 'UninstallApp') await app.uninstall(token);
    else await app.revoke(token);
    return {
      ok: true,
      message:
        mode === 'UninstallApp'
          ? 'uninstalled the Slack app from the workspace (apps.uninstall)'
          : 'revoked the bot token (auth.revoke)',
    };
  } catch (error) {
    if (error instanceof AuthError)
      return { ok: true, message: `the token no longer works (${error.code}): nothing left to remove` };
    return { ok: false, message: describe(error) };
  }
}
