// Reads a Web API call the way Slack does (slack-behaviour.md §1.1): arguments from the query string
// and the body (form, multipart, or JSON on write methods), the token from `Authorization: Bearer`
// or a `token` argument, and the content-type errors and charset warnings Slack gives.
import type { IncomingMessage } from 'node:http';

/** Argument values: strings from forms and queries, any JSON value from JSON bodies. */
export type Params = Record<string, unknown>;

export interface ApiRequest {
  params: Params;
  token?: string;
  /** `Authorization: Basic` credentials (oauth.v2.access's preferred way to send the client's). */
  basic?: { user: string; password: string };
  /** A content-type problem Slack reports instead of running the method. */
  contentError?: string;
  /** Charset warnings Slack adds to whatever the method answers. */
  warnings: string[];
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks);
}

/** Parses one call. `acceptsJson`: whether the method takes JSON bodies (Slack's write methods). */
export async function parseApiRequest(
  req: IncomingMessage,
  query: URLSearchParams,
  body: Buffer,
  acceptsJson: boolean,
): Promise<ApiRequest> {
  const params: Params = Object.fromEntries(query);
  const warnings: string[] = [];
  const request: ApiRequest = { params, warnings };
  const authorization = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)/i.exec(authorization)?.[1];
  const basic = /^Basic\s+(\S+)/i.exec(authorization)?.[1];
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) request.basic = { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  if (body.length > 0) {
    const contentType = req.headers['content-type'];
    const problem = await readBodyParams(contentType, body, params, warnings, acceptsJson);
    if (problem === 'json-token-in-body') {
      // JSON bodies are only honoured with a Bearer token (Slack's "Keeping up with the JSONs").
      delete params.token;
    } else if (problem !== undefined) {
      request.contentError = problem;
    }
  }
  const paramToken = typeof params.token === 'string' && params.token !== '' ? params.token : undefined;
  const token = bearer ?? paramToken;
  if (token !== undefined) request.token = token;
  return request;
}

async function readBodyParams(
  contentType: string | undefined,
  body: Buffer,
  params: Params,
  warnings: string[],
  acceptsJson: boolean,
): Promise<string | undefined> {
  if (contentType === undefined || contentType.trim() === '') return 'missing_post_type';
  const [mediaType = '', ...attributes] = contentType.split(';').map((part) => part.trim());
  const charset = attributes
    .map((a) => /^charset=(.*)$/i.exec(a)?.[1])
    .find((c) => c !== undefined)
    ?.replace(/"/g, '')
    .toLowerCase();
  if (charset !== undefined && !['utf-8', 'utf8', 'iso-8859-1'].includes(charset)) return 'invalid_charset';

  switch (mediaType.toLowerCase()) {
    case 'application/x-www-form-urlencoded': {
      if (charset !== undefined) warnings.push('superfluous_charset');
      const text = body.toString('utf8');
      if (/^\s*[[{]/.test(text)) return 'invalid_form_data'; // JSON sent as a form
      for (const [key, value] of new URLSearchParams(text)) params[key] = value;
      return undefined;
    }
    case 'multipart/form-data': {
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } })
        .formData()
        .catch(() => undefined);
      if (form === undefined) return 'invalid_form_data';
      for (const [key, value] of form) if (typeof value === 'string') params[key] = value;
      return undefined;
    }
    case 'application/json': {
      if (charset === undefined) warnings.push('missing_charset');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return 'invalid_json';
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'json_not_object';
      // Read methods ignore JSON bodies: their arguments are then simply absent.
      if (acceptsJson) Object.assign(params, parsed);
      return 'token' in parsed ? 'json-token-in-body' : undefined;
    }
    default:
      return 'invalid_post_type';
  }
}

/** A string argument; numbers and booleans from JSON bodies count too. */
export function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Slack's booleans: `true`/`1` (forms send the SDK's booleans as "true"/"false"). */
export function booleanParam(params: Params, name: string): boolean {
  const value = params[name];
  return value === true || value === 1 || value === 'true' || value === '1';
}

/** What jsonParam returns for a string that is not JSON. */
export const NOT_JSON = Symbol('not JSON');

/** A JSON argument (blocks, attachments, metadata): a JSON string in forms, a value in JSON bodies. */
export function jsonParam(params: Params, name: string): unknown {
  const value = params[name];
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return NOT_JSON;
  }
}
