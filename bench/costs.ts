// What the delivery scenarios (P1–P4) cost the operator, beside what they deliver: CPU per 1,000 alerts (with
// kubewatch's CPU per 1,000 Jobs in its scenario), work-queue reconciles per alert, and the event-loop lag of the
// 1,000-Job bursts (P10, second half). The figures come from bench/support/scenario.ts; these are their rows.
// The lag is prom-client's nodejs_eventloop_lag_*: Node's monitorEventLoopDelay samples every 10 ms and records
// the whole interval, so an idle loop reads ~10 ms (p50), not 0.
import type { DeliveryFigures, KubewatchFigures } from './support/scenario.ts';
import { fmtMs, verdict, type Row } from './support/table.ts';

/** Reconciles per alert at most this: "≈ 0" (one reconcile per 20 alerts). */
const RECONCILES_PER_ALERT = 0.05;

export function costRows(
  scenarios: readonly DeliveryFigures[],
  kubewatch: KubewatchFigures | undefined,
  /** the counter at the operator's first start (it reconciled every rule then): proof that it counts */
  reconcilesAtStart?: number,
): Row[] {
  const rows: Row[] = [];
  const alerts = scenarios.reduce((n, s) => n + s.delivered, 0);
  const measured = scenarios.filter((s) => s.cpuSeconds !== undefined);
  if (alerts > 0 && measured.length > 0) {
    const cpu = measured.reduce((n, s) => n + (s.cpuSeconds ?? 0), 0);
    const per = (c: number, n: number) => ((c * 1000) / Math.max(1, n)).toFixed(2);
    const worst = measured.reduce((w, s) =>
      (s.cpuSeconds ?? 0) / Math.max(1, s.delivered) > (w.cpuSeconds ?? 0) / Math.max(1, w.delivered) ? s : w,
    );
    const kw =
      kubewatch?.cpuSeconds === undefined
        ? 'kubewatch —'
        : `kubewatch ${per(kubewatch.cpuSeconds, kubewatch.jobs)} CPU-s per 1,000 Jobs (${kubewatch.cpuSeconds.toFixed(1)} s over its ${kubewatch.jobs} Jobs, ${kubewatch.messages} messages)`;
    rows.push([
      'CPU per 1,000 alerts (delivery scenarios)',
      `jobherald ${per(cpu, alerts)} CPU-s per 1,000 alerts (${cpu.toFixed(1)} s over ${alerts} alerts; worst ${per(worst.cpuSeconds ?? 0, worst.delivered)} in "${worst.name}"); ${kw}`,
      '(for the record; peer)',
      '',
    ]);
  }
  const withReconciles = scenarios.filter((s) => s.reconciles !== undefined);
  if (alerts > 0) {
    if (withReconciles.length === 0) {
      rows.push([
        'Reconciles per alert',
        'not measured: the operator does not expose jobherald_reconciles_total',
        `≈ 0 (≤ ${RECONCILES_PER_ALERT})`,
        '',
      ]);
    } else {
      const byController: Record<string, number> = {};
      for (const s of withReconciles)
        for (const [c, n] of Object.entries(s.reconciles ?? {})) byController[c] = (byController[c] ?? 0) + n;
      const total = Object.values(byController).reduce((a, b) => a + b, 0);
      const delivered = withReconciles.reduce((n, s) => n + s.delivered, 0);
      const perScenario = withReconciles.map((s) => {
        const n = Object.values(s.reconciles ?? {}).reduce((a, b) => a + b, 0);
        return { name: s.name, per: n / Math.max(1, s.delivered) };
      });
      const worst = perScenario.reduce((w, s) => (s.per > w.per ? s : w));
      const each = Object.entries(byController)
        .sort()
        .map(([c, n]) => `${c} ${(n / Math.max(1, delivered)).toFixed(3)}`)
        .join(', ');
      rows.push([
        'Reconciles per alert (delivery scenarios)',
        `${(total / Math.max(1, delivered)).toFixed(3)} (${total} reconciles over ${delivered} alerts: ${each || 'none'}); worst ${worst.per.toFixed(3)} in "${worst.name}"; the counter read ${reconcilesAtStart ?? '—'} after the operator's first start`,
        `≈ 0 (≤ ${RECONCILES_PER_ALERT} in every scenario)`,
        verdict(worst.per <= RECONCILES_PER_ALERT),
      ]);
    }
  }
  return rows;
}

/** P10 for each burst (the paused scenarios): resume → every alert out and the operator quiet again. */
export function burstLagRows(scenarios: readonly DeliveryFigures[]): Row[] {
  const rows: Row[] = [];
  for (const s of scenarios) {
    const l = s.eventLoopLag;
    if (l === undefined) continue;
    rows.push([
      `P10 event-loop lag, burst: ${s.name}`,
      `p99 ${fmtMs(l.p99Ms)}, max ${fmtMs(l.maxMs)} (p50 ${fmtMs(l.p50Ms)}) over ${l.windowSeconds.toFixed(1)} s: resume → every alert out and the operator quiet${l.quiet ? '' : ' (did not go quiet)'}`,
      'p99 ≤ 100 ms',
      verdict(l.p99Ms <= 100),
    ]);
  }
  return rows;
}
