// Raw HTTP calls to the emulator's Web API, for tests that look at what goes over the wire
// (status, headers, the exact body) rather than at what the SDK makes of it.
export interface RawResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer`; `null` sends no token. Default xoxb-demo. */
  token?: string | null;
  /** POST a JSON body instead of a form. */
  json?: boolean;
  /** GET with a query string instead of POST. */
  get?: boolean;
}

export async function call(
  apiUrl: string,
  method: string,
  params: Record<string, unknown> = {},
  options: CallOptions = {},
): Promise<RawResponse> {
  const token = options.token === undefined ? 'xoxb-demo' : options.token;
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const form = new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  );
  let response: Response;
  if (options.get === true) {
    response = await fetch(`${apiUrl}${method}?${form.toString()}`, { headers });
  } else if (options.json === true) {
    response = await fetch(`${apiUrl}${method}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(params),
    });
  } else {
    response = await fetch(`${apiUrl}${method}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, headers: response.headers, body };
}

/** A clock tests move by hand. */
export class ManualClock {
  private ms: number;
  constructor(start = Date.UTC(2026, 0, 15, 9, 30)) {
    this.ms = start;
  }
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
