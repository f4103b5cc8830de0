#!/usr/bin/env node
// The jobherald CLI: one sub-command per file under src/cli/, loaded on demand so that, say,
// `slack-emulator` never loads the Kubernetes client.
import { commands, usage } from './cli/commands.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`jobherald: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`jobherald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
