// Kubernetes helpers for the benchmarks (no vitest here: test/support/kube.ts uses vitest's inject, these
// take the kubeconfig explicitly). Jobs are created with bounded concurrency; a JobWatch records, for every
// Job of a namespace, when the bench itself first saw its terminal condition (Complete=True or Failed=True).
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Watch,
  type V1Job,
} from '@kubernetes/client-node';
import { POD_ANNOTATIONS } from '../../src/dev/cluster/kwok-stages.ts';
import { ApiClient } from './apiserver.ts';
import { waitFor } from '../../src/dev/cluster/processes.ts';

export interface Kube {
  kubeconfig: string;
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  apiext: ApiextensionsV1Api;
}

export function connect(kubeconfig: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kubeconfig,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    apiext: kc.makeApiClient(ApiextensionsV1Api),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined). */
export const eventually = <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> => waitFor(what, probe, { timeoutMs, intervalMs });

export async function ensureNamespace(kube: Kube, name: string): Promise<void> {
  try {
    await kube.core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

export interface BenchJob {
  name: string;
  labels?: Record<string, string>;
  /** fail with this exit code (kwok stage); succeed otherwise */
  exitCode?: number;
}

export function jobManifest(namespace: string, job: BenchJob): V1Job {
  const annotations: Record<string, string> = {};
  if (job.exitCode !== undefined) annotations[POD_ANNOTATIONS.exitCode] = String(job.exitCode);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: job.name, namespace, labels: job.labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'example.com/batch:1' }],
        },
      },
    },
  };
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` in flight. */
export async function pool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

/**
 * Creates the Jobs with bounded concurrency over keep-alive HTTPS (client-node opens a TLS connection per
 * request, which makes the bench itself a CPU load on 2 cores), retrying transient errors; returns seconds.
 */
export async function createJobs(
  kube: Kube,
  namespace: string,
  jobs: readonly BenchJob[],
  concurrency = 50,
): Promise<number> {
  const api = await ApiClient.connect(kube, concurrency);
  const path = `/apis/batch/v1/namespaces/${namespace}/jobs`;
  const post = (body: string) =>
    api.request('POST', path, body, 'application/json', 30_000).then((r) => r.status);
  const began = performance.now();
  try {
    await pool(jobs.length, concurrency, async (i) => {
      const job = jobs[i];
      if (job === undefined) return;
      const body = JSON.stringify(jobManifest(namespace, job));
      for (let attempt = 1; ; attempt++) {
        const status = await post(body).catch(() => 0);
        if ((status >= 200 && status < 300) || status === 409) return; // 409: an earlier attempt made it
        if (attempt >= 5) throw new Error(`creating Job ${namespace}/${job.name}: HTTP ${status}`);
        await sleep(200 * attempt);
      }
    });
  } finally {
    api.close();
  }
  return (performance.now() - began) / 1000;
}

/** Jobs in the whole cluster, from one LIST with limit=1 (remainingItemCount). */
export async function countJobs(kube: Kube): Promise<number> {
  const list = await kube.batch.listJobForAllNamespaces({ limit: 1 });
  return list.items.length + (list.metadata?.remainingItemCount ?? 0);
}

const terminal = (job: V1Job): 'Succeeded' | 'Failed' | undefined => {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return 'Succeeded';
    if (c.type === 'Failed') return 'Failed';
  }
  return undefined;
};

/**
 * Watches the Jobs of one namespace (LIST, then WATCH from its resourceVersion, re-watching on close and
 * relisting on 410) and records when each Job's terminal condition was first seen, in ms since the epoch.
 * Only names and times are kept, so it stays small with tens of thousands of Jobs.
 */
export class JobWatch {
  readonly terminalAt = new Map<string, number>();
  readonly outcome = new Map<string, 'Succeeded' | 'Failed'>();
  readonly #kube: Kube;
  readonly #namespace: string;
  #resourceVersion = '';
  #abort: AbortController | undefined;
  #stopped = false;
  #waiters: (() => void)[] = [];

  private constructor(kube: Kube, namespace: string) {
    this.#kube = kube;
    this.#namespace = namespace;
  }

  static async start(kube: Kube, namespace: string): Promise<JobWatch> {
    const watch = new JobWatch(kube, namespace);
    await watch.#list();
    await watch.#watch();
    return watch;
  }

  get terminalCount(): number {
    return this.terminalAt.size;
  }

  #see(job: V1Job): void {
    const name = job.metadata?.name;
    if (name === undefined || this.terminalAt.has(name)) return;
    const event = terminal(job);
    if (event === undefined) return;
    this.terminalAt.set(name, Date.now());
    this.outcome.set(name, event);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async #list(): Promise<void> {
    let _continue: string | undefined;
    do {
      const page = await this.#kube.batch.listNamespacedJob({
        namespace: this.#namespace,
        limit: 500,
        _continue,
      });
      for (const job of page.items) this.#see(job);
      _continue = page.metadata?._continue;
      this.#resourceVersion = page.metadata?.resourceVersion ?? this.#resourceVersion;
    } while (_continue);
  }

  async #watch(): Promise<void> {
    if (this.#stopped) return;
    this.#abort = await new Watch(this.#kube.kc).watch(
      `/apis/batch/v1/namespaces/${this.#namespace}/jobs`,
      { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true },
      (type, object: V1Job & { code?: number }) => {
        if (type === 'ERROR') {
          if (object.code === 410) this.#resourceVersion = '';
          return;
        }
        const rv = object.metadata?.resourceVersion;
        if (rv !== undefined) this.#resourceVersion = rv;
        if (type === 'ADDED' || type === 'MODIFIED') this.#see(object);
      },
      () => {
        if (this.#stopped) return;
        void (async () => {
          await sleep(200);
          try {
            if (this.#resourceVersion === '') await this.#list();
            await this.#watch();
          } catch {
            this.#resourceVersion = '';
            await sleep(1000);
            if (!this.#stopped)
              await this.#list().then(
                () => this.#watch(),
                () => undefined,
              );
          }
        })();
      },
    );
  }

  /** Resolves once `count` Jobs are terminal (or rejects after timeoutMs). */
  async waitForTerminal(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.terminalAt.size < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out: ${this.terminalAt.size}/${count} Jobs terminal in ${this.#namespace} after ${timeoutMs} ms`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }
}
