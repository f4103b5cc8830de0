// The status a SlackIntegration's reconcile writes, from what it found: Authenticated (the token, Slack),
// ChannelsReady (the channels its rules name), ScopesGranted (what the rules' features need), Installed (the
// last OAuth install attempt, which the OAuth listener records), and Ready summarizing them for kstatus.
// Ready is about the integration itself: one tenant's channel problem is that rule's, not every tenant's
// (docs/adr/0013). Pure: the runtime passes in what it knows.
import type { ChannelStatus, Condition, SlackIntegration, SlackIntegrationStatus } from '../api/types.ts';
import { ConditionTypes, Reasons } from '../api/reasons.ts';
import { setCondition, summarizeReady, worstHealth, type Health } from '../api/conditions.ts';
import { channelsReadyCondition, channelsReadySummary } from '../domain/membership.ts';
import { describeMissing, type ScopeNeed } from '../domain/scopes.ts';
import type { AuthInfo } from '../slack/port.ts';
import { botHandle } from './membership-sync.ts';

export interface IntegrationFindings {
  /** the conditions written last (kept for their transition times) */
  conditions: Condition[];
  /** why it cannot send, if it cannot */
  problem: { reason: string; message: string; stalled?: boolean } | undefined;
  auth: AuthInfo | undefined;
  suspended: boolean;
  channels: ChannelStatus[];
  missingScopes: ScopeNeed[];
  install: SlackIntegrationStatus['install'];
  token: SlackIntegrationStatus['token'];
  lastTest: SlackIntegrationStatus['lastTest'];
}

/** What a person reads: which scopes, what they break, and what to do. */
export const missingScopeMessage = (missing: readonly ScopeNeed[]): string =>
  `the token lacks ${describeMissing(missing)}: add the scopes to the Slack app (OAuth & Permissions), reinstall it and put the new token in the Secret`.slice(
    0,
    1024,
  );

export function integrationStatus(
  object: SlackIntegration,
  found: IntegrationFindings,
  now: Date,
): SlackIntegrationStatus {
  const generation = object.metadata.generation ?? 0;
  let conditions = found.conditions.length > 0 ? found.conditions : (object.status?.conditions ?? []);
  const set = (condition: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>): void => {
    conditions = setCondition(conditions, { ...condition, observedGeneration: generation }, now);
  };
  const findings: Health[] = [];
  const auth = found.auth;
  if (found.problem !== undefined) {
    set({ type: ConditionTypes.Authenticated, status: 'False', ...found.problem });
    findings.push({ state: 'Degraded', ...found.problem });
  } else if (auth !== undefined) {
    set({
      type: ConditionTypes.Authenticated,
      status: 'True',
      reason: Reasons.Authenticated,
      message: `authenticated to ${auth.team} as ${botHandle(auth)}`,
    });
    set({ type: ConditionTypes.ChannelsReady, ...channelsReadyCondition(found.channels) });
    const missing = found.missingScopes;
    set(
      missing.length === 0
        ? {
            type: ConditionTypes.ScopesGranted,
            status: 'True',
            reason: Reasons.ScopesGranted,
            message: 'the token has every scope the rules need',
          }
        : {
            type: ConditionTypes.ScopesGranted,
            status: 'False',
            reason: Reasons.MissingScope,
            message: missingScopeMessage(missing),
          },
    );
    // A feature some rule uses is that rule's problem (its Ready says so, ScopesGranted here lists them all),
    // as channel problems are; a token that cannot post at all is the integration's.
    if (missing.some((n) => n.scope === 'chat:write') && !found.suspended)
      findings.push({
        state: 'Degraded',
        reason: Reasons.MissingScope,
        message: missingScopeMessage(missing),
      });
    // Ready is about the integration itself (spec, token, Slack): a channel one rule names belongs to that
    // rule's Ready and to ChannelsReady above, not here, or one tenant's typo would mark the integration
    // (and every other tenant's view of it) not Ready (docs/adr/0013).
    if (found.suspended) findings.push({ state: 'Suspended', message: 'suspended: no messages are sent' });
  } else {
    findings.push({ state: 'Progressing', message: 'authenticating' });
  }
  conditions = summarizeReady(conditions, worstHealth(findings), generation, now);
  const attempt = object.status?.install?.lastAttempt;
  if (attempt !== undefined)
    set({
      type: ConditionTypes.Installed,
      status: attempt.result === 'Installed' ? 'True' : 'False',
      reason: attempt.reason,
      message: attempt.message,
    });
  const status: SlackIntegrationStatus = { observedGeneration: generation, conditions };
  if (auth !== undefined) {
    status.workspace = { id: auth.teamId, name: auth.team, url: auth.url, botUserID: auth.userId };
    status.scopes = [...auth.scopes].sort();
  }
  status.channels = found.channels;
  status.channelsReady = channelsReadySummary(found.channels);
  if (found.install !== undefined) status.install = found.install;
  if (found.token !== undefined) status.token = found.token;
  if (found.lastTest !== undefined) status.lastTest = found.lastTest;
  return status;
}
