// Every write to a NotificationRule as the bench's own watch sees it (one long WATCH of all of them; no
// polling): quality bar P7's "rule writes coalesced" is checked from outside the operator, per rule, rather
// than inferred from its request counters (which also count Lease renewals, Events and Job patches).
import { Watch } from '@kubernetes/client-node';
import type { Kube } from './kube.ts';
import { sleep } from './kube.ts';

interface RuleObject {
  metadata: { namespace?: string; name?: string; resourceVersion?: string };
}

/** The writes of one window, per rule: how many, and over how long (first → last). */
export interface RuleWriteFigures {
  /** rules written at least once */
  rules: number;
  writes: number;
  /** the rule written most often relative to its window: writes beyond one per `intervalMs` */
  worst?: { rule: string; writes: number; spanSeconds: number; allowed: number };
  /** true when every rule kept to one write per interval (plus the first) */
  coalesced: boolean;
}

export class RuleWriteLog {
  /** rule key → times (ms) of its MODIFIED events */
  readonly #times = new Map<string, number[]>();
  #rv = '';
  #abort: AbortController | undefined;
  #stopped = false;
  readonly #kube: Kube;

  constructor(kube: Kube) {
    this.#kube = kube;
  }

  async start(): Promise<this> {
    this.#abort = await new Watch(this.#kube.kc).watch(
      '/apis/jobherald.dev/v1alpha1/notificationrules',
      this.#rv ? { resourceVersion: this.#rv } : {},
      (type, object: RuleObject) => {
        if (type === 'ERROR') {
          this.#rv = ''; // expired: start over from now (a write in the gap is missed, not invented)
          return;
        }
        const rv = object.metadata.resourceVersion ?? '';
        if (type === 'MODIFIED' && rv !== this.#rv) {
          const key = `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
          const times = this.#times.get(key) ?? [];
          times.push(Date.now());
          this.#times.set(key, times);
        }
        this.#rv = rv || this.#rv;
      },
      () => {
        if (!this.#stopped) void sleep(200).then(() => (this.#stopped ? undefined : this.start()));
      },
    );
    return this;
  }

  /** A mark to measure from. */
  now(): number {
    return Date.now();
  }

  /**
   * The writes since `from`, judged against at most one write per `intervalMs` per rule: a rule whose writes
   * span S ms may have written at most floor(S / intervalMs) + 1 times.
   */
  since(from: number, intervalMs: number): RuleWriteFigures {
    let writes = 0;
    let rules = 0;
    let worst: RuleWriteFigures['worst'];
    let coalesced = true;
    for (const [rule, all] of this.#times) {
      const times = all.filter((t) => t >= from);
      if (times.length === 0) continue;
      rules++;
      writes += times.length;
      const span = times[times.length - 1]! - times[0]!;
      // 250 ms for the jitter between a write and the watch event that shows it
      const allowed = Math.floor((span + 250) / intervalMs) + 1;
      if (times.length > allowed) coalesced = false;
      const ratio = times.length / allowed;
      const worstRatio = worst === undefined ? -1 : worst.writes / worst.allowed;
      // the tightest rule; among equals, the one written most (the most telling to show)
      if (
        worst === undefined ||
        ratio > worstRatio ||
        (ratio === worstRatio && times.length > worst.writes)
      ) {
        worst = { rule, writes: times.length, spanSeconds: span / 1000, allowed };
      }
    }
    return { rules, writes, coalesced, ...(worst !== undefined ? { worst } : {}) };
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}
