// `jobherald release-finalizers`: remove jobherald's delivery finalizer from every Job that holds it, so that
// no Job waits in Terminating for an operator that was uninstalled (and spec.onDelete's finalizer from every
// SlackIntegration: release-integrations.ts). The chart's pre-delete hook runs it; users
// of the one-file manifest run it themselves (docs/install.md#uninstalling).
//
// Nothing may add the finalizer after the Jobs are listed, or that Job keeps it for good. Two things add it,
// and both are stopped first, when asked:
//   --scale-down NS/NAME           the operator itself (it holds a selected Job it sees running, where no
//                                  admission policy did it first): its Deployment is scaled to 0 through the
//                                  scale subresource, and the command waits until it reports no replicas.
//                                  `helm uninstall` runs the hook while the Deployment still runs.
//   --delete-admission-binding N   the MutatingAdmissionPolicyBinding that adds it at a Job's creation.
//
// Only our finalizer is removed, by a strategic merge patch `$deleteFromPrimitiveList` directive: the API
// server removes that one entry from the list it holds, so a finalizer another controller adds at the same
// moment is never lost (a JSON merge patch or an update would replace the whole list).
import { parseArgs } from 'node:util';
import { DELIVERY_FINALIZER } from '../api/job-metadata.ts';
import { describe, JobheraldError } from '../errors.ts';
import { isNotFound, KubeConnection } from '../kube/connection.ts';
import { sleep, withRetries } from './kube-retries.ts';
import { listHolding, type ObjectRef } from './list-holding.ts';
import { releaseIntegrations, type IntegrationRelease } from './release-integrations.ts';
import { REMOVAL_FINALIZER } from '../api/integration-metadata.ts';
import { processIo, type Io } from './validate.ts';

/** How long the operator's Deployment may take to report no replicas after it was scaled to 0. */
export const DEFAULT_SCALE_DOWN_TIMEOUT_S = 60;

const USAGE = `Usage: jobherald release-finalizers [--kubeconfig FILE] [--namespace NS]
                                    [--scale-down NAMESPACE/NAME [--scale-down-timeout SECONDS]]
                                    [--delete-admission-binding NAME] [--dry-run]

Remove jobherald's finalizer (${DELIVERY_FINALIZER}) from every Job that holds it, and
${REMOVAL_FINALIZER} (spec.onDelete) from every SlackIntegration that holds it; other finalizers are
left alone. Run it when uninstalling jobherald (helm uninstall runs it as a pre-delete hook).
  --kubeconfig FILE                 kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
  -n, --namespace NS                only Jobs and SlackIntegrations in this namespace (default: all)
  --scale-down NAMESPACE/NAME       first stop the operator: scale its Deployment to 0 replicas and wait
                                    until it reports none, so that it holds no new Job (one already gone
                                    is fine); on timeout, exit 1 and release nothing
  --scale-down-timeout SECONDS      how long to wait for that (default: ${DEFAULT_SCALE_DOWN_TIMEOUT_S})
  --delete-admission-binding NAME   then delete this MutatingAdmissionPolicyBinding, so that no new Job
                                    gets the finalizer at creation (one already gone is fine)
  --dry-run                         change nothing: the API server checks each scale, deletion and patch
                                    (dryRun=All) and the command prints what it would do
  -h, --help                        this text
`;

const BINDINGS = '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings';
/** Patches in flight at once: enough to release thousands of Jobs in seconds, few enough to be polite. */
const CONCURRENCY = 8;
/**
 * Waited once, before the Jobs are listed, after the binding was deleted or the operator scaled down.
 * API servers learn that the binding is gone through a watch, a moment after the delete returns; a Job
 * created in that moment could still get the finalizer after the list below. Likewise a Deployment reports
 * no replicas once its Pods are marked for deletion, and each kubelet sends SIGTERM a moment later (the
 * chart sets no preStop hook); a hold the operator had already sent is written in that moment too.
 * Waiting this long first makes both unlikely.
 */
const SETTLE_MS = 2_000;
/** How often the Deployment's scale is read while waiting for it to report no replicas. */
const POLL_MS = 500;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface DeploymentRef {
  namespace: string;
  name: string;
}

/** `NAMESPACE/NAME` of a Deployment, or undefined when it is not one (names as the API server allows them). */
export function parseDeploymentRef(value: string): DeploymentRef | undefined {
  const parts = value.split('/');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** The patch that removes our finalizer and nothing else. */
export const RELEASE_PATCH = {
  metadata: { '$deleteFromPrimitiveList/finalizers': [DELIVERY_FINALIZER] },
} as const;

export type JobRef = ObjectRef;

export interface ReleaseOptions {
  /** only Jobs in this namespace */
  namespace?: string;
  /** the operator's Deployment: scaled to 0, and waited for, before anything else */
  scaleDown?: DeploymentRef;
  /** how long the Deployment may take to report no replicas (default: DEFAULT_SCALE_DOWN_TIMEOUT_S) */
  scaleDownTimeoutMs?: number;
  deleteAdmissionBinding?: string;
  dryRun?: boolean;
  /** one line of progress */
  log?: (line: string) => void;
  settleMs?: number;
  /** the first retry's delay; each next one doubles it */
  retryDelayMs?: number;
  /** how often the Deployment's scale is read while waiting */
  pollMs?: number;
}

export interface ReleaseResult {
  /** 'stopped' (with dryRun: would scale), 'absent' (404), or undefined when no Deployment was named */
  deployment?: 'stopped' | 'absent';
  /** 'deleted', 'absent' (404), or undefined when no binding was named */
  binding?: 'deleted' | 'absent';
  /** Jobs that held the finalizer and no longer do (with dryRun: would not) */
  released: JobRef[];
  /** Jobs that held the finalizer when listed and were deleted before the patch */
  gone: JobRef[];
  failed: { job: JobRef; error: string }[];
  /** SlackIntegrations that held jobherald.dev/slack-removal (spec.onDelete) */
  integrations: IntegrationRelease;
}

/** The autoscaling/v1 Scale of a Deployment: all its `scale` subresource shows. */
interface Scale {
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

/** The Deployment still reported replicas when the time was up. */
export class ScaleDownTimeoutError extends JobheraldError {
  constructor(deployment: DeploymentRef, replicas: number, timeoutMs: number) {
    super(
      'scale_down_timeout',
      `Deployment ${deployment.namespace}/${deployment.name} still reports ${replicas} replica(s) ` +
        `${Math.round(timeoutMs / 1000)} s after it was scaled to 0 (is kube-controller-manager running? ` +
        `does something scale it back up?); releasing while the operator runs would let it hold new Jobs ` +
        `(it stays scaled to 0: run this again)`,
    );
  }
}

/**
 * Stops the operator: scales its Deployment to 0 through the `scale` subresource (a merge patch of
 * spec.replicas, the one field the chart's RBAC lets the hook write) and waits until the Deployment reports
 * no replicas. `status.replicas` counts the Pods not being deleted, so 0 means every Pod is terminating or
 * gone. The Pods need not be gone: a terminating Pod's kubelet sends it SIGTERM as soon as it sees the
 * deletion (the chart sets no preStop hook), and from SIGTERM on the operator takes no Job event, so it holds
 * no new Job; what it writes while it drains are deliveries and releases, plus at most a hold it had queued
 * before. The moment between "reports no replicas" and those last writes is what SETTLE_MS covers. Waiting
 * for the Pods themselves would take up to terminationGracePeriodSeconds and need the right to read Pods;
 * `get` on deployments/scale is all this wait needs.
 *
 * On timeout it throws and nothing is released. A Deployment that still reports replicas after a minute
 * has running Pods that nothing is stopping (kube-controller-manager down, something scaling it back up):
 * releasing then is the very race this step closes, and a warning in a hook's log goes unread. Failing stops
 * the uninstall (helm reports the hook's failure; run it again), and meanwhile every held Job still has a
 * running operator to release it.
 */
async function stopOperator(
  connection: KubeConnection,
  deployment: DeploymentRef,
  opts: { dryRun: 'All' | undefined; delayMs: number; timeoutMs: number; pollMs: number },
  log: (line: string) => void,
): Promise<'stopped' | 'absent'> {
  const what = `Deployment ${deployment.namespace}/${deployment.name}`;
  const path = `/apis/apps/v1/namespaces/${deployment.namespace}/deployments/${deployment.name}/scale`;
  let scale: Scale;
  try {
    scale = await withRetries(
      () =>
        connection.json<Scale>('PATCH', path, {
          query: { dryRun: opts.dryRun },
          contentType: 'application/merge-patch+json',
          body: { spec: { replicas: 0 } },
        }),
      opts.delayMs,
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
    log(`${what} not found (already gone)`);
    return 'absent';
  }
  let replicas = scale.status?.replicas ?? 0;
  if (opts.dryRun !== undefined) {
    log(`would scale ${what} to 0 replicas (it reports ${replicas})`);
    return 'stopped';
  }
  log(`scaled ${what} to 0 replicas`);
  const began = Date.now();
  let said = false;
  while (replicas > 0) {
    if (Date.now() - began >= opts.timeoutMs)
      throw new ScaleDownTimeoutError(deployment, replicas, opts.timeoutMs);
    if (!said) log(`waiting for ${what} to report no replicas (it reports ${replicas})`);
    said = true;
    await sleep(opts.pollMs);
    try {
      replicas = (await withRetries(() => connection.get<Scale>(path), opts.delayMs)).status?.replicas ?? 0;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      replicas = 0; // deleted meanwhile: its Pods are going too
    }
  }
  log(`${what} reports no replicas (its Pods are terminating or gone)`);
  return 'stopped';
}

export async function releaseFinalizers(
  connection: KubeConnection,
  opts: ReleaseOptions = {},
): Promise<ReleaseResult> {
  const log = opts.log ?? (() => undefined);
  const delayMs = opts.retryDelayMs ?? 250;
  const dryRun = opts.dryRun === true ? 'All' : undefined;
  const result: ReleaseResult = {
    released: [],
    gone: [],
    failed: [],
    integrations: { released: [], gone: [], failed: [] },
  };
  const verb = (done: string, would: string): string => (dryRun === undefined ? done : `would ${would}`);
  let settle = false;

  if (opts.scaleDown !== undefined) {
    result.deployment = await stopOperator(
      connection,
      opts.scaleDown,
      {
        dryRun,
        delayMs,
        timeoutMs: opts.scaleDownTimeoutMs ?? DEFAULT_SCALE_DOWN_TIMEOUT_S * 1000,
        pollMs: opts.pollMs ?? POLL_MS,
      },
      log,
    );
    settle ||= result.deployment === 'stopped' && dryRun === undefined;
  }

  if (opts.deleteAdmissionBinding !== undefined) {
    const name = opts.deleteAdmissionBinding;
    try {
      await withRetries(
        () => connection.json('DELETE', `${BINDINGS}/${name}`, { query: { dryRun } }),
        delayMs,
      );
      result.binding = 'deleted';
      log(`${verb('deleted', 'delete')} MutatingAdmissionPolicyBinding ${name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      result.binding = 'absent';
      log(`MutatingAdmissionPolicyBinding ${name} not found (already deleted)`);
    }
    settle ||= result.binding === 'deleted' && dryRun === undefined;
  }
  if (settle) await sleep(opts.settleMs ?? SETTLE_MS);

  const queue = await listHolding(
    connection,
    opts.namespace === undefined ? '/apis/batch/v1/jobs' : `/apis/batch/v1/namespaces/${opts.namespace}/jobs`,
    DELIVERY_FINALIZER,
    delayMs,
  );
  const release = async (job: JobRef): Promise<void> => {
    const path = `/apis/batch/v1/namespaces/${job.namespace}/jobs/${job.name}`;
    try {
      await withRetries(
        () =>
          connection.json('PATCH', path, {
            query: { dryRun },
            contentType: 'application/strategic-merge-patch+json',
            body: RELEASE_PATCH,
          }),
        delayMs,
      );
      result.released.push(job);
      log(`${verb('released', 'release')} ${job.namespace}/${job.name}`);
    } catch (error) {
      if (isNotFound(error)) result.gone.push(job);
      else result.failed.push({ job, error: describe(error) });
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) await release(queue[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  // after the Jobs: with the operator stopped, nothing adds this one again
  result.integrations = await releaseIntegrations(connection, {
    namespace: opts.namespace,
    dryRun,
    delayMs,
    log,
  });
  return result;
}

export async function run(args: string[], io: Io = processIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        'scale-down': { type: 'string' },
        'scale-down-timeout': { type: 'string' },
        'delete-admission-binding': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    io.err(`jobherald release-finalizers: ${describe(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const usageError = (message: string): number => {
    io.err(`jobherald release-finalizers: ${message}\n\n${USAGE}`);
    return 2;
  };
  for (const flag of ['namespace', 'scale-down', 'scale-down-timeout', 'delete-admission-binding'] as const) {
    if (values[flag] === '') return usageError(`--${flag} needs a value`);
  }
  let scaleDown: DeploymentRef | undefined;
  if (values['scale-down'] !== undefined) {
    scaleDown = parseDeploymentRef(values['scale-down']);
    if (scaleDown === undefined)
      return usageError(
        `--scale-down needs NAMESPACE/NAME of the operator's Deployment, not "${values['scale-down']}"`,
      );
  }
  let timeoutSeconds = DEFAULT_SCALE_DOWN_TIMEOUT_S;
  if (values['scale-down-timeout'] !== undefined) {
    if (scaleDown === undefined) return usageError('--scale-down-timeout needs --scale-down');
    timeoutSeconds = Number(values['scale-down-timeout']);
    if (!/^[0-9]+$/.test(values['scale-down-timeout']) || timeoutSeconds < 1 || timeoutSeconds > 3600)
      return usageError(
        `--scale-down-timeout needs a whole number of seconds from 1 to 3600, not "${values['scale-down-timeout']}"`,
      );
  }
  const dryRun = values['dry-run'];
  let result: ReleaseResult;
  try {
    const connection = KubeConnection.load({ kubeconfig: values.kubeconfig });
    result = await releaseFinalizers(connection, {
      namespace: values.namespace,
      scaleDown,
      scaleDownTimeoutMs: timeoutSeconds * 1000,
      deleteAdmissionBinding: values['delete-admission-binding'],
      dryRun,
      log: (line) => io.out(`${line}\n`),
    });
  } catch (error) {
    io.err(`jobherald release-finalizers: ${describe(error)}; no finalizer was released\n`);
    return 1;
  }
  const where = values.namespace === undefined ? '' : ` in namespace ${values.namespace}`;
  const gone = result.gone.length > 0 ? ` (${result.gone.length} more were deleted meanwhile)` : '';
  io.out(
    dryRun
      ? `dry run: would release ${DELIVERY_FINALIZER} from ${result.released.length} Job(s)${where}${gone}; nothing changed\n`
      : `released ${DELIVERY_FINALIZER} from ${result.released.length} Job(s)${where}${gone}\n`,
  );
  const integrations = result.integrations;
  if (integrations.released.length > 0)
    io.out(
      dryRun
        ? `dry run: would release ${REMOVAL_FINALIZER} from ${integrations.released.length} SlackIntegration(s)${where}; nothing changed\n`
        : `released ${REMOVAL_FINALIZER} from ${integrations.released.length} SlackIntegration(s)${where}: deleting them no longer revokes their token or uninstalls their app (spec.onDelete)\n`,
    );
  if (result.failed.length === 0 && integrations.failed.length === 0 && integrations.listError === undefined)
    return 0;
  for (const { job, error } of result.failed)
    io.err(`jobherald release-finalizers: could not release ${job.namespace}/${job.name}: ${error}\n`);
  for (const { integration, error } of integrations.failed)
    io.err(
      `jobherald release-finalizers: could not release SlackIntegration ${integration.namespace}/${integration.name}: ${error}\n`,
    );
  if (result.failed.length > 0)
    io.err(
      `jobherald release-finalizers: ${result.failed.length} Job(s) still hold ${DELIVERY_FINALIZER}; run it again\n`,
    );
  if (integrations.listError !== undefined)
    io.err(
      `jobherald release-finalizers: could not list SlackIntegrations (${integrations.listError}); any with spec.onDelete still hold ${REMOVAL_FINALIZER}: run it again with the rights to list and patch them\n`,
    );
  if (integrations.failed.length > 0)
    io.err(
      `jobherald release-finalizers: ${integrations.failed.length} SlackIntegration(s) still hold ${REMOVAL_FINALIZER}; run it again\n`,
    );
  return 1;
}
