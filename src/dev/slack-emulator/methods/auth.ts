// auth.test and auth.revoke (slack-behaviour.md §3.1, §3.14).
import { booleanParam } from '../api-request.ts';
import { success } from '../slack-error.ts';
import { callerToken, type MethodSpec } from './method.ts';

export const test: MethodSpec = {
  name: 'auth.test',
  tier: 'tier4',
  acceptsJson: true,
  needsToken: true,
  acceptedScopes: [],
  handle(ctx) {
    const token = callerToken(ctx);
    const { team, bot } = ctx.state.workspace;
    const user = ctx.state.users.get(token.userId);
    return success({
      url: `https://${team.domain}.slack.com/`,
      team: team.name,
      user: user?.name ?? bot.name,
      team_id: team.id,
      user_id: token.userId,
      ...(token.type === 'bot' ? { bot_id: bot.botId } : {}),
      is_enterprise_install: false,
    });
  },
};

export const revoke: MethodSpec = {
  name: 'auth.revoke',
  tier: 'tier3',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: [],
  handle(ctx) {
    const token = callerToken(ctx);
    // test=1: "the specified token will not actually be revoked".
    if (booleanParam(ctx.params, 'test')) return success({ revoked: ctx.behaviour.revokeTestModeRevoked });
    token.dead = 'token_revoked';
    return success({ revoked: true });
  },
};
