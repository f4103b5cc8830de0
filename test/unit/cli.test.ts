import { describe, expect, it } from 'vitest';
import { commands, usage } from '../../src/cli/commands.ts';

describe('cli', () => {
  it('lists every command in the usage text', () => {
    for (const name of Object.keys(commands)) expect(usage()).toContain(name);
  });
});
