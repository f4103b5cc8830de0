// The operator as the benchmarks run it: `jobherald controller` as a child process (so its RSS is its own and it
// can be restarted), plus the CRDs and custom resources a scenario needs. Mirrors test/support/operator.ts
// without vitest.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationRule, NotificationRuleSpec, SlackIntegrationSpec } from '../../src/api/types.ts';
import { freePort } from '../../src/dev/cluster/ports.ts';
import { eventually, type Kube } from './kube.ts';
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
  metrics(): Promise<string>;
}

let runs = 0;

export async function startOperator(opts: {
  kubeconfig: string;
  namespace: string;
  ruleNamespaces: string[];
}): Promise<OperatorProcess> {
  const probePort = await freePort();
  const metricsPort = await freePort();
  const logDir = join(RESULTS, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `operator-${process.pid}-${++runs}.log`);
  const file = createWriteStream(logFile);
  const args = [
    join(ROOT, 'src/main.ts'),
    'controller',
    `--kubeconfig=${opts.kubeconfig}`,
    `--namespace=${opts.namespace}`,
    '--cluster-name=bench',
    `--cluster-rule-namespaces=${opts.ruleNamespaces.join(',')}`,
    `--integration-namespaces=${opts.namespace}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
    '--log-level=info',
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
          if (child.exitCode !== null) throw new Error(`operator exited ${child.exitCode}:\n${tail}`);
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
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGCONT'); // in case it was paused
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      file.end();
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
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
