// How many chat.postMessage calls per second the Slack emulator sustains, so that it is never the
// bottleneck of a benchmark. The emulator runs in its own process (as the CLI), rate limits off; the
// load comes from a raw keep-alive HTTP client and from the real WebClient, each posting a realistic
// Job alert (Block Kit inside a coloured attachment).
//
//   npx node bench/slack-emulator.ts [--requests N] [--concurrency C]
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import webApi from '@slack/web-api';
import { connectSlackEmulator } from '../src/dev/slack-emulator/index.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const CHANNELS = ['C0GENERAL1', 'C0ALERTS01'];

const alert = (i: number) => ({
  channel: CHANNELS[i % CHANNELS.length] ?? 'C0ALERTS01',
  text: `:x: *Failed* · data/nightly-etl-${i} (BackoffLimitExceeded) on prod-eu · cc <@U0ALICE001>`,
  unfurl_links: false,
  unfurl_media: false,
  attachments: [
    {
      color: '#e01e5a',
      fallback: `Failed: data/nightly-etl-${i}`,
      blocks: [
        {
          type: 'section',
          fields: [
            '*Job*\ndata/nightly-etl',
            '*Cluster*\nprod-eu',
            '*Outcome*\nFailed',
            '*Duration*\n4m 12s',
          ].map((text) => ({ type: 'mrkdwn', text })),
        },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '*Reason:* BackoffLimitExceeded\n```backoff limit```' },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `jobherald · Job UID \`${i}\`` }] },
      ],
    },
  ],
});

/** The SDK's wire format: a form with JSON-encoded objects. */
function formBody(args: Record<string, unknown>): string {
  return new URLSearchParams(
    Object.entries(args).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  ).toString();
}

async function startEmulatorProcess(): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    ['src/main.ts', 'slack-emulator', '--port', '0', '--rate-limits', 'off'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = / on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

interface Result {
  seconds: number;
  latencies: number[];
}

/** Runs `total` calls with `concurrency` in flight. */
async function load(total: number, concurrency: number, one: (i: number) => Promise<void>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await one(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

function report(name: string, total: number, { seconds, latencies }: Result): void {
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1);
  process.stdout.write(
    `${name.padEnd(34)} ${String(Math.round(total / seconds)).padStart(7)} req/s   p50 ${at(0.5)} ms   p99 ${at(0.99)} ms\n`,
  );
}

const emulator = await startEmulatorProcess();
try {
  const control = connectSlackEmulator(emulator.url);
  const apiUrl = `${emulator.url}/api/`;
  process.stdout.write(
    `chat.postMessage, ${REQUESTS} calls, ${CONCURRENCY} in flight, emulator in its own process\n`,
  );

  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const raw = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = formBody(alert(i));
      const req = request(
        `${apiUrl}chat.postMessage`,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: 'Bearer xoxb-demo',
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => (text.startsWith('{"ok":true') ? resolve() : reject(new Error(text))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const client = new webApi.WebClient('xoxb-demo', {
    slackApiUrl: apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    maxRequestConcurrency: CONCURRENCY,
    logLevel: webApi.LogLevel.ERROR,
  });
  for (const channel of CHANNELS) await client.conversations.join({ channel });

  await load(1000, CONCURRENCY, raw); // warm-up
  report('raw HTTP (node:http, keep-alive)', REQUESTS, await load(REQUESTS, CONCURRENCY, raw));
  report(
    '@slack/web-api WebClient',
    REQUESTS,
    await load(REQUESTS, CONCURRENCY, async (i) => {
      await client.chat.postMessage(alert(i));
    }),
  );
  const counts = (await control.requestCounts())['chat.postMessage'];
  process.stdout.write(
    `emulator counted ${counts?.ok ?? 0} chat.postMessage ok, ${counts?.errors ?? 0} errors\n`,
  );
  agent.destroy();
} finally {
  emulator.stop();
}
