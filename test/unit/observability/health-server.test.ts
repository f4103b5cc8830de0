// The two listeners over real loopback HTTP: probes per check, /metrics from the registry, addresses, "0".
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, HealthServer } from '../../../src/observability/health-server.ts';
import { parseBindAddress, startHealthServer } from '../../../src/observability/health-server.ts';
import { Metrics } from '../../../src/observability/metrics.ts';

const TOKEN = 'xoxb-1234-5678-abcdefghijklmnop';
const LOOPBACK = '127.0.0.1:0';

let started: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.stop()));
  started = [];
});

async function start(options: Partial<Parameters<typeof startHealthServer>[0]> = {}): Promise<HealthServer> {
  const server = await startHealthServer({
    metricsAddress: LOOPBACK,
    probeAddress: LOOPBACK,
    metrics: new Metrics({ defaultMetrics: false }),
    checks: { healthz: () => [], readyz: () => [] },
    ...options,
  });
  started.push(server);
  return server;
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request on a fresh connection (no keep-alive pool to outlive the server). */
function get(port: number | undefined, path: string, method = 'GET'): Promise<Answer> {
  if (port === undefined) throw new Error('listener disabled');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('parseBindAddress', () => {
  it.each([
    [':8080', { host: undefined, port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['0.0.0.0:8081', { host: '0.0.0.0', port: 8081 }],
    ['localhost:9090', { host: 'localhost', port: 9090 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['[::]:8080', { host: '::', port: 8080 }],
  ])('parses %s', (address, expected) => {
    expect(parseBindAddress(address)).toEqual(expected);
  });

  it('treats "0" and "" as disabled', () => {
    expect(parseBindAddress('0')).toBeUndefined();
    expect(parseBindAddress('')).toBeUndefined();
  });

  it.each([
    ['8080', /expected host:port/],
    ['localhost', /expected host:port/],
    [':http', /port must be a number/],
    ['host:', /port must be a number/],
    [':70000', /at most 65535/],
    ['::1:8080', /must be in brackets/],
    ['[::1:8080', /unbalanced brackets/],
    ['[]:8080', /empty IPv6 host/],
    ['http://x:80', /invalid host/],
  ])('rejects %s', (address, message) => {
    expect(() => parseBindAddress(address)).toThrow(message);
  });
});

describe('startHealthServer: probes', () => {
  it('answers 200 "ok" when every check passes', async () => {
    const s = await start({
      checks: { healthz: () => [{ name: 'ping', ok: true }], readyz: () => [{ name: 'synced', ok: true }] },
    });
    for (const path of ['/healthz', '/readyz', '/healthz/', '/readyz/synced']) {
      const answer = await get(s.probePort, path);
      expect([path, answer.status, answer.body]).toEqual([path, 200, 'ok']);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    }
  });

  it('answers 503 with one line per failing check and its reason, and only those', async () => {
    let ready: CheckResult[] = [
      { name: 'informers-synced', ok: false, reason: 'jobs not synced yet' },
      { name: 'leader-election', ok: true },
      { name: 'slack-auth', ok: false, reason: 'invalid_auth' },
    ];
    const s = await start({ checks: { healthz: () => [], readyz: () => ready } });
    let answer = await get(s.probePort, '/readyz');
    expect(answer.status).toBe(503);
    expect(answer.body).toBe(
      '[-]informers-synced failed: jobs not synced yet\n[-]slack-auth failed: invalid_auth\nreadyz check failed\n',
    );
    expect((await get(s.probePort, '/healthz')).status).toBe(200);

    // the check is evaluated on every request
    ready = ready.map((c) => ({ ...c, ok: true }));
    answer = await get(s.probePort, '/readyz');
    expect([answer.status, answer.body]).toEqual([200, 'ok']);
  });

  it('lists every check with ?verbose', async () => {
    const s = await start({
      checks: {
        healthz: () => [
          { name: 'ping', ok: true },
          { name: 'event-loop', ok: true, reason: 'lag 3 ms' },
        ],
        readyz: () => [
          { name: 'informers-synced', ok: true },
          { name: 'slack-auth', ok: false, reason: 'token_revoked' },
        ],
      },
    });
    const health = await get(s.probePort, '/healthz?verbose');
    expect([health.status, health.body]).toEqual([
      200,
      '[+]ping ok\n[+]event-loop ok: lag 3 ms\nhealthz check passed\n',
    ]);
    const ready = await get(s.probePort, '/readyz?verbose=1');
    expect([ready.status, ready.body]).toEqual([
      503,
      '[+]informers-synced ok\n[-]slack-auth failed: token_revoked\nreadyz check failed\n',
    ]);
  });

  it('checks a single named check at /readyz/<name>, 404 for an unknown one', async () => {
    const s = await start({
      checks: {
        healthz: () => [],
        readyz: () => [
          { name: 'a', ok: true },
          { name: 'b', ok: false, reason: 'down' },
        ],
      },
    });
    expect((await get(s.probePort, '/readyz/a')).status).toBe(200);
    expect(await get(s.probePort, '/readyz/b')).toMatchObject({
      status: 503,
      body: '[-]b failed: down\nreadyz check failed\n',
    });
    expect(await get(s.probePort, '/readyz/c')).toMatchObject({
      status: 404,
      body: 'no readyz check named "c"\n',
    });
  });

  it('fails the probe when a check throws, and keeps a reason to one line', async () => {
    const s = await start({
      checks: {
        healthz: () => {
          throw new Error('state is corrupt');
        },
        readyz: () => [{ name: 'x', ok: false, reason: 'line one\n[+]forged ok' }],
      },
    });
    expect(await get(s.probePort, '/healthz')).toMatchObject({
      status: 503,
      body: '[-]healthz failed: check threw: state is corrupt\nhealthz check failed\n',
    });
    expect((await get(s.probePort, '/readyz')).body).toBe(
      '[-]x failed: line one [+]forged ok\nreadyz check failed\n',
    );
  });

  it('never shows a token in a reason', async () => {
    const s = await start({
      checks: {
        healthz: () => [],
        readyz: () => [{ name: 'slack-auth', ok: false, reason: `auth.test failed for ${TOKEN}` }],
      },
    });
    const answer = await get(s.probePort, '/readyz');
    expect(answer.status).toBe(503);
    expect(answer.body).toBe('[-]slack-auth failed: auth.test failed for xoxb-***\nreadyz check failed\n');
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    const s = await start();
    expect((await get(s.probePort, '/')).status).toBe(404);
    expect((await get(s.probePort, '/metrics')).status).toBe(404);
    expect((await get(s.probePort, '/healthzz')).status).toBe(404);
    const post = await get(s.probePort, '/healthz', 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    const head = await get(s.probePort, '/healthz', 'HEAD');
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', '2']);
  });
});

describe('startHealthServer: /metrics', () => {
  it('serves the registry in the Prometheus text format, on the metrics listener only', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setLeader(true);
    metrics.delivered('Failed', 0.7);
    const s = await start({ metrics });
    const answer = await get(s.metricsPort, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(metrics.contentType);
    expect(answer.body).toContain('# TYPE jobherald_deliveries_total counter');
    expect(answer.body).toMatch(/^jobherald_deliveries_total\{result="delivered",event="Failed"\} 1$/m);
    expect(answer.body).toMatch(/^jobherald_leader 1$/m);
    expect((await get(s.metricsPort, '/healthz')).status).toBe(404);
    expect(s.metricsPort).not.toBe(s.probePort);
  });

  it('answers 500 without details when collecting fails', async () => {
    const s = await start({
      metrics: { contentType: 'text/plain', scrape: () => Promise.reject(new Error(`boom ${TOKEN}`)) },
    });
    expect(await get(s.metricsPort, '/metrics')).toMatchObject({
      status: 500,
      body: 'collecting metrics failed\n',
    });
  });
});

describe('startHealthServer: addresses and lifecycle', () => {
  it('"0" disables a listener', async () => {
    const noMetrics = await start({ metricsAddress: '0', metrics: undefined });
    expect(noMetrics.metricsPort).toBeUndefined();
    expect((await get(noMetrics.probePort, '/healthz')).status).toBe(200);

    const noProbes = await start({ probeAddress: '0' });
    expect(noProbes.probePort).toBeUndefined();
    expect((await get(noProbes.metricsPort, '/metrics')).status).toBe(200);

    const none = await start({ metricsAddress: '0', probeAddress: '0' });
    expect([none.metricsPort, none.probePort]).toEqual([undefined, undefined]);
  });

  it('listens on all interfaces for ":port"', async () => {
    const s = await start({ metricsAddress: '0', probeAddress: ':0' });
    expect(s.probePort).toBeGreaterThan(0);
    expect((await get(s.probePort, '/healthz')).status).toBe(200);
  });

  it('stop() closes both listeners, even with a keep-alive connection open', async () => {
    const s = await startHealthServer({
      metricsAddress: LOOPBACK,
      probeAddress: LOOPBACK,
      metrics: new Metrics({ defaultMetrics: false }),
      checks: { healthz: () => [], readyz: () => [] },
    });
    const keptAlive = await fetch(`http://127.0.0.1:${s.probePort}/healthz`, { keepalive: true });
    expect(await keptAlive.text()).toBe('ok');
    await s.stop();
    await expect(get(s.probePort, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(get(s.metricsPort, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await s.stop(); // idempotent
  });

  it('rejects, naming the flag, when a port is taken, and leaves nothing listening', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      // the metrics listener binds first (on a port just found free), then the probe listener fails:
      // the metrics listener must be closed again
      const free = createServer();
      await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
      const metricsPort = (free.address() as AddressInfo).port;
      await new Promise<void>((resolve) => free.close(() => resolve()));
      await expect(
        startHealthServer({
          metricsAddress: `127.0.0.1:${metricsPort}`,
          probeAddress: `127.0.0.1:${taken}`,
          metrics: new Metrics({ defaultMetrics: false }),
          checks: { healthz: () => [], readyz: () => [] },
        }),
      ).rejects.toThrow(`--health-probe-bind-address: cannot listen on 127.0.0.1:${taken}`);
      await expect(get(metricsPort, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rejects an invalid address or a missing metrics source before listening', async () => {
    const checks = { healthz: () => [], readyz: () => [] };
    await expect(startHealthServer({ metricsAddress: '8080', probeAddress: '0', checks })).rejects.toThrow(
      'invalid bind address "8080"',
    );
    await expect(startHealthServer({ metricsAddress: LOOPBACK, probeAddress: '0', checks })).rejects.toThrow(
      /metrics is required/,
    );
  });
});
