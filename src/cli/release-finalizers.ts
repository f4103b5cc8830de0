// `jobherald release-finalizers`: remove jobherald's delivery finalizer from every Job that holds it, so that
// no Job waits in Terminating for an operator that was uninstalled. The chart's pre-delete hook runs it; users
// of the one-file manifest run it themselves (docs/install.md#uninstalling).
//
// Optionally it first deletes the MutatingAdmissionPolicyBinding that adds the finalizer at admission, so a
// Job created during the uninstall does not get it after the Jobs were listed. Only our finalizer is
// removed, by a strategic merge patch `$deleteFromPrimitiveList` directive: the API server removes that one
// entry from the list it holds, so a finalizer another controller adds at the same moment is never lost (a
// JSON merge patch or an update would replace the whole list).
import { parseArgs } from 'node:util';
import { DELIVERY_FINALIZER } from '../api/job-metadata.ts';
import { describe, RetryableError } from '../errors.ts';
import { isGone, isNotFound, KubeApiError, KubeConnection } from '../kube/connection.ts';
import { processIo, type Io } from './validate.ts';

const USAGE = `Usage: jobherald release-finalizers [--kubeconfig FILE] [--namespace NS]
                                    [--delete-admission-binding NAME] [--dry-run]

Remove jobherald's finalizer (${DELIVERY_FINALIZER}) from every Job that holds it; other finalizers
are left alone. Run it when uninstalling jobherald (helm uninstall runs it as a pre-delete hook).
  --kubeconfig FILE                 kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
  -n, --namespace NS                only Jobs in this namespace (default: all namespaces)
  --delete-admission-binding NAME   first delete this MutatingAdmissionPolicyBinding, so that no new Job
                                    gets the finalizer (one already gone is fine)
  --dry-run                         change nothing: the API server checks each deletion and patch
                                    (dryRun=All) and the command prints what it would do
  -h, --help                        this text
`;

const BINDINGS = '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings';
const PAGE_SIZE = 500;
const ATTEMPTS = 5;
/** Patches in flight at once: enough to release thousands of Jobs in seconds, few enough to be polite. */
const CONCURRENCY = 8;
/**
 * API servers learn that the binding is gone through a watch, a moment after the delete returns; a Job
 * created in that moment could still get the finalizer after the list below. Waiting this long first makes
 * that unlikely.
 */
const SETTLE_MS = 2_000;

/** The patch that removes our finalizer and nothing else. */
export const RELEASE_PATCH = {
  metadata: { '$deleteFromPrimitiveList/finalizers': [DELIVERY_FINALIZER] },
} as const;

export interface JobRef {
  namespace: string;
  name: string;
}

export interface ReleaseOptions {
  /** only Jobs in this namespace */
  namespace?: string;
  deleteAdmissionBinding?: string;
  dryRun?: boolean;
  /** one line of progress */
  log?: (line: string) => void;
  settleMs?: number;
  /** the first retry's delay; each next one doubles it */
  retryDelayMs?: number;
}

export interface ReleaseResult {
  /** 'deleted', 'absent' (404), or undefined when no binding was named */
  binding?: 'deleted' | 'absent';
  /** Jobs that held the finalizer and no longer do (with dryRun: would not) */
  released: JobRef[];
  /** Jobs that held the finalizer when listed and were deleted before the patch */
  gone: JobRef[];
  failed: { job: JobRef; error: string }[];
}

interface JobList {
  metadata: { continue?: string };
  items: { metadata: { namespace: string; name: string; finalizers?: string[] } }[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Worth another try: the transport failed, the server was busy or briefly unable. Not 4xx verdicts. */
function transient(error: unknown): boolean {
  if (error instanceof KubeApiError) return [409, 429, 500, 502, 503, 504].includes(error.status);
  return error instanceof RetryableError;
}

async function withRetries<T>(call: () => Promise<T>, delayMs: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= ATTEMPTS || !transient(error)) throw error;
      await sleep(delayMs * 2 ** (attempt - 1));
    }
  }
}

/**
 * Every Job holding the finalizer, listed page by page before any is patched: a continue token expires
 * after a few minutes, and patching thousands of Jobs between pages could outlast it. If it expires anyway
 * (410 Gone), the list starts over.
 */
async function jobsHoldingFinalizer(
  connection: KubeConnection,
  namespace: string | undefined,
  delayMs: number,
): Promise<JobRef[]> {
  const path =
    namespace === undefined ? '/apis/batch/v1/jobs' : `/apis/batch/v1/namespaces/${namespace}/jobs`;
  for (let restarts = 0; ; restarts++) {
    const held: JobRef[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await withRetries(
          () => connection.get<JobList>(path, { limit: PAGE_SIZE, continue: token }),
          delayMs,
        );
        for (const job of page.items) {
          if (job.metadata.finalizers?.includes(DELIVERY_FINALIZER) === true)
            held.push({ namespace: job.metadata.namespace, name: job.metadata.name });
        }
        token = page.metadata.continue === '' ? undefined : page.metadata.continue;
      } while (token !== undefined);
      return held;
    } catch (error) {
      if (!isGone(error) || restarts >= 2) throw error;
    }
  }
}

export async function releaseFinalizers(
  connection: KubeConnection,
  opts: ReleaseOptions = {},
): Promise<ReleaseResult> {
  const log = opts.log ?? (() => undefined);
  const delayMs = opts.retryDelayMs ?? 250;
  const dryRun = opts.dryRun === true ? 'All' : undefined;
  const result: ReleaseResult = { released: [], gone: [], failed: [] };
  const verb = (done: string, would: string): string => (dryRun === undefined ? done : `would ${would}`);

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
    if (result.binding === 'deleted' && dryRun === undefined) await sleep(opts.settleMs ?? SETTLE_MS);
  }

  const queue = await jobsHoldingFinalizer(connection, opts.namespace, delayMs);
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
  for (const flag of ['namespace', 'delete-admission-binding'] as const) {
    if (values[flag] === '') {
      io.err(`jobherald release-finalizers: --${flag} needs a value\n\n${USAGE}`);
      return 2;
    }
  }
  const dryRun = values['dry-run'];
  let result: ReleaseResult;
  try {
    const connection = KubeConnection.load({ kubeconfig: values.kubeconfig });
    result = await releaseFinalizers(connection, {
      namespace: values.namespace,
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
  if (result.failed.length === 0) return 0;
  for (const { job, error } of result.failed)
    io.err(`jobherald release-finalizers: could not release ${job.namespace}/${job.name}: ${error}\n`);
  io.err(
    `jobherald release-finalizers: ${result.failed.length} Job(s) still hold ${DELIVERY_FINALIZER}; run it again\n`,
  );
  return 1;
}
