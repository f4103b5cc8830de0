// `npm run build`: what ships — the CLI bundled by esbuild into dist/ (ADR 0011). One ESM entry (main.js) and
// a chunk per command, so `jobherald controller` loads only what the controller uses. Bundling is a memory
// decision: every module Node loads keeps its source text alive for lazy compilation, and
// @kubernetes/client-node's generated API alone is ~20 MiB of source; tree-shaken, most of it never loads.
// The bundle needs no node_modules at run time (what the container image relies on).
// `--outdir DIR` builds elsewhere (the bundle's own test builds into a folder of its own, so a test run never
// replaces the dist/ that e2e operators are running from).
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir =
  values.outdir !== undefined ? resolve(values.outdir) : new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  entryPoints: { main: new URL('../src/main.ts', import.meta.url).pathname },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node's built-ins; an ESM bundle has no require of its own.
  banner: {
    js: "import { createRequire as __jhRequire } from 'node:module'; const require = __jhRequire(import.meta.url);",
  },
  // playwright-core drives the browser in tests and `demo --browser`; it is a dev dependency, never bundled.
  external: ['playwright-core'],
});

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`${outdir}: ${(sizes / 1048576).toFixed(1)} MiB of JavaScript`);
