// Injected faults: what tests use to make the emulator fail the way Slack and networks do, per method
// and per channel, for a number of calls or for a while.
import type { Clock } from './clock.ts';

export type FaultAction =
  /** HTTP 200 `{ok:false, error}`, plus any extra fields (e.g. `needed`). */
  | { kind: 'error'; error: string; extra?: Record<string, unknown> }
  /** HTTP 429 with `Retry-After: retryAfter` and `{ok:false, error:"ratelimited"}`. */
  | { kind: 'ratelimit'; retryAfter: number }
  /** Any other HTTP status, e.g. 500 or 503, with an optional body. */
  | { kind: 'http'; status: number; body?: string }
  /** Answers normally after a delay (combines with the other kinds). */
  | { kind: 'latency'; ms: number }
  /** Closes the connection without answering. */
  | { kind: 'drop' };

export interface FaultRule {
  /** A Web API method (`chat.postMessage`), `webhook`, or `*` / absent for every method. */
  method?: string;
  /** Only calls whose `channel` argument is this ID or name (`alerts`, `#alerts`). */
  channel?: string;
  action: FaultAction;
  /** Applies to this many matching calls, then goes away. */
  count?: number;
  /** Applies for this long from injection. */
  durationMs?: number;
}

interface ActiveFault {
  id: string;
  rule: FaultRule;
  remaining: number;
  expiresAt: number;
}

export interface FaultDecision {
  latencyMs: number;
  /** The first matching non-latency fault, if any. */
  action?: Exclude<FaultAction, { kind: 'latency' }>;
}

export class Faults {
  private readonly clock: Clock;
  private active: ActiveFault[] = [];
  private nextId = 1;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  inject(rule: FaultRule): string {
    const id = `fault-${this.nextId++}`;
    this.active.push({
      id,
      rule,
      remaining: rule.count ?? Infinity,
      expiresAt: rule.durationMs === undefined ? Infinity : this.clock.now() + rule.durationMs,
    });
    return id;
  }

  remove(id: string): boolean {
    const before = this.active.length;
    this.active = this.active.filter((f) => f.id !== id);
    return this.active.length < before;
  }

  clear(): void {
    this.active = [];
  }

  list(): { id: string; rule: FaultRule; remaining: number | null }[] {
    return this.active.map((f) => ({
      id: f.id,
      rule: f.rule,
      remaining: Number.isFinite(f.remaining) ? f.remaining : null,
    }));
  }

  /** Consumes one use of each fault matching this call. `channels` are the names the call's channel goes by. */
  decide(method: string, channels: readonly string[]): FaultDecision {
    if (this.active.length === 0) return { latencyMs: 0 };
    const now = this.clock.now();
    const decision: FaultDecision = { latencyMs: 0 };
    for (const fault of this.active) {
      if (fault.expiresAt <= now || fault.remaining <= 0) continue;
      const { rule } = fault;
      if (rule.method !== undefined && rule.method !== '*' && rule.method !== method) continue;
      if (rule.channel !== undefined && !channels.includes(rule.channel.replace(/^#/, ''))) continue;
      if (rule.action.kind === 'latency') {
        decision.latencyMs += rule.action.ms;
        fault.remaining -= 1;
      } else if (decision.action === undefined) {
        decision.action = rule.action;
        fault.remaining -= 1;
      }
    }
    this.active = this.active.filter((f) => f.remaining > 0 && f.expiresAt > now);
    return decision;
  }
}
