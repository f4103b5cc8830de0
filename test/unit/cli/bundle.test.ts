// The bundle `npm run build` ships (ADR 0011) runs on its own: it finds the CRDs it validates against from
// inside a chunk, and the controller's chunk loads without node_modules' layout mattering.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
let outdir: string;

const run = (...args: string[]) =>
  spawnSync(process.execPath, [join(outdir, 'main.js'), ...args], { cwd: '/', encoding: 'utf8' });

describe('the shipped bundle', () => {
  beforeAll(() => {
    // inside the repository, so that the package root (package.json + crds/) is above it as in dist/
    outdir = mkdtempSync(join(ROOT, '.jobherald-bundle-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.ts'), `--outdir=${outdir}`], {
      stdio: 'ignore',
    });
  }, 60_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('is one entry and a chunk per command, with source maps', () => {
    const files = readdirSync(outdir);
    expect(files).toContain('main.js');
    expect(files.some((f) => /^controller-.*\.js$/.test(f))).toBe(true);
    expect(files.filter((f) => f.endsWith('.js.map')).length).toBeGreaterThan(1);
  });

  it('validates the examples against the CRDs it finds from its chunk (exit 0), from any working directory', () => {
    const result = run('validate', '-f', join(ROOT, 'examples/notification-rules.yaml'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses an invalid rule with the CRD schema message (exit 1)', () => {
    const file = join(outdir, 'bad-rule.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: jobherald.dev/v1alpha1',
        'kind: NotificationRule',
        'metadata: { name: bad, namespace: team-a }',
        'spec:',
        '  integrationRef: { name: slack }',
        '  events: [Exploded]',
        '  destinations: [{ channel: "#alerts" }]',
      ].join('\n'),
    );
    const result = run('validate', '-f', file);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain('Exploded');
  });

  it('loads the controller command (its --help)', () => {
    const result = run('controller', '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--leader-elect');
  });
});
