// The default workspace: what the demo and users' previews run against. It is documented in
// docs/slack-emulator.md; `jobherald slack-emulator --print-workspace` prints it as YAML, as a template
// for your own --workspace file.
//
// The bot starts as a member of no channel: posting to #alerts gives not_in_channel until it joins,
// posting to #ops-private gives channel_not_found until a human invites it, as in real Slack.
import { parseWorkspace, type Workspace } from './workspace.ts';

const demo: Workspace = {
  team: { id: 'T0DEMO0001', name: 'Demo', domain: 'demo' },
  app: {
    id: 'A0JOBHERLD',
    name: 'jobherald',
    clientId: '1000000001.2000000001',
    clientSecret: 'demo-client-secret',
    signingSecret: 'demo-signing-secret',
  },
  bot: { userId: 'U0JOBHERLD', botId: 'B0JOBHERLD', name: 'jobherald' },
  users: [
    { id: 'U0ALICE001', name: 'alice', realName: 'Alice Example', email: 'alice@example.com', isAdmin: true },
    { id: 'U0BOB00001', name: 'bob', realName: 'Bob Example', email: 'bob@example.com' },
  ],
  userGroups: [
    {
      id: 'S0ONCALL01',
      handle: 'oncall',
      name: 'On-call',
      description: 'Who is on call',
      users: ['U0ALICE001'],
    },
  ],
  channels: [
    { id: 'C0GENERAL1', name: 'general', general: true, members: ['U0ALICE001', 'U0BOB00001'] },
    { id: 'C0ALERTS01', name: 'alerts', members: ['U0ALICE001', 'U0BOB00001'] },
    { id: 'C0OPSPRIV1', name: 'ops-private', private: true, members: ['U0ALICE001'] },
    { id: 'C0OLDALRT1', name: 'old-alerts', archived: true, members: ['U0ALICE001'] },
  ],
  tokens: [
    {
      // The bot token jobherald uses. No chat:write.public: the bot must join a public channel to post.
      token: 'xoxb-demo',
      type: 'bot',
      scopes: [
        'chat:write',
        'channels:read',
        'channels:join',
        'groups:read',
        'im:read',
        'users:read',
        'users:read.email',
        'usergroups:read',
      ],
    },
    {
      // Alice's user token: a human who can invite the bot into a private channel.
      token: 'xoxp-demo-alice',
      type: 'user',
      userId: 'U0ALICE001',
      scopes: ['chat:write', 'channels:read', 'channels:write', 'groups:read', 'groups:write', 'users:read'],
    },
  ],
  webhooks: [{ path: 'T0DEMO0001/B0HOOK0001/demowebhooksecret', channel: 'C0ALERTS01' }],
};

/** The documented demo workspace (team Demo, bot token xoxb-demo…), as a fresh copy each call. */
export function defaultWorkspace(): Workspace {
  return parseWorkspace(structuredClone(demo), 'default workspace');
}
