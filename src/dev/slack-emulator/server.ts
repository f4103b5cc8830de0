// The emulator's HTTP server: routes each request to the Web API, the control API, incoming webhooks,
// response_urls, the OAuth authorize page or the web view.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApiCall } from './api-route.ts';
import { handleControl } from './control-routes.ts';
import type { Emulator } from './emulator.ts';
import { sendText } from './http-util.ts';
import { handleResponseUrl } from './interactivity.ts';
import { handleAuthorize } from './oauth-authorize.ts';
import { handleWebView } from './web/web-view.ts';
import { handleWebhook } from './webhooks.ts';

export interface RunningServer {
  /** http://HOST:PORT */
  url: string;
  close(): Promise<void>;
}

export async function listen(emulator: Emulator, port: number, host: string): Promise<RunningServer> {
  let baseUrl = '';
  const deps = {
    state: () => emulator.state,
    faults: emulator.faults,
    rateLimiter: () => emulator.rateLimiter,
    behaviour: emulator.behaviour,
    counts: emulator.counts,
    baseUrl: () => baseUrl,
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    if (path.startsWith('/api/')) return handleApiCall(deps, req, res, url);
    if (path.startsWith('/_control/')) return handleControl(emulator, baseUrl, req, res, url);
    if (path.startsWith('/services/')) return handleWebhook(deps, req, res, url);
    if (path.startsWith('/actions/'))
      return handleResponseUrl(emulator.state, emulator.behaviour, req, res, url);
    if (path === '/oauth/v2/authorize') return handleAuthorize(emulator.state, req, res, url);
    if (handleWebView(emulator, req, res, url)) return;
    sendText(res, 404, 'not found');
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // Never echo the request: it may carry a token.
      process.stderr.write(`slack emulator: ${req.method} ${req.url?.split('?')[0]}: ${String(error)}\n`);
      if (!res.headersSent) sendText(res, 500, 'internal emulator error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    url: baseUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        emulator.state.wakeAll(); // release long-polls
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
