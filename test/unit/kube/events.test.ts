// The Event recorder: aggregated like client-go's, and a bounded stream of requests whatever the burst.
import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../src/kube/events.ts';
import type { KubeConnection } from '../../../src/kube/connection.ts';

interface Call {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** A connection whose requests wait until the test lets them finish; counts what is in flight at once. */
function fakeConnection(options: { failPosts?: number } = {}) {
  const calls: Call[] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failPosts = options.failPosts ?? 0;
  const request = (method: string, path: string, body: Record<string, unknown>) => {
    calls.push({ method, path, body });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve, reject) =>
      waiting.push(() => {
        inFlight--;
        if (method === 'POST' && failPosts > 0) {
          failPosts--;
          reject(new Error('boom'));
        } else resolve({});
      }),
    );
  };
  const connection = {
    json: (method: string, path: string, opts: { body: Record<string, unknown> }) =>
      request(method, path, opts.body),
    mergePatch: (path: string, body: Record<string, unknown>) => request('PATCH', path, body),
  } as unknown as KubeConnection;
  /** lets every waiting request finish, round after round, until none is left */
  const drain = async () => {
    for (let round = 0; round < 1000 && (waiting.length > 0 || round === 0); round++) {
      for (const finish of waiting.splice(0)) finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { connection, calls, drain, maxInFlight: () => maxInFlight };
}

const rule = (name: string) => ({
  apiVersion: 'jobherald.dev/v1alpha1',
  kind: 'NotificationRule',
  name,
  namespace: 'data',
  uid: `uid-${name}`,
});

describe('EventRecorder', () => {
  it('turns a burst of 1,000 identical Events into one POST and one PATCH carrying the count', async () => {
    const api = fakeConnection();
    const events = new EventRecorder(api.connection, { now: () => 1_000_000 });
    for (let i = 0; i < 1000; i++) events.record(rule('r'), 'Warning', 'DeliveryFailed', 'channel_not_found');
    await api.drain();
    await events.idle();
    expect(api.calls.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    expect(api.calls[0]!.body).toMatchObject({ count: 1, reason: 'DeliveryFailed', type: 'Warning' });
    expect(api.calls[1]!.body).toMatchObject({ count: 1000 });
    expect(api.calls[1]!.path).toBe(
      `/api/v1/namespaces/data/events/${(api.calls[0]!.body.metadata as { name: string }).name}`,
    );
  });

  it('has at most 4 requests in flight for 200 distinct Events, and sends every one', async () => {
    const api = fakeConnection();
    const events = new EventRecorder(api.connection);
    for (let i = 0; i < 200; i++) events.record(rule(`r${i}`), 'Warning', 'DeliveryFailed', 'x');
    expect(api.calls.length).toBe(4);
    await api.drain();
    await events.idle();
    expect(api.maxInFlight()).toBe(4);
    expect(api.calls.filter((c) => c.method === 'POST').length).toBe(200);
  });

  it('drops what exceeds 500 waiting Events, counts it, and never blocks the caller', async () => {
    const api = fakeConnection();
    const events = new EventRecorder(api.connection);
    for (let i = 0; i < 600; i++) events.record(rule(`r${i}`), 'Warning', 'DeliveryFailed', 'x');
    expect(events.dropped).toBe(96); // 4 in flight + 500 waiting
    await api.drain();
    await events.idle();
    expect(api.calls.length).toBe(504);
  });

  it('creates the Event again when its POST failed, instead of patching one that does not exist', async () => {
    const api = fakeConnection({ failPosts: 1 });
    const errors: unknown[] = [];
    const events = new EventRecorder(api.connection, { onError: (e) => errors.push(e) });
    events.record(rule('r'), 'Warning', 'DeliveryFailed', 'x');
    await api.drain();
    events.record(rule('r'), 'Warning', 'DeliveryFailed', 'x');
    await api.drain();
    await events.idle();
    expect(errors.length).toBe(1);
    expect(api.calls.map((c) => c.method)).toEqual(['POST', 'POST']);
  });

  it('records nothing once disabled (a standby must not write)', async () => {
    const api = fakeConnection();
    const events = new EventRecorder(api.connection);
    events.disable();
    events.record(rule('r'), 'Warning', 'DeliveryFailed', 'x');
    await api.drain();
    expect(api.calls).toEqual([]);
  });
});
