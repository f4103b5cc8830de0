// The OAuth redirect: a person approved (or refused) the app on Slack's install page and Slack sends the
// browser back with ?code=…&state=… (or ?error=access_denied&state=…). In order: the state names an
// integration and was signed with its client secret; it has not expired and is its current link (each is
// accepted once); the code is exchanged with oauth.v2.access; the team is the one spec.workspace names; the
// scopes cover what jobherald uses. Only then is the token written into the Secret tokenSecretRef names —
// the integration's own reconcile takes it from there. Every outcome is a page for the person and a
// lastAttempt in the integration's status (with an Event), so a failure is visible in kubectl too.
import type { SlackIntegration } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { installScopes } from '../domain/scopes.ts';
import { JobheraldError, describe } from '../errors.ts';
import { SecretConflictError, type SecretStore } from '../reconcilers/sinks.ts';
import {
  clientSecretOf,
  DEFAULT_TOKEN_KEY,
  EXPIRES_AT_KEY,
  REFRESH_TOKEN_KEY,
  type CachedSecret,
} from '../reconcilers/token-credentials.ts';
import type { SlackAppClientFactory, TokenGrant } from '../slack/port.ts';
import { rfc3339 } from '../domain/time.ts';
import { INSTALLED_WITH_ANNOTATION, linkFromURL } from './link.ts';
import type { Page } from './pages.ts';
import { peekState, verifyState } from './state.ts';
import { insecureApiUrlProblem } from '../domain/api-url.ts';

/** Whether the Secret holds a token under the integration's key already. */
const hasToken = (secret: { data: Record<string, string> }, object: SlackIntegration): boolean =>
  (secret.data[object.spec.tokenSecretRef.key ?? DEFAULT_TOKEN_KEY] ?? '') !== '';

export type InstallAttempt = NonNullable<
  NonNullable<SlackIntegration['status']>['install']
>['lastAttempt'] & {};

export interface CallbackDeps {
  integration(namespace: string, name: string): SlackIntegration | undefined;
  secret(namespace: string, name: string): CachedSecret | undefined;
  secrets: SecretStore;
  createSlackAppClient: SlackAppClientFactory;
  /** the redirect URL Slack was given (it must match for the code exchange) */
  redirectURL: string;
  /** write status.install.lastAttempt and an Event; best effort */
  recordAttempt(object: SlackIntegration, attempt: InstallAttempt): Promise<void>;
  now(): number;
  slackTimeoutMs: number;
  /** --allow-insecure-slack-api-url: client credentials and tokens may cross plain http */
  allowInsecureApiURL: boolean;
}

const AGAIN =
  "Get a fresh install link with `jobherald install-url NAME -n NAMESPACE` (it is in the SlackIntegration's status.install.url) and try again.";

export async function handleCallback(query: URLSearchParams, deps: CallbackDeps): Promise<Page> {
  const rawState = query.get('state') ?? '';
  const claims = peekState(rawState);
  if (claims === undefined)
    return {
      status: 400,
      title: 'Not a jobherald install link',
      paragraphs: ['This address was not reached from an install link jobherald issued. ' + AGAIN],
    };
  const object = deps.integration(claims.namespace, claims.name);
  if (object === undefined || object.spec.oauth === undefined)
    return {
      status: 404,
      title: 'No such SlackIntegration',
      paragraphs: [
        `The link is for SlackIntegration ${claims.namespace}/${claims.name}, which does not exist or has no spec.oauth any more.`,
      ],
    };
  const secret = (name: string) => deps.secret(object.metadata.namespace, name);
  const client = clientSecretOf(object, secret);
  if (!client.ok)
    return { status: 500, title: 'The app’s client secret is missing', paragraphs: [client.message] };

  const fail = async (status: number, reason: string, title: string, message: string): Promise<Page> => {
    await deps.recordAttempt(object, {
      time: rfc3339(new Date(deps.now())),
      result: 'Failed',
      reason,
      message,
    });
    return { status, title, paragraphs: [message] };
  };
  if (!verifyState(rawState, client.clientSecret))
    return fail(
      400,
      Reasons.InstallLinkInvalid,
      'This install link is not valid',
      `The link's signature does not match SlackIntegration ${claims.namespace}/${claims.name}'s client secret (it was edited, or the client secret changed since). ${AGAIN}`,
    );
  if (query.get('error') === 'access_denied')
    return fail(
      200,
      Reasons.InstallDenied,
      'The install was cancelled',
      `Nothing was installed: the app was not approved on Slack's page. To install it, open the link again and choose Allow.`,
    );
  if (query.get('error') !== null)
    return fail(
      400,
      Reasons.InstallFailed,
      'Slack did not install the app',
      `Slack answered ${query.get('error')}. ${AGAIN}`,
    );
  if (claims.expiresAt <= deps.now())
    return fail(
      400,
      Reasons.InstallLinkExpired,
      'This install link has expired',
      `Install links last 24 hours. ${AGAIN}`,
    );
  const current = linkFromURL(object.status?.install?.url);
  const usedBy = secret(object.spec.tokenSecretRef.name)?.annotations?.[INSTALLED_WITH_ANNOTATION];
  if (current?.nonce !== claims.nonce || usedBy === claims.nonce)
    return fail(
      400,
      Reasons.InstallLinkUsed,
      'This install link was used already',
      `Each link installs once. ${AGAIN}`,
    );
  const code = query.get('code');
  if (code === null || code === '')
    return fail(
      400,
      Reasons.InstallCodeInvalid,
      'Slack sent no code',
      `The redirect carried no code. ${AGAIN}`,
    );

  const insecure = insecureApiUrlProblem(object.spec.apiURL, deps.allowInsecureApiURL);
  if (insecure !== undefined)
    return fail(400, Reasons.InsecureAPIURL, 'The integration’s apiURL is not safe', insecure);
  const app = deps.createSlackAppClient({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    apiURL: object.spec.apiURL,
    timeoutMs: deps.slackTimeoutMs,
  });
  let grant: TokenGrant;
  try {
    grant = await app.exchange(code, deps.redirectURL);
  } catch (error) {
    const slackCode = error instanceof JobheraldError ? error.code : 'unknown_error';
    if (slackCode === 'invalid_client_id' || slackCode === 'bad_client_secret')
      return fail(
        400,
        Reasons.OAuthClientInvalid,
        'Slack refused the app’s credentials',
        `Slack said ${slackCode}: check spec.oauth.clientID and the client secret in the Secret spec.oauth.clientSecretRef names, then try again.`,
      );
    if (slackCode === 'invalid_code' || slackCode === 'bad_redirect_uri' || slackCode === 'code_already_used')
      return fail(
        400,
        Reasons.InstallCodeInvalid,
        'Slack refused the install code',
        `Slack said ${slackCode}: the code was used or is for another redirect URL (it must be ${deps.redirectURL}, as in the app's OAuth settings). ${AGAIN}`,
      );
    return fail(
      502,
      Reasons.InstallFailed,
      'Slack could not be reached',
      `Exchanging the code failed: ${describe(error)}. ${AGAIN}`,
    );
  }
  const want = object.spec.workspace;
  const wrongTeam = want?.teamID !== undefined && want.teamID !== grant.teamId;
  const wrongOrg = want?.enterpriseID !== undefined && want.enterpriseID !== grant.enterpriseId;
  if (wrongTeam || wrongOrg) {
    // not revoked: for an app installed before, Slack hands back the token already in use there
    return fail(
      403,
      Reasons.WrongWorkspace,
      'This is not the workspace this integration is for',
      `The app was installed into ${wrongTeam ? `workspace ${grant.teamId}` : `organization ${grant.enterpriseId ?? '(none)'}`}, but SlackIntegration ${claims.namespace}/${claims.name} is for ${wrongTeam ? `workspace ${want.teamID}` : `organization ${want.enterpriseID}`} (spec.workspace). The token was not stored. Choose the right workspace on Slack's page and try again.`,
    );
  }
  const granted = new Set(grant.scopes);
  const missing = installScopes(object.spec.membership?.leaveUnused === true).filter((s) => !granted.has(s));
  if (missing.length > 0) {
    return fail(
      400,
      Reasons.MissingScope,
      'The app lacks scopes jobherald needs',
      `Slack granted ${grant.scopes.join(', ') || 'no scopes'} but not ${missing.join(', ')}. Add them to the app (OAuth & Permissions, or paste \`jobherald slack-manifest\`), then install again. The token was not stored.`,
    );
  }

  const values: Record<string, string> = {
    [object.spec.tokenSecretRef.key ?? DEFAULT_TOKEN_KEY]: grant.accessToken,
  };
  // empty values clear what an earlier (rotating) install left, so a plain token is never "refreshed"
  values[REFRESH_TOKEN_KEY] = grant.refreshToken ?? '';
  values[EXPIRES_AT_KEY] = '';
  if (grant.expiresInSeconds !== undefined)
    values[EXPIRES_AT_KEY] = rfc3339(new Date(deps.now() + grant.expiresInSeconds * 1000));
  const name = object.spec.tokenSecretRef.name;
  const annotations = {
    [INSTALLED_WITH_ANNOTATION]: claims.nonce,
    'jobherald.dev/installed-at': rfc3339(new Date(deps.now())),
  };
  try {
    for (let attempt = 0; ; attempt++) {
      const existing = await deps.secrets.read(object.metadata.namespace, name);
      // single use, checked on the Secret as it is now (the watch may lag behind a concurrent redirect)
      if (existing?.annotations[INSTALLED_WITH_ANNOTATION] === claims.nonce)
        return await fail(
          400,
          Reasons.InstallLinkUsed,
          'This install link was used already',
          `Each link installs once. ${AGAIN}`,
        );
      // The link sits in status, which more people read than may change the token: over a token that is
      // there already, only an install into the pinned workspace is taken.
      if (want?.teamID === undefined && existing !== undefined && hasToken(existing, object))
        return await fail(
          403,
          Reasons.WrongWorkspace,
          'Set spec.workspace to install over a working token',
          `Secret ${object.metadata.namespace}/${name} holds a token already, and SlackIntegration ${claims.namespace}/${claims.name} names no workspace: set spec.workspace.teamID to reinstall over it. The new token was not stored.`,
        );
      try {
        await deps.secrets.write({
          namespace: object.metadata.namespace,
          name,
          resourceVersion: existing?.resourceVersion,
          values,
          annotations,
        });
        break;
      } catch (error) {
        if (!(error instanceof SecretConflictError) || attempt > 0) throw error;
      }
    }
  } catch (error) {
    return fail(
      500,
      Reasons.InstallFailed,
      'The token could not be stored',
      `Slack installed the app, but writing Secret ${object.metadata.namespace}/${name} failed: ${describe(error)}. ${AGAIN}`,
    );
  }
  const team = grant.teamId === '' ? 'the workspace' : `workspace ${grant.teamId}`;
  const message = `Installed into ${team}; the token is in Secret ${object.metadata.namespace}/${name}.`;
  await deps.recordAttempt(object, {
    time: rfc3339(new Date(deps.now())),
    result: 'Installed',
    reason: Reasons.Installed,
    message,
  });
  return {
    status: 200,
    title: 'jobherald is installed',
    paragraphs: [
      message,
      `SlackIntegration ${claims.namespace}/${claims.name} becomes Ready in a few seconds: kubectl wait --for=condition=Ready slackintegration/${claims.name} -n ${claims.namespace}`,
    ],
  };
}
