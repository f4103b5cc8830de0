// The operator as the benchmarks run it: `jobherald controller` as a child process (so its RSS is its own and it
// can be restarted), plus the CRDs and custom resources a scenario needs. Mirrors test/support/operator.ts
// without vitest.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationRule, NotificationRuleSpec, SlackIntegrationSpec } from '../../src/api/types.ts';
import { freePort } from '../../src/dev/cluster/ports.ts';
import { eventually, sleep, type Kube } from './kube.ts';
import { parseMetrics, sum } from './stats.ts';
import { installCrds as installCrdsWith } from '../../src/dev/install-crds.ts';
import * as resources from '../../src/dev/resources.ts';
import { KubeConnection } from '../../src/kube/connection.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const RESULTS = join(ROOT, 'bench', 'results');
const GROUP = 'jobherald.dev';
const VERSION = 'v1alpha1';

/** Applies our CRDs as raw JSON (the typed client would drop their CEL rules) and waits until served. */
export const installCrds = (kube: Kube): Promise<void> => installCrdsWith(new KubeConnection(kube.kc));

export interface OperatorProcess {
  readonly pid: number;
  readonly startedAt: number;
  readonly logFile: string;
  /** ms from spawn to /readyz 200 */
  waitReady(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
  /** SIGSTOP: the process keeps its connections but handles nothing (its watch events queue up) */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  /** sends the signal and returns at once (failover: SIGKILL, or SIGTERM and its Lease release) */
  kill(signal: NodeJS.Signals): void;
  /** resolves when the process has exited */
  readonly exited: Promise<void>;
  metrics(): Promise<string>;
}

let runs = 0;

/**
 * What the bench runs: the bundle `npm run build` ships (ADR 0011), built once per bench run into a folder of its
 * own (so dist/ is left alone); BENCH_FROM_SOURCE=1 runs src/main.ts on type stripping instead.
 */
let entry: string | undefined;
function operatorEntry(): string {
  if (entry !== undefined) return entry;
  if (process.env.BENCH_FROM_SOURCE === '1') return (entry = join(ROOT, 'src/main.ts'));
  const outdir = join(ROOT, '.jobherald-bundle-bench');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.ts'), `--outdir=${outdir}`], { stdio: 'ignore' });
  return (entry = join(outdir, 'main.js'));
}

/** `src` or `bundle`: which of the two the bench ran (printed with the results) */
export const operatorBuild = (): string =>
  operatorEntry().endsWith('src/main.ts') ? 'src/ (type stripping)' : 'the shipped bundle';

export interface OperatorStartOptions {
  /** --leader-elect (the Lease is `jobherald` in `namespace`) */
  leaderElect?: boolean;
  /** more controller flags */
  args?: string[];
}

export async function startOperator(
  opts: { kubeconfig: string; namespace: string; ruleNamespaces: string[] } & OperatorStartOptions,
): Promise<OperatorProcess> {
  const probePort = await freePort();
  const metricsPort = await freePort();
  const logDir = join(RESULTS, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `operator-${process.pid}-${++runs}.log`);
  const file = createWriteStream(logFile);
  const args = [
    // e.g. BENCH_OPERATOR_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the operator
    ...(process.env.BENCH_OPERATOR_NODE_OPTIONS ?? '').split(' ').filter((a) => a !== ''),
    operatorEntry(),
    'controller',
    `--kubeconfig=${opts.kubeconfig}`,
    `--namespace=${opts.namespace}`,
    '--cluster-name=bench',
    `--cluster-rule-namespaces=${opts.ruleNamespaces.join(',')}`,
    `--integration-namespaces=${opts.namespace}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
    '--log-level=info',
    ...(opts.leaderElect === true ? ['--leader-elect'] : []),
    ...(opts.args ?? []),
  ];
  const startedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
    file.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    pid: child.pid ?? -1,
    startedAt,
    logFile,
    async waitReady(timeoutMs = 120_000) {
      await eventually(
        'the operator to be ready',
        async () => {
          if (child.exitCode !== null || child.signalCode !== null)
            throw new Error(`operator exited ${child.exitCode ?? child.signalCode}:\n${tail}`);
          const res = await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined);
          return res?.status === 200 ? true : undefined;
        },
        timeoutMs,
        25,
      );
      return performance.now() - startedAt;
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        file.end();
        return;
      }
      child.kill('SIGCONT'); // in case it was paused
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      file.end();
    },
    async metrics() {
      return (
        await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(60_000) })
      ).text();
    },
  };
}

export const createTokenSecret = (
  kube: Kube,
  namespace: string,
  name: string,
  token: string,
): Promise<void> => resources.createTokenSecret(kube.core, namespace, name, token);

export async function createIntegration(
  kube: Kube,
  namespace: string,
  name: string,
  spec: Partial<SlackIntegrationSpec> & { apiURL: string },
): Promise<void> {
  await resources.createIntegration(kube.custom, namespace, name, spec);
}

export async function createRule(
  kube: Kube,
  namespace: string,
  name: string,
  spec: NotificationRuleSpec,
): Promise<void> {
  await resources.createRule(kube.custom, namespace, name, spec);
}

export async function waitForReadyRules(
  kube: Kube,
  namespace: string,
  count: number,
  timeoutMs = 120_000,
): Promise<void> {
  let last = 0;
  try {
    await eventually(
      `${count} NotificationRules Ready`,
      async () => {
        const list = (await kube.custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: 'notificationrules',
        })) as { items: NotificationRule[] };
        last = list.items.filter((r) =>
          r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        return last >= count ? true : undefined;
      },
      timeoutMs,
      500,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${last}/${count} Ready`, { cause: error });
  }
}

/**
 * Resolves once the operator's start-up reconciles are over: jobherald_reconciles_total has not moved for
 * `quietMs`. Becoming leader reconciles every rule and integration, and the integration's first check
 * (Ready) wakes its rules once more; a scenario started before that would count them as its own.
 */
export async function waitReconcilesSettled(
  operator: OperatorProcess,
  quietMs = 3_000,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const count = async () => sum(parseMetrics(await operator.metrics()), 'jobherald_reconciles_total');
  let last = await count();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`reconciles still moving after ${timeoutMs} ms (${last})`);
    await sleep(500);
    const now = await count();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

/**
 * The operator the bench is currently measuring, and how to start another one the same way (restarts for P6,
 * leader-elected pairs for P8). Whoever replaces `current` stops the one before.
 */
export class OperatorSlot {
  current: OperatorProcess | undefined;
  readonly #opts: { kubeconfig: string; namespace: string; ruleNamespaces: string[] };

  constructor(opts: { kubeconfig: string; namespace: string; ruleNamespaces: string[] }) {
    this.#opts = opts;
  }

  /** the current operator; throws when there is none */
  get(): OperatorProcess {
    if (this.current === undefined) throw new Error('no operator is running');
    return this.current;
  }

  /** Another operator process (not put in the slot). */
  spawn(extra: OperatorStartOptions = {}): Promise<OperatorProcess> {
    return startOperator({ ...this.#opts, ...extra });
  }

  /** Stops the current operator (if any) and starts a fresh one in its place; resolves once spawned. */
  async restart(extra: OperatorStartOptions = {}): Promise<OperatorProcess> {
    await this.current?.stop();
    this.current = undefined;
    this.current = await this.spawn(extra);
    return this.current;
  }
}
