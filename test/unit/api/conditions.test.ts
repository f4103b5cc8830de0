import { describe, expect, it } from 'vitest';
import {
  MAX_CONDITION_MESSAGE,
  conditionsEqual,
  getCondition,
  kstatusOf,
  removeCondition,
  setCondition,
  summarizeReady,
  worstHealth,
  type Health,
} from '../../../src/api/conditions.ts';
import { ConditionTypes, Reasons, STALLED_REASONS } from '../../../src/api/reasons.ts';
import type { Condition } from '../../../src/api/types.ts';

const T1 = '2026-11-21T10:00:00Z';
const T2 = '2026-11-21T11:00:00Z';

describe('setCondition', () => {
  it('appends a new condition with lastTransitionTime = now', () => {
    expect(
      setCondition(
        undefined,
        { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok', observedGeneration: 1 },
        T1,
      ),
    ).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'ok',
        lastTransitionTime: T1,
        observedGeneration: 1,
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not change, even if reason and message do', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, T1);
    const second = setCondition(
      first,
      { type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2 },
      T2,
    );
    expect(second).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'B',
        message: 'b',
        lastTransitionTime: T1,
        observedGeneration: 2,
      },
    ]);
  });

  it('moves lastTransitionTime when the status flips', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, T1);
    expect(
      setCondition(first, { type: 'Ready', status: 'True', reason: 'R', message: 'r' }, T2)[0]
        ?.lastTransitionTime,
    ).toBe(T2);
  });

  it('replaces in place, keeps the others, and does not modify the input', () => {
    const list: Condition[] = [
      { type: 'Authenticated', status: 'True', reason: 'Authenticated', message: '', lastTransitionTime: T1 },
      { type: 'Ready', status: 'False', reason: 'A', message: 'a', lastTransitionTime: T1 },
    ];
    const copy = structuredClone(list);
    const next = setCondition(list, { type: 'Ready', status: 'True', reason: 'R', message: 'r' }, T2);
    expect(next.map((c) => c.type)).toEqual(['Authenticated', 'Ready']);
    expect(list).toEqual(copy);
  });

  it('accepts a Date and writes RFC 3339 seconds', () => {
    expect(
      setCondition(
        [],
        { type: 'X', status: 'True', reason: 'R', message: '' },
        new Date('2026-11-21T10:00:00.123Z'),
      )[0]?.lastTransitionTime,
    ).toBe(T1);
    expect(
      setCondition([], { type: 'X', status: 'True', reason: 'R', message: '' }, new Date(T1))[0]
        ?.lastTransitionTime,
    ).toBe(T1);
  });

  it('caps the message at the metav1.Condition limit', () => {
    const [c] = setCondition([], { type: 'X', status: 'True', reason: 'R', message: 'x'.repeat(40_000) }, T1);
    expect(c?.message.length).toBe(MAX_CONDITION_MESSAGE);
  });
});

describe('summarizeReady', () => {
  const object = (conditions: Condition[], generation = 3, observedGeneration = 3) => ({
    metadata: { generation },
    status: { observedGeneration, conditions },
  });

  it('Ready → Ready=True, no Reconciling/Stalled, kstatus Current', () => {
    const before = summarizeReady(
      [],
      { state: 'Degraded', reason: Reasons.InvalidSpec, message: 'bad' },
      2,
      T1,
    );
    const after = summarizeReady(before, { state: 'Ready' }, 3, T2);
    expect(after).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'reconciled',
        lastTransitionTime: T2,
        observedGeneration: 3,
      },
    ]);
    expect(kstatusOf(object(after))).toBe('Current');
  });

  it('Progressing → Ready=Unknown and Reconciling=True, kstatus InProgress', () => {
    const conditions = summarizeReady([], { state: 'Progressing', message: 'resolving channels' }, 3, T1);
    expect(getCondition(conditions, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'Progressing' });
    expect(getCondition(conditions, 'Reconciling')).toMatchObject({ status: 'True', observedGeneration: 3 });
    expect(getCondition(conditions, 'Stalled')).toBeUndefined();
    expect(kstatusOf(object(conditions))).toBe('InProgress');
  });

  it('Degraded with a human-fixable reason → Ready=False and Stalled=True, kstatus Failed', () => {
    const conditions = summarizeReady(
      [],
      { state: 'Degraded', reason: Reasons.CrossNamespaceNotAllowed, message: 'no' },
      3,
      T1,
    );
    expect(getCondition(conditions, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'CrossNamespaceNotAllowed',
      message: 'no',
    });
    expect(getCondition(conditions, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'CrossNamespaceNotAllowed',
    });
    expect(getCondition(conditions, 'Reconciling')).toBeUndefined();
    expect(kstatusOf(object(conditions))).toBe('Failed');
  });

  it('Degraded with a transient reason → Ready=False and Reconciling=True (retrying), kstatus InProgress', () => {
    const conditions = summarizeReady(
      [],
      { state: 'Degraded', reason: Reasons.SlackUnavailable, message: '503' },
      3,
      T1,
    );
    expect(getCondition(conditions, 'Ready')?.status).toBe('False');
    expect(getCondition(conditions, 'Reconciling')).toMatchObject({ status: 'True', reason: 'Retrying' });
    expect(getCondition(conditions, 'Stalled')).toBeUndefined();
    expect(kstatusOf(object(conditions))).toBe('InProgress');
  });

  it('lets the caller override stalled', () => {
    const conditions = summarizeReady(
      [],
      { state: 'Degraded', reason: 'Custom', message: 'x', stalled: true },
      1,
      T1,
    );
    expect(getCondition(conditions, 'Stalled')?.status).toBe('True');
  });

  it('Suspended → Ready=True reason Suspended (configuration accepted), kstatus Current', () => {
    const conditions = summarizeReady([], { state: 'Suspended' }, 3, T1);
    expect(getCondition(conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Suspended' });
    expect(kstatusOf(object(conditions))).toBe('Current');
  });

  it('keeps other condition types untouched', () => {
    const start = setCondition(
      [],
      { type: ConditionTypes.Authenticated, status: 'True', reason: 'Authenticated', message: '' },
      T1,
    );
    expect(summarizeReady(start, { state: 'Ready' }, 1, T2).map((c) => c.type)).toEqual([
      'Authenticated',
      'Ready',
    ]);
  });

  it('kstatus is InProgress while observedGeneration lags, whatever the conditions say', () => {
    expect(kstatusOf(object(summarizeReady([], { state: 'Ready' }, 3, T1), 4, 3))).toBe('InProgress');
    // no status at all: kstatus (and so Flux) reads Current, as the library does (test/unit/gitops-health.test.ts)
    expect(kstatusOf({ metadata: { generation: 1 } })).toBe('Current');
  });

  it('classifies tenancy, Secret, auth and destination reasons as stalled, Slack outages as transient', () => {
    for (const reason of [
      'InvalidSpec',
      'NamespaceNotAllowed',
      'CrossNamespaceNotAllowed',
      'IntegrationNotFound',
      'SecretNotFound',
      'TokenRevoked',
      'InviteRequired',
      'UserNotFound',
      'ChannelNotAllowed',
      'UserGroupNotAllowed',
      'InsecureAPIURL',
    ]) {
      expect(STALLED_REASONS.has(reason), reason).toBe(true);
    }
    for (const reason of ['SlackUnavailable', 'IntegrationNotReady', 'Retrying', 'Progressing']) {
      expect(STALLED_REASONS.has(reason), reason).toBe(false);
    }
  });

  it('uses CamelCase reasons only', () => {
    for (const reason of Object.values(Reasons)) expect(reason).toMatch(/^[A-Z][A-Za-z]*$/);
  });
});

describe('worstHealth', () => {
  it('is Ready for nothing', () => {
    expect(worstHealth([])).toEqual({ state: 'Ready' });
  });

  it('prefers stalled over transient over progressing over ready, joining equal messages', () => {
    const findings: Health[] = [
      { state: 'Ready' },
      { state: 'Progressing', message: 'p' },
      { state: 'Degraded', reason: 'SlackUnavailable', message: 't' },
      { state: 'Degraded', reason: 'ChannelNotFound', message: '#a not found' },
      { state: 'Degraded', reason: 'InviteRequired', message: 'invite to #b' },
    ];
    expect(worstHealth(findings)).toEqual({
      state: 'Degraded',
      reason: 'ChannelNotFound',
      message: '#a not found; invite to #b',
    });
    expect(worstHealth(findings.slice(0, 3))).toMatchObject({ reason: 'SlackUnavailable' });
    expect(worstHealth(findings.slice(0, 2))).toMatchObject({ state: 'Progressing' });
  });
});

describe('conditionsEqual and removeCondition', () => {
  const a: Condition[] = [
    {
      type: 'Ready',
      status: 'True',
      reason: 'R',
      message: 'm',
      lastTransitionTime: T1,
      observedGeneration: 1,
    },
    { type: 'Authenticated', status: 'True', reason: 'A', message: '', lastTransitionTime: T1 },
  ];

  it('ignores order but nothing else', () => {
    expect(conditionsEqual(a, [...a].reverse())).toBe(true);
    expect(conditionsEqual(a, [{ ...a[0]!, observedGeneration: 2 }, a[1]!])).toBe(false);
    expect(conditionsEqual(a, a.slice(1))).toBe(false);
    expect(conditionsEqual(undefined, [])).toBe(true);
  });

  it('removes by type', () => {
    expect(removeCondition(a, 'Ready').map((c) => c.type)).toEqual(['Authenticated']);
  });
});
