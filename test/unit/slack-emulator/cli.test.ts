// `jobherald slack-emulator`: the printed default workspace is a valid --workspace file; bad options fail clearly.
import { afterEach, describe, expect, it, vi } from 'vitest';
import yaml from 'js-yaml';
import { run } from '../../../src/cli/slack-emulator.ts';
import { defaultWorkspace, parseWorkspace } from '../../../src/dev/slack-emulator/index.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function captureStdout(): () => string {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return () => chunks.join('');
}

describe('jobherald slack-emulator', () => {
  it('--print-workspace prints the default workspace as YAML that loads back the same', async () => {
    const output = captureStdout();
    expect(await run(['--print-workspace'])).toBe(0);
    expect(parseWorkspace(yaml.load(output()))).toEqual(defaultWorkspace());
  });

  it('--help documents the options', async () => {
    const output = captureStdout();
    expect(await run(['--help'])).toBe(0);
    for (const option of ['--port', '--workspace', '--rate-limits', '--print-workspace'])
      expect(output()).toContain(option);
  });

  it('refuses bad options', async () => {
    await expect(run(['--port', 'eighty'])).rejects.toThrow('--port: not a port number: eighty');
    await expect(run(['--rate-limits', 'fast'])).rejects.toThrow(
      '--rate-limits: expected slack, off or a positive number',
    );
    await expect(run(['--nope'])).rejects.toThrow(/Unknown option '--nope'/);
  });
});
