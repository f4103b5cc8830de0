// Go tools the unit tests run (promtool, actionlint), each built once from the Go module proxy by its
// deploy/build-<tool>.sh and cached under ~/.cache/jobherald/bin, located the way helmBinary() locates Helm:
// $JOBHERALD_<TOOL> if set, else the cached build (built if missing). A tool that cannot be built throws, so
// the tests that need it fail instead of being skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A cold build of promtool took 18 minutes on 2 cores shared with other builds; a hook that may build needs this. */
export const GO_TOOL_BUILD_TIMEOUT_MS = 30 * 60_000;

export type GoTool = 'promtool' | 'actionlint';

/** each tool's binary, or why it could not be had (kept, so that a failed build is not retried by every test) */
const located = new Map<GoTool, { binary: string } | { error: unknown }>();

function locate(tool: GoTool): string {
  const fromEnv = process.env[`JOBHERALD_${tool.toUpperCase()}`];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const dir = execFileSync(join(ROOT, `deploy/build-${tool}.sh`), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: GO_TOOL_BUILD_TIMEOUT_MS,
  }).trim();
  return join(dir, tool);
}

/**
 * The tool's binary: $JOBHERALD_PROMTOOL / $JOBHERALD_ACTIONLINT, else deploy/build-<tool>.sh's cached build
 * (built if missing). Throws why it cannot be had, every time it is asked, without building again.
 */
export function goToolBinary(tool: GoTool): string {
  let entry = located.get(tool);
  if (entry === undefined) {
    try {
      entry = { binary: locate(tool) };
    } catch (error) {
      entry = { error };
    }
    located.set(tool, entry);
  }
  if ('error' in entry) throw entry.error;
  return entry.binary;
}

/**
 * Builds (or finds) the tool now, for a beforeAll hook with GO_TOOL_BUILD_TIMEOUT_MS. It does not throw: a
 * throwing hook would only mark the tests skipped, so the failure is kept and each test that runs the tool
 * fails with it.
 */
export function prepareGoTool(tool: GoTool): void {
  try {
    goToolBinary(tool);
  } catch {
    // kept by goToolBinary, thrown by every runGoTool of this tool
  }
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the tool and returns its exit status and output, whatever the status (the tests assert on both). */
export function runGoTool(
  tool: GoTool,
  args: string[],
  options: { cwd?: string; input?: string } = {},
): ToolRun {
  const result = spawnSync(goToolBinary(tool), args, {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
