// The naive TypeScript baseline as the bench runs it: bench/peers/informer.ts (the stock client-node informer over
// every Job) in its own process, so its RSS and CPU are its own.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './operator.ts';

export interface InformerPeer {
  pid: number;
  /** ms from spawn to its cache filled (its first LIST done) */
  readyMs: number;
  jobs: number;
  stop(): Promise<void>;
}

/** Starts the informer peer; resolves once its cache is filled. */
export async function startInformerPeer(kubeconfig: string, timeoutMs = 600_000): Promise<InformerPeer> {
  const child = spawn(process.execPath, [join(ROOT, 'bench/peers/informer.ts'), kubeconfig], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const ready = await new Promise<{ ms: number; jobs: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`the client-node informer did not sync in ${timeoutMs / 60_000} min`)),
      timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { ms: number; jobs: number });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the client-node informer exited with ${code}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { pid: child.pid ?? -1, readyMs: ready.ms, jobs: ready.jobs, stop };
}
