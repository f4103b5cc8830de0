// The one way jobherald talks to the Kubernetes API: plain JSON over the same authenticated transport
// @kubernetes/client-node uses (its KubeConfig signs each request), without the generated clients'
// object (de)serialization, which would dominate CPU and memory when listing tens of thousands of Jobs.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch, type Response } from 'undici';
import { describe, JobheraldError, RetryableError } from '../errors.ts';

export type Query = Record<string, string | number | boolean | undefined>;

/** How long one connection pool serves before a new one is built (see KubeConnection.#agent). */
const AGENT_MAX_AGE_MS = 60 * 60_000;

/** A non-2xx answer from the API server, with its HTTP status and the Status reason. */
export class KubeApiError extends JobheraldError {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(reason === '' ? `http_${status}` : reason, message);
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.status === 410;

export interface KubeConnectionOptions {
  /** a kubeconfig file; default: in-cluster when running in a Pod, else $KUBECONFIG / ~/.kube/config */
  kubeconfig?: string;
  /** per-request timeout for non-watch calls */
  timeoutMs?: number;
}

export class KubeConnection {
  readonly config: KubeConfig;
  readonly server: string;
  readonly #timeoutMs: number;
  /** told of every request by verb (metrics count them for quality-bar P7) */
  onRequest: ((verb: 'get' | 'list' | 'watch' | 'write') => void) | undefined;
  /**
   * One connection pool for the API server. client-node builds a new undici Agent (with its own TLS
   * connections) on every request it authenticates; nothing closes them, so a LIST page, a status patch or a
   * Lease renewal each left a connection and its TLS buffers behind. The first agent it builds is kept and
   * used for every request (credentials that live in headers, like bearer tokens, are still applied per
   * request); it is replaced every AGENT_MAX_AGE_MS so that rotated client certificates are picked up.
   */
  #agent: { dispatcher: ReturnType<RequestContext['getDispatcher']>; at: number } | undefined;

  constructor(config: KubeConfig, timeoutMs = 30_000) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    this.config = config;
    this.server = cluster.server.replace(/\/$/, '');
    this.#timeoutMs = timeoutMs;
  }

  static load(opts: KubeConnectionOptions = {}): KubeConnection {
    const kc = new KubeConfig();
    if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
    else if (process.env.KUBERNETES_SERVICE_HOST !== undefined && process.env.KUBECONFIG === undefined)
      kc.loadFromCluster();
    else kc.loadFromDefault();
    return new KubeConnection(kc, opts.timeoutMs);
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Sends a request and returns the raw response (status not checked): for watches and streams. */
  async send(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const ctx = new RequestContext(this.url(path, opts.query), HttpMethod[method]);
    await this.config.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const isWatch = opts.query?.watch === true || opts.query?.watch === 'true';
    const verb =
      method !== 'GET'
        ? 'write'
        : isWatch
          ? 'watch'
          : opts.query?.limit !== undefined || isCollection(path)
            ? 'list'
            : 'get';
    this.onRequest?.(verb);
    return fetch(ctx.getUrl(), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dispatcher: this.#dispatcher(ctx),
      signal: opts.signal ?? (isWatch ? undefined : AbortSignal.timeout(this.#timeoutMs)),
    });
  }

  #dispatcher(ctx: RequestContext): ReturnType<RequestContext['getDispatcher']> {
    const now = Date.now();
    if (this.#agent === undefined || now - this.#agent.at > AGENT_MAX_AGE_MS) {
      this.#agent = { dispatcher: ctx.getDispatcher(), at: now };
    }
    return this.#agent.dispatcher;
  }

  /** A JSON request; throws KubeApiError on a non-2xx status and RetryableError on transport failure. */
  async json<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.send(method, path, opts);
    } catch (error) {
      throw new RetryableError('kube_unreachable', `${method} ${path}: ${describe(error)}`, { cause: error });
    }
    const text = await response.text();
    if (response.status >= 200 && response.status < 300) return (text === '' ? {} : JSON.parse(text)) as T;
    let reason = '';
    let message = text.slice(0, 500);
    try {
      const status = JSON.parse(text) as { reason?: string; message?: string };
      reason = status.reason ?? '';
      message = status.message ?? message;
    } catch {
      // not a Status object
    }
    throw new KubeApiError(response.status, reason, `${method} ${path}: ${response.status} ${message}`);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  /** JSON merge patch (RFC 7386): the right tool for status and metadata we own. */
  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PATCH', path, { body, contentType: 'application/merge-patch+json' });
  }
}

/** /api/v1/pods, /apis/g/v/namespaces/ns/jobs: a collection (odd segment count after the group/version). */
function isCollection(path: string): boolean {
  const segments = path.split('/').filter((s) => s !== '');
  const resource = segments[0] === 'api' ? segments.slice(2) : segments.slice(3);
  return resource.length % 2 === 1;
}
