// kubewatch, the Go peer, measured on the same run. It is built once from the Go module proxy and cached under
// ~/.cache/jobherald/bin/.
//
// Which version: the proxy refuses to list kubewatch's versions (`@v/list` answers 403, so `@latest` cannot
// resolve), and the maintained fork (github.com/robusta-dev/kubewatch) declares `module
// github.com/bitnami-labs/kubewatch` in its go.mod, so none of its tags can be fetched under either path. The one
// version the proxy serves is github.com/bitnami-labs/kubewatch@v0.1.0 (July 2020). `go install …@v0.1.0`
// then fails too (it reads `@v/list` to check for deprecation), so the module is downloaded (`go mod download`)
// and built from its own go.mod (`go build`), which fetches every dependency at its pinned version.
//
// Pointing it at the emulator: kubewatch's Slack handler (v0.1.0, and the robusta-dev fork alike) calls
// `slack.New(token)` with no API-URL option, so it always posts to https://slack.com/api/. Its Go HTTP client
// honours HTTPS_PROXY and SSL_CERT_FILE, so the bench runs a small CONNECT proxy that terminates TLS for
// slack.com (with a throw-away CA that only kubewatch trusts) and forwards each Web API call to the emulator.
// Requests to the API server (127.0.0.1) are never proxied by Go.
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot } from '../../src/dev/cluster/paths.ts';
import { RESULTS } from './operator.ts';

const run = promisify(execFile);
export const KUBEWATCH_MODULE = 'github.com/bitnami-labs/kubewatch';
export const KUBEWATCH_VERSION = 'v0.1.0';

/** The kubewatch binary, built on first use; throws with the build's error output if it cannot be built. */
export async function ensureKubewatch(log: (line: string) => void): Promise<string> {
  const { stdout: goVersion } = await run('go', ['env', 'GOVERSION']);
  const dir = join(cacheRoot(), 'bin', `kubewatch-${KUBEWATCH_VERSION}_${goVersion.trim()}_linux-amd64`);
  const binary = join(dir, 'kubewatch');
  if (existsSync(binary)) return binary;
  log(`building kubewatch ${KUBEWATCH_VERSION} from the Go module proxy (once; ~2 min on 2 cores)`);
  const env = { ...process.env, GOFLAGS: '-mod=mod' };
  const { stdout } = await run(
    'go',
    ['mod', 'download', '-json', `${KUBEWATCH_MODULE}@${KUBEWATCH_VERSION}`],
    {
      env,
    },
  );
  const source = (JSON.parse(stdout) as { Dir: string }).Dir;
  const work = join(RESULTS, 'kubewatch-src');
  rmSync(work, { recursive: true, force: true });
  cpSync(source, work, { recursive: true });
  await run('chmod', ['-R', 'u+w', work]);
  mkdirSync(dir, { recursive: true });
  await run('go', ['build', '-o', binary, '.'], { cwd: work, env, maxBuffer: 16 << 20 });
  rmSync(work, { recursive: true, force: true });
  return binary;
}

/** A CA and a slack.com certificate it signed, made with openssl; kubewatch trusts only this CA. */
async function slackCertificate(): Promise<{ key: string; cert: string; caFile: string }> {
  const dir = join(RESULTS, 'kubewatch-tls');
  const caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'slack.key');
  const certFile = join(dir, 'slack.crt');
  if (!existsSync(certFile)) {
    mkdirSync(dir, { recursive: true });
    const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=jobherald bench CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    await ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=slack.com',
      '-keyout',
      'slack.key',
      '-out',
      'slack.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:slack.com,DNS:*.slack.com\n');
    await ssl(
      'x509',
      '-req',
      '-in',
      'slack.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      'san.ext',
      '-out',
      'slack.crt',
    );
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), caFile };
}

/**
 * slack-go (v0.6.5, kubewatch's) sends `"blocks":null` in every attachment. Slack accepts it (kubewatch posted
 * that way for years); the emulator answers invalid_blocks (it wants an array or nothing). The proxy drops the
 * null so that kubewatch's messages land as they would in Slack; nothing else is changed.
 */
function slackCompatible(body: Buffer, headers: Record<string, string>): Buffer {
  if (!(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return body;
  const form = new URLSearchParams(body.toString());
  const raw = form.get('attachments');
  if (raw === null) return body;
  try {
    const attachments = JSON.parse(raw) as Record<string, unknown>[];
    for (const a of attachments) if (a.blocks === null) delete a.blocks;
    form.set('attachments', JSON.stringify(attachments));
    return Buffer.from(form.toString());
  } catch {
    return body;
  }
}

export interface SlackProxy {
  /** http://127.0.0.1:PORT, for HTTPS_PROXY */
  url: string;
  caFile: string;
  /** Web API calls forwarded */
  forwarded(): number;
  close(): Promise<void>;
}

/** CONNECT slack.com:443 → TLS as slack.com → each request forwarded to the emulator's `/api/…`. */
export async function startSlackProxy(emulatorUrl: string): Promise<SlackProxy> {
  const { key, cert, caFile } = await slackCertificate();
  let forwarded = 0;
  const tls = createHttpsServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      forwarded++;
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'authorization']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const body = Buffer.concat(chunks);
      fetch(`${emulatorUrl}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers,
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: slackCompatible(body, headers) }),
      }).then(
        async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          const out: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? '' };
          const retryAfter = answer.headers.get('retry-after');
          if (retryAfter !== null) out['retry-after'] = retryAfter;
          res.writeHead(answer.status, out).end(body);
        },
        (error: unknown) => res.writeHead(502).end(String(error)),
      );
    });
  });
  const proxy: Server = createHttpServer((_req, res) => res.writeHead(405).end());
  const sockets = new Set<Socket>();
  proxy.on('connect', (req, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (!/^(.+\.)?slack\.com:443$/.test(req.url ?? '')) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    tls.emit('connection', socket);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    caFile,
    forwarded: () => forwarded,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

export interface KubewatchProcess {
  pid: number;
  /** ms from spawn to its "synced and ready" log line */
  waitSynced(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

let runs = 0;

/** kubewatch watching Jobs in every namespace, posting to `channel` through the proxy. */
export function startKubewatch(opts: {
  binary: string;
  kubeconfig: string;
  proxy: SlackProxy;
  token: string;
  channel: string;
}): KubewatchProcess {
  const home = join(RESULTS, 'kubewatch-home');
  mkdirSync(home, { recursive: true });
  // Only Jobs, in every namespace; the Slack handler is chosen because its channel and token are set.
  writeFileSync(
    join(home, '.kubewatch.yaml'),
    `handler:\n  slack:\n    channel: "${opts.channel}"\n    token: "${opts.token}"\nresource:\n  job: true\nnamespace: ""\n`,
    { mode: 0o600 },
  );
  const logDir = join(RESULTS, 'logs');
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `kubewatch-${process.pid}-${++runs}.log`));
  const startedAt = performance.now();
  const child = spawn(opts.binary, [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      KW_CONFIG: home,
      KUBECONFIG: opts.kubeconfig,
      HTTPS_PROXY: opts.proxy.url,
      NO_PROXY: '127.0.0.1,localhost',
      SSL_CERT_FILE: opts.proxy.caFile,
    },
  });
  let syncedAt: number | undefined;
  let tail = '';
  const onOutput = (chunk: Buffer): void => {
    log.write(chunk);
    // look before trimming: one chunk can be far longer than the tail kept (10,000 "Processing add" lines)
    const text = tail + chunk.toString();
    if (syncedAt === undefined && text.includes('synced and ready')) syncedAt = performance.now();
    tail = text.slice(-4000);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid ?? -1,
    async waitSynced(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (syncedAt === undefined) {
        if (child.exitCode !== null) throw new Error(`kubewatch exited ${child.exitCode}:\n${tail}`);
        if (Date.now() > deadline) throw new Error(`kubewatch did not sync within ${timeoutMs} ms:\n${tail}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return syncedAt - startedAt;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      log.end();
    },
  };
}
