// The status writer coalesces: one write in flight per object, at most one every minIntervalMs, the newest
// state each time, nothing when nothing changed. A recording connection stands in for the API server (the
// real one is exercised by every e2e test); time is a manual clock.
import { describe, expect, it } from 'vitest';
import type { KubeConnection } from '../../../src/kube/connection.ts';
import { KubeApiError } from '../../../src/kube/connection.ts';
import { StatusWriter } from '../../../src/kube/status-writer.ts';
import { ManualClock, settle } from '../delivery/fake-clock.ts';

function recording(fail?: (n: number) => Error | undefined) {
  const writes: { path: string; body: unknown; at: number }[] = [];
  const clock = new ManualClock();
  const connection = {
    mergePatch: (path: string, body: unknown) => {
      writes.push({ path, body, at: clock.now() });
      const error = fail?.(writes.length);
      return error === undefined ? Promise.resolve({}) : Promise.reject(error);
    },
  } as unknown as KubeConnection;
  return { writes, clock, connection };
}

describe('StatusWriter', () => {
  it('writes a burst as one, then at most one every interval, always the newest state', async () => {
    const { writes, clock, connection } = recording();
    const writer = new StatusWriter(connection, { clock, minIntervalMs: 2_000 });
    let n = 0;
    const build = () => ({ totals: { delivered: n } });
    for (n = 1; n <= 5; n++) writer.request('/r', build);
    await settle();
    expect(writes.map((w) => w.body)).toEqual([{ status: { totals: { delivered: 6 } } }]);
    for (; n <= 50; n++) writer.request('/r', build);
    await clock.advance(1_999);
    expect(writes).toHaveLength(1);
    await clock.advance(1);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatchObject({ path: '/r/status', body: { status: { totals: { delivered: 51 } } } });
    expect(writes[1]!.at - writes[0]!.at).toBe(2_000);
  });

  it('skips a write equal to the last one, and removes fields set to undefined', async () => {
    const { writes, clock, connection } = recording();
    const writer = new StatusWriter(connection, { clock });
    writer.request('/r', () => ({ a: 1, ledger: { v: 1 } }));
    await settle();
    writer.request('/r', () => ({ a: 1, ledger: { v: 1 } }));
    await settle();
    writer.request('/r', () => ({ a: 1, ledger: undefined }));
    await settle();
    expect(writes.map((w) => w.body)).toEqual([
      { status: { a: 1, ledger: { v: 1 } } },
      { status: { a: 1, ledger: null } },
    ]);
  });

  it('retries a failed write with backoff and forgets an object that is gone', async () => {
    const { writes, clock, connection } = recording((n) =>
      n === 1
        ? new KubeApiError(500, 'InternalError', 'boom')
        : n === 3
          ? new KubeApiError(404, 'NotFound', 'gone')
          : undefined,
    );
    const writer = new StatusWriter(connection, { clock, retryMs: 1_000 });
    writer.request('/r', () => ({ a: 1 }));
    await settle();
    expect(writes).toHaveLength(1);
    await clock.advance(1_000);
    expect(writes).toHaveLength(2);
    writer.request('/r', () => ({ a: 2 }));
    await settle();
    expect(writes).toHaveLength(3); // 404: forgotten, not retried
    await clock.advance(60_000);
    expect(writes).toHaveLength(3);
  });
});
