// What the kernel says about a process, read from /proc (it costs the process nothing, unlike a /metrics scrape):
// CPU time (utime + stime), resident memory split into anonymous and file-backed pages, and a wait for a process
// to go quiet (used instead of polling the operator's /metrics where a scrape would disturb a figure).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { median } from './stats.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** USER_HZ: the unit of utime/stime in /proc/PID/stat (100 on every Linux we run on; asked once). */
const CLOCK_TICKS = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds the process has used (user + system, all its threads), or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]); // field 14
    const stime = Number(fields[12]); // field 15
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds used by each process while `during` runs (undefined for one that was gone at either end). */
export async function cpuDuring<T>(
  pids: Record<string, number>,
  during: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number | undefined> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const result = await during();
  const cpu: Record<string, number | undefined> = {};
  for (const [k, pid] of Object.entries(pids)) {
    const a = before[k];
    const b = cpuSeconds(pid);
    cpu[k] = a === undefined || b === undefined ? undefined : b - a;
  }
  return { result, cpu };
}

/** Resident memory from /proc/PID/smaps_rollup, bytes: Rss = anonymous + file-backed (shared memory included). */
export interface MemorySplit {
  rssBytes: number;
  anonBytes: number;
  fileBytes: number;
}

export function memorySplit(pid: number): MemorySplit | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    const rss = kb('Rss') * 1024;
    const anon = kb('Anonymous') * 1024;
    if (!Number.isFinite(rss) || !Number.isFinite(anon)) return undefined;
    return { rssBytes: rss, anonBytes: anon, fileBytes: rss - anon };
  } catch {
    return undefined;
  }
}

/** Each process' memory once a second for `seconds`; per process the sample with the median Rss. */
export async function sampleMemory(
  pids: Record<string, number>,
  seconds: number,
): Promise<Record<string, MemorySplit | undefined>> {
  const samples: Record<string, MemorySplit[]> = {};
  for (let s = 0; s < seconds; s++) {
    for (const [name, pid] of Object.entries(pids)) {
      const m = memorySplit(pid);
      if (m !== undefined) (samples[name] ??= []).push(m);
    }
    await sleep(1000);
  }
  const out: Record<string, MemorySplit | undefined> = {};
  for (const name of Object.keys(pids)) {
    const list = samples[name] ?? [];
    const mid = median(list.map((m) => m.rssBytes));
    out[name] = list.find((m) => m.rssBytes === mid);
  }
  return out;
}

/**
 * Resolves once the process has used less than `fraction` of a core in each of `windows` consecutive windows of
 * `windowMs` (it has caught up with whatever it was doing), or after `timeoutMs`; returns ms waited and whether
 * it went quiet.
 */
export async function waitQuiet(
  pid: number,
  opts: { windowMs?: number; fraction?: number; windows?: number; timeoutMs?: number } = {},
): Promise<{ ms: number; quiet: boolean }> {
  const windowMs = opts.windowMs ?? 500;
  const fraction = opts.fraction ?? 0.05;
  const windows = opts.windows ?? 2;
  const began = Date.now();
  const deadline = began + (opts.timeoutMs ?? 120_000);
  let calm = 0;
  let last = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await sleep(windowMs);
    const now = cpuSeconds(pid);
    if (now === undefined || last === undefined) return { ms: Date.now() - began, quiet: false };
    calm = now - last < (fraction * windowMs) / 1000 ? calm + 1 : 0;
    last = now;
    if (calm >= windows) return { ms: Date.now() - began, quiet: true };
  }
  return { ms: Date.now() - began, quiet: false };
}
