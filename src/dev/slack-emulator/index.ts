// The Slack emulator's programmatic API (docs/slack-emulator.md):
//
//   const slack = await startSlackEmulator();              // free port, default workspace, Slack's rate limits
//   const client = new WebClient('xoxb-demo', { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true });
//   await slack.control.waitForMessages({ channel: 'alerts', count: 1 });
//   await slack.stop();
import type { Behaviour } from './behaviour.ts';
import type { Clock } from './clock.ts';
import { SlackEmulatorControl } from './control-client.ts';
import { defaultWorkspace } from './default-workspace.ts';
import { Emulator } from './emulator.ts';
import type { RateLimitOption } from './rate-limits.ts';
import { listen } from './server.ts';
import { loadWorkspaceFile, type Workspace } from './workspace.ts';

export interface SlackEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A workspace, or the path of a YAML/JSON fixture; the default workspace otherwise. */
  workspace?: Workspace | string;
  /** 'slack' (default), 'off', or changes such as `{ scale: 10 }` for fast tests. */
  rateLimits?: RateLimitOption;
  /** Time for timestamps, rate limits and expiry; tests pass one they advance by hand. */
  clock?: Clock;
  /** Answers to the open questions of slack-behaviour.md §11. */
  behaviour?: Partial<Behaviour>;
}

export interface SlackEmulator {
  /** http://127.0.0.1:PORT: the web view, and the base of every other URL. */
  url: string;
  /** `url + '/api/'`: pass it to WebClient as `slackApiUrl`. */
  apiUrl: string;
  control: SlackEmulatorControl;
  /** The in-process emulator, for what HTTP cannot reach (e.g. its clock-driven state). */
  emulator: Emulator;
  stop(): Promise<void>;
}

export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const workspace =
    typeof options.workspace === 'string'
      ? await loadWorkspaceFile(options.workspace)
      : (options.workspace ?? defaultWorkspace());
  const emulator = new Emulator({
    workspace,
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.behaviour === undefined ? {} : { behaviour: options.behaviour }),
  });
  const server = await listen(emulator, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url: server.url,
    apiUrl: `${server.url}/api/`,
    control: new SlackEmulatorControl(server.url),
    emulator,
    stop: () => server.close(),
  };
}

/** Control helpers for an emulator running elsewhere, e.g. started by `jobherald slack-emulator`. */
export function connectSlackEmulator(url: string): SlackEmulatorControl {
  return new SlackEmulatorControl(url);
}

export { defaultWorkspace } from './default-workspace.ts';
export { loadWorkspaceFile, parseWorkspace, type Workspace } from './workspace.ts';
export { SlackEmulatorControl, type WaitOptions, type WorkspaceSummary } from './control-client.ts';
export type { EmulatedMessage } from './emulator.ts';
export type { FaultAction, FaultRule } from './faults.ts';
export type { RateLimitOption } from './rate-limits.ts';
export type { MethodCounts } from './request-counts.ts';
export type { Behaviour } from './behaviour.ts';
export type { Clock } from './clock.ts';
export { slackSignature } from './interactivity.ts';
