// A real, local Kubernetes control plane for tests, benchmarks and the demo: etcd, kube-apiserver,
// kube-controller-manager (Job, CronJob, GC, namespace, ServiceAccount controllers), kube-scheduler and
// kwok (a fake node whose pods behave like workloads, see kwok-stages.ts), all on 127.0.0.1.
//
// State lives in ~/.cache/jobherald/clusters/<name>/ (state.json, kubeconfig, logs); etcd data in tmpfs.
// `up` first tears down whatever a previous, possibly killed, run of the same name left behind.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { dump } from 'js-yaml';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ensureBinaries, type Binaries } from './binaries.ts';
import { clusterDir, etcdDataDir } from './paths.ts';
import { freePort } from './ports.ts';
import { generateCredentials, kubeconfigYaml, tokenAuthFile } from './credentials.ts';
import {
  isAlive,
  rssBytes,
  startProcess,
  stopProcessGroup,
  tail,
  waitFor,
  type Started,
} from './processes.ts';
import { kwokStages } from './kwok-stages.ts';

export const DEFAULT_CLUSTER = 'dev';
export const NODE_NAME = 'kwok-node-0';

export interface ComponentState extends Started {
  port?: number;
  /** how it was started, so `restartComponent` can start it again the same way */
  command: string;
  args: string[];
  /** only the variables set on top of the caller's environment (never the whole environment) */
  envOverrides?: Record<string, string>;
}

export interface ClusterState {
  name: string;
  dir: string;
  kubeconfig: string;
  server: string;
  caFile: string;
  adminToken: string;
  binaries: string;
  etcdDataDir: string;
  components: ComponentState[];
  startedAt: string;
  readySeconds: number;
}

const stateFile = (name: string): string => join(clusterDir(name), 'state.json');

export function readState(name: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(name), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export interface UpOptions {
  name?: string;
  log?: (line: string) => void;
}

export async function up(opts: UpOptions = {}): Promise<ClusterState> {
  const name = opts.name ?? DEFAULT_CLUSTER;
  const log = opts.log ?? (() => undefined);
  const binaries = await ensureBinaries();
  await down(name); // whatever a killed run left behind
  try {
    return await start(name, binaries, log);
  } catch (error) {
    // A port taken between allocation and bind is the one transient failure here: retry once.
    if (error instanceof Error && /address already in use/i.test(error.message)) {
      log('a port was taken while starting; retrying once');
      await down(name);
      return start(name, binaries, log);
    }
    await down(name);
    throw error;
  }
}

async function start(name: string, bin: Binaries, log: (line: string) => void): Promise<ClusterState> {
  const began = Date.now();
  const dir = clusterDir(name);
  const pki = join(dir, 'pki');
  const logs = join(dir, 'logs');
  const kwokHome = join(dir, 'kwok-home'); // kwok reads ~/.kwok/kwok.yaml: keep the user's out of it
  const dataDir = etcdDataDir(name);
  for (const d of [dir, pki, logs, kwokHome, dataDir]) mkdirSync(d, { recursive: true });

  const ports = {
    etcd: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    kwok: await freePort(),
  };
  const credentials = generateCredentials();
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const caFile = join(pki, 'apiserver.crt'); // written by the API server: serving cert followed by its CA
  const file = (base: string, content: string): string => {
    const path = join(dir, base);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const saKey = file('service-account.key', credentials.serviceAccountKeyPem);
  const tokens = file('tokens.csv', tokenAuthFile(credentials));
  const kubeconfig = file(
    'kubeconfig',
    kubeconfigYaml({ server, caFile, token: credentials.adminToken, name }),
  );
  const componentKubeconfig = (who: keyof typeof credentials.componentTokens): string =>
    file(
      `${who}.kubeconfig`,
      kubeconfigYaml({ server, caFile, token: credentials.componentTokens[who], name }),
    );

  const components: ComponentState[] = [];
  const state: ClusterState = {
    name,
    dir,
    kubeconfig,
    server,
    caFile,
    adminToken: credentials.adminToken,
    binaries: bin.dir,
    etcdDataDir: dataDir,
    components,
    startedAt: new Date(began).toISOString(),
    readySeconds: 0,
  };
  const save = (): void => writeFileSync(stateFile(name), JSON.stringify(state, null, 2), { mode: 0o600 });
  const launch = (
    component: string,
    command: string,
    args: string[],
    port?: number,
    envOverrides?: Record<string, string>,
  ) => {
    const logFile = join(logs, `${component}.log`);
    const started = startProcess(component, command, args, {
      logFile,
      env: { ...process.env, ...envOverrides },
    });
    components.push({ ...started, port, command, args, envOverrides });
    save(); // record the pid at once, so a killed `up` can still be cleaned up
    return started;
  };
  const alive = (started: Started) => () => {
    if (!isAlive(started.pid))
      throw new Error(`${started.name} exited during start-up:\n${tail(started.logFile)}`);
  };

  // 1. etcd
  const etcd = launch('etcd', bin.etcd, [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
    `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
    `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
    `--initial-cluster=${name}=http://127.0.0.1:${ports.etcdPeer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
    '--quota-backend-bytes=8589934592',
  ]);
  await waitFor(
    'etcd /health',
    async () => {
      const res = await fetch(`http://127.0.0.1:${ports.etcd}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true' ? true : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, check: alive(etcd) },
  );
  log(`etcd ready (${elapsed(began)})`);

  // 2. kube-apiserver
  const apiserver = launch(
    'kube-apiserver',
    bin.kubeApiserver,
    apiserverArgs({ ports, pki, saKey, tokens, etcd: `http://127.0.0.1:${ports.etcd}` }),
    ports.apiserver,
  );
  await waitFor('kube-apiserver certificate', () => Promise.resolve(existsSync(caFile) ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 50,
    check: alive(apiserver),
  });
  await waitFor(
    'kube-apiserver /readyz',
    async () =>
      (await httpsStatus(`${server}/readyz`, caFile, credentials.adminToken)) === 200 ? true : undefined,
    { timeoutMs: 60_000, intervalMs: 100, check: alive(apiserver) },
  );
  log(`kube-apiserver ready (${elapsed(began)})`);

  // 3. the rest, in parallel
  const schedulerConfig = file(
    'scheduler-config.yaml',
    dump({
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: componentKubeconfig('scheduler'), qps: 2000, burst: 4000 },
      leaderElection: { leaderElect: false },
    }),
  );
  const stages = file('kwok-stages.yaml', kwokStages.map((s) => dump(s, { lineWidth: -1 })).join('---\n'));
  const kcm = launch(
    'kube-controller-manager',
    bin.kubeControllerManager,
    [
      `--kubeconfig=${componentKubeconfig('controllerManager')}`,
      '--leader-elect=false',
      '--controllers=job,cronjob,garbagecollector,namespace,serviceaccount,serviceaccount-token,ttl-after-finished,podgc',
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${caFile}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      '--kube-api-qps=2000',
      '--kube-api-burst=4000',
      '--concurrent-job-syncs=20',
      '--v=1',
    ],
    ports.controllerManager,
  );
  const scheduler = launch(
    'kube-scheduler',
    bin.kubeScheduler,
    [`--config=${schedulerConfig}`, '--bind-address=127.0.0.1', `--secure-port=${ports.scheduler}`, '--v=1'],
    ports.scheduler,
  );
  const kwok = launch(
    'kwok',
    bin.kwok,
    [
      `--kubeconfig=${componentKubeconfig('kwok')}`,
      '--manage-all-nodes=true',
      `--config=${stages}`,
      '--cidr=10.244.0.0/16',
      `--server-address=127.0.0.1:${ports.kwok}`,
    ],
    ports.kwok,
    { HOME: kwokHome },
  );
  const everyoneAlive = (): void => [kcm, scheduler, kwok].forEach((c) => alive(c)());

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  // The fake node: capacity is required or the scheduler's resource fit rejects every pod. No taint.
  await core.createNode({
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', type: 'kwok' },
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
      },
      status: {
        capacity: { cpu: '1000', memory: '4Ti', pods: '1000000' },
        allocatable: { cpu: '1000', memory: '4Ti', pods: '1000000' },
      },
    },
  });
  await Promise.all([
    waitFor(
      `node ${NODE_NAME} Ready (kwok)`,
      async () => {
        const node = await core.readNode({ name: NODE_NAME });
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, check: everyoneAlive },
    ),
    waitFor(
      'the default ServiceAccount (kube-controller-manager)',
      async () =>
        (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }))
          ? true
          : undefined,
      { timeoutMs: 60_000, check: everyoneAlive },
    ),
    waitFor(
      'kube-scheduler /healthz',
      async () =>
        (await httpsStatus(`https://127.0.0.1:${ports.scheduler}/healthz`)) === 200 ? true : undefined,
      { timeoutMs: 60_000, check: everyoneAlive },
    ),
  ]);
  state.readySeconds = (Date.now() - began) / 1000;
  save();
  log(`control plane ready (${elapsed(began)})`);
  return state;
}

function apiserverArgs(o: {
  ports: { apiserver: number };
  pki: string;
  saKey: string;
  tokens: string;
  etcd: string;
}): string[] {
  return [
    `--etcd-servers=${o.etcd}`,
    `--cert-dir=${o.pki}`,
    `--secure-port=${o.ports.apiserver}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none', // loopback is not a valid Endpoints IP
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--authorization-mode=RBAC',
    `--token-auth-file=${o.tokens}`,
    `--service-account-issuer=https://127.0.0.1:${o.ports.apiserver}`,
    `--service-account-key-file=${o.saKey}`,
    `--service-account-signing-key-file=${o.saKey}`,
    // ServiceAccount: pods need not wait for their namespace's default SA.
    // TaintNodesByCondition: would taint the fake node not-ready; no node-lifecycle controller removes it.
    '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
    '--enable-priority-and-fairness=false',
    '--max-requests-inflight=0',
    '--max-mutating-requests-inflight=0',
    '--profiling=false',
    '--v=0',
  ];
}

/** GET over TLS; with no CA (the scheduler's in-memory self-signed cert) verification is skipped. */
function httpsStatus(url: string, caFile?: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: caFile === undefined ? undefined : readFileSync(caFile),
        rejectUnauthorized: caFile !== undefined,
        headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
        timeout: 2_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Stops one component and starts it again with the same command line (e.g. to prove that objects
 * survive a kube-apiserver restart, or that watches recover). Resolves once it serves again.
 */
export async function restartComponent(state: ClusterState, component: string): Promise<ClusterState> {
  const index = state.components.findIndex((c) => c.name === component);
  const old = state.components[index];
  if (old === undefined) throw new Error(`no component "${component}" in cluster "${state.name}"`);
  await stopProcessGroup(old.pid);
  const env = { ...process.env, ...old.envOverrides };
  const started = startProcess(old.name, old.command, old.args, { logFile: old.logFile, env });
  state.components[index] = { ...old, ...started };
  writeFileSync(stateFile(state.name), JSON.stringify(state, null, 2), { mode: 0o600 });
  if (component === 'kube-apiserver') {
    await waitFor(
      'kube-apiserver /readyz after restart',
      async () =>
        (await httpsStatus(`${state.server}/readyz`, state.caFile, state.adminToken)) === 200
          ? true
          : undefined,
      {
        timeoutMs: 60_000,
        check: () => {
          if (!isAlive(started.pid))
            throw new Error(`kube-apiserver exited on restart:\n${tail(started.logFile)}`);
        },
      },
    );
  }
  return state;
}

/** Stops every process a cluster of this name started and removes its data. True if anything ran. */
export async function down(name: string = DEFAULT_CLUSTER): Promise<boolean> {
  const state = readState(name);
  const pids = state?.components.map((c) => c.pid) ?? [];
  const wasRunning = pids.some(isAlive);
  // Reverse start order: clients first, etcd last.
  for (const pid of [...pids].reverse()) await stopProcessGroup(pid);
  rmSync(clusterDir(name), { recursive: true, force: true });
  rmSync(etcdDataDir(name), { recursive: true, force: true });
  return wasRunning;
}

export interface ComponentStatus {
  name: string;
  pid: number;
  port?: number;
  running: boolean;
  rssBytes?: number;
}

export function status(name: string = DEFAULT_CLUSTER): {
  state?: ClusterState;
  components: ComponentStatus[];
} {
  const state = readState(name);
  if (state === undefined) return { components: [] };
  return {
    state,
    components: state.components.map((c) => ({
      name: c.name,
      pid: c.pid,
      port: c.port,
      running: isAlive(c.pid),
      rssBytes: rssBytes(c.pid),
    })),
  };
}

/** A bearer token for a ServiceAccount (TokenRequest API), e.g. to run the operator with its own RBAC. */
export async function mintToken(
  state: ClusterState,
  namespace: string,
  serviceAccount: string,
  expirationSeconds = 3600,
): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const result = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = result.status?.token;
  if (token === undefined) throw new Error(`no token returned for ${namespace}/${serviceAccount}`);
  return token;
}

/** A kubeconfig file that authenticates with `token` against the cluster (for RBAC tests). */
export function writeTokenKubeconfig(state: ClusterState, token: string, file: string): string {
  writeFileSync(
    file,
    kubeconfigYaml({ server: state.server, caFile: state.caFile, token, name: state.name }),
    {
      mode: 0o600,
    },
  );
  return file;
}

const elapsed = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
