// Which OAuth scopes an integration's rules need, feature by feature, and which of them its token lacks: a
// missing scope is reported as the feature it breaks ("DMs by email need users:read.email") when the token is
// checked, not discovered as a failure when an alert is sent. Pure.
import type { NotificationRuleSpec, SlackIntegrationSpec } from '../api/types.ts';

export interface ScopeNeed {
  /** the scope; `alternatives` also satisfy it (Slack's older or broader scopes) */
  scope: string;
  alternatives?: readonly string[];
  /** what breaks without it, for a person */
  feature: string;
  /** `namespace/name` of the rules that use the feature (empty: the integration itself) */
  usedBy: string[];
}

const isEmail = (value: string): boolean => value.includes('@');

/** The scopes these rules (the ones allowed to use the integration) and the integration's own spec need. */
export function neededScopes(
  integration: Pick<SlackIntegrationSpec, 'membership'>,
  rules: readonly { key: string; spec: Pick<NotificationRuleSpec, 'destinations' | 'mentions'> }[],
): ScopeNeed[] {
  const needs = new Map<string, ScopeNeed>();
  const need = (scope: string, feature: string, rule?: string, alternatives?: readonly string[]) => {
    const key = `${scope}\u0000${feature}`;
    const entry = needs.get(key) ?? { scope, feature, usedBy: [], ...(alternatives ? { alternatives } : {}) };
    if (rule !== undefined && !entry.usedBy.includes(rule)) entry.usedBy.push(rule);
    needs.set(key, entry);
  };
  need('chat:write', 'posting alerts and test messages');
  const join = integration.membership?.join ?? true;
  for (const { key, spec } of rules) {
    for (const d of spec.destinations) {
      if (d.channel !== undefined) {
        need('channels:read', 'finding channels by name and checking membership', key);
        if (join) need('channels:join', 'joining public channels (membership.join)', key, ['channels:write']);
      }
      if (d.user !== undefined && isEmail(d.user))
        need('users:read.email', 'direct messages to users given by email', key);
    }
    for (const m of spec.mentions ?? []) {
      if (m.user !== undefined && isEmail(m.user))
        need('users:read.email', 'mentions of users given by email', key);
      if (m.group !== undefined) need('usergroups:read', 'mentions of user groups', key);
    }
  }
  if (integration.membership?.leaveUnused === true)
    need('channels:manage', 'leaving unused channels (membership.leaveUnused)', undefined, [
      'channels:write',
    ]);
  return [...needs.values()];
}

/** The needs the granted scopes do not cover; none when Slack did not say which scopes were granted. */
export function missingScopes(granted: readonly string[], needs: readonly ScopeNeed[]): ScopeNeed[] {
  if (granted.length === 0) return [];
  const have = new Set(granted);
  return needs.filter((n) => !have.has(n.scope) && !(n.alternatives ?? []).some((a) => have.has(a)));
}

/** "users:read.email (direct messages to users given by email: data/etl)" for each missing need, joined. */
export function describeMissing(missing: readonly ScopeNeed[]): string {
  return missing
    .map((n) => {
      const rules =
        n.usedBy.length === 0
          ? ''
          : `: ${n.usedBy.slice(0, 3).join(', ')}${n.usedBy.length > 3 ? `, +${n.usedBy.length - 3}` : ''}`;
      return `${n.scope} (${n.feature}${rules})`;
    })
    .join('; ');
}

/** Bot scopes and why each is needed (reference/slack-behaviour.md §3). */
export const BOT_SCOPES: readonly { scope: string; why: string; optional?: 'leave-unused' }[] = [
  { scope: 'chat:write', why: 'post alerts, digests and test messages (chat.postMessage)' },
  {
    scope: 'channels:read',
    why: 'resolve public channel names to IDs and check membership (conversations.list/info)',
  },
  { scope: 'groups:read', why: 'the same for private channels the bot was invited to' },
  {
    scope: 'channels:join',
    why: 'join the public channels rules name (conversations.join; membership.join)',
  },
  { scope: 'users:read', why: 'look users up (users.info); users:read.email builds on it' },
  {
    scope: 'users:read.email',
    why: 'resolve destinations and mentions given as email addresses (users.lookupByEmail)',
  },
  { scope: 'usergroups:read', why: 'resolve user-group handles for mentions (usergroups.list)' },
  {
    scope: 'channels:manage',
    why: 'leave channels no rule names any more (conversations.leave; membership.leaveUnused)',
    optional: 'leave-unused',
  },
];

/** The bot scopes an install asks for: every one jobherald uses, channels:manage only for leaveUnused. */
export const installScopes = (leaveUnused: boolean): string[] =>
  BOT_SCOPES.filter((s) => s.optional === undefined || leaveUnused).map((s) => s.scope);
