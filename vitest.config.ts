import { defineConfig } from 'vitest/config';

// Two suites: `unit` needs nothing but Node (the Slack emulator runs in-process on loopback);
// `e2e` runs against one real local control plane per run (test/support/global-setup.ts).
// With JOBHERALD_TEST_REPORT=<dir> (set by .ci/run), each run also writes <dir>/<npm script>.json so CI
// can print one pass/fail summary over both suites.
const reportDir = process.env.JOBHERALD_TEST_REPORT;
const reportName = (process.env.npm_lifecycle_event ?? 'vitest').replace(/[^a-z0-9-]/gi, '-');

export default defineConfig({
  test: {
    reporters:
      reportDir === undefined
        ? ['default']
        : ['default', ['json', { outputFile: `${reportDir}/${reportName}.json` }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 15_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
