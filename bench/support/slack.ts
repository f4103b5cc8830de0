// The Slack emulator for the benchmarks, in its own process (as `jobherald slack-emulator`), so that the bench's
// own work (creating Jobs, watching them) never delays Slack's answers or its `postedAt` timestamps. The
// workspace is the default one plus the bench's channels, with the bot already a member of each (no joins).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectSlackEmulator,
  defaultWorkspace,
  type EmulatedMessage,
  type SlackEmulatorControl,
} from '../../src/dev/slack-emulator/index.ts';
import { RESULTS, ROOT } from './operator.ts';

export const BOT_TOKEN = 'xoxb-demo';

export interface BenchChannel {
  id: string;
  name: string;
}

/** `count` fan-out channels bench-000…, plus #bench-burst (P3) and #kubewatch (the peer). */
export function benchChannels(count: number): {
  fanOut: BenchChannel[];
  burst: BenchChannel;
  kubewatch: BenchChannel;
} {
  const fanOut = Array.from({ length: count }, (_, i) => ({
    id: `CBENCH${String(i).padStart(4, '0')}`,
    name: `bench-${String(i).padStart(3, '0')}`,
  }));
  return {
    fanOut,
    burst: { id: 'CBURST0001', name: 'bench-burst' },
    kubewatch: { id: 'CKUBEWATCH', name: 'kubewatch' },
  };
}

export interface EmulatorProcess {
  url: string;
  apiUrl: string;
  control: SlackEmulatorControl;
  pid: number;
  stop(): Promise<void>;
}

export async function startEmulator(channels: BenchChannel[]): Promise<EmulatorProcess> {
  const workspace = defaultWorkspace();
  for (const c of channels) {
    workspace.channels.push({ id: c.id, name: c.name, members: ['U0ALICE001', workspace.bot.userId] });
  }
  mkdirSync(RESULTS, { recursive: true }); // a fresh clone has no results yet
  const file = join(RESULTS, 'bench-workspace.json');
  writeFileSync(file, JSON.stringify(workspace, null, 2));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'src/main.ts'), 'slack-emulator', '--port', '0', '--workspace', file],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = / on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the Slack emulator exited with ${code}: ${out}`)));
  });
  child.stdout.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    apiUrl: `${url}/api/`,
    control: connectSlackEmulator(url),
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Slack's per-channel limit (~1 msg/s, burst 3) but no workspace-wide cap: channels are never paced by others. */
export const CHANNEL_LIMITS_ONLY = {
  postMessagePerWorkspace: { perMinute: 1_000_000, burst: 100_000 },
} as const;

/** Job names (matching `pattern`) each message mentions, in its text or attachments (digests list many). */
export function jobsIn(message: EmulatedMessage, pattern: RegExp): string[] {
  const text = JSON.stringify([message.text, message.attachments ?? null, message.blocks ?? null]);
  return [...new Set([...text.matchAll(pattern)].map((m) => m[1] ?? m[0]))];
}
