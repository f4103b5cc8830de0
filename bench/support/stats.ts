// Small statistics for the benchmarks: percentiles of samples, and Prometheus text parsed into series so that a
// scenario's figures are the difference between two scrapes (counters, histogram buckets).

/** The q-quantile (0..1) of the samples, nearest-rank; undefined for no samples. */
export function percentile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export const median = (samples: readonly number[]): number | undefined => percentile(samples, 0.5);

/** Series of one scrape: `name{a="x",b="y"}` → value (labels sorted). */
export type Scrape = Map<string, number>;

export function parseMetrics(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[4] === undefined) continue;
    const labels = [...(match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map((m) => `${m[1]}="${m[2]}"`)
      .sort()
      .join(',');
    out.set(labels === '' ? match[1] : `${match[1]}{${labels}}`, Number(match[4]));
  }
  return out;
}

/** A counter's value (0 when absent); `labels` like `verb="get"`. */
export function value(scrape: Scrape, name: string, labels?: string): number {
  return scrape.get(labels === undefined ? name : `${name}{${labels}}`) ?? 0;
}

/** Sum over every series of the metric (all label values). */
export function sum(scrape: Scrape, name: string): number {
  let total = 0;
  for (const [key, v] of scrape) if (key === name || key.startsWith(`${name}{`)) total += v;
  return total;
}

export function delta(before: Scrape, after: Scrape, name: string, labels?: string): number {
  return value(after, name, labels) - value(before, name, labels);
}

/** Cumulative bucket counts of a histogram without other labels, as the increase between two scrapes. */
export function histogramDelta(before: Scrape, after: Scrape, name: string): { le: number; count: number }[] {
  const buckets: { le: number; count: number }[] = [];
  for (const [key, v] of after) {
    const m = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(key);
    if (!m?.[1]) continue;
    buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: v - (before.get(key) ?? 0) });
  }
  return buckets.sort((a, b) => a.le - b.le);
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the q-th observation. */
export function histogramQuantile(buckets: { le: number; count: number }[], q: number): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe; // above the last finite bound: report that bound
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/**
 * prom-client's event-loop lag (perf_hooks monitorEventLoopDelay, 10 ms resolution) as one scrape reports it. The
 * histogram is reset at every scrape, so these figures cover the time since the previous scrape: scrape once
 * right before a phase (and discard it), once right after, and nothing in between.
 */
export interface EventLoopLag {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function eventLoopLag(scrape: Scrape): EventLoopLag | undefined {
  const s = (name: string) => scrape.get(`nodejs_eventloop_lag_${name}_seconds`);
  const p50 = s('p50');
  const p99 = s('p99');
  const max = s('max');
  if (p50 === undefined || p99 === undefined || max === undefined) return undefined;
  return { p50Ms: p50 * 1000, p99Ms: p99 * 1000, maxMs: max * 1000 };
}

/** A counter's increase between two scrapes, per value of one label (e.g. controller="…"). */
export function deltaByLabel(
  before: Scrape,
  after: Scrape,
  name: string,
  label: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`(?:^|,)${label}="([^"]*)"`);
  for (const [key, v] of after) {
    if (!key.startsWith(`${name}{`)) continue;
    const which = re.exec(key.slice(name.length + 1, -1))?.[1];
    if (which === undefined) continue;
    out[which] = (out[which] ?? 0) + v - (before.get(key) ?? 0);
  }
  return out;
}
