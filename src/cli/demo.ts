// jobherald demo: the whole thing on embedded defaults — a local control plane (or --kubeconfig's
// cluster), the Slack emulator with its web view, the CRDs, the operator, a sample SlackIntegration and
// NotificationRules, and three Jobs that succeed, fail and are cancelled. It prints what was delivered where
// and keeps running so the web view can be browsed, until Ctrl-C (or at once with --exit).
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { down, up } from '../dev/cluster/control-plane.ts';
import { POD_ANNOTATIONS } from '../dev/cluster/kwok-stages.ts';
import { freePort } from '../dev/cluster/ports.ts';
import { installCrds } from '../dev/install-crds.ts';
import { startSlackEmulator, type EmulatedMessage } from '../dev/slack-emulator/index.ts';
import type { NotificationRule, NotificationRuleSpec, SlackIntegration } from '../api/types.ts';
import { KubeConnection } from '../kube/connection.ts';
import { Operator } from '../operator/operator.ts';
import { DEFAULTS } from '../operator/config.ts';
import { DEFAULT_ADMISSION_PARAMS } from '../api/job-metadata.ts';
import { createSlackClient } from '../slack/client.ts';
import { createSlackAppClient } from '../slack/app-client.ts';
import { createLogger } from '../observability/logger.ts';
import { CALLBACK_PATH, startOAuthServer } from '../oauth/server.ts';

const OPERATOR_NS = 'jobherald-demo';
const TENANT_NS = 'demo';
const GROUP = { group: 'jobherald.dev', version: 'v1alpha1' };

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string', default: 'demo' },
      kubeconfig: { type: 'string' },
      'slack-port': { type: 'string', default: '8800' },
      exit: { type: 'boolean', default: false },
      'keep-cluster': { type: 'boolean', default: false },
      oauth: { type: 'boolean', default: false },
    },
  });
  const say = (line = ''): boolean => process.stdout.write(`${line}\n`);
  const ownCluster = values.kubeconfig === undefined;

  // 1. a cluster
  let kubeconfigFile = values.kubeconfig;
  if (ownCluster) {
    say('jobherald demo: starting a local Kubernetes control plane (the first run builds it: ~8 minutes)…');
    const state = await up({ name: values.name, log: (line) => say(`  ${line}`) });
    kubeconfigFile = state.kubeconfig;
  } else say(`jobherald demo: using the cluster in ${kubeconfigFile}`);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile!);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  // 2. Slack
  const slack = await startSlackEmulator({ port: await portOrFree(Number(values['slack-port'])) });
  say(`  Slack emulator on ${slack.url}`);

  // 3. CRDs and the sample configuration
  const connection = KubeConnection.load({ kubeconfig: kubeconfigFile });
  await installCrds(connection);
  for (const name of [OPERATOR_NS, TENANT_NS]) {
    await core.createNamespace({ body: { metadata: { name } } }).catch(ignoreConflict);
  }
  // --oauth: no token up front; the app is installed through the operator's OAuth redirect (the emulator's
  // install page approves at once), as a person would from the link in the integration's status
  const oauthPort = values.oauth ? await freePort() : 0;
  const tokenSecret = values.oauth ? 'slack-bot-installed' : 'slack-bot';
  if (values.oauth) {
    await core.deleteNamespacedSecret({ namespace: OPERATOR_NS, name: tokenSecret }).catch(() => undefined);
    await core
      .createNamespacedSecret({
        namespace: OPERATOR_NS,
        body: {
          metadata: { name: 'slack-app' },
          stringData: { 'client-secret': slack.emulator.workspace.app.clientSecret },
        },
      })
      .catch(ignoreConflict);
  } else
    await core
      .createNamespacedSecret({
        namespace: OPERATOR_NS,
        body: { metadata: { name: tokenSecret }, stringData: { token: 'xoxb-demo' } },
      })
      .catch(ignoreConflict);
  await apply(custom, OPERATOR_NS, 'slackintegrations', {
    apiVersion: 'jobherald.dev/v1alpha1',
    kind: 'SlackIntegration',
    metadata: { name: 'demo', namespace: OPERATOR_NS },
    spec: {
      tokenSecretRef: { name: tokenSecret },
      apiURL: slack.apiUrl,
      allowedNamespaces: { from: 'All' },
      clusterName: 'demo',
      ...(values.oauth
        ? {
            oauth: {
              clientID: slack.emulator.workspace.app.clientId,
              clientSecretRef: { name: 'slack-app' },
            },
          }
        : {}),
    },
  });
  const rule = (name: string, spec: Omit<NotificationRuleSpec, 'integrationRef'>): Promise<void> =>
    apply(custom, TENANT_NS, 'notificationrules', {
      apiVersion: 'jobherald.dev/v1alpha1',
      kind: 'NotificationRule',
      metadata: { name, namespace: TENANT_NS },
      spec: { integrationRef: { name: 'demo', namespace: OPERATOR_NS }, ...spec },
    });
  await rule('all-outcomes', {
    events: ['Succeeded', 'Failed', 'Cancelled'],
    destinations: [{ channel: 'alerts' }],
    mentions: [{ group: 'oncall' }],
    links: [{ text: 'Logs', url: 'https://grafana.example.com/explore?job={namespace}/{name}' }],
  });
  await rule('failures-to-alice', { events: ['Failed'], destinations: [{ user: 'alice@example.com' }] });
  await rule('private-ops', { events: ['Failed'], destinations: [{ channel: 'ops-private' }] });

  // 4. the operator, in this process; its JSON logs go to a file
  const logDir = join(tmpdir(), 'jobherald-demo');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `operator-${Date.now()}.log`);
  const log = createLogger({ level: 'info', destination: createWriteStream(logFile) });
  const operator = new Operator({
    config: {
      clusterName: 'demo',
      namespace: OPERATOR_NS,
      clusterRuleNamespaces: [OPERATOR_NS],
      integrationNamespaces: [OPERATOR_NS],
      leaderElect: false,
      leaseName: 'jobherald',
      identity: Operator.identity(),
      recheckIntervalMs: DEFAULTS.recheckIntervalMs,
      parkedRecheckIntervalMs: 5_000,
      slackTimeoutMs: DEFAULTS.slackTimeoutMs,
      statusIntervalMs: DEFAULTS.statusIntervalMs,
      finalizers: true,
      admissionParams: DEFAULT_ADMISSION_PARAMS,
      deliveryLimits: {},
      ...(values.oauth ? { oauthRedirectURL: `http://127.0.0.1:${oauthPort}${CALLBACK_PATH}` } : {}),
    },
    connection,
    log,
    createSlackClient: (options) => createSlackClient({ ...options, log }),
    createSlackAppClient: (options) => createSlackAppClient({ ...options, log }),
  });
  await operator.start();
  say(`  operator running (logs: ${logFile})`);
  const oauth = values.oauth
    ? await startOAuthServer({
        address: `127.0.0.1:${oauthPort}`,
        deps: operator.installCallbackDeps(`http://127.0.0.1:${oauthPort}${CALLBACK_PATH}`),
        log,
      })
    : undefined;
  if (values.oauth) await installByOAuth(custom, say, values.exit);

  // 5. three Jobs: one succeeds, one fails, one is cancelled
  const run = randomBytes(2).toString('hex');
  const names = { ok: `nightly-etl-${run}`, failed: `report-build-${run}`, cancelled: `backfill-${run}` };
  say(
    `\nRunning three Jobs in namespace "${TENANT_NS}": ${names.ok} succeeds, ${names.failed} fails, ${names.cancelled} is cancelled…`,
  );
  await batch.createNamespacedJob({
    namespace: TENANT_NS,
    body: job(names.ok, 'sleep 2', { [POD_ANNOTATIONS.duration]: '2s' }),
  });
  await batch.createNamespacedJob({
    namespace: TENANT_NS,
    body: job(names.failed, 'exit 137', {
      [POD_ANNOTATIONS.exitCode]: '137',
      [POD_ANNOTATIONS.reason]: 'OOMKilled',
      [POD_ANNOTATIONS.message]: 'container used 2.1Gi, limit 2Gi',
    }),
  });
  await batch.createNamespacedJob({
    namespace: TENANT_NS,
    body: job(names.cancelled, 'sleep 600', { [POD_ANNOTATIONS.duration]: '10m' }),
  });
  for (;;) {
    const j = await batch.readNamespacedJob({ name: names.cancelled, namespace: TENANT_NS });
    if ((j.status?.active ?? 0) > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await batch.deleteNamespacedJob({
    name: names.cancelled,
    namespace: TENANT_NS,
    propagationPolicy: 'Background',
  });

  // 6. what arrived where
  const jobNames = Object.values(names);
  const all = await slack.control.waitForMessages({
    timeoutMs: 60_000,
    until: (messages) =>
      jobNames.every((n) => messages.some((m) => about(m, n) && m.channel === 'C0ALERTS01')) &&
      messages.some((m) => about(m, names.failed) && m.channel.startsWith('D')),
  });
  const channelName = new Map((await slack.control.workspace()).channels.map((c) => [c.id, c.name]));
  say('\nDelivered:');
  for (const m of all.filter((m) => jobNames.some((n) => about(m, n)))) {
    const where = m.channel.startsWith('D') ? '@alice (DM)' : `#${channelName.get(m.channel) ?? m.channel}`;
    say(`  ${where.padEnd(14)} ${m.text.replace(/\s+/g, ' ').slice(0, 110)}`);
  }
  // Rule status is written at most every 2 s: wait until each rule's history shows this run's deliveries.
  const shows = async (rule: string, jobs: string[]): Promise<boolean> => {
    const r = (await custom.getNamespacedCustomObject({
      ...GROUP,
      plural: 'notificationrules',
      namespace: TENANT_NS,
      name: rule,
    })) as NotificationRule;
    return jobs.every((n) => r.status?.deliveries?.some((d) => d.job === `${TENANT_NS}/${n}`) === true);
  };
  for (let waited = 0; waited < 10_000; waited += 250) {
    if ((await shows('all-outcomes', jobNames)) && (await shows('failures-to-alice', [names.failed]))) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  say('\nNotificationRules (kubectl get nrule -n demo):');
  for (const name of ['all-outcomes', 'failures-to-alice', 'private-ops']) {
    const r = (await custom.getNamespacedCustomObject({
      ...GROUP,
      namespace: TENANT_NS,
      plural: 'notificationrules',
      name,
    })) as NotificationRule;
    const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
    say(
      `  ${name.padEnd(18)} Ready=${ready?.status ?? '?'} ${ready?.reason ?? ''}  delivered=${r.status?.totals?.delivered ?? 0}`,
    );
    if (ready?.status === 'False') say(`  ${''.padEnd(18)} ${ready.message}`);
  }
  say(`\nSee the channels in the Slack emulator's web view: ${slack.url}`);

  const shutdown = async (): Promise<void> => {
    await operator.stop();
    await oauth?.stop();
    await slack.stop();
    if (ownCluster && !values['keep-cluster']) await down(values.name);
  };
  if (values.exit) {
    await shutdown();
    return 0;
  }
  say(
    ownCluster && !values['keep-cluster']
      ? `The cluster runs meanwhile: export KUBECONFIG=${kubeconfigFile}\nPress Ctrl-C to stop everything.`
      : 'Press Ctrl-C to stop the emulator and the operator.',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  say('\nStopping…');
  await shutdown();
  return 0;
}

/**
 * The install link the operator put in the integration's status; with --exit the demo follows it itself (the
 * emulator's install page approves at once and sends it back to the operator), else it waits for a person.
 */
async function installByOAuth(custom: CustomObjectsApi, say: (line?: string) => boolean, follow: boolean) {
  const read = async () =>
    (await custom.getNamespacedCustomObject({
      ...GROUP,
      namespace: OPERATOR_NS,
      plural: 'slackintegrations',
      name: 'demo',
    })) as SlackIntegration;
  let url: string | undefined;
  for (let waited = 0; url === undefined && waited < 30_000; waited += 250) {
    url = (await read()).status?.install?.url;
    if (url === undefined) await new Promise((r) => setTimeout(r, 250));
  }
  if (url === undefined) throw new Error('the operator issued no install link within 30 s');
  say(`\nInstall the app by OAuth (jobherald install-url demo -n ${OPERATOR_NS}):\n  ${url}`);
  if (follow) {
    const page = await fetch(url);
    const title = /<h1>([^<]*)<\/h1>/.exec(await page.text())?.[1] ?? `HTTP ${page.status}`;
    say(`  followed it: ${title}`);
  } else say('  open it in a browser; the demo goes on once the app is installed');
  for (;;) {
    const ready = (await read()).status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  say('  installed: SlackIntegration demo is Ready');
}

/** A Job that behaves as asked on the local control plane (kwok annotations) and on a real cluster (busybox). */
function job(name: string, script: string, annotations: Record<string, string>): V1Job {
  return {
    metadata: { name, namespace: TENANT_NS, labels: { app: 'demo' } },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox:1.37', command: ['sh', '-c', script] }],
        },
      },
    },
  };
}

const about = (m: EmulatedMessage, job: string): boolean =>
  JSON.stringify([m.text, m.attachments]).includes(job);

async function apply(
  custom: CustomObjectsApi,
  namespace: string,
  plural: string,
  body: SlackIntegration | NotificationRule,
) {
  try {
    await custom.createNamespacedCustomObject({ ...GROUP, namespace, plural, body });
  } catch (error) {
    ignoreConflict(error);
    const existing = (await custom.getNamespacedCustomObject({
      ...GROUP,
      namespace,
      plural,
      name: body.metadata.name,
    })) as {
      metadata: { resourceVersion: string };
    };
    await custom.replaceNamespacedCustomObject({
      ...GROUP,
      namespace,
      plural,
      name: body.metadata.name,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } },
    });
  }
}

function ignoreConflict(error: unknown): void {
  if ((error as { code?: number }).code !== 409) throw error;
}

async function portOrFree(port: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(0));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(port)));
  });
}
