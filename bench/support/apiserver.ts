// The bench's own plain HTTP(S) client for the API server (keep-alive, bounded sockets, no client library in the
// way: creating 50,000 Jobs through client-node costs a TLS handshake per request), and the API server's own
// request counts: `apiserver_request_total` from its /metrics, so a figure counts every client's requests as
// the server saw them, not what one client says it sent.
import { Agent, request, type RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ApiResponse {
  status: number;
  body: string;
}

export class ApiClient {
  readonly server: string;
  readonly #agent: Agent;
  readonly #headers: Record<string, string>;

  private constructor(server: string, agent: Agent, headers: Record<string, string>) {
    this.server = server;
    this.#agent = agent;
    this.#headers = headers;
  }

  /** A client with the kubeconfig's credentials (the bench's cluster admin) and at most `sockets` open. */
  static async connect(kube: { kc: KubeConfig }, sockets = 32): Promise<ApiClient> {
    const options: RequestOptions = {};
    await kube.kc.applyToHTTPSOptions(options);
    const server = kube.kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the kubeconfig has no current cluster');
    const agent = new Agent({
      keepAlive: true,
      maxSockets: sockets,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
    });
    return new ApiClient(server, agent, { ...(options.headers as Record<string, string> | undefined) });
  }

  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 60_000,
  ): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...this.#headers, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = request(`${this.server}${path}`, { method, agent: this.#agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * The request, retried on transport errors, 429 and 5xx (up to `attempts`); `ok` says which statuses are an
   * answer (default 2xx). Throws with the last answer otherwise.
   */
  async retrying(
    method: string,
    path: string,
    body?: unknown,
    opts: { contentType?: string; ok?: (status: number) => boolean; attempts?: number } = {},
  ): Promise<ApiResponse> {
    const ok = opts.ok ?? ((s: number) => s >= 200 && s < 300);
    const attempts = opts.attempts ?? 6;
    let last: ApiResponse | Error = new Error('not sent');
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await this.request(method, path, body, opts.contentType);
        if (ok(res.status)) return res;
        last = res;
        if (res.status !== 429 && res.status < 500) break;
      } catch (error) {
        last = error as Error;
      }
      await sleep(200 * attempt);
    }
    const detail = last instanceof Error ? last.message : `HTTP ${last.status}: ${last.body.slice(0, 500)}`;
    throw new Error(`${method} ${path}: ${detail}`);
  }

  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return JSON.parse((await this.retrying(method, path, body, { contentType })).body) as T;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * `apiserver_request_total` summed over response codes, keyed `VERB resource[/subresource]` (non-resource
 * requests: `VERB /path`); `byCode` keeps `VERB resource[/subresource] code`. WATCH requests are counted by the
 * API server when they end, so a watch still open is not in it.
 */
export interface ApiRequestCounts {
  byRequest: Map<string, number>;
  byCode: Map<string, number>;
}

export async function apiserverRequests(api: ApiClient): Promise<ApiRequestCounts> {
  const res = await api.retrying('GET', '/metrics');
  const byRequest = new Map<string, number>();
  const byCode = new Map<string, number>();
  for (const line of res.body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string | undefined> = Object.fromEntries(
      [...line.slice(24, close).matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
    );
    const count = Number(line.slice(close + 1).trim());
    const resource =
      (labels.resource ?? '') === ''
        ? (labels.subresource ?? '')
        : `${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    const key = `${labels.verb ?? ''} ${resource}`;
    byRequest.set(key, (byRequest.get(key) ?? 0) + count);
    const codeKey = `${key} ${labels.code ?? ''}`;
    byCode.set(codeKey, (byCode.get(codeKey) ?? 0) + count);
  }
  return { byRequest, byCode };
}

/** after − before, only the entries that changed. */
export function requestDelta(before: ApiRequestCounts, after: ApiRequestCounts): ApiRequestCounts {
  const diff = (a: Map<string, number>, b: Map<string, number>) => {
    const out = new Map<string, number>();
    for (const [k, v] of b) {
      const d = v - (a.get(k) ?? 0);
      if (d !== 0) out.set(k, d);
    }
    return out;
  };
  return { byRequest: diff(before.byRequest, after.byRequest), byCode: diff(before.byCode, after.byCode) };
}

export const countOf = (counts: ApiRequestCounts, key: string): number => counts.byRequest.get(key) ?? 0;

/** Writes (POST, PUT, PATCH, DELETE, DELETECOLLECTION) to one resource[/subresource]. */
export function writesTo(counts: ApiRequestCounts, resource: string): number {
  let n = 0;
  for (const verb of ['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION'])
    n += countOf(counts, `${verb} ${resource}`);
  return n;
}
