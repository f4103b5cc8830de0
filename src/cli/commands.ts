// The table of sub-commands. Each module exports `run(args): Promise<number>` (the exit code).
import { setFlagsFromString } from 'node:v8';
export interface CommandModule {
  run(args: string[]): Promise<number>;
}

interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

/**
 * The controller is long-running and mostly idle: V8's `--optimize-for-size` keeps its heap near what is live
 * (a smaller young generation, earlier full collections) instead of growing it for throughput. Measured with
 * 10,000 Jobs: RSS 345 → 146 MiB, start → ready 2.2 → 2.8 s (docs/benchmarks.md, "Where the memory goes").
 * V8 reads this flag as the heap grows, so setting it before the controller's modules load is as good as
 * passing it on the command line — which an image's entrypoint, `npx jobherald` and NODE_OPTIONS (which
 * refuses it) could not all do.
 */
function tuneForLongRunning(): void {
  setFlagsFromString('--optimize-for-size');
}

export const commands: Record<string, Command> = {
  controller: {
    summary: 'run the operator (flags: jobherald controller --help)',
    load: () => {
      tuneForLongRunning();
      return import('./controller.ts');
    },
  },
  demo: {
    summary: 'everything on embedded defaults: a local cluster and Jobs that succeed, fail and are cancelled',
    load: () => import('./demo.ts'),
  },
  'dev-cluster': {
    summary: 'build|up|down|status|token: a local control plane built from the Go module proxy',
    load: () => import('./dev-cluster.ts'),
  },
  'install-url': {
    summary:
      'NAME [-n NS]: the one-time link that installs the Slack app for a SlackIntegration (spec.oauth)',
    load: () => import('./install-url.ts'),
  },
  'release-finalizers': {
    summary:
      '[--delete-admission-binding NAME] [--dry-run]: on uninstall, free Jobs from the delivery finalizer',
    load: () => import('./release-finalizers.ts'),
  },
  render: {
    summary: '--job JOB.yaml [--outcome Failed] [--rule RULE.yaml]: preview the Slack message for a Job',
    load: () => import('./render.ts'),
  },
  'slack-emulator': {
    summary: '[--port N] [--workspace FILE]: a local Slack Web API, failures included, with a web view',
    load: () => import('./slack-emulator.ts'),
  },
  'slack-manifest': {
    summary:
      '[--name NAME] [--leave-unused] [--token-rotation]: a Slack app manifest with exactly the scopes needed',
    load: () => import('./slack-manifest.ts'),
  },
  validate: {
    summary: '-f FILE…: validate SlackIntegrations and NotificationRules offline, as the API server does',
    load: () => import('./validate.ts'),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: jobherald <command> [options]\n\nCommands:\n${lines.join('\n')}\n`;
}
