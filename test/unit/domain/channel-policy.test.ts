// The channelPolicy matcher (docs/adr/0013): names, globs, IDs, user groups, namespace selectors, and what a
// refusal may say.
import { describe, expect, it } from 'vitest';
import type { ChannelPolicy } from '../../../src/api/types.ts';
import {
  channelVerdict,
  entriesFor,
  permittedChannels,
  policyScope,
  userGroupVerdict,
  type Identity,
  type PolicyQuestion,
} from '../../../src/domain/channel-policy.ts';

const policy: ChannelPolicy = {
  allow: [
    // every admitted namespace
    { channels: ['#general', 'C0SHARED01'], userGroups: ['oncall'] },
    // team-a by label
    {
      namespaceSelector: { matchLabels: { team: 'a' } },
      channels: ['team-a-*', '[x-z]-alerts'],
      userGroups: ['@team-a-*', 'S0TEAMA001'],
    },
    // team-b by name (the label the API server puts on every namespace)
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-b' } },
      channels: ['G0BTEAMB001'],
    },
  ],
};

const labels: Record<string, Record<string, string>> = {
  'team-a': { team: 'a', 'kubernetes.io/metadata.name': 'team-a' },
  'team-b': { 'kubernetes.io/metadata.name': 'team-b' },
  other: { 'kubernetes.io/metadata.name': 'other' },
};

function ask(
  namespace: string,
  ref: string,
  resolved?: Identity,
  looked = true,
  p: ChannelPolicy | null = policy,
): PolicyQuestion {
  return {
    policy: p ?? undefined,
    namespace,
    labels: labels[namespace],
    ref,
    resolved,
    looked,
    integration: 'ops/acme',
  };
}

const allowed = (q: PolicyQuestion) => channelVerdict(q).allowed;

describe('channelPolicy: channels', () => {
  it('allows everything without a policy (what integrations did before it existed)', () => {
    expect(allowed(ask('other', 'anything', undefined, false, null))).toBe(true);
    expect(userGroupVerdict(ask('other', 'anyone', undefined, false, null)).allowed).toBe(true);
  });

  it('allows nothing with allow: []', () => {
    expect(allowed(ask('team-a', 'general', undefined, true, { allow: [] }))).toBe(false);
  });

  it('matches names with or without # and in any case the rule may write them', () => {
    expect(allowed(ask('other', 'general'))).toBe(true);
    expect(allowed(ask('other', '#general'))).toBe(true);
    expect(allowed(ask('other', 'random'))).toBe(false);
  });

  it('matches globs on the name, including bracket classes, and whole names only', () => {
    expect(allowed(ask('team-a', 'team-a-alerts'))).toBe(true);
    expect(allowed(ask('team-a', '#team-a-'))).toBe(true);
    expect(allowed(ask('team-a', 'y-alerts'))).toBe(true);
    expect(allowed(ask('team-a', 'w-alerts'))).toBe(false);
    expect(allowed(ask('team-a', 'x-team-a-alerts'))).toBe(false);
  });

  it('applies an entry only to namespaces its selector matches: another team gets nothing of it', () => {
    expect(allowed(ask('team-b', 'team-a-alerts'))).toBe(false);
    expect(allowed(ask('other', 'team-a-alerts'))).toBe(false);
    // a namespace whose labels are unknown gets only the entries without a selector
    expect(allowed(ask('gone', 'team-a-alerts'))).toBe(false);
    expect(allowed(ask('gone', 'general'))).toBe(true);
  });

  it('matches IDs as IDs, and a name whose channel has an allowed ID once Slack says so', () => {
    expect(allowed(ask('other', 'C0SHARED01'))).toBe(true);
    expect(allowed(ask('team-b', 'G0BTEAMB001'))).toBe(true);
    expect(allowed(ask('team-b', 'b-private', { id: 'G0BTEAMB001', name: 'b-private' }))).toBe(true);
    // the same name when Slack does not show it (private, bot not in it): refused, not "not found"
    expect(allowed(ask('team-b', 'b-private', undefined, true))).toBe(false);
  });

  it('matches an ID against name globs by the name Slack gives it', () => {
    expect(allowed(ask('team-a', 'C0AAAAAAA1', { id: 'C0AAAAAAA1', name: 'team-a-deploys' }))).toBe(true);
    expect(allowed(ask('team-a', 'C0BBBBBBB1', { id: 'C0BBBBBBB1', name: 'exec-private' }))).toBe(false);
    expect(allowed(ask('team-a', 'C0CCCCCCC1', undefined, true))).toBe(false);
  });

  it('waits for Slack only when its answer could change the verdict', () => {
    // an ID against globs, nothing looked up yet: pending
    expect(allowed(ask('team-a', 'C0AAAAAAA1', undefined, false))).toBeUndefined();
    // a name against IDs (team-b allows only G0BTEAMB001), nothing looked up yet: pending
    expect(allowed(ask('team-b', 'b-private', undefined, false))).toBeUndefined();
    // a name that no name entry allows and no ID entry applies to: refused at once
    expect(allowed(ask('team-a', 'random', undefined, false, { allow: [{ channels: ['team-*'] }] }))).toBe(
      false,
    );
  });

  it('lets `*` allow every channel, even one named by an ID that Slack does not show', () => {
    const everything: ChannelPolicy = { allow: [{ channels: ['*'] }] };
    expect(allowed(ask('other', 'G0HIDDEN001', undefined, true, everything))).toBe(true);
    expect(allowed(ask('other', 'anything', undefined, false, everything))).toBe(true);
  });

  it('refuses with the reference as the rule wrote it and nothing about the channel itself', () => {
    const verdict = channelVerdict(ask('team-b', 'C0SECRET01', { id: 'C0SECRET01', name: 'exec-private' }));
    expect(verdict).toMatchObject({ allowed: false, reason: 'ChannelNotAllowed' });
    const message = (verdict as { message: string }).message;
    expect(message).toContain('channel "C0SECRET01" is not allowed for rules in namespace "team-b"');
    expect(message).toContain('SlackIntegration ops/acme');
    expect(message).not.toContain('exec-private');
    expect(message).not.toMatch(/private|not found|invite|exist/i);
    // it says what this namespace may use, and nothing of what other namespaces may
    expect(message).toContain('#general, C0SHARED01, G0BTEAMB001');
    expect(message).not.toContain('team-a');
  });

  it('says the same whether the refused channel exists or not', () => {
    const message = (q: PolicyQuestion) => (channelVerdict(q) as { message: string }).message;
    expect(message(ask('other', 'exec', { id: 'G0EXEC0001', name: 'exec' }))).toBe(
      message(ask('other', 'exec', undefined, true)),
    );
  });
});

describe('channelPolicy: user groups', () => {
  const groups = (q: PolicyQuestion) => userGroupVerdict(q).allowed;

  it('matches handles with or without @, globs, and IDs', () => {
    expect(groups(ask('other', 'oncall'))).toBe(true);
    expect(groups(ask('other', '@oncall'))).toBe(true);
    expect(groups(ask('team-a', 'team-a-leads'))).toBe(true);
    expect(groups(ask('team-a', 'S0TEAMA001'))).toBe(true);
    expect(groups(ask('team-a', 'leadership'))).toBe(false);
  });

  it('matches a handle against an allowed ID, and an ID against handles, by what Slack lists', () => {
    expect(groups(ask('team-a', 'a-admins', { id: 'S0TEAMA001', name: 'a-admins' }))).toBe(true);
    expect(groups(ask('other', 'S0ONCALL01', { id: 'S0ONCALL01', name: 'oncall' }))).toBe(true);
    expect(groups(ask('other', 'S0LEADERS1', { id: 'S0LEADERS1', name: 'leadership' }))).toBe(false);
  });

  it('allows no user group to a namespace whose entries list none', () => {
    const verdict = userGroupVerdict(
      ask('team-b', 'anyone', undefined, true, { allow: [{ channels: ['*'] }] }),
    );
    expect(verdict).toMatchObject({ allowed: false, reason: 'UserGroupNotAllowed' });
    expect((verdict as { message: string }).message).toContain('it allows no user group for this namespace');
  });
});

describe('channelPolicy: the channels membership may act on', () => {
  it('keeps only the rules allowed to use each channel, and drops a channel no allowed rule names', () => {
    const decide = (namespace: string, ref: string) => channelVerdict(ask(namespace, ref, undefined, true));
    expect(
      permittedChannels(
        [
          { ref: 'general', usedBy: ['team-a/r1', 'team-b/r2'] },
          { ref: 'team-a-alerts', usedBy: ['team-a/r1', 'team-b/spy'] },
          { ref: 'exec-private', usedBy: ['team-b/spy', 'other/spy'] },
        ],
        decide,
      ),
    ).toEqual([
      { ref: 'general', usedBy: ['team-a/r1', 'team-b/r2'] },
      { ref: 'team-a-alerts', usedBy: ['team-a/r1'] },
    ]);
  });

  it('keeps a pending pair for the lookup that decides it', () => {
    const decide = (namespace: string, ref: string) => channelVerdict(ask(namespace, ref, undefined, false));
    expect(permittedChannels([{ ref: 'C0AAAAAAA1', usedBy: ['team-a/r'] }], decide)).toHaveLength(1);
  });
});

describe('channelPolicy: scope', () => {
  it('lists the entries that apply to a namespace, and its scope changes with its labels', () => {
    expect(entriesFor(policy, labels['team-a'])).toHaveLength(2);
    expect(entriesFor(policy, undefined)).toHaveLength(1);
    expect(policyScope(policy, labels['team-a'])).not.toBe(policyScope(policy, labels['other']));
    expect(policyScope(undefined, labels['team-a'])).toBe('');
  });
});
