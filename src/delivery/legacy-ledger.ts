// Reading the delivery ledger that jobherald up to 0.1 kept in each NotificationRule's `status.ledger`
// (docs/adr/0003, superseded by 0010). It is read once when a rule is first seen, honoured, and dropped from
// status once what it says is recorded on the Jobs:
//   - `floor`: every outcome before it was handled → the rule's `status.alertsSince`;
//   - `sent`: (Job UID, event, destination id) delivered → recorded on the Job, not sent again;
//   - `armed`: running Jobs watched for Cancelled → those gone from the cluster are alerted Cancelled once.
// Never throws: an unreadable ledger yields what can be read and the problems, for the rule's status.
export interface LegacyLedger {
  /** ms; outcomes before it were handled */
  floor: number;
  /** "<jobUID> <S|F|C>" → destination ids sent */
  sent: Map<string, Set<string>>;
  armed: { uid: string; job: string; cronJob?: string; ttl: boolean }[];
  problems: string[];
}

const SENT = /^(\S{1,128}) ([SFC]) ([A-Za-z0-9_-]{8}) ([0-9a-z]{1,8})$/;
const ARMED = /^(\S{1,128}) ([^\s/]{1,253}\/[^\s/]{1,253}) (\S{1,253}) ([01])$/;

/** The ledger in a rule's status, or undefined when there is none. */
export function readLegacyLedger(raw: unknown): LegacyLedger | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = raw as { v?: unknown; floor?: unknown; sent?: unknown; armed?: unknown };
  const floor = typeof o.floor === 'string' ? Date.parse(o.floor) : Number.NaN;
  if (typeof raw !== 'object' || Array.isArray(raw) || o.v !== 1 || Number.isNaN(floor)) {
    return { floor: Number.NaN, sent: new Map(), armed: [], problems: ['status.ledger unreadable; ignored'] };
  }
  const ledger: LegacyLedger = { floor, sent: new Map(), armed: [], problems: [] };
  let bad = 0;
  for (const entry of Array.isArray(o.sent) ? (o.sent as unknown[]) : []) {
    const m = typeof entry === 'string' ? SENT.exec(entry) : null;
    if (m === null) {
      bad++;
      continue;
    }
    const key = `${m[1]} ${m[2]}`;
    const ids = ledger.sent.get(key) ?? new Set<string>();
    ids.add(m[3] ?? '');
    ledger.sent.set(key, ids);
  }
  for (const entry of Array.isArray(o.armed) ? (o.armed as unknown[]) : []) {
    const m = typeof entry === 'string' ? ARMED.exec(entry) : null;
    if (m === null) {
      bad++;
      continue;
    }
    ledger.armed.push({
      uid: m[1] ?? '',
      job: m[2] ?? '',
      ttl: m[4] === '1',
      ...(m[3] !== '-' ? { cronJob: m[3] } : {}),
    });
  }
  if (bad > 0) ledger.problems.push(`${bad} unreadable status.ledger entries ignored`);
  return ledger;
}
