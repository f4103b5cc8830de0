// The delivery ledger of one NotificationRule: which (Job UID, event, destination) deliveries are done, below
// which time everything is done (`floor`), and which running Jobs must be alerted as Cancelled if they vanish
// while the operator is down (`armed`). Pure and clock-free: every time is passed in. Persistence is the
// Kubernetes layer's: it stores serialize()'s output in the rule's `status.ledger` and feeds it back to
// parse() on start. Design, format and guarantees: docs/adr/*-delivery-ledger.md.
import { createHash } from 'node:crypto';
import type { Destination, EventType } from '../api/types.ts';
import { rfc3339 } from '../domain/time.ts';

export const LEDGER_VERSION = 1;
/** Watch lag tolerated between the Job controller writing a condition and us seeing it. */
export const DEFAULT_FLOOR_MARGIN_MS = 2 * 60_000;
export const DEFAULT_MAX_ARMED = 5_000;
/** Beyond this many `sent` entries the floor is forced forward (see advanceFloor). */
export const DEFAULT_MAX_SENT = 10_000;

/** One delivery: what a rule sent about a Job's outcome to one destination. */
export interface DeliveryKey {
  jobUID: string;
  event: EventType;
  /** a canonical destination reference, see destinationRef() */
  destination: string;
}

/** A running Job that a rule wanting Cancelled watches. */
export interface ArmedJob {
  uid: string;
  /** "namespace/name" */
  job: string;
  cronJob?: string;
  /** the Job has ttlSecondsAfterFinished: if it vanished it may have finished and been cleaned up */
  ttl: boolean;
}

/** What lands in `status.ledger` (compact strings; format in the ADR). */
export interface LedgerJSON {
  v: typeof LEDGER_VERSION;
  /** RFC3339, whole seconds: every outcome with at < floor is handled */
  floor: string;
  /** "<jobUID> <S|F|C> <destination id> <ceil(at) in epoch seconds, base 36>" */
  sent: string[];
  /** "<jobUID> <namespace>/<name> <cronJob or -> <1 if ttlSecondsAfterFinished else 0>" */
  armed: string[];
  /** Jobs that could not be armed because `armed` was full (reported, never silently) */
  armedOverflow?: number;
}

export interface LedgerLimits {
  maxArmed: number;
  maxSent: number;
}

export interface FloorAdvance {
  moved: boolean;
  /** sent entries dropped because the floor passed them */
  pruned: number;
  /** true when `sent` was over its cap and the floor was pushed past pending deliveries */
  forced: boolean;
}

const EVENT_CODE: Record<EventType, string> = { Succeeded: 'S', Failed: 'F', Cancelled: 'C' };
const CODE_EVENT: Record<string, EventType> = { S: 'Succeeded', F: 'Failed', C: 'Cancelled' };

/**
 * The canonical reference of a rule destination, the input of the ledger key. Channel names lose their `#` and
 * case (Slack names are lowercase), IDs keep theirs, emails are lowercased: `#Data-Alerts` and `data-alerts`
 * are the same destination. Renaming a destination from a name to an ID makes it a new destination.
 */
export function destinationRef(destination: Destination): string {
  if (destination.user !== undefined) return `user:${destination.user.trim().toLowerCase()}`;
  const channel = (destination.channel ?? '').trim().replace(/^#/, '');
  return `channel:${/^[CGD][A-Z0-9]{6,}$/.test(channel) ? channel : channel.toLowerCase()}`;
}

/** Short stable id of a destination reference: 8 base64url characters of its SHA-256 (48 bits). */
export function destinationId(ref: string): string {
  return createHash('sha256').update(ref).digest('base64url').slice(0, 8);
}

const keyString = (key: DeliveryKey): string =>
  `${key.jobUID} ${EVENT_CODE[key.event]} ${destinationId(key.destination)}`;

function parseTime(rfc3339: string): number {
  return Date.parse(rfc3339);
}

const truncSec = (ms: number): number => Math.floor(ms / 1000) * 1000;

export class DeliveryLedger {
  #floorMs: number;
  /** key string → ceil(at) in epoch seconds */
  readonly #sent = new Map<string, number>();
  readonly #armed = new Map<string, ArmedJob>();
  #armedOverflow = 0;
  /** in memory only: deliveries enqueued and not yet finished (key string → at in ms) */
  readonly #pending = new Map<string, number>();
  readonly #limits: LedgerLimits;
  #revision = 0;
  #persisted = -1;

  private constructor(floorMs: number, limits: Partial<LedgerLimits>) {
    this.#floorMs = truncSec(floorMs);
    this.#limits = { maxArmed: DEFAULT_MAX_ARMED, maxSent: DEFAULT_MAX_SENT, ...limits };
  }

  /**
   * A new ledger whose floor is `floor` — the rule's creationTimestamp for a rule that has none yet, so Jobs that
   * finished before the rule existed are never alerted. Throws on an unparseable time (a caller bug).
   */
  static create(floor: string, limits: Partial<LedgerLimits> = {}): DeliveryLedger {
    const ms = parseTime(floor);
    if (Number.isNaN(ms)) throw new RangeError(`invalid ledger floor ${JSON.stringify(floor)}`);
    return new DeliveryLedger(ms, limits);
  }

  /**
   * Read a stored ledger. Never throws: a missing ledger starts at `ruleCreationTimestamp`; a garbled one
   * (someone edited status) starts there too, or keeps what is readable, and `problems` says what was wrong so
   * the caller can report it. A floor before the rule's creation is raised to it (no storm); one after `now`
   * (when given) is lowered to it (no silence).
   */
  static parse(
    raw: unknown,
    options: { ruleCreationTimestamp: string; now?: string; limits?: Partial<LedgerLimits> },
  ): { ledger: DeliveryLedger; problems: string[] } {
    const problems: string[] = [];
    const created = parseTime(options.ruleCreationTimestamp);
    const fresh = () => DeliveryLedger.create(options.ruleCreationTimestamp, options.limits);
    if (raw === undefined || raw === null) return { ledger: fresh(), problems };
    const o = raw as Partial<Record<keyof LedgerJSON, unknown>>;
    if (
      typeof raw !== 'object' ||
      Array.isArray(raw) ||
      o.v !== LEDGER_VERSION ||
      typeof o.floor !== 'string'
    ) {
      problems.push(
        'ledger unreadable (expected {v: 1, floor, sent, armed}); starting from the rule creation time',
      );
      return { ledger: fresh(), problems };
    }
    let floor = parseTime(o.floor);
    if (Number.isNaN(floor)) {
      problems.push(
        `ledger floor ${JSON.stringify(o.floor).slice(0, 40)} is not a time; starting from the rule creation time`,
      );
      return { ledger: fresh(), problems };
    }
    if (!Number.isNaN(created) && floor < truncSec(created)) {
      problems.push('ledger floor was before the rule was created; raised to the creation time');
      floor = created;
    }
    const now = options.now === undefined ? Number.NaN : parseTime(options.now);
    if (!Number.isNaN(now) && floor > now) {
      problems.push('ledger floor was in the future; lowered to now');
      floor = now;
    }
    const ledger = new DeliveryLedger(floor, options.limits ?? {});
    let bad = 0;
    for (const entry of Array.isArray(o.sent) ? (o.sent as unknown[]) : []) {
      const m =
        typeof entry === 'string'
          ? /^(\S{1,128}) ([SFC]) ([A-Za-z0-9_-]{8}) ([0-9a-z]{1,8})$/.exec(entry)
          : null;
      const at = m ? Number.parseInt(m[4] ?? '', 36) : Number.NaN;
      if (!m || Number.isNaN(at)) {
        bad++;
        continue;
      }
      if (at * 1000 >= ledger.#floorMs) ledger.#sent.set(`${m[1]} ${m[2]} ${m[3]}`, at);
    }
    for (const entry of Array.isArray(o.armed) ? (o.armed as unknown[]) : []) {
      const m =
        typeof entry === 'string'
          ? /^(\S{1,128}) ([^\s/]{1,253}\/[^\s/]{1,253}) (\S{1,253}) ([01])$/.exec(entry)
          : null;
      if (!m || ledger.#armed.size >= ledger.#limits.maxArmed) {
        bad++;
        continue;
      }
      const job: ArmedJob = { uid: m[1] ?? '', job: m[2] ?? '', ttl: m[4] === '1' };
      if (m[3] !== '-') job.cronJob = m[3] ?? '';
      ledger.#armed.set(job.uid, job);
    }
    if (
      (o.sent !== undefined && !Array.isArray(o.sent)) ||
      (o.armed !== undefined && !Array.isArray(o.armed))
    ) {
      problems.push('ledger sent/armed are not lists; ignored');
    }
    if (bad > 0) problems.push(`${bad} unreadable ledger entries ignored`);
    if (typeof o.armedOverflow === 'number' && Number.isInteger(o.armedOverflow) && o.armedOverflow > 0) {
      ledger.#armedOverflow = o.armedOverflow;
    }
    // A clean parse is in sync with what is stored; anything repaired must be written back.
    if (problems.length === 0) ledger.#persisted = ledger.#revision;
    return { ledger, problems };
  }

  get floor(): string {
    return rfc3339(this.#floorMs);
  }

  /** True when this outcome still has to be delivered: not below the floor, not sent, not pending. */
  shouldDeliver(key: DeliveryKey, at: string): boolean {
    if (parseTime(at) < this.#floorMs) return false;
    const k = keyString(key);
    return !this.#sent.has(k) && !this.#pending.has(k);
  }

  /**
   * shouldDeliver() and, when true, mark the delivery pending (in memory) so a second sighting of the same
   * outcome — a resync, a relist — does not enqueue it again. Returns whether the caller must enqueue it.
   */
  begin(key: DeliveryKey, at: string): boolean {
    if (!this.shouldDeliver(key, at)) return false;
    const ms = parseTime(at);
    this.#pending.set(keyString(key), Number.isNaN(ms) ? this.#floorMs : ms);
    return true;
  }

  /**
   * Record a delivery as done — Delivered, or finally Failed — once Slack has answered. Only now does it become
   * durable (when the caller persists the ledger): a crash before that repeats it, it is never lost.
   */
  markSent(key: DeliveryKey, at: string): void {
    const k = keyString(key);
    this.#pending.delete(k);
    const ms = parseTime(at);
    const sec = Math.ceil((Number.isNaN(ms) ? this.#floorMs : ms) / 1000);
    if (sec * 1000 < this.#floorMs || this.#sent.get(k) === sec) return;
    this.#sent.set(k, sec);
    this.#revision++;
  }

  /** Forget a pending delivery without recording it (dispatcher stopped, rule deleted): it will be offered again. */
  release(key: DeliveryKey): void {
    this.#pending.delete(keyString(key));
  }

  isPending(key: DeliveryKey): boolean {
    return this.#pending.has(keyString(key));
  }

  /**
   * Watch a running Job for cancellation. Returns false (and counts an overflow, persisted and reported in
   * stats) when `armed` is full. Disarm it once its terminal outcome has been fully handled.
   */
  arm(job: ArmedJob): boolean {
    const existing = this.#armed.get(job.uid);
    if (existing) {
      if (existing.job === job.job && existing.cronJob === job.cronJob && existing.ttl === job.ttl)
        return true;
    } else if (this.#armed.size >= this.#limits.maxArmed) {
      this.#armedOverflow++;
      this.#revision++;
      return false;
    }
    const copy: ArmedJob = { uid: job.uid, job: job.job, ttl: job.ttl };
    if (job.cronJob) copy.cronJob = job.cronJob;
    this.#armed.set(job.uid, copy);
    this.#revision++;
    return true;
  }

  /**
   * Stop watching a Job. Call it only when the Job's outcome has been handled — all its deliveries recorded by
   * markSent(), or no rule wants it — so that a crash in between still finds it armed.
   */
  disarm(uid: string): boolean {
    if (!this.#armed.delete(uid)) return false;
    this.#revision++;
    return true;
  }

  isArmed(uid: string): boolean {
    return this.#armed.has(uid);
  }

  armedJobs(): ArmedJob[] {
    return [...this.#armed.values()].map((j) => ({ ...j }));
  }

  /**
   * After a relist: the armed Jobs that are no longer in the cluster. They were deleted while unfinished (or, with
   * a TTL, possibly finished and cleaned up) while the operator was not watching → a Cancelled outcome with
   * cancellation `Deleted` each. Disarm each once its deliveries are recorded.
   */
  missingAfterRelist(isPresent: (uid: string) => boolean): ArmedJob[] {
    return this.armedJobs().filter((j) => !isPresent(j.uid));
  }

  /**
   * Move the floor forward to min(oldest pending delivery, watchHealthyUntil − margin), whole seconds, never
   * backward, and prune the `sent` entries below it. `watchHealthyUntil` is the time up to which the Job watch is
   * known to be complete — every outcome observed by then has been offered to begin(). The margin covers a
   * condition written (lastTransitionTime T) but seen a little later. If `sent` is still over its cap, the floor
   * is forced up to keep the ledger bounded (reported as `forced`; a crash then may lose those pending items).
   * Floor moves are persisted changes: call this when the ledger is about to be written anyway, plus rarely.
   */
  advanceFloor(watchHealthyUntil: string, marginMs: number = DEFAULT_FLOOR_MARGIN_MS): FloorAdvance {
    const healthy = parseTime(watchHealthyUntil);
    let target = Number.isNaN(healthy) ? this.#floorMs : healthy - marginMs;
    for (const at of this.#pending.values()) target = Math.min(target, at);
    let forced = false;
    const over = this.#sent.size - this.#limits.maxSent;
    if (over > 0) {
      const ats = [...this.#sent.values()].sort((a, b) => a - b);
      const cut = ((ats[over - 1] ?? 0) + 1) * 1000;
      if (cut > target) {
        target = cut;
        forced = true;
      }
    }
    target = truncSec(target);
    if (target <= this.#floorMs) return { moved: false, pruned: 0, forced: false };
    this.#floorMs = target;
    let pruned = 0;
    for (const [k, sec] of this.#sent) {
      if (sec * 1000 < target) {
        this.#sent.delete(k);
        pruned++;
      }
    }
    this.#revision++;
    return { moved: true, pruned, forced };
  }

  get stats(): { sent: number; armed: number; pending: number; armedOverflow: number } {
    return {
      sent: this.#sent.size,
      armed: this.#armed.size,
      pending: this.#pending.size,
      armedOverflow: this.#armedOverflow,
    };
  }

  /** Bumped by every change that must be persisted (not by pending changes, which live in memory only). */
  get revision(): number {
    return this.#revision;
  }

  /** True when there is something the status writer has not written yet. */
  get dirty(): boolean {
    return this.#revision !== this.#persisted;
  }

  /** Tell the ledger that serialize()'s output at `revision` is stored; later changes keep it dirty. */
  markPersisted(revision: number): void {
    this.#persisted = Math.max(this.#persisted, revision);
  }

  /** The compact, deterministic (sorted) JSON form for `status.ledger`. */
  serialize(): LedgerJSON {
    const sent = [...this.#sent.entries()]
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, sec]) => `${k} ${sec.toString(36)}`);
    const armed = [...this.#armed.values()]
      .sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))
      .map((j) => `${j.uid} ${j.job} ${j.cronJob || '-'} ${j.ttl ? 1 : 0}`);
    const out: LedgerJSON = { v: LEDGER_VERSION, floor: this.floor, sent, armed };
    if (this.#armedOverflow > 0) out.armedOverflow = this.#armedOverflow;
    return out;
  }
}

/** Event letter ↔ event, for tools that read `status.ledger`. */
export const ledgerEventCode = (event: EventType): string => EVENT_CODE[event];
export const ledgerEventFromCode = (code: string): EventType | undefined => CODE_EVENT[code];
