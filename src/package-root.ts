// Where jobherald's own files are (crds/, src/dev/…), whichever way it runs: from src/ on type stripping, from
// the bundle in dist/, or installed under node_modules/jobherald. A fixed `../../` relative to a module stops
// being true once modules are bundled into chunks, so this walks up to the folder that holds package.json and
// crds/ together.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'crds'))) return (root = dir);
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`jobherald: no package root (package.json and crds/) above ${import.meta.url}`);
    dir = parent;
  }
}

/** A path inside the package, e.g. packagePath('crds', 'x.yaml'). */
export const packagePath = (...segments: string[]): string => join(packageRoot(), ...segments);
