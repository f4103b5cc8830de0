// The naive TypeScript baseline for P5/P6: the stock @kubernetes/client-node informer over every Job in the
// cluster (one unpaginated LIST, then WATCH; it caches whole V1Job objects). The bench runs it as its own
// process and reads its RSS; it prints one JSON line once its cache is filled, then idles until killed.
//
//   npx node bench/peers/informer.ts KUBECONFIG
import { BatchV1Api, KubeConfig, makeInformer, type V1Job } from '@kubernetes/client-node';

const kubeconfig = process.argv[2];
if (kubeconfig === undefined) throw new Error('usage: informer.ts KUBECONFIG');
const started = performance.now();
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const batch = kc.makeApiClient(BatchV1Api);
const informer = makeInformer<V1Job>(kc, '/apis/batch/v1/jobs', () => batch.listJobForAllNamespaces());
informer.on('error', (error: unknown) => {
  process.stderr.write(`informer error: ${String(error)}\n`);
});
await informer.start();
process.stdout.write(
  `${JSON.stringify({ ready: true, ms: performance.now() - started, jobs: informer.list().length })}\n`,
);
setInterval(() => undefined, 1 << 30);
