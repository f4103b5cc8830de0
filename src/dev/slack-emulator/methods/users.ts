// users.lookupByEmail, users.info, usergroups.list (slack-behaviour.md §3.11-3.12).
import { booleanParam, stringParam } from '../api-request.ts';
import { SlackApiError, success } from '../slack-error.ts';
import { userGroupObject, userObject } from '../slack-objects.ts';
import { callerToken, requireScope, type MethodSpec } from './method.ts';

export const lookupByEmail: MethodSpec = {
  name: 'users.lookupByEmail',
  tier: 'tier3',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: ['users:read.email'],
  handle(ctx) {
    const token = callerToken(ctx);
    requireScope(token, ['users:read.email']);
    const email = (stringParam(ctx.params, 'email') ?? '').trim().toLowerCase();
    const user = ctx.state.usersByEmail.get(email);
    // Plural, unlike users.info's user_not_found.
    if (user === undefined) throw new SlackApiError('users_not_found');
    return success({ user: userObject(ctx.state, user, true) });
  },
};

export const info: MethodSpec = {
  name: 'users.info',
  tier: 'tier4',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: ['users:read'],
  handle(ctx) {
    const token = callerToken(ctx);
    requireScope(token, ['users:read']);
    const user = ctx.state.users.get(stringParam(ctx.params, 'user') ?? '');
    if (user === undefined) throw new SlackApiError('user_not_found');
    // The email is only shown to tokens that may read emails.
    return success({ user: userObject(ctx.state, user, token.scopes.has('users:read.email')) });
  },
};

export const userGroupsList: MethodSpec = {
  name: 'usergroups.list',
  tier: 'tier2',
  acceptsJson: false,
  needsToken: true,
  acceptedScopes: ['usergroups:read'],
  handle(ctx) {
    const token = callerToken(ctx);
    requireScope(token, ['usergroups:read']);
    const includeDisabled = booleanParam(ctx.params, 'include_disabled');
    const options = {
      includeUsers: booleanParam(ctx.params, 'include_users'),
      includeCount: booleanParam(ctx.params, 'include_count'),
    };
    const groups = ctx.state.userGroups.filter((g) => includeDisabled || g.disabled !== true);
    return success({ usergroups: groups.map((g) => userGroupObject(ctx.state, g, options)) });
  },
};
