// e2e support for the operator: install the CRDs, run `jobherald controller` as a real child process (so a
// test can SIGKILL and restart it), and create the objects a scenario needs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import type {
  NotificationRule,
  NotificationRuleSpec,
  SlackIntegration,
  SlackIntegrationSpec,
} from '../../src/api/types.ts';
import { freePort } from '../../src/dev/cluster/ports.ts';
import { installCrds as installCrdsInto } from '../../src/dev/install-crds.ts';
import * as resources from '../../src/dev/resources.ts';
import { KubeConnection } from '../../src/kube/connection.ts';
import { eventually, kube } from './kube.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const GROUP = 'jobherald.dev';
const VERSION = 'v1alpha1';

/** Creates or updates our CRDs and waits until the API server serves them. */
export const installCrds = (): Promise<void> => installCrdsInto(new KubeConnection(kube().kc));

export interface OperatorProcess {
  readonly pid: number;
  readonly probePort: number;
  readonly metricsPort: number;
  logs(): string;
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGKILL: a crash, no graceful shutdown */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit */
  stop(): Promise<number | null>;
  metrics(): Promise<string>;
}

export interface OperatorOptions {
  namespace: string;
  clusterRuleNamespaces?: string[];
  integrationNamespaces?: string[];
  clusterName?: string;
  leaderElect?: boolean;
  kubeconfig?: string;
  args?: string[];
}

let runCounter = 0;
/** Operators this worker started: killed when it exits, however it exits, so none outlives a test run. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `jobherald controller` against the e2e cluster with fast re-check intervals for tests. */
export async function startOperator(opts: OperatorOptions): Promise<OperatorProcess> {
  const probePort = await freePort();
  const metricsPort = await freePort();
  const logDir = join(ROOT, '.jobherald', 'e2e-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `operator-${process.pid}-${++runCounter}.log`);
  const args = [
    join(ROOT, process.env.JOBHERALD_E2E_FROM_SOURCE === '1' ? 'src/main.ts' : 'dist/main.js'),
    'controller',
    `--kubeconfig=${opts.kubeconfig ?? inject('kubeconfig')}`,
    `--namespace=${opts.namespace}`,
    `--cluster-name=${opts.clusterName ?? 'e2e'}`,
    `--cluster-rule-namespaces=${(opts.clusterRuleNamespaces ?? [opts.namespace]).join(',')}`,
    `--integration-namespaces=${(opts.integrationNamespaces ?? [opts.namespace]).join(',')}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
    '--parked-recheck-interval=1s',
    '--log-level=debug',
    ...(opts.leaderElect ? ['--leader-elect'] : []),
    ...(opts.args ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return superviseOperator(child, { probePort, metricsPort, logFile });
}

export interface SupervisedOptions {
  probePort: number;
  metricsPort: number;
  /** where its output is kept (besides logs()) */
  logFile: string;
  /** how a signal reaches the operator (default: the child itself; a container's PID 1 for the image) */
  signal?: (signal: 'SIGTERM' | 'SIGKILL') => void;
  /** after the child exited (clean-ups of the caller) */
  onExit?: () => void;
}

/**
 * The handle of a started operator, whatever runs it (Node here, crun for the image): its output, its
 * probes, its metrics, and its end. Killed when this worker exits, however it exits.
 */
export function superviseOperator(child: ChildProcess, o: SupervisedOptions): OperatorProcess {
  const file = createWriteStream(o.logFile);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    file.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      o.onExit?.();
      resolve(code);
    }),
  );
  const signal = o.signal ?? ((sig: NodeJS.Signals) => child.kill(sig));
  return {
    pid: child.pid ?? -1,
    probePort: o.probePort,
    metricsPort: o.metricsPort,
    logs: () => output,
    async waitReady(timeoutMs = 30_000) {
      await eventually(
        'the operator to be ready',
        async () => {
          if (child.exitCode !== null)
            throw new Error(`operator exited ${child.exitCode}:\n${output.slice(-3000)}`);
          const res = await fetch(`http://127.0.0.1:${o.probePort}/readyz`).catch(() => undefined);
          return res?.status === 200 ? true : undefined;
        },
        timeoutMs,
      );
    },
    async kill() {
      signal('SIGKILL');
      await exited;
    },
    async stop() {
      signal('SIGTERM');
      return exited;
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${o.metricsPort}/metrics`)).text();
    },
  };
}

// ---------------------------------------------------------------- objects

export const createTokenSecret = (namespace: string, name: string, token: string): Promise<void> =>
  resources.createTokenSecret(kube().core, namespace, name, token);

export const createIntegration = (
  namespace: string,
  name: string,
  spec: Partial<SlackIntegrationSpec> & { apiURL: string },
): Promise<SlackIntegration> => resources.createIntegration(kube().custom, namespace, name, spec);

export const createRule = (
  namespace: string,
  name: string,
  spec: NotificationRuleSpec,
): Promise<NotificationRule> => resources.createRule(kube().custom, namespace, name, spec);

export async function getRule(namespace: string, name: string): Promise<NotificationRule> {
  return (await kube().custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'notificationrules',
    name,
  })) as NotificationRule;
}

export async function getIntegration(namespace: string, name: string): Promise<SlackIntegration> {
  return (await kube().custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'slackintegrations',
    name,
  })) as SlackIntegration;
}

/** JSON-merge-patches a custom resource's spec (client-node sends JSON Patch; `add` replaces). */
export async function patchSpec(
  plural: 'slackintegrations' | 'notificationrules',
  namespace: string,
  name: string,
  field: string,
  value: unknown,
): Promise<void> {
  await kube().custom.patchNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural,
    name,
    body: [{ op: 'add', path: `/spec/${field}`, value }],
  });
}

export type Condition = { type: string; status: string; reason: string; message: string };

export const conditionOf = (
  object: { status?: { conditions?: Condition[] } },
  type = 'Ready',
): Condition | undefined => object.status?.conditions?.find((c) => c.type === type);

/** Waits until the object's condition has this status (and reason, if given). */
export async function waitForCondition<T extends { status?: { conditions?: Condition[] } }>(
  read: () => Promise<T>,
  want: { type?: string; status: string; reason?: string },
  timeoutMs = 30_000,
): Promise<T> {
  let last: T | undefined;
  try {
    return await eventually(
      `condition ${want.type ?? 'Ready'}=${want.status}${want.reason ? ` (${want.reason})` : ''}`,
      async () => {
        last = await read();
        const c = conditionOf(last, want.type);
        return c?.status === want.status && (want.reason === undefined || c.reason === want.reason)
          ? last
          : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`, {
      cause: error,
    });
  }
}
