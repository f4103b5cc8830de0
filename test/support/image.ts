// e2e support for the image: runs the operator from the OCI image built by deploy/build-image.sh, as a
// container (crun, via deploy/run-image.sh: read-only root, UID 65532, the image's own Node and dist/), with
// the arguments the chart's Deployment passes and what a kubelet mounts for its ServiceAccount.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/dev/cluster/ports.ts';
import { superviseOperator, type OperatorProcess } from './operator.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_IMAGE = join(ROOT, 'deploy', 'run-image.sh');
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ImageOperatorOptions {
  /** the operator's namespace (POD_NAMESPACE, as the chart sets it from the downward API) */
  namespace: string;
  /** what a kubelet mounts at SA_DIR (token, ca.crt, namespace) and the in-cluster service address */
  serviceAccount: { token: string; caCrt: string; host: string; port: number };
  /** the chart Deployment's container args, as rendered */
  args: string[];
}

let runCounter = 0;
const containerNames = new WeakMap<OperatorProcess, string>();
const running = new Set<string>();
process.on('exit', () => {
  for (const name of running) spawnSync('crun', ['kill', name, 'KILL']);
});

/**
 * The chart's args with its listeners moved to free loopback ports: the chart binds :8080/:8081 in the Pod's
 * own network namespace, and here the container shares the host's.
 */
function withLoopbackListeners(args: string[], metricsPort: number, probePort: number): string[] {
  const listeners = [
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
  ];
  const others = args.filter((a) => !/^--(metrics|health-probe)-bind-address=/.test(a));
  if (others.length !== args.length - 2) {
    throw new Error(`the chart's args should name both listeners: ${args.join(' ')}`);
  }
  return [...others, ...listeners];
}

/** Starts the image's entrypoint with the chart's args as a container; same handle as startOperator's. */
export async function startImageOperator(opts: ImageOperatorOptions): Promise<OperatorProcess> {
  const probePort = await freePort();
  const metricsPort = await freePort();
  const name = `jobherald-e2e-${process.pid}-${++runCounter}`;
  const logDir = join(ROOT, '.jobherald', 'e2e-logs');
  mkdirSync(logDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'jobherald-image-'));
  const sa = join(scratch, 'serviceaccount');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), opts.serviceAccount.token);
  writeFileSync(join(sa, 'ca.crt'), opts.serviceAccount.caCrt);
  writeFileSync(join(sa, 'namespace'), opts.namespace);
  const runArgs = [
    '--name',
    name,
    '--env',
    `POD_NAMESPACE=${opts.namespace}`,
    '--mount',
    `${sa}:${SA_DIR}`,
    '--env',
    `KUBERNETES_SERVICE_HOST=${opts.serviceAccount.host}`,
    '--env',
    `KUBERNETES_SERVICE_PORT=${opts.serviceAccount.port}`,
  ];
  const args = withLoopbackListeners(opts.args, metricsPort, probePort);
  const child = spawn(RUN_IMAGE, [...runArgs, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(name);
  const operator = superviseOperator(child, {
    probePort,
    metricsPort,
    logFile: join(logDir, `image-${name}.log`),
    // signals go to the container's PID 1 (Node), as a kubelet's would, not to the wrapper script
    signal: (sig) => spawnSync('crun', ['kill', name, sig === 'SIGKILL' ? 'KILL' : 'TERM']),
    onExit: () => {
      running.delete(name);
      rmSync(scratch, { recursive: true, force: true });
    },
  });
  containerNames.set(operator, name);
  return operator;
}

/** The host PID of the container's PID 1 (from crun's state), to look at it from outside through /proc. */
export function containerPid(operator: OperatorProcess): number {
  const name = containerNames.get(operator);
  if (name === undefined) throw new Error('not an image operator');
  const state = spawnSync('crun', ['state', name], { encoding: 'utf8' });
  if (state.status !== 0) throw new Error(`crun state ${name}: ${state.stderr}`);
  return (JSON.parse(state.stdout) as { pid: number }).pid;
}
