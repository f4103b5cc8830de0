// `jobherald validate -f FILE…`: offline validation of SlackIntegrations and NotificationRules with the
// same schema and rules as the API server (src/api/validate.ts), for GitOps CI. Multi-document YAML or JSON;
// `-` reads stdin; a directory means its *.yaml, *.yml and *.json files (-R: recursively). Documents of other
// API groups (Secrets, Namespaces…) are skipped. Exit code 1 when any document is invalid.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { GROUP } from '../api/types.ts';
import { validateResource, type ValidationError } from '../api/validate.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const USAGE = `Usage: jobherald validate -f FILE [-f FILE…] [-R] [-q]

Validate SlackIntegration and NotificationRule manifests offline, with the CRDs' schema and rules.
  -f, --filename FILE   a YAML/JSON file (multi-document), a directory, or - for stdin; repeatable
  -R, --recursive       descend into sub-directories
  -q, --quiet           print only errors
`;

export interface Source {
  name: string;
  text: string;
}

/** The files named on the command line, with directories expanded; `-` is read from stdin. */
export async function readSources(paths: readonly string[], recursive: boolean, io: Io): Promise<Source[]> {
  const sources: Source[] = [];
  const visit = (path: string, top: boolean): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      if (!top && !recursive) return;
      for (const entry of readdirSync(path).sort()) visit(join(path, entry), false);
    } else if (top || /\.(ya?ml|json)$/.test(path)) {
      sources.push({ name: path, text: readFileSync(path, 'utf8') });
    }
  };
  for (const path of paths) {
    if (path === '-') sources.push({ name: '<stdin>', text: await io.readStdin() });
    else visit(path, true);
  }
  return sources;
}

/** The documents of a source; YAML is a superset of JSON, so one parser reads both. */
export function parseDocuments(source: Source): unknown[] {
  return yaml.loadAll(source.text, undefined, { filename: source.name });
}

export interface DocumentReport {
  source: string;
  /** 1-based index of the document in its file */
  index: number;
  /** `Kind namespace/name`, as far as the document says */
  title: string;
  errors: ValidationError[];
}

export interface Report {
  documents: DocumentReport[];
  /** documents of other API groups, and empty documents */
  skipped: number;
  /** files that are not valid YAML */
  unreadable: { source: string; message: string }[];
}

function titleOf(doc: unknown): string {
  const { kind, metadata } = (doc ?? {}) as {
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const name = typeof metadata?.name === 'string' ? metadata.name : '<no name>';
  const namespace = typeof metadata?.namespace === 'string' ? `${metadata.namespace}/` : '';
  return `${typeof kind === 'string' ? kind : '<no kind>'} ${namespace}${name}`;
}

function isJobherald(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null) return false;
  const { apiVersion } = doc as { apiVersion?: unknown };
  return typeof apiVersion === 'string' && (apiVersion === GROUP || apiVersion.startsWith(`${GROUP}/`));
}

/** Validate every jobherald document of every source. */
export function validateSources(sources: readonly Source[]): Report {
  const report: Report = { documents: [], skipped: 0, unreadable: [] };
  for (const source of sources) {
    let docs: unknown[];
    try {
      docs = parseDocuments(source);
    } catch (error) {
      report.unreadable.push({
        source: source.name,
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    docs.forEach((doc, i) => {
      const list = (doc as { kind?: unknown; items?: unknown } | null)?.kind;
      const items =
        typeof list === 'string' && list.endsWith('List') && Array.isArray((doc as { items?: unknown }).items)
          ? (doc as { items: unknown[] }).items
          : [doc];
      for (const item of items) {
        if (!isJobherald(item)) {
          report.skipped++;
          continue;
        }
        const result = validateResource(item);
        report.documents.push({
          source: source.name,
          index: i + 1,
          title: titleOf(item),
          errors: result.ok ? [] : result.errors,
        });
      }
    });
  }
  return report;
}

/** One line per error: `FILE#N Kind ns/name: path: message`. */
export function formatReport(report: Report, quiet: boolean): string {
  const lines: string[] = [];
  for (const { source, message } of report.unreadable) lines.push(`${source}: not valid YAML: ${message}`);
  for (const doc of report.documents) {
    const where = `${doc.source}#${doc.index} ${doc.title}`;
    if (doc.errors.length === 0) {
      if (!quiet) lines.push(`${where}: valid`);
      continue;
    }
    for (const e of doc.errors) lines.push(`${where}: ${e.path === '' ? '' : `${e.path}: `}${e.message}`);
  }
  const invalid = report.documents.filter((d) => d.errors.length > 0).length;
  if (!quiet || invalid > 0 || report.unreadable.length > 0) {
    lines.push(
      `${report.documents.length - invalid} valid, ${invalid} invalid, ${report.skipped} skipped (not ${GROUP})` +
        (report.unreadable.length > 0 ? `, ${report.unreadable.length} unreadable` : ''),
    );
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

export async function run(args: string[], io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        recursive: { type: 'boolean', short: 'R', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`jobherald validate: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(USAGE);
    return 0;
  }
  const paths = [...(parsed.values.filename ?? []), ...parsed.positionals];
  if (paths.length === 0) {
    io.err(`jobherald validate: no file given\n\n${USAGE}`);
    return 2;
  }
  let sources: Source[];
  try {
    sources = await readSources(paths, parsed.values.recursive, io);
  } catch (error) {
    io.err(`jobherald validate: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const report = validateSources(sources);
  io.out(formatReport(report, parsed.values.quiet));
  const failed = report.unreadable.length > 0 || report.documents.some((d) => d.errors.length > 0);
  return failed ? 1 : 0;
}
