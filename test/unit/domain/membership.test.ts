import { describe, expect, it } from 'vitest';
import {
  applyJoinResult,
  channelsReadyCondition,
  channelsReadySummary,
  destinationStateOf,
  joinedByOperator,
  parseChannelRef,
  planMembership,
  type MembershipInput,
  type ResolvedChannel,
} from '../../../src/domain/membership.ts';

const CHANNELS: ResolvedChannel[] = [
  { id: 'C0123ABCDE', name: 'data-alerts', private: false, archived: false, isMember: false },
  { id: 'C0000MEMBER', name: 'ops', private: false, archived: false, isMember: true },
  { id: 'G0456PRIVATE', name: 'secret-ops', private: true, archived: false, isMember: false },
  { id: 'G0789PRIVMEM', name: 'private-in', private: true, archived: false, isMember: true },
  { id: 'C0OLDARCHIV', name: 'old', private: false, archived: true, isMember: false },
  { id: 'C0UNUSEDJND', name: 'unused', private: false, archived: false, isMember: true },
];

function resolve(ref: ReturnType<typeof parseChannelRef>): ResolvedChannel | undefined {
  return CHANNELS.find((c) => (ref.kind === 'id' ? c.id === ref.id : c.name === ref.name));
}

function input(overrides: Partial<MembershipInput>): MembershipInput {
  return {
    desired: [],
    resolve,
    join: true,
    leaveUnused: false,
    joinedByOperator: new Set(),
    botName: 'jobherald',
    ...overrides,
  };
}

describe('parseChannelRef', () => {
  it('reads names, #names and IDs', () => {
    expect(parseChannelRef('data-alerts')).toEqual({ kind: 'name', name: 'data-alerts' });
    expect(parseChannelRef('#data-alerts')).toEqual({ kind: 'name', name: 'data-alerts' });
    expect(parseChannelRef('C0123ABCDE')).toEqual({ kind: 'id', id: 'C0123ABCDE' });
    expect(parseChannelRef('G0456PRIVATE')).toEqual({ kind: 'id', id: 'G0456PRIVATE' });
    expect(parseChannelRef('cabbage')).toEqual({ kind: 'name', name: 'cabbage' });
  });
});

describe('planMembership', () => {
  it('joins a public channel it is not in, and marks it Joined', () => {
    const plan = planMembership(input({ desired: [{ ref: '#data-alerts', usedBy: ['data/etl-failures'] }] }));
    expect(plan.actions).toEqual([{ action: 'join', channelId: 'C0123ABCDE', channelName: 'data-alerts' }]);
    expect(plan.channels).toEqual([
      {
        name: 'data-alerts',
        id: 'C0123ABCDE',
        private: false,
        state: 'Joined',
        usedBy: ['data/etl-failures'],
      },
    ]);
  });

  it('does not join when membership.join is false: InviteRequired', () => {
    const plan = planMembership(input({ join: false, desired: [{ ref: 'data-alerts', usedBy: ['a/b'] }] }));
    expect(plan.actions).toEqual([]);
    expect(plan.channels[0]).toMatchObject({
      state: 'InviteRequired',
      message: 'membership.join is false: invite the bot with /invite @jobherald in #data-alerts',
    });
  });

  it('asks for an invite to a private channel', () => {
    const plan = planMembership(input({ desired: [{ ref: 'G0456PRIVATE', usedBy: ['a/b'] }] }));
    expect(plan.actions).toEqual([]);
    expect(plan.channels[0]).toEqual({
      name: 'secret-ops',
      id: 'G0456PRIVATE',
      private: true,
      state: 'InviteRequired',
      message: 'private channel: invite the bot with /invite @jobherald in #secret-ops',
      usedBy: ['a/b'],
    });
  });

  it('reports Member for channels the bot was invited to and Joined for those it joined itself', () => {
    const plan = planMembership(
      input({
        desired: [
          { ref: 'ops', usedBy: ['a/b'] },
          { ref: 'private-in', usedBy: ['a/b'] },
          { ref: 'unused', usedBy: ['a/c'] },
        ],
        joinedByOperator: new Set(['C0UNUSEDJND']),
      }),
    );
    expect(plan.channels.map((c) => [c.name, c.state])).toEqual([
      ['ops', 'Member'],
      ['private-in', 'Member'],
      ['unused', 'Joined'],
    ]);
    expect(plan.actions).toEqual([]);
  });

  it('reports NotFound and Archived', () => {
    const plan = planMembership(
      input({
        desired: [
          { ref: 'nope', usedBy: ['a/b'] },
          { ref: 'old', usedBy: ['a/b'] },
        ],
      }),
    );
    expect(plan.channels.map((c) => [c.name, c.state])).toEqual([
      ['nope', 'NotFound'],
      ['old', 'Archived'],
    ]);
    expect(plan.channels[0]?.message).toContain('channel #nope not found');
    expect(plan.actions).toEqual([]);
  });

  it('merges references to the same channel and their users', () => {
    const plan = planMembership(
      input({
        desired: [
          { ref: 'data-alerts', usedBy: ['data/b'] },
          { ref: '#data-alerts', usedBy: ['data/a'] },
          { ref: 'C0123ABCDE', usedBy: ['etl/c', 'data/a'] },
        ],
      }),
    );
    expect(plan.channels).toHaveLength(1);
    expect(plan.channels[0]?.usedBy).toEqual(['data/a', 'data/b', 'etl/c']);
    expect(plan.actions).toHaveLength(1);
  });

  it('leaves channels it joined itself that no rule names, only with leaveUnused', () => {
    const joined = new Set(['C0UNUSEDJND', 'C0000MEMBER']);
    const desired = [{ ref: 'ops', usedBy: ['a/b'] }];
    expect(planMembership(input({ desired, joinedByOperator: joined })).actions).toEqual([]);
    expect(planMembership(input({ desired, joinedByOperator: joined, leaveUnused: true })).actions).toEqual([
      { action: 'leave', channelId: 'C0UNUSEDJND', channelName: 'unused' },
    ]);
  });

  it('never leaves a channel the bot was invited to, nor one it is no longer in', () => {
    const plan = planMembership(
      input({ leaveUnused: true, joinedByOperator: new Set(['C0123ABCDE', 'CGONE0000']) }),
    );
    expect(plan.actions).toEqual([]);
  });
});

describe('joinedByOperator', () => {
  it('takes the IDs with state Joined from the previous status', () => {
    expect(
      joinedByOperator([
        { name: 'a', id: 'C1', state: 'Joined', usedBy: [] },
        { name: 'b', id: 'C2', state: 'Member', usedBy: [] },
        { name: 'c', state: 'Joined', usedBy: [] },
      ]),
    ).toEqual(new Set(['C1']));
    expect(joinedByOperator(undefined)).toEqual(new Set());
  });
});

describe('applyJoinResult', () => {
  const planned = {
    name: 'data-alerts',
    id: 'C0123ABCDE',
    private: false,
    state: 'Joined' as const,
    usedBy: ['a/b'],
  };
  it.each([
    [undefined, 'Joined'],
    ['already_in_channel', 'Joined'],
    ['is_archived', 'Archived'],
    ['channel_not_found', 'NotFound'],
    ['method_not_supported_for_channel_type', 'InviteRequired'],
    ['missing_scope', 'InviteRequired'],
    ['ratelimited', 'InviteRequired'],
  ])('%s → %s', (error, state) => {
    const result = applyJoinResult(planned, error, 'jobherald');
    expect(result.state).toBe(state);
    expect(result.usedBy).toEqual(['a/b']);
    if (error !== undefined && error !== 'already_in_channel') expect(result.message).toBeTruthy();
  });
});

describe('summaries', () => {
  const channels = [
    { name: 'a', state: 'Joined' as const, usedBy: [] },
    { name: 'b', state: 'Member' as const, usedBy: [] },
    { name: 'c', state: 'InviteRequired' as const, message: 'private channel: invite…', usedBy: [] },
    { name: 'd', state: 'NotFound' as const, usedBy: [] },
  ];

  it('channelsReady counts usable channels', () => {
    expect(channelsReadySummary(channels)).toBe('2/4');
    expect(channelsReadySummary([])).toBe('0/0');
  });

  it('ChannelsReady is True when every channel is usable or none is named', () => {
    expect(channelsReadyCondition([])).toMatchObject({ status: 'True', reason: 'NoChannels' });
    expect(channelsReadyCondition(channels.slice(0, 2))).toMatchObject({
      status: 'True',
      reason: 'ChannelsReady',
    });
  });

  it('ChannelsReady is False with the first problem as reason and every problem in the message', () => {
    expect(channelsReadyCondition(channels)).toEqual({
      status: 'False',
      reason: 'InviteRequired',
      message: '#c: private channel: invite…; #d: NotFound',
    });
    expect(channelsReadyCondition([channels[3]!]).reason).toBe('ChannelNotFound');
  });

  it('maps channel states to destination states', () => {
    expect(
      ['Joined', 'Member', 'NotFound', 'Archived', 'InviteRequired'].map((state) =>
        destinationStateOf({ state: state as never }),
      ),
    ).toEqual(['Resolved', 'Resolved', 'ChannelNotFound', 'Archived', 'InviteRequired']);
  });
});
