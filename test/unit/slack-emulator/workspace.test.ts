// Workspace fixtures: the documented default workspace, YAML/JSON files, and clear refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultWorkspace,
  loadWorkspaceFile,
  parseWorkspace,
  startSlackEmulator,
  type Workspace,
} from '../../../src/dev/slack-emulator/index.ts';
import { call } from './raw-call.ts';

const dir = mkdtempSync(join(tmpdir(), 'slack-workspace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the default workspace', () => {
  it('is the documented demo workspace', () => {
    const w = defaultWorkspace();
    expect(w.team).toMatchObject({ name: 'Demo' });
    expect(w.tokens.find((t) => t.type === 'bot')?.token).toBe('xoxb-demo');
    const channels = Object.fromEntries(w.channels.map((c) => [c.name, c]));
    expect(Object.keys(channels)).toEqual(['general', 'alerts', 'ops-private', 'old-alerts']);
    expect(channels['ops-private']?.private).toBe(true);
    expect(channels['old-alerts']?.archived).toBe(true);
    for (const name of ['general', 'alerts', 'ops-private'])
      expect(channels[name]?.members).not.toContain(w.bot.userId);
    expect(w.users.map((u) => u.email)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(w.userGroups.map((g) => g.handle)).toEqual(['oncall']);
  });

  it('is a fresh copy each time', () => {
    const a = defaultWorkspace();
    a.channels.pop();
    expect(defaultWorkspace().channels).toHaveLength(4);
  });
});

describe('workspace files', () => {
  const minimal = {
    team: { id: 'T0TEST0001', name: 'Test', domain: 'test' },
    app: { id: 'A0TEST0001', name: 'app', clientId: 'c', clientSecret: 's', signingSecret: 'x' },
    bot: { userId: 'U0BOT00001', botId: 'B0BOT00001', name: 'bot' },
    users: [{ id: 'U0CAROL001', name: 'carol', realName: 'Carol', email: 'carol@example.org' }],
    channels: [{ id: 'C0DEPLOYS1', name: 'deploys', members: ['U0BOT00001'] }],
    tokens: [{ token: 'xoxb-test', type: 'bot', scopes: ['chat:write'] }],
  };

  it('loads YAML and JSON, filling the optional lists, and serves it', async () => {
    const yamlPath = join(dir, 'w.yaml');
    writeFileSync(yamlPath, yaml.dump(minimal));
    const jsonPath = join(dir, 'w.json');
    writeFileSync(jsonPath, JSON.stringify(minimal));
    const fromYaml = await loadWorkspaceFile(yamlPath);
    expect(fromYaml).toEqual({ ...minimal, userGroups: [], webhooks: [] });
    expect(await loadWorkspaceFile(jsonPath)).toEqual(fromYaml);
    const slack = await startSlackEmulator({ workspace: yamlPath, rateLimits: 'off' });
    try {
      const posted = await call(
        slack.apiUrl,
        'chat.postMessage',
        { channel: 'deploys', text: 'hi' },
        { token: 'xoxb-test' },
      );
      expect(posted.body).toMatchObject({ ok: true, channel: 'C0DEPLOYS1' });
    } finally {
      await slack.stop();
    }
  });

  it('refuses bad shapes and dangling references, listing every problem', () => {
    const bad = structuredClone(minimal) as unknown as Workspace;
    bad.channels.push({ id: 'c-lower', name: 'Bad Name', members: [] });
    expect(() => parseWorkspace(bad, 'bad.yaml')).toThrow(
      /bad\.yaml: invalid workspace:\n {2}\/channels\/1\/id must match pattern .*\n {2}\/channels\/1\/name must match pattern/,
    );
    const dangling = structuredClone(minimal) as unknown as Workspace;
    dangling.channels[0]?.members.push('U0GHOST001');
    dangling.tokens.push({ token: 'xoxp-x', type: 'user', scopes: [] });
    dangling.webhooks = [{ path: 'T0TEST0001/B0HOOK0001/abc', channel: 'C0NOWHERE1' }];
    expect(() => parseWorkspace(dangling)).toThrow(
      'invalid workspace:\n  channel deploys: unknown member U0GHOST001\n  a user token needs the userId of a workspace user\n  webhook: unknown channel C0NOWHERE1',
    );
  });
});
