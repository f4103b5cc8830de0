import { describe, expect, it } from 'vitest';
import { describeMissing, missingScopes, neededScopes } from '../../../src/domain/scopes.ts';

const rule = (key: string, spec: Parameters<typeof neededScopes>[1][number]['spec']) => ({ key, spec });

describe('neededScopes', () => {
  it('asks chat:write always, and per feature what the rules use, naming the rules', () => {
    const needs = neededScopes({}, [
      rule('data/etl', { destinations: [{ channel: 'alerts' }], mentions: [{ group: 'oncall' }] }),
      rule('data/dm', { destinations: [{ user: 'alice@example.com' }], mentions: [{ user: 'U0123' }] }),
    ]);
    expect(needs.map((n) => [n.scope, n.usedBy])).toEqual([
      ['chat:write', []],
      ['channels:read', ['data/etl']],
      ['channels:join', ['data/etl']],
      ['usergroups:read', ['data/etl']],
      ['users:read.email', ['data/dm']],
    ]);
  });

  it('needs no channels:join when the integration does not join, and channels:manage when it leaves', () => {
    const needs = neededScopes({ membership: { join: false, leaveUnused: true } }, [
      rule('a/r', { destinations: [{ channel: 'C0123' }] }),
    ]);
    expect(needs.map((n) => n.scope)).toEqual(['chat:write', 'channels:read', 'channels:manage']);
  });
});

describe('missingScopes', () => {
  const needs = neededScopes({}, [
    rule('a/r', { destinations: [{ channel: 'alerts' }], mentions: [{ group: 'g' }] }),
  ]);

  it('lists what the granted scopes do not cover; older scopes count where Slack accepts them', () => {
    const missing = missingScopes(['chat:write', 'channels:read', 'channels:write'], needs);
    expect(missing.map((n) => n.scope)).toEqual(['usergroups:read']);
    expect(describeMissing(missing)).toBe('usergroups:read (mentions of user groups: a/r)');
  });

  it('says nothing when Slack did not say which scopes the token has', () => {
    expect(missingScopes([], needs)).toEqual([]);
  });
});
