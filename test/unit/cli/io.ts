// Test helper: an in-memory Io for the CLI commands.
import type { Io } from '../../../src/cli/validate.ts';

export function memoryIo(stdin = ''): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    readStdin: () => Promise.resolve(stdin),
    stdout: () => out,
    stderr: () => err,
  };
}
