// The shipped image, run as a kubelet would run the chart's Pod: built offline by deploy/build-image.sh,
// started by crun (deploy/run-image.sh) with a read-only root filesystem as UID 65532, the chart's
// ServiceAccount token and CA mounted at /var/run/secrets/kubernetes.io/serviceaccount/, the in-cluster
// KUBERNETES_SERVICE_HOST/PORT, and the Deployment's own arguments. It must do the operator's job from
// inside the container — lead, authenticate, alert a failing Job with its Pod's details — answer its probes
// and metrics, and stop cleanly on SIGTERM, releasing its Lease (docs/image.md).
import { expectFailingJobAlerted } from '../support/environment.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackEmulator, type SlackEmulator } from '../../src/dev/slack-emulator/index.ts';
import { mintToken } from '../../src/dev/cluster/control-plane.ts';
import { clusterState, createNamespace, deleteNamespace, eventually, uniqueName } from '../support/kube.ts';
import {
  createIntegration,
  createTokenSecret,
  getIntegration,
  waitForCondition,
  type OperatorProcess,
} from '../support/operator.ts';
import {
  adminConnection,
  applyObjects,
  deleteObjects,
  HELM_BUILD_TIMEOUT_MS,
  helmBinary,
  helmTemplate,
  installChartCrds,
  ofKind,
  parseDocuments,
  ROOT,
  type KubeObject,
} from '../support/chart.ts';
import { containerPid, startImageOperator } from '../support/image.ts';

const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
/** The image build (a fresh bundle, three Debian packages from the mirror, umoci): seconds, with margin. */
const IMAGE_BUILD_TIMEOUT_MS = 5 * 60_000;
const TOOLS = ['crun', 'umoci', 'unshare', 'dpkg-deb', 'apt-get'];

interface ContainerSpec {
  args: string[];
  securityContext?: { readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean };
}

describe('the image, run as the chart runs it', () => {
  let slack: SlackEmulator;
  let operator: OperatorProcess | undefined;
  let opNs = '';
  let rulesNs = '';
  let release = '';
  let applied: KubeObject[] = [];
  let container: ContainerSpec;
  let readyMs = 0;

  beforeAll(async () => {
    const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
    if (missing.length > 0) {
      throw new Error(
        `running the image needs ${missing.join(', ')}: apt-get install -y crun umoci util-linux (CI does)`,
      );
    }
    execFileSync(join(ROOT, 'deploy/build-image.sh'), [], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: IMAGE_BUILD_TIMEOUT_MS,
    });
    helmBinary();
    await installChartCrds();
    slack = await startSlackEmulator();
    opNs = await createNamespace(uniqueName('jh-image'));
    rulesNs = await createNamespace(uniqueName('image-rules'));

    release = `jobherald-${randomBytes(3).toString('hex')}`;
    const rendered = parseDocuments(
      helmTemplate({ release, namespace: opNs, values: { clusterName: 'img' } }),
    );
    applied = ofKind(rendered, ...RBAC_KINDS);
    await applyObjects(applied);
    const deployment = ofKind(rendered, 'Deployment')[0] as unknown as {
      spec: { template: { spec: { serviceAccountName: string; containers: ContainerSpec[] } } };
    };
    const pod = deployment.spec.template.spec;
    container = pod.containers[0]!;

    await createTokenSecret(opNs, 'acme-token', 'xoxb-demo');
    await createIntegration(opNs, 'acme', { apiURL: slack.apiUrl, allowedNamespaces: { from: 'All' } });

    const cluster = clusterState();
    const server = new URL(cluster.server);
    const started = Date.now();
    operator = await startImageOperator({
      namespace: opNs,
      serviceAccount: {
        token: await mintToken(cluster, opNs, pod.serviceAccountName),
        caCrt: readFileSync(cluster.caFile, 'utf8'),
        host: server.hostname,
        port: Number(server.port),
      },
      // the Deployment's arguments as they are, but the listeners: the container shares the host's network
      args: container.args,
    });
    await operator.waitReady();
    readyMs = Date.now() - started;
    console.log(`image: container start → /readyz in ${readyMs} ms`);
  }, HELM_BUILD_TIMEOUT_MS + IMAGE_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await operator?.kill();
    await slack?.stop();
    await deleteObjects(applied.filter((o) => o.metadata.namespace === undefined));
    for (const ns of [opNs, rulesNs]) if (ns !== '') await deleteNamespace(ns);
  });

  it('runs the image’s own Node as UID 65532 on a read-only root, as the chart asks', () => {
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    const pid = containerPid(operator!);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
    expect(status).toMatch(/^Gid:\s+65532\s/m);
    // the executable and the root it sees are the image's (its own Node, its /app), not the host's
    const exe = statSync(`/proc/${pid}/exe`);
    const imageNode = statSync(`/proc/${pid}/root/usr/local/bin/node`);
    expect([exe.dev, exe.ino]).toEqual([imageNode.dev, imageNode.ino]);
    expect(statSync(process.execPath).ino).not.toBe(exe.ino);
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/app');
    expect(statSync(`/proc/${pid}/root/app/dist/main.js`).isFile()).toBe(true);
    const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((line) => line.split(' ')[4] === '/');
    expect(root?.split(' ')[5]).toMatch(/^ro\b/);
  });

  it('answers /healthz, /readyz and /metrics, and leads with the Lease the chart names', async () => {
    for (const path of ['/healthz', '/readyz']) {
      expect((await fetch(`http://127.0.0.1:${operator!.probePort}${path}`)).status).toBe(200);
    }
    await eventually('jobherald_leader 1', async () =>
      /^jobherald_leader 1$/m.test(await operator!.metrics()) ? true : undefined,
    );
    const metrics = await operator!.metrics();
    expect(metrics).toMatch(/^process_resident_memory_bytes \d/m);
    const lease = await adminConnection().get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${opNs}/leases/${release}`,
    );
    expect(lease.spec.holderIdentity).toMatch(/^jobherald-e2e-/); // the container's hostname, as a Pod's
  });

  it('authenticates with the Secret’s token through the in-cluster ServiceAccount and alerts a failing Job', async () => {
    await waitForCondition(() => getIntegration(opNs, 'acme'), { status: 'True' });
    await expectFailingJobAlerted(slack, { namespace: opNs, name: 'acme' }, rulesNs);
    expect(operator!.logs()).not.toContain('xoxb-demo');
  });

  it('exits 0 on SIGTERM within seconds and releases its Lease', async () => {
    const stopping = Date.now();
    const code = await operator!.stop();
    const stopMs = Date.now() - stopping;
    console.log(`image: SIGTERM → exit ${code} in ${stopMs} ms`);
    expect(code).toBe(0);
    // within the chart's terminationGracePeriodSeconds (30 s), after which a kubelet would SIGKILL it
    expect(stopMs).toBeLessThan(30_000);
    const lease = await adminConnection().get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${opNs}/leases/${release}`,
    );
    expect(lease.spec.holderIdentity ?? '').toBe('');
    operator = undefined;
  });
});
