// jobherald controller: run the operator. Every flag can also be set by environment variable
// JOBHERALD_<FLAG> (e.g. JOBHERALD_CLUSTER_NAME); a flag wins over its variable.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConnection } from '../kube/connection.ts';
import { Operator } from '../operator/operator.ts';
import { DEFAULTS, type OperatorConfig } from '../operator/config.ts';
import { DEFAULT_ADMISSION_PARAMS } from '../api/job-metadata.ts';
import {
  parseWorkspaceRate,
  SLACK_WORKSPACE_BURST,
  SLACK_WORKSPACE_POSTS_PER_MINUTE,
} from '../delivery/limits.ts';
import { createSlackClient } from '../slack/client.ts';
import { createSlackAppClient } from '../slack/app-client.ts';
import { createLogger, parseLogLevel } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { startHealthServer } from '../observability/health-server.ts';
import { CALLBACK_PATH, startOAuthServer } from '../oauth/server.ts';

const OPTIONS = {
  kubeconfig: {
    type: 'string',
    help: 'kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)',
  },
  'cluster-name': { type: 'string', help: 'cluster name shown in messages (default: "kubernetes")' },
  namespace: { type: 'string', help: "the operator's namespace (default: the Pod's, else jobherald-system)" },
  'cluster-rule-namespaces': {
    type: 'string',
    help: 'comma list: rules here may select Jobs in other namespaces (default: the operator namespace)',
  },
  'integration-namespaces': {
    type: 'string',
    help: 'comma list: SlackIntegrations and their Secrets are served here (default: the operator namespace)',
  },
  'leader-elect': {
    type: 'boolean',
    help: 'elect a leader with a Lease; only the leader sends (default: false)',
  },
  'leader-election-id': { type: 'string', help: 'the Lease name (default: jobherald)' },
  'metrics-bind-address': { type: 'string', help: 'host:port for /metrics, "0" to disable (default: :8080)' },
  'health-probe-bind-address': {
    type: 'string',
    help: 'host:port for /healthz and /readyz, "0" to disable (default: :8081)',
  },
  'oauth-bind-address': {
    type: 'string',
    help: `host:port for the Slack OAuth redirect (${CALLBACK_PATH}), "0" to disable (default: 0)`,
  },
  'oauth-public-url': {
    type: 'string',
    help: 'the https:// base URL browsers reach the OAuth listener at; SlackIntegrations with spec.oauth then get an install link',
  },
  'log-level': { type: 'string', help: 'debug | info | warn | error (default: info)' },
  'recheck-interval': { type: 'string', help: 'how often auth and membership are re-checked (default: 5m)' },
  'parked-recheck-interval': {
    type: 'string',
    help: 'how often channels are re-checked while alerts wait for an invite (default: 30s)',
  },
  'slack-timeout': { type: 'string', help: 'Slack request timeout (default: 10s)' },
  'slack-removal-timeout': {
    type: 'string',
    help: 'how long a deleted SlackIntegration with spec.onDelete waits for Slack before it goes anyway (default: 2m)',
  },
  'slack-workspace-rate': {
    type: 'string',
    help: `chat.postMessage budget per workspace, RATE/m[:BURST], RATE/s[:BURST] or off; beyond it, alerts go out as one digest per channel (default: ${SLACK_WORKSPACE_POSTS_PER_MINUTE}/m:${SLACK_WORKSPACE_BURST}, Slack's "several hundred per minute")`,
  },
  'channel-hold': {
    type: 'string',
    help: 'how long alerts wait for a channel that does not resolve or is unavailable (default: 1h)',
  },
  'allow-insecure-slack-api-url': {
    type: 'boolean',
    help: 'send bot tokens to a plain-http SlackIntegration apiURL that is not loopback (default: false, refused as InsecureAPIURL)',
  },
  'no-finalizers': {
    type: 'boolean',
    help: 'do not hold matched Jobs with the delivery finalizer: best effort, see docs/install.md',
  },
  'admission-params': {
    type: 'string',
    help: `ConfigMap (in --namespace) scoping the admission policy; "" keeps none (default: ${DEFAULT_ADMISSION_PARAMS})`,
  },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const;

const envName = (flag: string): string => `JOBHERALD_${flag.toUpperCase().replace(/-/g, '_')}`;

function usage(): string {
  const lines = Object.entries(OPTIONS).map(
    ([flag, o]) => `  --${flag.padEnd(27)} ${o.help}\n${' '.repeat(32)}env ${envName(flag)}`,
  );
  return `Usage: jobherald controller [flags]\n\n${lines.join('\n')}\n`;
}

/** "500ms", "30s", "5m", "1h" → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (match === null) throw new Error(`--${flag}: "${text}" is not a duration like 500ms, 30s, 5m or 1h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

const list = (text: string | undefined): string[] | undefined =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

function podNamespace(): string | undefined {
  try {
    return (
      readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined
    );
  } catch {
    return undefined;
  }
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.entries(OPTIONS).map(([flag, o]) => [
        flag,
        { type: o.type, ...('short' in o ? { short: o.short } : {}) },
      ]),
    ) as { [K in keyof typeof OPTIONS]: { type: (typeof OPTIONS)[K]['type'] } },
  });
  if (values.help === true) {
    process.stdout.write(usage());
    return 0;
  }
  const get = (flag: keyof typeof OPTIONS): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string') return value;
    if (typeof value === 'boolean') return String(value);
    return process.env[envName(flag)];
  };
  const namespace = get('namespace') ?? process.env.POD_NAMESPACE ?? podNamespace() ?? 'jobherald-system';
  const workspaceRate = get('slack-workspace-rate');
  const config: OperatorConfig = {
    clusterName: get('cluster-name') ?? 'kubernetes',
    namespace,
    clusterRuleNamespaces: list(get('cluster-rule-namespaces')) ?? [namespace],
    integrationNamespaces: list(get('integration-namespaces')) ?? [namespace],
    leaderElect: get('leader-elect') === 'true',
    leaseName: get('leader-election-id') ?? 'jobherald',
    identity: Operator.identity(),
    recheckIntervalMs: parseDuration(get('recheck-interval') ?? '5m', 'recheck-interval'),
    parkedRecheckIntervalMs: parseDuration(
      get('parked-recheck-interval') ?? '30s',
      'parked-recheck-interval',
    ),
    slackTimeoutMs: parseDuration(get('slack-timeout') ?? '10s', 'slack-timeout'),
    removalTimeoutMs: parseDuration(get('slack-removal-timeout') ?? '2m', 'slack-removal-timeout'),
    ...oauthRedirect(get('oauth-public-url')),
    statusIntervalMs: DEFAULTS.statusIntervalMs,
    finalizers: get('no-finalizers') !== 'true',
    allowInsecureSlackApiURL: get('allow-insecure-slack-api-url') === 'true',
    admissionParams: get('admission-params') ?? DEFAULT_ADMISSION_PARAMS,
    deliveryLimits: {
      channelHoldMs: parseDuration(get('channel-hold') ?? '1h', 'channel-hold'),
      // unset: the dispatcher's default, Slack's workspace ceiling (delivery/limits.ts)
      ...(workspaceRate === undefined ? {} : parseWorkspaceRate(workspaceRate)),
    },
  };
  const log = createLogger({ level: parseLogLevel(get('log-level') ?? 'info') });
  const metrics = new Metrics();
  const connection = KubeConnection.load({ kubeconfig: get('kubeconfig') });
  connection.onRequest = (verb) => metrics.kubeRequest(verb);

  let exitCode = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const operator = new Operator({
    config,
    connection,
    log,
    createSlackClient: (options) => createSlackClient({ ...options, log }),
    createSlackAppClient: (options) => createSlackAppClient({ ...options, log }),
    metrics: {
      delivery: metrics,
      listWatch: metrics,
      leader: (leading) => metrics.setLeader(leading),
      outcome: (event) => metrics.outcome(event),
      deliveryResult: (item, result) => metrics.recordResult(item, result),
      watchIntegration: (source) => metrics.watchIntegration(source),
      jobWrite: (kind) => metrics.jobWrite(kind),
      reconciled: (controller) => metrics.reconciled(controller),
    },
    onLostLeadership: () => {
      log.error({}, 'lost leadership: exiting so that a fresh process rejoins the election');
      exitCode = 1;
      resolveDone();
    },
  });
  const oauth =
    config.oauthRedirectURL === undefined
      ? undefined
      : await startOAuthServer({
          address: get('oauth-bind-address') ?? '0',
          deps: operator.installCallbackDeps(config.oauthRedirectURL),
          log,
        });
  const health = await startHealthServer({
    metricsAddress: get('metrics-bind-address') ?? ':8080',
    probeAddress: get('health-probe-bind-address') ?? ':8081',
    metrics,
    checks: {
      healthz: () => [{ name: 'ping', ok: true }],
      readyz: () => [
        { name: 'caches-synced', ok: operator.synced, reason: operator.synced ? undefined : 'syncing' },
      ],
    },
  });
  log.info(
    {
      clusterName: config.clusterName,
      namespace: config.namespace,
      clusterRuleNamespaces: config.clusterRuleNamespaces,
      integrationNamespaces: config.integrationNamespaces,
      allowInsecureSlackApiURL: config.allowInsecureSlackApiURL,
      leaderElect: config.leaderElect,
      identity: config.identity,
      server: connection.server,
      metricsPort: health.metricsPort,
      probePort: health.probePort,
      oauthPort: oauth?.port,
    },
    'jobherald controller starting',
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      resolveDone();
    });
  }
  const started = Date.now();
  operator.start().then(
    () => log.info({ ms: Date.now() - started, jobs: operator.jobs.store.size }, 'ready'),
    (error: unknown) => {
      log.error({ err: error }, 'could not start');
      exitCode = 1;
      resolveDone();
    },
  );
  await done;
  await operator.stop();
  await oauth?.stop();
  await health.stop();
  return exitCode;
}

/** --oauth-public-url → the redirect URL; https:// only, except loopback (the emulator, a port-forward). */
function oauthRedirect(publicURL: string | undefined): { oauthRedirectURL?: string } {
  if (publicURL === undefined || publicURL.trim() === '') return {};
  let url: URL;
  try {
    url = new URL(publicURL.trim());
  } catch {
    throw new Error(`--oauth-public-url: not a URL: ${publicURL}`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new Error(
      '--oauth-public-url must be https:// (Slack redirects only to https, except to localhost)',
    );
  return { oauthRedirectURL: `${url.origin}${url.pathname.replace(/\/$/, '')}${CALLBACK_PATH}` };
}
