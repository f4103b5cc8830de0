// e2e support for the image: runs the operator from the OCI image built by deploy/build-image.sh, as a
// container (crun, via deploy/run-image.sh: read-only root, UID 65532, the image's own Node and dist/), with
// the arguments the chart's Deployment passes. Not wired into the e2e suite yet: see docs/image.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/dev/cluster/ports.ts';
import type { OperatorProcess } from './operator.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_IMAGE = join(ROOT, 'deploy', 'run-image.sh');
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ImageOperatorOptions {
  /** the operator's namespace (POD_NAMESPACE, as the chart sets it from the downward API) */
  namespace: string;
  /**
   * How the container reaches the API server. `kubeconfig`: a file, mounted read-only at
   * /var/run/jobherald/kubeconfig and passed with --kubeconfig (it must not name files outside itself).
   * `serviceAccount`: what a kubelet mounts (token, ca.crt, namespace at SA_DIR) plus
   * KUBERNETES_SERVICE_HOST/PORT: the in-cluster path, as in a real Pod.
   */
  kubeconfig?: string;
  serviceAccount?: { token: string; caCrt: string; host: string; port: number };
  clusterName?: string;
  clusterRuleNamespaces?: string[];
  integrationNamespaces?: string[];
  leaderElect?: boolean;
  leaderElectionId?: string;
  logLevel?: string;
  finalizers?: boolean;
  admissionParams?: string;
  /** appended, as the chart's extraArgs */
  extraArgs?: string[];
}

/** True when this machine can run the image (crun + umoci, and the archive was built). */
export function imageAvailable(): boolean {
  const version = JSON.parse(
    spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json").version)'], {
      cwd: ROOT,
    }).stdout.toString(),
  ) as string;
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  return (
    has('crun') &&
    has('umoci') &&
    existsSync(join(ROOT, '.jobherald', 'image', `jobherald-${version}.oci.tar`))
  );
}

let runCounter = 0;
const running = new Map<string, ChildProcess>();
process.on('exit', () => {
  for (const name of running.keys()) spawnSync('crun', ['kill', name, 'KILL']);
});

/** Chart arguments (charts/jobherald/templates/deployment.yaml), with the ports free on the host network. */
export function chartArgs(opts: ImageOperatorOptions, metricsPort: number, probePort: number): string[] {
  const ns = opts.namespace;
  return [
    'controller',
    `--cluster-name=${opts.clusterName ?? 'e2e'}`,
    `--cluster-rule-namespaces=${(opts.clusterRuleNamespaces ?? [ns]).join(',')}`,
    `--integration-namespaces=${(opts.integrationNamespaces ?? [ns]).join(',')}`,
    ...(opts.leaderElect ? ['--leader-elect'] : []),
    `--leader-election-id=${opts.leaderElectionId ?? 'jobherald'}`,
    `--log-level=${opts.logLevel ?? 'info'}`,
    opts.finalizers === false
      ? '--no-finalizers'
      : `--admission-params=${opts.admissionParams ?? 'jobherald-watched-namespaces'}`,
    // the chart binds :8080/:8081 in the Pod's own network namespace; here the container shares the host's
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
    ...(opts.extraArgs ?? []),
  ];
}

/** Starts the image's `jobherald controller` as a container; same handle as startOperator's. */
export async function startImageOperator(opts: ImageOperatorOptions): Promise<OperatorProcess> {
  const probePort = await freePort();
  const metricsPort = await freePort();
  const name = `jobherald-e2e-${process.pid}-${++runCounter}`;
  const logDir = join(ROOT, '.jobherald', 'e2e-logs');
  mkdirSync(logDir, { recursive: true });
  const file = createWriteStream(join(logDir, `image-${name}.log`));
  const scratch = mkdtempSync(join(tmpdir(), 'jobherald-image-'));
  const runArgs = ['--name', name, '--env', `POD_NAMESPACE=${opts.namespace}`];
  const args = chartArgs(opts, metricsPort, probePort);
  if (opts.serviceAccount) {
    const sa = join(scratch, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), opts.serviceAccount.token);
    writeFileSync(join(sa, 'ca.crt'), opts.serviceAccount.caCrt);
    writeFileSync(join(sa, 'namespace'), opts.namespace);
    runArgs.push('--mount', `${sa}:${SA_DIR}`);
    runArgs.push('--env', `KUBERNETES_SERVICE_HOST=${opts.serviceAccount.host}`);
    runArgs.push('--env', `KUBERNETES_SERVICE_PORT=${opts.serviceAccount.port}`);
  } else if (opts.kubeconfig) {
    runArgs.push('--mount', `${opts.kubeconfig}:/var/run/jobherald/kubeconfig`);
    args.splice(1, 0, '--kubeconfig=/var/run/jobherald/kubeconfig');
  } else throw new Error('startImageOperator: kubeconfig or serviceAccount is required');

  const child = spawn(RUN_IMAGE, [...runArgs, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(name, child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    file.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(name);
      rmSync(scratch, { recursive: true, force: true });
      resolve(code);
    }),
  );
  // signals go to the container's PID 1 (Node), as a kubelet's would, not to the wrapper script
  const signal = (sig: 'TERM' | 'KILL') => spawnSync('crun', ['kill', name, sig]);
  return {
    pid: child.pid ?? -1,
    probePort,
    metricsPort,
    logs: () => output,
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null)
          throw new Error(`image operator exited ${child.exitCode}:\n${output.slice(-3000)}`);
        const res = await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined);
        if (res?.status === 200) return;
        if (Date.now() > deadline)
          throw new Error(`image operator not ready in ${timeoutMs} ms:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async kill() {
      signal('KILL');
      await exited;
    },
    async stop() {
      signal('TERM');
      return exited;
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    },
  };
}
