// Two HTTP listeners, as controller-runtime has them:
//   --metrics-bind-address       (default ":8080")  GET /metrics   Prometheus text format
//   --health-probe-bind-address  (default ":8081")  GET /healthz, /readyz (and /healthz/<check>, /readyz/<check>)
// "0" (or "") disables a listener. Addresses are "host:port", ":port" (all interfaces) or "[::1]:port"; port 0
// takes a free port (the bound ports are exposed for tests).
//
// A probe answers 200 "ok" when every check passes, else 503 with one line per failing check
// ("[-]leader failed: reason"); `?verbose` lists every check. Reasons are redacted (src/slack/redact.ts).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redact } from '../slack/redact.ts';
import type { LogSink } from '../slack/logging.ts';
import type { MetricsSource } from './metrics.ts';

export const DEFAULT_METRICS_ADDRESS = ':8080';
export const DEFAULT_PROBE_ADDRESS = ':8081';

export interface CheckResult {
  /** short and stable: "informers-synced", "leader-election", "slack-auth" */
  name: string;
  ok: boolean;
  /** why it fails (or a detail when it passes); shown in the probe's body, redacted */
  reason?: string;
}

/** The result of all the checks of one probe (empty = nothing to check = healthy). */
export type HealthResult = readonly CheckResult[];

export interface HealthChecks {
  /** liveness: the process can make progress (a failing check gets the pod restarted) */
  healthz: () => HealthResult;
  /** readiness */
  readyz: () => HealthResult;
}

/** A parsed bind address: `undefined` host means all interfaces. */
export interface BindAddress {
  host: string | undefined;
  port: number;
}

/**
 * Parse a bind address the way controller-runtime's flags take it: "0" or "" → disabled (undefined);
 * ":8080" → all interfaces; "127.0.0.1:8080", "localhost:0", "[::1]:8080". Throws on anything else.
 */
export function parseBindAddress(address: string): BindAddress | undefined {
  const text = address.trim();
  if (text === '' || text === '0') return undefined;
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw invalid(address, 'expected host:port, :port or 0');
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') || host.endsWith(']')) {
    if (!(host.startsWith('[') && host.endsWith(']'))) throw invalid(address, 'unbalanced brackets');
    host = host.slice(1, -1);
    if (host === '') throw invalid(address, 'empty IPv6 host');
    if (!/^[0-9A-Fa-f:.]+(?:%[\w.-]+)?$/.test(host)) throw invalid(address, 'invalid IPv6 host');
  } else if (!/^[A-Za-z0-9.-]*$/.test(host)) {
    throw invalid(
      address,
      /^[0-9A-Fa-f:.]+$/.test(host) ? 'an IPv6 host must be in brackets, e.g. [::1]:8080' : 'invalid host',
    );
  }
  if (!/^\d{1,5}$/.test(portText)) throw invalid(address, 'the port must be a number');
  const port = Number(portText);
  if (port > 65_535) throw invalid(address, 'the port must be at most 65535');
  return { host: host === '' ? undefined : host, port };
}

function invalid(address: string, why: string): Error {
  return new Error(`invalid bind address "${address}": ${why}`);
}

export interface HealthServerOptions {
  /** --metrics-bind-address; "0" disables /metrics */
  metricsAddress: string;
  /** --health-probe-bind-address; "0" disables the probes */
  probeAddress: string;
  /** required unless metricsAddress is "0" */
  metrics?: MetricsSource;
  checks: HealthChecks;
  log?: LogSink;
}

export interface HealthServer {
  /** the bound port of the metrics listener, undefined when disabled */
  readonly metricsPort: number | undefined;
  /** the bound port of the probe listener, undefined when disabled */
  readonly probePort: number | undefined;
  /** close both listeners (open connections are closed too) */
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** Start the listeners; rejects (with nothing left listening) if an address is invalid or cannot be bound. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const metricsBind = parseBindAddress(options.metricsAddress);
  const probeBind = parseBindAddress(options.probeAddress);
  const { metrics, checks } = options;
  if (metricsBind && !metrics) throw new Error('startHealthServer: metrics is required to serve /metrics');

  const servers: Server[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map(close));
  };
  try {
    let metricsPort: number | undefined;
    let probePort: number | undefined;
    if (metricsBind && metrics) {
      const server = serve(
        (path) => (path === '/metrics' ? (_req, res) => serveMetrics(res, metrics, options.log) : undefined),
        options.log,
      );
      servers.push(server);
      metricsPort = await listen(server, metricsBind, '--metrics-bind-address');
    }
    if (probeBind) {
      const server = serve((path) => probeRoute(path, checks), options.log);
      servers.push(server);
      probePort = await listen(server, probeBind, '--health-probe-bind-address');
    }
    return { metricsPort, probePort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function probeRoute(path: string, checks: HealthChecks): Handler | undefined {
  const match = /^\/(healthz|readyz)(?:\/([^/]+))?\/?$/.exec(path);
  if (!match) return undefined;
  const probe = match[1] as keyof HealthChecks;
  const only = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  return (_req, res, url) => {
    let results: HealthResult;
    try {
      results = checks[probe]();
    } catch (err) {
      results = [
        {
          name: probe,
          ok: false,
          reason: `check threw: ${err instanceof Error ? err.message : String(err)}`,
        },
      ];
    }
    if (only !== undefined) {
      results = results.filter((r) => r.name === only);
      if (results.length === 0) return send(res, 404, `no ${probe} check named "${only}"\n`);
    }
    const verbose = url.searchParams.has('verbose');
    const failing = results.filter((r) => !r.ok);
    if (failing.length === 0 && !verbose) return send(res, 200, 'ok');
    const lines = (verbose ? results : failing).map((r) =>
      r.ok
        ? `[+]${r.name} ok${r.reason ? `: ${r.reason}` : ''}`
        : `[-]${r.name} failed${r.reason ? `: ${r.reason}` : ''}`,
    );
    lines.push(`${probe} check ${failing.length === 0 ? 'passed' : 'failed'}`);
    send(res, failing.length === 0 ? 200 : 503, `${lines.map(oneLine).join('\n')}\n`);
  };
}

async function serveMetrics(res: ServerResponse, metrics: MetricsSource, log?: LogSink): Promise<void> {
  try {
    const body = await metrics.scrape();
    send(res, 200, body, metrics.contentType);
  } catch (err) {
    log?.error({ err }, 'collecting metrics failed');
    send(res, 500, 'collecting metrics failed\n');
  }
}

function serve(route: (path: string) => Handler | undefined, log?: LogSink): Server {
  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, 400, 'bad request\n');
    }
    const handler = route(url.pathname);
    if (!handler) return send(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed\n');
    }
    Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
      log?.error({ err, path: url.pathname }, 'health server handler failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  // Everything that leaves goes through redact(): a check's reason or a metric can never carry a token.
  const text = redact(body);
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** A reason with a newline must not forge another check's line. */
function oneLine(line: string): string {
  return line.replace(/[\r\n]+/g, ' ');
}

function listen(server: Server, bind: BindAddress, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      const where = `${bind.host === undefined ? '' : bind.host.includes(':') ? `[${bind.host}]` : bind.host}:${bind.port}`;
      reject(new Error(`${flag}: cannot listen on ${where}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ port: bind.port, host: bind.host }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
