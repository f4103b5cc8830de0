// jobherald demo: everything on embedded defaults. For now: the local control plane (or the cluster in
// KUBECONFIG with --use-kubeconfig), and one Job to each outcome — Succeeded, Failed, Cancelled — printed
// as they end.
import { parseArgs } from 'node:util';
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { up } from '../dev/cluster/control-plane.ts';
import { POD_ANNOTATIONS } from '../dev/cluster/kwok-stages.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { name: { type: 'string', default: 'demo' } } });
  const say = (line: string): boolean => process.stdout.write(`${line}\n`);
  say(
    'jobherald demo: starting a local Kubernetes control plane (the first run builds it: several minutes)…',
  );
  const state = await up({ name: values.name, log: (line) => say(`  ${line}`) });
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const namespace = 'demo';
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);

  const job = (name: string, annotations: Record<string, string>): V1Job => ({
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example.com/etl:1' }] },
      },
    },
  });
  say('\nRunning three Jobs: nightly-etl (succeeds), report-build (fails, OOMKilled), backfill (cancelled)…');
  await batch.createNamespacedJob({
    namespace,
    body: job('nightly-etl', { [POD_ANNOTATIONS.duration]: '2s' }),
  });
  await batch.createNamespacedJob({
    namespace,
    body: job('report-build', { [POD_ANNOTATIONS.exitCode]: '137', [POD_ANNOTATIONS.reason]: 'OOMKilled' }),
  });
  await batch.createNamespacedJob({
    namespace,
    body: job('backfill', { [POD_ANNOTATIONS.duration]: '10m' }),
  });

  const read = (name: string) => batch.readNamespacedJob({ name, namespace });
  const condition = (j: V1Job, type: string) =>
    j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const until = async (name: string, done: (j: V1Job) => string | undefined): Promise<string> => {
    for (;;) {
      const outcome = done(await read(name));
      if (outcome !== undefined) return outcome;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const terminal = (j: V1Job): string | undefined => {
    if (condition(j, 'Complete')) return 'Succeeded';
    const failed = condition(j, 'Failed');
    return failed === undefined ? undefined : `Failed (${failed.reason})`;
  };
  say(`  nightly-etl   ${await until('nightly-etl', terminal)}`);
  say(`  report-build  ${await until('report-build', terminal)}`);
  await until('backfill', (j) => ((j.status?.active ?? 0) > 0 ? 'running' : undefined));
  await batch.deleteNamespacedJob({ name: 'backfill', namespace, propagationPolicy: 'Background' });
  say('  backfill      Cancelled (deleted while running)');
  say(
    `\nThe cluster keeps running:\n  export KUBECONFIG=${state.kubeconfig}\nStop it with: npm run dev-cluster -- down --name ${values.name}`,
  );
  return 0;
}
