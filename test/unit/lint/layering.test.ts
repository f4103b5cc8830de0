// The layering rules in eslint.config.js must bite: a probe importing across a boundary is an error at the
// place it is written. (They once silently did not: a later config entry for the same rule replaced an
// earlier one. This test keeps that from coming back.)
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
// The probes are not files of the TypeScript project: lint them without type information (the import
// restrictions need none).
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});

async function restricted(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${ROOT}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering', () => {
  it.each([
    ['src/delivery/probe.ts', "import '../reconcilers/rule-runtime.ts';", /pipeline-ports/],
    ['src/delivery/probe.ts', "import '../kube/job-writer.ts';", /pipeline-ports/],
    ['src/delivery/probe.ts', "import '@kubernetes/client-node';", /only src\/kube/],
    ['src/reconcilers/probe.ts', "import '../kube/status-writer.ts';", /sinks/],
    ['src/reconcilers/probe.ts', "import '../slack/client.ts';", /composition root/],
    ['src/operator/probe.ts', "import '../slack/client.ts';", /composition root/],
    ['src/operator/probe.ts', "import '@slack/web-api';", /only src\/slack/],
    ['src/domain/probe.ts', "import 'node:fs';", /pure/],
    ['src/domain/probe.ts', "import '../delivery/pipeline.ts';", /pure/],
  ])('%s may not %s', async (file, source, message) => {
    expect(await restricted(file, source)).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ['src/cli/probe.ts', "import '../slack/client.ts';"],
    ['src/kube/probe.ts', "import '@kubernetes/client-node';"],
    ['src/kube/probe.ts', "import '../delivery/pipeline-ports.ts';"],
    ['src/delivery/probe.ts', "import '../domain/outcome.ts';"],
  ])('%s may %s', async (file, source) => {
    expect(await restricted(file, source)).toEqual([]);
  });
});
