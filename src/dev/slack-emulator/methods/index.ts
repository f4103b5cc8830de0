// The Web API methods the emulator answers, by name. Anything else is `unknown_method`.
import * as auth from './auth.ts';
import * as chat from './chat.ts';
import * as conversations from './conversations.ts';
import type { MethodSpec } from './method.ts';
import * as oauth from './oauth.ts';
import * as users from './users.ts';

const all: MethodSpec[] = [
  auth.test,
  auth.revoke,
  chat.postMessage,
  chat.update,
  chat.getPermalink,
  conversations.list,
  conversations.info,
  conversations.join,
  conversations.leave,
  conversations.invite,
  conversations.members,
  users.lookupByEmail,
  users.info,
  users.userGroupsList,
  oauth.access,
  oauth.uninstall,
];

export const methods: ReadonlyMap<string, MethodSpec> = new Map(all.map((m) => [m.name, m]));
