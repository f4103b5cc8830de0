// The emulated Slack workspace as data: the fixture format (YAML or JSON) and its validation.
// The demo's workspace is in default-workspace.ts.
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';

export interface Workspace {
  team: { id: string; name: string; domain: string };
  /** The one Slack app installed in the workspace (jobherald's). */
  app: {
    id: string;
    name: string;
    clientId: string;
    clientSecret: string;
    /** Signs interactivity payloads (v0 signature). */
    signingSecret: string;
    /** Where button clicks are POSTed (block_actions); none by default. */
    requestUrl?: string;
    /** Whether oauth.v2.access issues expiring `xoxe.` tokens with a refresh token. */
    tokenRotation?: boolean;
  };
  /** The app's bot user: it is a channel member when its userId is in the channel's members. */
  bot: { userId: string; botId: string; name: string };
  users: WorkspaceUser[];
  userGroups: WorkspaceUserGroup[];
  channels: WorkspaceChannel[];
  tokens: WorkspaceToken[];
  webhooks: WorkspaceWebhook[];
}

export interface WorkspaceUser {
  id: string;
  name: string;
  realName: string;
  email?: string;
  deleted?: boolean;
  isAdmin?: boolean;
  tz?: string;
}

export interface WorkspaceUserGroup {
  id: string;
  handle: string;
  name: string;
  description?: string;
  users: string[];
  disabled?: boolean;
}

export interface WorkspaceChannel {
  id: string;
  name: string;
  private?: boolean;
  archived?: boolean;
  /** The workspace's #general: it cannot be left. */
  general?: boolean;
  /** User IDs, the bot user included when the bot is a member. */
  members: string[];
  topic?: string;
  purpose?: string;
}

export interface WorkspaceToken {
  token: string;
  /** A bot token acts as the bot user; a user token as `userId`. */
  type: 'bot' | 'user';
  userId?: string;
  scopes: string[];
}

export interface WorkspaceWebhook {
  /** The part after /services/, e.g. `T0DEMO0001/B0HOOK0001/abc123` */
  path: string;
  channel: string;
}

const id = (prefix: string) => ({ type: 'string', pattern: `^[${prefix}][A-Z0-9]{8,}$` });

// Slack's own ID shapes (as its OpenAPI spec states them), so that every response the emulator gives
// carries IDs that real clients and the conformance test accept.
const workspaceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['team', 'app', 'bot', 'users', 'channels', 'tokens'],
  properties: {
    team: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'domain'],
      properties: {
        id: id('T'),
        name: { type: 'string' },
        domain: { type: 'string', pattern: '^[a-z0-9-]+$' },
      },
    },
    app: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'clientId', 'clientSecret', 'signingSecret'],
      properties: {
        id: id('A'),
        name: { type: 'string' },
        clientId: { type: 'string', minLength: 1 },
        clientSecret: { type: 'string', minLength: 1 },
        signingSecret: { type: 'string', minLength: 1 },
        requestUrl: { type: 'string' },
        tokenRotation: { type: 'boolean' },
      },
    },
    bot: {
      type: 'object',
      additionalProperties: false,
      required: ['userId', 'botId', 'name'],
      properties: { userId: id('UW'), botId: id('B'), name: { type: 'string' } },
    },
    users: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'realName'],
        properties: {
          id: id('UW'),
          name: { type: 'string' },
          realName: { type: 'string' },
          email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
          deleted: { type: 'boolean' },
          isAdmin: { type: 'boolean' },
          tz: { type: 'string' },
        },
      },
    },
    userGroups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'handle', 'name', 'users'],
        properties: {
          id: id('S'),
          handle: { type: 'string' },
          name: { type: 'string' },
          description: { type: 'string' },
          users: { type: 'array', items: { type: 'string' } },
          disabled: { type: 'boolean' },
        },
      },
    },
    channels: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'members'],
        properties: {
          id: id('CG'),
          name: { type: 'string', pattern: '^[a-z0-9_-]{1,80}$' },
          private: { type: 'boolean' },
          archived: { type: 'boolean' },
          general: { type: 'boolean' },
          members: { type: 'array', items: { type: 'string' } },
          topic: { type: 'string' },
          purpose: { type: 'string' },
        },
      },
    },
    tokens: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['token', 'type', 'scopes'],
        properties: {
          token: { type: 'string', pattern: '^xox[bpe]' },
          type: { enum: ['bot', 'user'] },
          userId: { type: 'string' },
          scopes: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    webhooks: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'channel'],
        properties: {
          path: { type: 'string', pattern: '^T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+$' },
          channel: { type: 'string' },
        },
      },
    },
  },
} as const;

const validateShape = new Ajv({ allErrors: true }).compile(workspaceSchema);

/** Checks a parsed fixture and fills the optional lists; throws with every problem found. */
export function parseWorkspace(data: unknown, source = 'workspace'): Workspace {
  if (!validateShape(data)) {
    const problems = (validateShape.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    throw new Error(`${source}: invalid workspace:\n  ${problems.join('\n  ')}`);
  }
  const input = data as Partial<Workspace> & Pick<Workspace, 'team' | 'app' | 'bot' | 'users' | 'channels'>;
  const workspace: Workspace = {
    ...input,
    userGroups: input.userGroups ?? [],
    tokens: input.tokens ?? [],
    webhooks: input.webhooks ?? [],
  };
  const problems = crossReferenceProblems(workspace);
  if (problems.length > 0) throw new Error(`${source}: invalid workspace:\n  ${problems.join('\n  ')}`);
  return workspace;
}

// What a schema cannot say: IDs are unique and every reference points at something that exists.
function crossReferenceProblems(w: Workspace): string[] {
  const problems: string[] = [];
  const userIds = new Set([w.bot.userId]);
  for (const user of w.users) {
    if (userIds.has(user.id)) problems.push(`user ${user.id} is defined twice`);
    userIds.add(user.id);
  }
  const seen = new Set<string>();
  for (const channel of w.channels) {
    if (seen.has(channel.id) || seen.has(channel.name))
      problems.push(`channel ${channel.id} is defined twice`);
    seen.add(channel.id).add(channel.name);
    for (const member of channel.members)
      if (!userIds.has(member)) problems.push(`channel ${channel.name}: unknown member ${member}`);
  }
  for (const group of w.userGroups)
    for (const member of group.users)
      if (!userIds.has(member)) problems.push(`user group ${group.handle}: unknown user ${member}`);
  for (const token of w.tokens) {
    if (token.type === 'user' && (token.userId === undefined || !userIds.has(token.userId)))
      problems.push(`a user token needs the userId of a workspace user`);
  }
  for (const hook of w.webhooks)
    if (!w.channels.some((c) => c.id === hook.channel))
      problems.push(`webhook: unknown channel ${hook.channel}`);
  return problems;
}

export function parseWorkspaceText(text: string, source: string): Workspace {
  return parseWorkspace(yaml.load(text), source); // YAML is a superset of JSON: one parser reads both
}

export async function loadWorkspaceFile(path: string): Promise<Workspace> {
  return parseWorkspaceText(await readFile(path, 'utf8'), path);
}
