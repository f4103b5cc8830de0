// The operator's OAuth listener (--oauth-bind-address; off by default): GET /slack/oauth/callback, the redirect
// URL a Slack app's OAuth settings name. Every replica serves it (a Service routes the browser to any of them);
// what it writes — the token Secret, the integration's status.install.lastAttempt — is conditional or its own.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseBindAddress } from '../observability/health-server.ts';
import type { LogSink } from '../slack/logging.ts';
import { handleCallback, type CallbackDeps } from './callback.ts';
import { renderPage, type Page } from './pages.ts';

export const CALLBACK_PATH = '/slack/oauth/callback';

export interface OAuthServer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startOAuthServer(options: {
  address: string;
  deps: CallbackDeps;
  log: LogSink;
}): Promise<OAuthServer | undefined> {
  const bind = parseBindAddress(options.address);
  if (bind === undefined) return undefined;
  const send = (res: ServerResponse, page: Page) => {
    res.writeHead(page.status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer', // the code and state must not leak to other sites
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
    res.end(renderPage(page));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://oauth.invalid');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      send(res, {
        status: 404,
        title: 'Not found',
        paragraphs: [`jobherald serves only ${CALLBACK_PATH} here.`],
      });
      return;
    }
    handleCallback(url.searchParams, options.deps).then(
      (page) => {
        options.log.info({ status: page.status, result: page.title }, 'OAuth redirect');
        send(res, page);
      },
      (error: unknown) => {
        options.log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'OAuth redirect failed',
        );
        send(res, {
          status: 500,
          title: 'Something went wrong',
          paragraphs: ['The install could not be completed; see the operator’s log.'],
        });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
