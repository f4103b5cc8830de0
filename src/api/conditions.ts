// metav1.Condition helpers and the kstatus summary.
//
// kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) computes an object's status from observedGeneration and the
// abnormal-true conditions Reconciling and Stalled; `kubectl wait --for=condition=Ready`, Argo CD and Flux
// health look at Ready. summarizeReady keeps the three consistent:
//   Ready        → Ready=True,                      no Reconciling, no Stalled   (kstatus Current)
//   Suspended    → Ready=True reason Suspended,     no Reconciling, no Stalled   (Current: config accepted)
//   Progressing  → Ready=Unknown, Reconciling=True,              no Stalled   (InProgress)
//   Degraded     → Ready=False, and Reconciling=True when transient (InProgress, the operator retries)
//                               or Stalled=True when a human must act (Failed)
// Every condition carries observedGeneration; lastTransitionTime changes only when status flips.
import type { Condition } from './types.ts';
import { ConditionTypes, Reasons, STALLED_REASONS } from './reasons.ts';
import { rfc3339 } from '../domain/time.ts';

export type ConditionStatus = Condition['status'];

/** A condition to set; lastTransitionTime is computed. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** metav1.Condition.message is limited to 32768 bytes. */
export const MAX_CONDITION_MESSAGE = 32768;

function toTime(now: string | Date): string {
  return typeof now === 'string' ? now : rfc3339(now);
}

function fitMessage(message: string): string {
  return message.length <= MAX_CONDITION_MESSAGE
    ? message
    : `${message.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * A new list with `next` set: replaced in place if a condition of that type exists (keeping its
 * lastTransitionTime unless the status changes), appended otherwise. The input is not modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  now: string | Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: fitMessage(next.message),
    lastTransitionTime:
      previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : toTime(now),
    ...(next.observedGeneration !== undefined ? { observedGeneration: next.observedGeneration } : {}),
  };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

/** A new list without conditions of `type`. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** Whether two condition lists say the same thing (order-insensitive), so a status write can be skipped. */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((x) => {
    const y = getCondition(right, x.type);
    return (
      y !== undefined &&
      y.status === x.status &&
      y.reason === x.reason &&
      y.message === x.message &&
      y.lastTransitionTime === x.lastTransitionTime &&
      y.observedGeneration === x.observedGeneration
    );
  });
}

/** What a reconciler concluded about an object; summarizeReady turns it into conditions. */
export type Health =
  | { state: 'Ready'; reason?: string; message?: string }
  | { state: 'Suspended'; reason?: string; message?: string }
  | { state: 'Progressing'; reason?: string; message: string }
  | {
      state: 'Degraded';
      reason: string;
      message: string;
      /** a human must act; default: whether `reason` is in STALLED_REASONS */
      stalled?: boolean;
    };

/** Ready, Reconciling and Stalled for `health`, every one stamped with `generation`. */
export function summarizeReady(
  conditions: readonly Condition[] | undefined,
  health: Health,
  generation: number,
  now: string | Date,
): Condition[] {
  const set = (list: Condition[], type: string, status: ConditionStatus, reason: string, message: string) =>
    setCondition(list, { type, status, reason, message, observedGeneration: generation }, now);
  let list = [...(conditions ?? [])];
  switch (health.state) {
    case 'Ready':
    case 'Suspended': {
      const reason = health.reason ?? (health.state === 'Ready' ? Reasons.Reconciled : Reasons.Suspended);
      const message =
        health.message ?? (health.state === 'Ready' ? 'reconciled' : 'suspended: no messages are sent');
      list = set(list, ConditionTypes.Ready, 'True', reason, message);
      list = removeCondition(list, ConditionTypes.Reconciling);
      return removeCondition(list, ConditionTypes.Stalled);
    }
    case 'Progressing': {
      const reason = health.reason ?? Reasons.Progressing;
      list = set(list, ConditionTypes.Ready, 'Unknown', reason, health.message);
      list = set(list, ConditionTypes.Reconciling, 'True', reason, health.message);
      return removeCondition(list, ConditionTypes.Stalled);
    }
    case 'Degraded': {
      const stalled = health.stalled ?? STALLED_REASONS.has(health.reason);
      list = set(list, ConditionTypes.Ready, 'False', health.reason, health.message);
      if (stalled) {
        list = set(list, ConditionTypes.Stalled, 'True', health.reason, health.message);
        return removeCondition(list, ConditionTypes.Reconciling);
      }
      list = set(list, ConditionTypes.Reconciling, 'True', Reasons.Retrying, health.message);
      return removeCondition(list, ConditionTypes.Stalled);
    }
  }
}

const SEVERITY = { Ready: 0, Suspended: 1, Progressing: 2, Degraded: 3 } as const;

/**
 * The worst of several findings (a rule with one bad destination and one good is Degraded): stalled
 * Degraded beats transient Degraded beats Progressing beats Suspended beats Ready. Messages of equally bad
 * findings are joined with "; ". An empty list is Ready.
 */
export function worstHealth(findings: readonly Health[]): Health {
  const rank = (h: Health) =>
    SEVERITY[h.state] * 2 + (h.state === 'Degraded' && (h.stalled ?? STALLED_REASONS.has(h.reason)) ? 1 : 0);
  let worst: Health = { state: 'Ready' };
  let messages: string[] = [];
  for (const finding of findings) {
    if (rank(finding) > rank(worst)) {
      worst = finding;
      messages = finding.message !== undefined ? [finding.message] : [];
    } else if (rank(finding) === rank(worst) && finding.message !== undefined && finding !== worst) {
      messages.push(finding.message);
    }
  }
  if (messages.length <= 1) return worst;
  return { ...worst, message: messages.join('; ') };
}

export type KStatus = 'Current' | 'InProgress' | 'Failed';

/**
 * The kstatus verdict for an object with jobherald's conditions (the generic rules of
 * sigs.k8s.io/cli-utils/pkg/kstatus/status/generic.go): a stale observedGeneration or Reconciling=True is
 * InProgress, Stalled=True is Failed, Ready=False/Unknown is InProgress, otherwise Current.
 */
export function kstatusOf(object: {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}): KStatus {
  const generation = object.metadata.generation;
  const status = object.status;
  // kstatus itself reads an object with no status as Current (it cannot tell "not reconciled yet" from "needs
  // none"): modelled as it is, so that this function and Flux agree; Argo CD's scripts say Progressing.
  if (status === undefined) return 'Current';
  if (generation !== undefined && status.observedGeneration !== generation) return 'InProgress';
  if (isConditionTrue(status.conditions, ConditionTypes.Reconciling)) return 'InProgress';
  if (isConditionTrue(status.conditions, ConditionTypes.Stalled)) return 'Failed';
  const ready = getCondition(status.conditions, ConditionTypes.Ready);
  if (ready !== undefined && ready.status !== 'True') return 'InProgress';
  return 'Current';
}
