// /_control/: the emulator's own HTTP API for tests, the demo and the web view (docs/slack-emulator.md).
// JSON in, JSON out; 400 with {error} for requests that cannot be done.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './api-request.ts';
import { ControlError, type Emulator } from './emulator.ts';
import type { FaultRule } from './faults.ts';
import { sendJson } from './http-util.ts';
import type { RateLimitOption } from './rate-limits.ts';

type Json = Record<string, unknown>;

const MAX_WAIT_MS = 30_000;

function str(body: Json, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '')
    throw new ControlError(`"${name}" must be a non-empty string`);
  return value;
}

function bool(body: Json, name: string): boolean {
  const value = body[name];
  if (typeof value !== 'boolean') throw new ControlError(`"${name}" must be true or false`);
  return value;
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const text = (await readBody(req)).toString('utf8');
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ControlError('the body must be a JSON object');
  return parsed as Json;
}

export async function handleControl(
  emulator: Emulator,
  baseUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname.slice('/_control'.length)}`;
  const query = url.searchParams;
  try {
    const body = req.method === 'POST' || req.method === 'PUT' ? await readJson(req) : {};
    const result = await dispatch(emulator, baseUrl, route, query, body);
    if (result === undefined) sendJson(res, 404, { error: `no control endpoint ${route}` });
    else sendJson(res, 200, result);
  } catch (error) {
    if (error instanceof ControlError || error instanceof SyntaxError)
      sendJson(res, 400, { error: error.message });
    else throw error;
  }
}

async function dispatch(
  emulator: Emulator,
  baseUrl: string,
  route: string,
  query: URLSearchParams,
  body: Json,
): Promise<unknown> {
  switch (route) {
    case 'GET /messages': {
      // Long-poll: with `after`, wait (up to waitMs) until the state changes past that version.
      const after = query.get('after');
      if (after !== null) {
        const waitMs = Math.min(Number(query.get('waitMs') ?? 10_000), MAX_WAIT_MS);
        await emulator.state.waitForChange(Number(after), waitMs);
      }
      const channel = query.get('channel') ?? undefined;
      return { version: emulator.state.version, messages: emulator.messages(channel) };
    }
    case 'GET /version': {
      const after = Number(query.get('after') ?? -1);
      const waitMs = Math.min(Number(query.get('waitMs') ?? 0), MAX_WAIT_MS);
      return { version: await emulator.state.waitForChange(after, waitMs) };
    }
    case 'POST /reset':
      emulator.reset();
      return {};
    case 'POST /membership':
      emulator.setMembership(
        str(body, 'channel'),
        bool(body, 'member'),
        typeof body.user === 'string' ? body.user : undefined,
      );
      return {};
    case 'POST /archive':
      emulator.setArchived(str(body, 'channel'), bool(body, 'archived'));
      return {};
    case 'POST /tokens':
      emulator.addToken({
        token: str(body, 'token'),
        type: body.type === 'user' ? 'user' : 'bot',
        scopes: Array.isArray(body.scopes) ? body.scopes.map(String) : [],
        ...(typeof body.userId === 'string' ? { userId: body.userId } : {}),
      });
      return {};
    case 'POST /tokens/revoke': {
      const error = body.error ?? 'token_revoked';
      if (error !== 'token_revoked' && error !== 'invalid_auth' && error !== 'account_inactive')
        throw new ControlError('"error" must be token_revoked, invalid_auth or account_inactive');
      emulator.revokeToken(str(body, 'token'), error);
      return {};
    }
    case 'POST /clock': {
      const advanceMs = body.advanceMs;
      if (typeof advanceMs !== 'number' || !Number.isFinite(advanceMs) || advanceMs < 0)
        throw new ControlError('"advanceMs" must be a number of milliseconds, 0 or more');
      return { offsetMs: emulator.advanceClock(advanceMs), now: emulator.clock.now() };
    }
    case 'POST /token-rotation':
      emulator.setTokenRotation(bool(body, 'enabled'));
      return {};
    case 'POST /uninstall':
      emulator.uninstall();
      return {};
    case 'GET /faults':
      return { faults: emulator.faults.list() };
    case 'POST /faults':
      return { id: emulator.injectFault(checkFault(body)) };
    case 'DELETE /faults':
      emulator.faults.clear();
      return {};
    case 'GET /requests':
      return { counts: emulator.requestCounts() };
    case 'DELETE /requests':
      emulator.counts.reset();
      return {};
    case 'POST /rate-limits':
      emulator.setRateLimits(checkRateLimits(body.rateLimits));
      return {};
    case 'POST /request-url':
      emulator.setRequestUrl(typeof body.url === 'string' ? body.url : undefined);
      return {};
    case 'POST /click':
      try {
        return await emulator.click(baseUrl, {
          channel: str(body, 'channel'),
          ts: str(body, 'ts'),
          actionId: str(body, 'actionId'),
          ...(typeof body.userId === 'string' ? { userId: body.userId } : {}),
        });
      } catch (error) {
        throw error instanceof Error && !(error instanceof ControlError)
          ? new ControlError(error.message)
          : error;
      }
    case 'POST /oauth/code':
      return {
        code: emulator.oauthCode(
          Array.isArray(body.scopes) ? body.scopes.map(String) : [],
          Array.isArray(body.userScopes) ? body.userScopes.map(String) : [],
          typeof body.redirectUri === 'string' ? body.redirectUri : undefined,
        ),
      };
    case 'GET /workspace':
      return workspaceSummary(emulator);
    default: {
      const faultId = /^DELETE \/faults\/(.+)$/.exec(route)?.[1];
      if (faultId !== undefined) return { removed: emulator.faults.remove(decodeURIComponent(faultId)) };
      return undefined;
    }
  }
}

function checkRateLimits(value: unknown): RateLimitOption {
  if (value === 'slack' || value === 'off') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  throw new ControlError('"rateLimits" must be "slack", "off" or an object of changes');
}

const FAULT_KINDS = new Set(['error', 'ratelimit', 'http', 'latency', 'drop']);

function checkFault(body: Json): FaultRule {
  const action = body.action as Json | undefined;
  if (typeof action !== 'object' || action === null || !FAULT_KINDS.has(String(action.kind)))
    throw new ControlError('"action.kind" must be one of error, ratelimit, http, latency, drop');
  if (action.kind === 'error' && typeof action.error !== 'string')
    throw new ControlError('"action.error" is required');
  if (action.kind === 'ratelimit' && !Number.isInteger(action.retryAfter))
    throw new ControlError('"action.retryAfter" must be an integer (seconds)');
  if (action.kind === 'http' && !Number.isInteger(action.status))
    throw new ControlError('"action.status" is required');
  if (action.kind === 'latency' && typeof action.ms !== 'number')
    throw new ControlError('"action.ms" is required');
  return body as unknown as FaultRule;
}

/** What the web view and tests need to know about the workspace (no tokens). */
function workspaceSummary(emulator: Emulator): Json {
  const { state } = emulator;
  return {
    version: state.version,
    team: state.workspace.team,
    bot: state.workspace.bot,
    users: [...state.users.values()].map((u) => ({ id: u.id, name: u.name, realName: u.realName })),
    userGroups: state.userGroups.map((g) => ({ id: g.id, handle: g.handle, name: g.name })),
    channels: state.channelOrder.map((c) => ({
      id: c.id,
      name: c.isIm ? `@${state.users.get(c.imUser ?? '')?.name ?? c.imUser ?? ''}` : c.name,
      private: c.isPrivate,
      archived: c.isArchived,
      im: c.isIm,
      members: [...c.members],
      botIsMember: c.members.has(state.workspace.bot.userId),
      messageCount: c.messages.length,
    })),
    requestUrl: state.requestUrl ?? null,
  };
}
