// A SlackIntegration's channelPolicy (docs/adr/0013): which channels and user groups the rules that use the
// integration may name. Pure decisions; the integration runtime supplies what Slack says a reference is.
//
//   no policy                                          → allowed (what every integration did before)
//   an entry that applies to the rule's namespace lists it → allowed
//   only Slack's answer could tell (an ID against name globs, a name against IDs), not looked up yet → pending
//   otherwise                                          → refused: ChannelNotAllowed / UserGroupNotAllowed
//
// An entry applies when its namespaceSelector matches the labels of the RULE's namespace (absent: every
// namespace); a namespace whose labels are unknown gets only the entries without a selector. A refusal says
// only what the rule wrote and what its namespace may use: never whether the channel exists, is private, or
// what its ID is, so a rule cannot probe the workspace through its status.
import type { ChannelPolicy, ChannelPolicyEntry } from '../api/types.ts';
import { Reasons } from '../api/reasons.ts';
import { CHANNEL_ID, USERGROUP_ID } from '../api/patterns.ts';
import { globMatches } from './glob.ts';
import { labelSelectorMatches } from './selector.ts';

export type PolicyVerdict =
  | { allowed: true }
  | {
      allowed: false;
      reason: typeof Reasons.ChannelNotAllowed | typeof Reasons.UserGroupNotAllowed;
      message: string;
    }
  /** only what Slack says the reference is can decide, and that is not known yet */
  | { allowed: undefined };

export const ALLOWED: PolicyVerdict = { allowed: true };
const PENDING: PolicyVerdict = { allowed: undefined };

/** What Slack says a reference is: a channel's ID and name, or a user group's ID and handle. */
export interface Identity {
  id: string;
  name: string;
}

export interface PolicyQuestion {
  /** spec.channelPolicy; undefined allows everything */
  policy: ChannelPolicy | undefined;
  /** the rule's namespace, and its labels (undefined: unknown) */
  namespace: string;
  labels: Readonly<Record<string, string>> | undefined;
  /** the reference exactly as the rule wrote it: `#data-alerts`, `C0123ABCDE`, `@oncall` */
  ref: string;
  /** what Slack says it is; undefined when Slack does not show it or it was not looked up */
  resolved: Identity | undefined;
  /** whether Slack was asked (the channel directory or the user-group list is loaded) */
  looked: boolean;
  /** `namespace/name` of the integration, for the message */
  integration: string;
}

/** The entries of `policy` that apply to rules in a namespace with these labels. */
export function entriesFor(
  policy: ChannelPolicy,
  labels: Readonly<Record<string, string>> | undefined,
): ChannelPolicyEntry[] {
  return (policy.allow ?? []).filter(
    (entry) =>
      entry.namespaceSelector === undefined ||
      (labels !== undefined && labelSelectorMatches(entry.namespaceSelector, labels)),
  );
}

/** A stable string for what the policy allows a namespace: it changes when the answer may change. */
export function policyScope(
  policy: ChannelPolicy | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): string {
  return policy === undefined ? '' : JSON.stringify(entriesFor(policy, labels));
}

type Pattern = { kind: 'id'; id: string } | { kind: 'glob'; glob: string; everything: boolean };

function pattern(entry: string, idPattern: RegExp, sigil: string): Pattern {
  const trimmed = entry.trim();
  if (idPattern.test(trimmed)) return { kind: 'id', id: trimmed };
  const glob = trimmed.replace(sigil === '#' ? /^#/ : /^@/, '').toLowerCase();
  // `*` allows every name, so it also allows a reference by ID that Slack does not show
  return { kind: 'glob', glob, everything: /^\*+$/.test(glob) };
}

interface Kind {
  list: (entry: ChannelPolicyEntry) => readonly string[] | undefined;
  idPattern: RegExp;
  sigil: '#' | '@';
  reason: typeof Reasons.ChannelNotAllowed | typeof Reasons.UserGroupNotAllowed;
  what: string;
}

const CHANNELS: Kind = {
  list: (e) => e.channels,
  idPattern: CHANNEL_ID,
  sigil: '#',
  reason: Reasons.ChannelNotAllowed,
  what: 'channel',
};

const USER_GROUPS: Kind = {
  list: (e) => e.userGroups,
  idPattern: USERGROUP_ID,
  sigil: '@',
  reason: Reasons.UserGroupNotAllowed,
  what: 'user group',
};

function verdict(kind: Kind, q: PolicyQuestion): PolicyVerdict {
  if (q.policy === undefined) return ALLOWED;
  const entries = entriesFor(q.policy, q.labels);
  const patterns = entries.flatMap((e) =>
    (kind.list(e) ?? []).map((p) => pattern(p, kind.idPattern, kind.sigil)),
  );
  const written = pattern(q.ref, kind.idPattern, kind.sigil);
  const ids = new Set<string>();
  const names = new Set<string>();
  if (written.kind === 'id') ids.add(written.id);
  else names.add(written.glob);
  if (q.resolved !== undefined) {
    ids.add(q.resolved.id);
    names.add(q.resolved.name.toLowerCase());
  }
  const allows = (p: Pattern): boolean =>
    p.kind === 'id' ? ids.has(p.id) : p.everything || [...names].some((n) => globMatches(p.glob, n));
  if (patterns.some(allows)) return ALLOWED;
  // A name against ID entries, or an ID against name entries: Slack's answer decides; until it is in, wait.
  const otherKind = patterns.some((p) => p.kind !== written.kind);
  if (otherKind && q.resolved === undefined && !q.looked) return PENDING;
  return { allowed: false, reason: kind.reason, message: refusal(kind, q, patterns) };
}

function refusal(kind: Kind, q: PolicyQuestion, patterns: Pattern[]): string {
  const shown = patterns.map((p) => (p.kind === 'id' ? p.id : `${kind.sigil}${p.glob}`));
  const unique = [...new Set(shown)];
  const allowed =
    unique.length === 0
      ? `it allows no ${kind.what} for this namespace`
      : `it allows here: ${unique.slice(0, 10).join(', ')}${unique.length > 10 ? ', …' : ''}`;
  return (
    `${kind.what} "${q.ref}" is not allowed for rules in namespace "${q.namespace}" by the channelPolicy of ` +
    `SlackIntegration ${q.integration} (${allowed}); name an allowed ${kind.what}, or ask the ` +
    `integration's owner to allow it`
  );
}

/** Whether a rule in `q.namespace` may post to the channel it names as `q.ref`. */
export function channelVerdict(q: PolicyQuestion): PolicyVerdict {
  return verdict(CHANNELS, q);
}

/** Whether a rule in `q.namespace` may mention the user group it names as `q.ref`. */
export function userGroupVerdict(q: PolicyQuestion): PolicyVerdict {
  return verdict(USER_GROUPS, q);
}

/**
 * The channels membership may act on: each desired channel keeps only the rules allowed to use it, and one
 * that no allowed rule names is dropped, so the bot never joins, lists or tests a channel for a rule that
 * may not use it. Pending pairs are kept (they may need the lookup that decides them); callers filter again
 * once Slack has answered.
 */
export function permittedChannels<D extends { ref: string; usedBy: readonly string[] }>(
  desired: readonly D[],
  decide: (namespace: string, ref: string) => PolicyVerdict,
): D[] {
  const out: D[] = [];
  for (const d of desired) {
    const usedBy = d.usedBy.filter(
      (rule) => decide(rule.slice(0, rule.indexOf('/')), d.ref).allowed !== false,
    );
    if (usedBy.length > 0) out.push({ ...d, usedBy });
  }
  return out;
}
