import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/reconcilers/work-queue.ts';

describe('WorkQueue', () => {
  it('coalesces adds of a waiting key and never runs one key twice at once', async () => {
    const running = new Set<string>();
    const seen: string[] = [];
    let overlap = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WorkQueue({
      name: 't',
      concurrency: 1, // so b waits in the queue while a runs
      reconcile: async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        seen.push(key);
        if (seen.length === 1) await gate;
        running.delete(key);
      },
    });
    queue.add('a'); // starts, blocks on the gate
    queue.add('a'); // a is processing: marked dirty, runs once more afterwards
    queue.add('a');
    queue.add('b');
    queue.add('b'); // waiting: coalesced
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await queue.idle();
    expect(overlap).toBe(false);
    expect(seen.filter((k) => k === 'a')).toHaveLength(2);
    expect(seen.filter((k) => k === 'b')).toHaveLength(1);
  });

  it('retries a failing key with growing backoff and reports each error', async () => {
    const errors: number[] = [];
    let calls = 0;
    const queue = new WorkQueue({
      name: 't',
      baseBackoffMs: 5,
      reconcile: () => {
        calls++;
        return calls < 3 ? Promise.reject(new Error('boom')) : Promise.resolve();
      },
      onError: (_key, _error, retryIn) => errors.push(retryIn),
    });
    queue.add('k');
    await expect.poll(() => calls, { timeout: 2000 }).toBe(3);
    expect(errors).toEqual([5, 10]);
  });

  it('requeues after the delay a reconcile asks for', async () => {
    let calls = 0;
    const queue = new WorkQueue({
      name: 't',
      reconcile: () => Promise.resolve(++calls < 3 ? { requeueAfterMs: 5 } : undefined),
    });
    queue.add('k');
    await expect.poll(() => calls, { timeout: 2000 }).toBe(3);
    await queue.stop();
  });
});
