// Token rotation without a cluster: which Secret a token is read from, when it is due, and the refresh's
// order of things (fresh read, refresh, conditional write, conflict, a write that fails) against an in-memory
// Secret store that behaves like the API server's resourceVersion checks, and a scripted Slack app.
import { describe, expect, it } from 'vitest';
import type { SlackIntegration } from '../../../src/api/types.ts';
import { PermanentError, RetryableError } from '../../../src/errors.ts';
import {
  SecretConflictError,
  type SecretStore,
  type SecretWrite,
  type StoredSecret,
} from '../../../src/reconcilers/sinks.ts';
import {
  fingerprint,
  readCredentials,
  REFRESH_MARGIN_MS,
  refreshAfter,
  SEEDED_FROM_ANNOTATION,
  secretNamesOf,
  type CachedSecret,
} from '../../../src/reconcilers/token-credentials.ts';
import { TokenRotation } from '../../../src/reconcilers/token-rotation.ts';
import type { SlackAppPort, TokenGrant } from '../../../src/slack/port.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const b64 = (v: string) => Buffer.from(v).toString('base64');
const plain = (data: Record<string, string>) =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

function integration(spec: Partial<SlackIntegration['spec']> = {}): SlackIntegration {
  return {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'SlackIntegration',
    metadata: { name: 'acme', namespace: 'ops', uid: 'uid-acme', generation: 1 },
    spec: {
      tokenSecretRef: { name: 'acme-token' },
      oauth: { clientID: '1.2', clientSecretRef: { name: 'acme-app' } },
      ...spec,
    },
  };
}

/** Secrets with resourceVersions: a write based on an old version is a conflict, as on the API server. */
class MemorySecrets implements SecretStore {
  readonly secrets = new Map<string, StoredSecret>();
  readonly writes: SecretWrite[] = [];
  #version = 10;
  failWrites = 0;
  /** runs before a write is checked: another writer getting in between */
  beforeWrite: (() => void) | undefined;

  put(name: string, values: Record<string, string>, annotations: Record<string, string> = {}): void {
    this.secrets.set(name, {
      namespace: 'ops',
      name,
      resourceVersion: String(++this.#version),
      data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)])),
      annotations,
      ownerUIDs: [],
    });
  }

  cached(name: string): CachedSecret | undefined {
    const s = this.secrets.get(name);
    return s === undefined
      ? undefined
      : { name, resourceVersion: s.resourceVersion, data: s.data, annotations: s.annotations };
  }

  read(_namespace: string, name: string): Promise<StoredSecret | undefined> {
    return Promise.resolve(this.secrets.get(name));
  }

  write(write: SecretWrite): Promise<StoredSecret> {
    this.writes.push(write);
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    hook?.();
    if (this.failWrites > 0) {
      this.failWrites--;
      return Promise.reject(new RetryableError('kube_unreachable', 'writing Secret: connection refused'));
    }
    const existing = this.secrets.get(write.name);
    if ((existing?.resourceVersion ?? undefined) !== write.resourceVersion)
      return Promise.reject(new SecretConflictError(write.namespace, write.name));
    const values = { ...(existing === undefined ? {} : plain(existing.data)), ...write.values };
    this.put(write.name, values, { ...existing?.annotations, ...write.annotations });
    const stored = this.secrets.get(write.name)!;
    if (write.owner !== undefined) stored.ownerUIDs = [write.owner.uid];
    return Promise.resolve(stored);
  }
}

/** A Slack app that grants each refresh token once, as Slack does. */
class ScriptedApp implements Pick<SlackAppPort, 'refresh'> {
  readonly spent: string[] = [];
  #n = 0;
  error: Error | undefined;

  refresh(refreshToken: string): Promise<TokenGrant> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.spent.includes(refreshToken))
      return Promise.reject(
        new PermanentError('invalid_refresh_token', 'oauth.v2.access: invalid_refresh_token'),
      );
    this.spent.push(refreshToken);
    this.#n++;
    return Promise.resolve({
      accessToken: `xoxe.xoxb-new-${this.#n}`,
      refreshToken: `xoxe-1-new-${this.#n}`,
      expiresInSeconds: 43_200,
      scopes: ['chat:write'],
      teamId: 'T0DEMO0001',
    });
  }
}

const rotating = (n: number) => ({
  token: `xoxe.xoxb-old-${n}`,
  'refresh-token': `xoxe-1-old-${n}`,
  'expires-at': '2026-12-02T13:00:00Z',
});

function setUp(spec: Partial<SlackIntegration['spec']> = {}) {
  const secrets = new MemorySecrets();
  secrets.put('acme-token', rotating(1));
  secrets.put('acme-app', { 'client-secret': 'shh' });
  const object = integration(spec);
  const read = () => {
    const r = readCredentials(object, (name) => secrets.cached(name));
    if (!r.ok) throw new Error(r.message);
    return r.credentials;
  };
  return { secrets, object, read, app: new ScriptedApp(), rotation: new TokenRotation(secrets, () => NOW) };
}

describe('readCredentials', () => {
  it('reads the token, refresh token and expiry from tokenSecretRef’s Secret', () => {
    const { read } = setUp();
    expect(read()).toEqual({
      secretName: 'acme-token',
      token: 'xoxe.xoxb-old-1',
      refreshToken: 'xoxe-1-old-1',
      expiresAt: Date.parse('2026-12-02T13:00:00Z'),
      sourceFingerprint: fingerprint('xoxe-1-old-1'),
    });
  });

  it('says which Secret or key is missing', () => {
    const object = integration({ tokenSecretRef: { name: 'gone', key: 'bot' } });
    expect(readCredentials(object, () => undefined)).toMatchObject({ ok: false, reason: 'SecretNotFound' });
    expect(readCredentials(object, () => ({ name: 'gone', data: { token: b64('x') } }))).toMatchObject({
      ok: false,
      reason: 'SecretKeyMissing',
      message: 'Secret "gone" has no key "bot"',
    });
  });

  it('prefers the owned Secret only while it was seeded from the user’s current refresh token', () => {
    const { secrets, object } = setUp({ tokenRotation: { secretName: 'acme-rotated' } });
    secrets.put('acme-rotated', rotating(2), { [SEEDED_FROM_ANNOTATION]: fingerprint('xoxe-1-old-1') });
    const get = (name: string) => secrets.cached(name);
    expect(readCredentials(object, get)).toMatchObject({
      ok: true,
      credentials: { secretName: 'acme-rotated', token: 'xoxe.xoxb-old-2' },
    });
    // a reinstall put a new refresh token into the user's Secret: it wins over the owned copy of the old one
    secrets.put('acme-token', rotating(3));
    expect(readCredentials(object, get)).toMatchObject({
      ok: true,
      credentials: { secretName: 'acme-token', token: 'xoxe.xoxb-old-3' },
    });
  });

  it('names every Secret the integration reads, for the watch to requeue it', () => {
    expect(secretNamesOf(integration({ tokenRotation: { secretName: 'acme-rotated' } }))).toEqual([
      'acme-token',
      'acme-app',
      'acme-rotated',
    ]);
  });
});

describe('refreshAfter', () => {
  it('is the expiry less the margin, at once when the expiry is unknown, never without a refresh token', () => {
    const expiresAt = NOW + 12 * 3_600_000;
    expect(refreshAfter({ secretName: 's', token: 't', refreshToken: 'r', expiresAt })).toBe(
      expiresAt - REFRESH_MARGIN_MS,
    );
    expect(REFRESH_MARGIN_MS).toBeGreaterThanOrEqual(2 * 3_600_000); // more than the SDKs' 2 hours
    expect(refreshAfter({ secretName: 's', token: 't', refreshToken: 'r' })).toBe(0);
    expect(refreshAfter({ secretName: 's', token: 'xoxe.xoxb-1', expiresAt })).toBeUndefined();
  });
});

describe('TokenRotation.refresh', () => {
  it('spends the refresh token once and stores the new token, refresh token and expiry on the version it read', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    const before = secrets.secrets.get('acme-token')!.resourceVersion;
    const outcome = await rotation.refresh(object, read(), app);
    expect(outcome).toMatchObject({
      kind: 'refreshed',
      credentials: { token: 'xoxe.xoxb-new-1', refreshToken: 'xoxe-1-new-1' },
    });
    expect(app.spent).toEqual(['xoxe-1-old-1']);
    expect(secrets.writes).toHaveLength(1);
    expect(secrets.writes[0]).toMatchObject({ name: 'acme-token', resourceVersion: before });
    expect(plain(secrets.secrets.get('acme-token')!.data)).toEqual({
      token: 'xoxe.xoxb-new-1',
      'refresh-token': 'xoxe-1-new-1',
      'expires-at': '2026-12-03T00:00:00Z',
    });
    expect(secrets.secrets.get('acme-token')!.annotations['jobherald.dev/token-refreshed-at']).toBe(
      '2026-12-02T12:00:00Z',
    );
  });

  it('uses a newer token it finds in the Secret (another replica refreshed) and spends nothing', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    const stale = read(); // the watch's cache, behind the API server
    secrets.put('acme-token', rotating(2));
    expect(await rotation.refresh(object, stale, app)).toMatchObject({
      kind: 'adopted',
      credentials: { token: 'xoxe.xoxb-old-2' },
    });
    expect(app.spent).toEqual([]);
    expect(secrets.writes).toEqual([]);
  });

  it('believes invalid_refresh_token only when the Secret still holds the refused token', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    app.spent.push('xoxe-1-old-1'); // spent elsewhere, nothing stored
    expect(await rotation.refresh(object, read(), app)).toMatchObject({
      kind: 'failed',
      reason: 'RefreshTokenInvalid',
      stalled: true,
    });
    // spent by a writer whose write lands while we ask Slack
    const slow = new ScriptedApp();
    slow.spent.push('xoxe-1-old-1');
    const racing: Pick<SlackAppPort, 'refresh'> = {
      refresh: (token) => {
        secrets.put('acme-token', rotating(2));
        return slow.refresh(token);
      },
    };
    expect(await rotation.refresh(object, read(), racing)).toMatchObject({
      kind: 'adopted',
      credentials: { token: 'xoxe.xoxb-old-2' },
    });
  });

  it('after a conflict, writes again on the new version when the Secret still holds the spent token', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    // someone edits another key of the Secret between our read and our write
    secrets.beforeWrite = () => secrets.put('acme-token', { ...rotating(1), note: 'hello' });
    expect(await rotation.refresh(object, read(), app)).toMatchObject({ kind: 'refreshed' });
    expect(secrets.writes).toHaveLength(2);
    expect(plain(secrets.secrets.get('acme-token')!.data)).toMatchObject({
      token: 'xoxe.xoxb-new-1',
      note: 'hello',
    });
    expect(app.spent).toHaveLength(1);
  });

  it('after a conflict, lets a person’s new token win over the one it was granted', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    secrets.beforeWrite = () => secrets.put('acme-token', rotating(7));
    expect(await rotation.refresh(object, read(), app)).toMatchObject({
      kind: 'adopted',
      credentials: { token: 'xoxe.xoxb-old-7' },
    });
    expect(plain(secrets.secrets.get('acme-token')!.data).token).toBe('xoxe.xoxb-old-7');
  });

  it('lets a person’s install made during the Slack call win, on the first write too', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    const during: Pick<SlackAppPort, 'refresh'> = {
      refresh: (token) => {
        secrets.put('acme-token', rotating(9)); // a reinstall lands while Slack answers
        return app.refresh(token);
      },
    };
    expect(await rotation.refresh(object, read(), during)).toMatchObject({
      kind: 'adopted',
      credentials: { token: 'xoxe.xoxb-old-9' },
    });
    expect(secrets.writes).toEqual([]);
    expect(plain(secrets.secrets.get('acme-token')!.data).token).toBe('xoxe.xoxb-old-9');
  });

  it('keeps a granted token whose write failed, retries the write, and never spends the refresh token twice', async () => {
    const { secrets, object, read, app, rotation } = setUp();
    secrets.failWrites = 1;
    const first = await rotation.refresh(object, read(), app);
    expect(first).toMatchObject({ kind: 'unstored' });
    expect(rotation.hasUnstored).toBe(true);
    expect(plain(secrets.secrets.get('acme-token')!.data).token).toBe('xoxe.xoxb-old-1'); // the old one stays in use
    expect(await rotation.refresh(object, read(), app)).toMatchObject({
      kind: 'refreshed',
      credentials: { token: 'xoxe.xoxb-new-1' },
    });
    expect(app.spent).toEqual(['xoxe-1-old-1']);
    expect(rotation.hasUnstored).toBe(false);
  });

  it('creates the owned Secret, owned by the integration and seeded from the user’s refresh token', async () => {
    const { secrets, object, read, app, rotation } = setUp({ tokenRotation: { secretName: 'acme-rotated' } });
    expect(await rotation.refresh(object, read(), app)).toMatchObject({
      kind: 'refreshed',
      credentials: { secretName: 'acme-rotated' },
    });
    expect(secrets.writes[0]).toMatchObject({
      name: 'acme-rotated',
      resourceVersion: undefined,
      owner: { kind: 'SlackIntegration', name: 'acme', uid: 'uid-acme' },
    });
    const owned = secrets.secrets.get('acme-rotated')!;
    expect(owned.ownerUIDs).toEqual(['uid-acme']);
    expect(owned.annotations[SEEDED_FROM_ANNOTATION]).toBe(fingerprint('xoxe-1-old-1'));
    expect(plain(secrets.secrets.get('acme-token')!.data).token).toBe('xoxe.xoxb-old-1'); // the user's Secret untouched
    // the next read picks the owned Secret, and the next refresh spends its refresh token
    expect(read()).toMatchObject({ secretName: 'acme-rotated', token: 'xoxe.xoxb-new-1' });
    expect(await rotation.refresh(object, read(), app)).toMatchObject({
      kind: 'refreshed',
      credentials: { token: 'xoxe.xoxb-new-2' },
    });
    expect(app.spent).toEqual(['xoxe-1-old-1', 'xoxe-1-new-1']);
  });

  it('while the watch lags behind its write to the owned Secret, adopts that write instead of spending the spent token', async () => {
    const { secrets, object, app, rotation } = setUp({ tokenRotation: { secretName: 'acme-rotated' } });
    const lagging = new Map(secrets.secrets); // the watch cache as it was before the first refresh
    const readLagging = () => {
      const r = readCredentials(object, (name) => {
        const s = lagging.get(name);
        return s === undefined ? undefined : { name, data: s.data, annotations: s.annotations };
      });
      if (!r.ok) throw new Error(r.message);
      return r.credentials;
    };
    expect(await rotation.refresh(object, readLagging(), app)).toMatchObject({ kind: 'refreshed' });
    // the next reconcile still sees only the user's Secret, with the refresh token spent a moment ago
    expect(readLagging()).toMatchObject({ secretName: 'acme-token', refreshToken: 'xoxe-1-old-1' });
    expect(await rotation.refresh(object, readLagging(), app)).toMatchObject({
      kind: 'adopted',
      credentials: { secretName: 'acme-rotated', token: 'xoxe.xoxb-new-1', refreshToken: 'xoxe-1-new-1' },
    });
    expect(app.spent).toEqual(['xoxe-1-old-1']);
    // an owned Secret seeded from another user token (a reinstall since) is not adopted
    secrets.put('acme-token', rotating(2));
    lagging.set('acme-token', secrets.secrets.get('acme-token')!);
    lagging.delete('acme-rotated');
    expect(await rotation.refresh(object, readLagging(), app)).toMatchObject({
      kind: 'refreshed',
      credentials: { token: 'xoxe.xoxb-new-2' },
    });
    expect(app.spent).toEqual(['xoxe-1-old-1', 'xoxe-1-old-2']);
  });

  it('names the app credentials when Slack refuses them, and never puts a token in a message', async () => {
    const { object, read, app, rotation } = setUp();
    app.error = new PermanentError('bad_client_secret', 'oauth.v2.access: bad_client_secret');
    const outcome = await rotation.refresh(object, read(), app);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'OAuthClientInvalid', stalled: true });
    app.error = new RetryableError('http_503', 'oauth.v2.access: HTTP 503');
    const transient = await rotation.refresh(object, read(), app);
    expect(transient).toMatchObject({ kind: 'failed', reason: 'SlackUnavailable', stalled: false });
    for (const o of [outcome, transient]) expect(JSON.stringify(o)).not.toMatch(/xoxe|shh/);
  });
});
