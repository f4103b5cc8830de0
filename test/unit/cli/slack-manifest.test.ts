import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { BOT_SCOPES, run, slackManifest } from '../../../src/cli/slack-manifest.ts';
import { memoryIo } from './io.ts';

interface Manifest {
  display_information: { name: string };
  features: { bot_user: { display_name: string } };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: { token_rotation_enabled: boolean };
}

describe('jobherald slack-manifest', () => {
  it('prints a YAML manifest with exactly the scopes the operator needs, each commented', async () => {
    const io = memoryIo();
    expect(await run([], io)).toBe(0);
    const manifest = yaml.load(io.stdout()) as Manifest;
    expect(manifest.oauth_config.scopes.bot).toEqual([
      'chat:write',
      'channels:read',
      'groups:read',
      'channels:join',
      'users:read',
      'users:read.email',
      'usergroups:read',
    ]);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
    expect(manifest.settings.token_rotation_enabled).toBe(false);
    for (const scope of manifest.oauth_config.scopes.bot)
      expect(io.stdout()).toMatch(new RegExp(`- ${scope} # \\S`));
  });

  it('turns token rotation on with --token-rotation, and says what to put in which Secret', async () => {
    const io = memoryIo();
    expect(await run(['--token-rotation'], io)).toBe(0);
    const manifest = yaml.load(io.stdout()) as Manifest;
    expect(manifest.settings.token_rotation_enabled).toBe(true);
    expect(io.stdout()).toContain('--from-literal=refresh-token=xoxe-1-…');
    expect(io.stdout()).toContain('client-secret');
  });

  it('names the OAuth redirect URL with --redirect-url, https only', async () => {
    const io = memoryIo();
    expect(await run(['--redirect-url', 'https://jobherald.example.com/slack/oauth/callback'], io)).toBe(0);
    const manifest = yaml.load(io.stdout()) as Manifest & { oauth_config: { redirect_urls: string[] } };
    expect(manifest.oauth_config.redirect_urls).toEqual([
      'https://jobherald.example.com/slack/oauth/callback',
    ]);
    const bad = memoryIo();
    expect(await run(['--redirect-url', 'http://jobherald.example.com/cb'], bad)).toBe(2);
    expect(bad.stderr()).toContain('https://');
  });

  it('adds channels:manage only for leaveUnused', () => {
    const manifest = yaml.load(slackManifest('jobherald', true)) as Manifest;
    expect(manifest.oauth_config.scopes.bot).toContain('channels:manage');
    expect(manifest.oauth_config.scopes.bot).toHaveLength(BOT_SCOPES.length);
  });

  it('uses the name, quoted, and a bot name Slack accepts', () => {
    const manifest = yaml.load(slackManifest('Acme "Job" Alerts: prod', false)) as Manifest;
    expect(manifest.display_information.name).toBe('Acme "Job" Alerts: prod');
    expect(manifest.features.bot_user.display_name).toBe('acme-job-alerts-prod');
  });

  it('refuses names Slack would refuse', async () => {
    const io = memoryIo();
    expect(await run(['--name', 'x'.repeat(36)], io)).toBe(2);
    expect(io.stderr()).toContain('--name must be 1 to 35 characters');
    expect(await run(['--name', '  '], memoryIo())).toBe(2);
  });
});
