import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/validate.ts';
import { badResources, integration, rule } from '../../support/bad-resources.ts';
import { memoryIo } from './io.ts';

const EXAMPLES = new URL('../../../examples/', import.meta.url).pathname;

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobherald-validate-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('jobherald validate', () => {
  it('accepts the examples directory and skips Secrets, Namespaces and Jobs', async () => {
    const io = memoryIo();
    expect(await run(['-f', EXAMPLES], io)).toBe(0);
    expect(io.stdout()).toMatch(/^4 valid, 0 invalid, 3 skipped \(not jobherald.dev\)$/m);
    expect(io.stdout()).toContain('NotificationRule data/etl-failures: valid');
  });

  it('prints file, document index, object and path: message for every error, and exits 1', async () => {
    const docs = [integration(), rule({ destinations: [{}] }), rule({ events: [] }, 'second')];
    const file = tempFile('rules.yaml', docs.map((d) => yaml.dump(d)).join('---\n'));
    const io = memoryIo();
    expect(await run(['-f', file], io)).toBe(1);
    expect(io.stdout()).toContain(
      `${file}#2 NotificationRule data/etl-failures: spec.destinations[0]: exactly one of channel or user must be set`,
    );
    expect(io.stdout()).toContain(
      `${file}#3 NotificationRule data/second: spec.events: at least one event is required (Succeeded, Failed or Cancelled)`,
    );
    expect(io.stdout()).toContain('1 valid, 2 invalid, 0 skipped');
  });

  it('reports every deliberately bad document', async () => {
    const file = tempFile('bad.yaml', badResources.map((b) => yaml.dump(b.resource)).join('---\n'));
    const io = memoryIo();
    expect(await run(['-q', '-f', file], io)).toBe(1);
    expect(io.stdout()).toContain(`0 valid, ${badResources.length} invalid`);
    for (const bad of badResources) expect(io.stdout()).toContain(`${bad.path}: `);
  });

  it('reads stdin for -', async () => {
    const io = memoryIo(yaml.dump(rule()));
    expect(await run(['-f', '-'], io)).toBe(0);
    expect(io.stdout()).toContain('<stdin>#1 NotificationRule data/etl-failures: valid');
  });

  it('accepts JSON and List documents', async () => {
    const file = tempFile(
      'list.json',
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [rule(), integration({ apiURL: 'nope' })] }),
    );
    const io = memoryIo();
    expect(await run([file], io)).toBe(1);
    expect(io.stdout()).toContain('spec.apiURL: apiURL must be an absolute http:// or https:// URL');
  });

  it('descends into sub-directories only with -R', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobherald-validate-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'bad.yaml'), yaml.dump(rule({ events: [] })));
    writeFileSync(join(dir, 'notes.txt'), 'not yaml: [');
    expect(await run(['-f', dir], memoryIo())).toBe(0);
    expect(await run(['-R', '-f', dir], memoryIo())).toBe(1);
  });

  it('reports a file that is not YAML', async () => {
    const io = memoryIo();
    expect(await run(['-f', tempFile('broken.yaml', 'kind: [unclosed')], io)).toBe(1);
    expect(io.stdout()).toContain('not valid YAML');
  });

  it('exits 2 with usage on bad arguments or a missing file', async () => {
    const none = memoryIo();
    expect(await run([], none)).toBe(2);
    expect(none.stderr()).toContain('Usage: jobherald validate');
    expect(await run(['--bogus'], memoryIo())).toBe(2);
    const missing = memoryIo();
    expect(await run(['-f', '/nonexistent/x.yaml'], missing)).toBe(2);
    expect(missing.stderr()).toContain('/nonexistent/x.yaml');
  });
});
