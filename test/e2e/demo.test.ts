// `jobherald demo` end to end (the README's quick start), against the e2e cluster so the run stays cheap:
// it must deliver each outcome and report where.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('jobherald demo', () => {
  it(
    'delivers a success, a failure and a cancellation and prints where they went',
    { timeout: 120_000 },
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['src/main.ts', 'demo', '--exit', `--kubeconfig=${inject('kubeconfig')}`, '--slack-port=0'],
        { cwd: ROOT, timeout: 110_000 },
      );
      const delivered = stdout.slice(stdout.indexOf('Delivered:'), stdout.indexOf('NotificationRules'));
      expect(delivered).toMatch(/#alerts .*Succeeded.*demo\/nightly-etl-/);
      expect(delivered).toMatch(/#alerts .*Failed.*demo\/report-build-.*BackoffLimitExceeded/);
      expect(delivered).toMatch(/#alerts .*Cancelled.*demo\/backfill-/);
      expect(delivered).toMatch(/@alice \(DM\) .*Failed.*demo\/report-build-/);
      expect(stdout).toMatch(/all-outcomes\s+Ready=True Reconciled\s+delivered=[1-9]\d*/); // totals add up across runs on one cluster
      expect(stdout).toMatch(/private-ops\s+Ready=False ChannelNotFound/);
      expect(stdout).toMatch(/web view: http:\/\/127\.0\.0\.1:\d+/);
    },
  );

  it(
    'installs the app by OAuth with --oauth: the link in the status, the emulator’s install page, the redirect',
    { timeout: 120_000 },
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          'src/main.ts',
          'demo',
          '--oauth',
          '--exit',
          `--kubeconfig=${inject('kubeconfig')}`,
          '--slack-port=0',
        ],
        { cwd: ROOT, timeout: 110_000 },
      );
      expect(stdout).toMatch(
        /Install the app by OAuth .*\n {2}http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/authorize\?client_id=/,
      );
      expect(stdout).toContain('followed it: jobherald is installed');
      expect(stdout).toContain('installed: SlackIntegration demo is Ready');
      expect(stdout.slice(stdout.indexOf('Delivered:'))).toMatch(/#alerts .*Failed.*demo\/report-build-/);
    },
  );
});
