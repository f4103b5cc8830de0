// /api/<method>: one Web API call from start to finish, in the order Slack applies its checks:
// injected faults (the network and servers failing first), unknown method, content type, the token,
// the rate limit, then the method itself. HTTP 200 for answers and errors alike, 429 for rate limits
// (slack-behaviour.md §1.2, §2).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseApiRequest, readBody, stringParam, type ApiRequest } from './api-request.ts';
import type { Behaviour } from './behaviour.ts';
import type { Faults } from './faults.ts';
import { delay, sendJson, sendText } from './http-util.ts';
import { methods } from './methods/index.ts';
import type { MethodSpec } from './methods/method.ts';
import type { RateLimiter } from './rate-limits.ts';
import type { Outcome, RequestCounts } from './request-counts.ts';
import { SlackApiError, type MethodResult } from './slack-error.ts';
import type { TokenState, WorkspaceState } from './state.ts';

export interface ApiRouteDeps {
  state: () => WorkspaceState;
  faults: Faults;
  rateLimiter: () => RateLimiter;
  behaviour: Behaviour;
  counts: RequestCounts;
  baseUrl: () => string;
}

type Json = Record<string, unknown>;

export async function handleApiCall(
  deps: ApiRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const state = deps.state();
  const methodName = decodeURIComponent(url.pathname.slice('/api/'.length));
  const spec = methods.get(methodName);
  const request = await parseApiRequest(
    req,
    url.searchParams,
    await readBody(req),
    spec?.acceptsJson ?? false,
  );
  const record = (outcome: Outcome) => deps.counts.record(methodName, outcome);
  const channelRef = stringParam(request.params, 'channel');

  const fault = deps.faults.decide(methodName, state.channelAliases(channelRef));
  if (fault.latencyMs > 0) await delay(fault.latencyMs);
  switch (fault.action?.kind) {
    case 'drop':
      record('failed');
      req.socket.destroy();
      return;
    case 'http':
      record('failed');
      sendText(res, fault.action.status, fault.action.body ?? '');
      return;
    case 'ratelimit':
      record('rateLimited');
      sendJson(
        res,
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(fault.action.retryAfter) },
      );
      return;
    case 'error':
      record('errors');
      sendJson(res, 200, errorBody(new SlackApiError(fault.action.error, fault.action.extra), request));
      return;
    case undefined:
      break;
  }

  if (spec === undefined) {
    record('errors');
    sendJson(
      res,
      deps.behaviour.unknownMethodStatus,
      errorBody(new SlackApiError('unknown_method'), request),
    );
    return;
  }
  const headers: Record<string, string> = {};
  if (spec.acceptedScopes.length > 0) headers['x-accepted-oauth-scopes'] = spec.acceptedScopes.join(',');
  try {
    if (request.contentError !== undefined) throw new SlackApiError(request.contentError);
    const token = spec.needsToken ? authenticate(state, request) : undefined;
    if (token !== undefined) headers['x-oauth-scopes'] = [...token.scopes].join(',');

    const admission = deps
      .rateLimiter()
      .admit(methodName, spec.tier, rateLimitChannel(state, spec, channelRef));
    if (!admission.allowed) {
      record('rateLimited');
      if (deps.rateLimiter().style === 'error200' && methodName === 'chat.postMessage')
        sendJson(res, 200, errorBody(new SlackApiError('rate_limited'), request), headers);
      else
        sendJson(
          res,
          429,
          { ok: false, error: 'ratelimited' },
          {
            ...headers,
            'retry-after': String(admission.retryAfterSeconds),
          },
        );
      return;
    }

    const result = await spec.handle({
      state,
      params: request.params,
      request,
      behaviour: deps.behaviour,
      token,
      baseUrl: deps.baseUrl(),
    });
    const body = result.raw === true ? result.body : successBody(result, request);
    record(body.ok === true ? 'ok' : 'errors');
    sendJson(res, 200, body, headers);
  } catch (error) {
    if (!(error instanceof SlackApiError)) throw error;
    record('errors');
    sendJson(res, 200, errorBody(error, request), headers);
  }
}

/** The token from the header or the arguments, alive: or Slack's matching auth error. */
function authenticate(state: WorkspaceState, request: ApiRequest): TokenState {
  if (request.token === undefined) throw new SlackApiError('not_authed');
  const token = state.tokens.get(request.token);
  if (token === undefined) throw new SlackApiError('invalid_auth');
  if (token.dead !== undefined) throw new SlackApiError(token.dead);
  if (token.expiresAt !== undefined && state.clock.now() >= token.expiresAt)
    throw new SlackApiError('token_expired');
  return token;
}

// chat.postMessage is limited per channel: the conversation it goes to, a user's DM included.
function rateLimitChannel(
  state: WorkspaceState,
  spec: MethodSpec,
  ref: string | undefined,
): string | undefined {
  if (spec.name !== 'chat.postMessage' || ref === undefined) return undefined;
  if (/^[UW][A-Z0-9]+$/.test(ref)) return `D${ref.slice(1)}`;
  return state.channel(ref)?.id ?? ref;
}

function withWarnings(body: Json, warnings: string[], messages: string[]): Json {
  if (warnings.length === 0 && messages.length === 0) return body;
  const metadata = { ...(body.response_metadata as Json | undefined) };
  if (messages.length > 0)
    metadata.messages = [...((metadata.messages as string[] | undefined) ?? []), ...messages];
  if (warnings.length > 0) metadata.warnings = warnings;
  return {
    ...body,
    ...(warnings.length > 0 ? { warning: warnings.join(',') } : {}),
    response_metadata: metadata,
  };
}

function successBody(result: MethodResult, request: ApiRequest): Json {
  const warnings = [...request.warnings, ...(result.warnings ?? [])];
  return withWarnings({ ok: true, ...result.body }, warnings, result.messages ?? []);
}

function errorBody(error: SlackApiError, request: ApiRequest): Json {
  return withWarnings({ ok: false, error: error.error, ...error.extra }, request.warnings, []);
}
