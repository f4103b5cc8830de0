import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { chooseOutcome, run } from '../../../src/cli/render.ts';
import type { SlackMessage } from '../../../src/domain/message.ts';
import { toJobRecord } from '../../../src/kube/job-record.ts';
import { rule } from '../../support/bad-resources.ts';
import { memoryIo } from './io.ts';

const JOB = new URL('../../../examples/failed-job.yaml', import.meta.url).pathname;
const RULES = new URL('../../../examples/notification-rules.yaml', import.meta.url).pathname;

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'jobherald-render-')), name);
  writeFileSync(path, text);
  return path;
}

describe('jobherald render', () => {
  it('prints the payload as JSON on stdout and a preview on stderr', async () => {
    const io = memoryIo();
    expect(await run(['--job', JOB, '--cluster-name', 'prod-eu', '--rule', RULES], io)).toBe(0);
    const message = JSON.parse(io.stdout()) as SlackMessage;
    expect(message.text).toBe(
      ':x: *Failed* · data/nightly-etl-29373 (BackoffLimitExceeded) on prod-eu · cc @bob@example.com @data-oncall',
    );
    expect(message.attachments?.[0]?.['color']).toBe('#e01e5a');
    expect(io.stderr()).toContain('Duration: 7m 42s');
    expect(io.stderr()).toContain('[Logs] https://grafana.example.com/explore?job=data/nightly-etl-29373');
  });

  it('renders another outcome on request', async () => {
    const io = memoryIo();
    expect(await run(['--job', JOB, '--outcome', 'Cancelled'], io)).toBe(0);
    expect((JSON.parse(io.stdout()) as SlackMessage).text).toBe(
      ':no_entry_sign: *Cancelled* · data/nightly-etl-29373 (deleted before it finished)',
    );
  });

  it('refuses an unknown outcome, a running Job without --outcome, and an invalid rule', async () => {
    const bad = memoryIo();
    expect(await run(['--job', JOB, '--outcome', 'Exploded'], bad)).toBe(2);
    expect(bad.stderr()).toContain('--outcome must be one of Succeeded, Failed, Cancelled');

    const running = tempFile(
      'job.yaml',
      yaml.dump({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'r', namespace: 'd' },
        status: { active: 1 },
      }),
    );
    const io = memoryIo();
    expect(await run(['--job', running], io)).toBe(1);
    expect(io.stderr()).toContain('has not finished yet; pass --outcome');

    const badRule = tempFile('rule.yaml', yaml.dump(rule({ events: [] })));
    const ruleIo = memoryIo();
    expect(await run(['--job', JOB, '--rule', badRule], ruleIo)).toBe(1);
    expect(ruleIo.stderr()).toContain('spec.events: at least one event is required');
  });

  it('explains a file without a Job, and missing --job', async () => {
    const io = memoryIo();
    expect(await run(['--job', RULES], io)).toBe(1);
    expect(io.stderr()).toContain('no Job in it');
    expect(await run([], memoryIo())).toBe(2);
  });
});

describe('chooseOutcome', () => {
  const failedJob = toJobRecord(
    yaml.load(`
metadata: {name: j, namespace: d}
status:
  conditions:
    - {type: Failed, status: 'True', reason: DeadlineExceeded, message: too slow, lastTransitionTime: '2026-11-21T10:00:00Z'}
`) as never,
  );

  it("uses the Job's own outcome by default", () => {
    expect(chooseOutcome(failedJob, undefined, undefined, undefined, 'now')).toEqual({
      event: 'Failed',
      reason: 'DeadlineExceeded',
      message: 'too slow',
      at: '2026-11-21T10:00:00Z',
    });
  });

  it('takes overrides, and defaults a cancellation to Deleted', () => {
    expect(chooseOutcome(failedJob, 'Failed', 'PodFailurePolicy', 'x', 'now')).toMatchObject({
      reason: 'PodFailurePolicy',
      message: 'x',
    });
    expect(chooseOutcome(failedJob, 'Cancelled', undefined, undefined, 'now')).toEqual({
      event: 'Cancelled',
      reason: 'Deleted',
      cancellation: 'Deleted',
      at: 'now',
    });
    expect(chooseOutcome(failedJob, 'Cancelled', 'Suspended', undefined, 'now')?.cancellation).toBe(
      'Suspended',
    );
  });
});
