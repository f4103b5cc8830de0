// jobherald dev-cluster up|down|status|token: the local control plane (src/dev/cluster/).
import { parseArgs } from 'node:util';
import { ensureBinaries } from '../dev/cluster/binaries.ts';
import { DEFAULT_CLUSTER, down, mintToken, readState, status, up } from '../dev/cluster/control-plane.ts';

const USAGE = `Usage: jobherald dev-cluster <build|up|down|status|token> [--name NAME]

  build    build (once) the binaries from the Go module proxy into ~/.cache/jobherald/bin; print their folder
  up       build (once) and start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
           on 127.0.0.1; prints the KUBECONFIG to use
  down     stop everything the cluster started and delete its data
  status   what runs where, with memory use
  token    --namespace NS --service-account SA [--duration 3600]: mint a ServiceAccount token

  --name NAME   the cluster's name (default "${DEFAULT_CLUSTER}"); clusters of different names coexist
`;

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string', default: DEFAULT_CLUSTER },
      namespace: { type: 'string' },
      'service-account': { type: 'string' },
      duration: { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [action] = positionals;
  const name = values.name;
  const err = (line: string): boolean => process.stderr.write(`${line}\n`);
  switch (values.help === true ? 'help' : action) {
    case 'build': {
      const started = Date.now();
      const binaries = await ensureBinaries();
      process.stdout.write(`${binaries.dir}\n`);
      err(`dev-cluster: binaries ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'up': {
      const state = await up({ name, log: (line) => err(`dev-cluster: ${line}`) });
      process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
      err(
        `dev-cluster: "${name}" is up in ${state.readySeconds.toFixed(1)} s; stop it with: jobherald dev-cluster down`,
      );
      return 0;
    }
    case 'down':
      err(
        (await down(name))
          ? `dev-cluster: "${name}" stopped and removed`
          : `dev-cluster: "${name}" was not running`,
      );
      return 0;
    case 'status': {
      const { state, components } = status(name);
      if (state === undefined) {
        process.stdout.write(`cluster "${name}": not running\n`);
        return 1;
      }
      const running = components.every((c) => c.running);
      const totalRss = components.reduce((sum, c) => sum + (c.rssBytes ?? 0), 0);
      const lines = [
        `cluster "${name}": ${running ? 'running' : 'DEGRADED'} since ${state.startedAt}`,
        `  server      ${state.server}`,
        `  kubeconfig  ${state.kubeconfig}`,
        `  binaries    ${state.binaries}`,
        ...components.map(
          (c) =>
            `  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.port === undefined ? ''.padEnd(11) : `port ${String(c.port).padEnd(6)}`} ` +
            `${c.running ? `${mib(c.rssBytes)} RSS` : 'NOT RUNNING'}`,
        ),
        `  total RSS   ${mib(totalRss)}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return running ? 0 : 1;
    }
    case 'token': {
      const state = readState(name);
      if (state === undefined) throw new Error(`cluster "${name}" is not running`);
      if (values.namespace === undefined || values['service-account'] === undefined) {
        throw new Error('token needs --namespace and --service-account');
      }
      const seconds = Number(values.duration);
      if (!Number.isInteger(seconds) || seconds < 600)
        throw new Error('--duration must be a whole number ≥ 600');
      process.stdout.write(
        `${await mintToken(state, values.namespace, values['service-account'], seconds)}\n`,
      );
      return 0;
    }
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

const mib = (bytes: number | undefined): string =>
  bytes === undefined ? '?' : `${(bytes / 1024 / 1024).toFixed(0).padStart(4)} MiB`;
