// The second half of `jobherald release-finalizers`: with spec.onDelete a SlackIntegration holds
// jobherald.dev/slack-removal until the operator revoked its token or uninstalled the app. With the operator
// gone, deleting such an integration would wait in Terminating for good; releasing the finalizer means that
// deleting it no longer touches Slack, which the command says.
//
// SlackIntegrations are custom resources, which take no strategic merge patch, and a JSON merge patch would
// replace the whole finalizer list. So each is released with a JSON patch that tests that the entry at the
// index it was read at is still ours and removes that entry alone: a finalizer added meanwhile is kept, and a
// list that changed under the index fails the test (422) and is read again.
import { REMOVAL_FINALIZER } from '../api/integration-metadata.ts';
import { describe } from '../errors.ts';
import { isNotFound, KubeApiError, type KubeConnection } from '../kube/connection.ts';
import { listHolding, type ObjectRef } from './list-holding.ts';
import { withRetries } from './kube-retries.ts';

const GROUP_PATH = '/apis/jobherald.dev/v1alpha1';
/** Re-reads after the list changed under the tested index. */
const REREADS = 5;

export type IntegrationRef = ObjectRef;

export interface IntegrationRelease {
  released: IntegrationRef[];
  /** deleted (or its finalizer removed by someone else) before the patch */
  gone: IntegrationRef[];
  failed: { integration: IntegrationRef; error: string }[];
  /** the list itself was refused or failed: which integrations hold the finalizer is unknown */
  listError?: string;
}

interface Listed {
  metadata: { namespace: string; name: string; finalizers?: string[] };
}

/** Removes our finalizer from one integration; false when it no longer holds it (or is gone). */
async function releaseOne(
  connection: KubeConnection,
  ref: IntegrationRef,
  dryRun: 'All' | undefined,
  delayMs: number,
): Promise<boolean> {
  const collection = `${GROUP_PATH}/namespaces/${ref.namespace}/slackintegrations`;
  const path = `${collection}/${ref.name}`;
  for (let read = 0; ; read++) {
    // a list by name, not a get: list and patch are all the operator's ClusterRole grants on integrations
    const found = await withRetries(
      () => connection.get<{ items: Listed[] }>(collection, { fieldSelector: `metadata.name=${ref.name}` }),
      delayMs,
    );
    const at = found.items[0]?.metadata.finalizers?.indexOf(REMOVAL_FINALIZER) ?? -1;
    if (at < 0) return false;
    try {
      await withRetries(
        () =>
          connection.json('PATCH', path, {
            query: { dryRun },
            contentType: 'application/json-patch+json',
            body: [
              { op: 'test', path: `/metadata/finalizers/${at}`, value: REMOVAL_FINALIZER },
              { op: 'remove', path: `/metadata/finalizers/${at}` },
            ],
          }),
        delayMs,
      );
      return true;
    } catch (error) {
      const moved = error instanceof KubeApiError && error.status === 422;
      if (!moved || read >= REREADS) throw error;
    }
  }
}

export async function releaseIntegrations(
  connection: KubeConnection,
  opts: {
    namespace?: string;
    dryRun: 'All' | undefined;
    delayMs: number;
    log: (line: string) => void;
  },
): Promise<IntegrationRelease> {
  const result: IntegrationRelease = { released: [], gone: [], failed: [] };
  const verb = opts.dryRun === undefined ? 'released' : 'would release';
  let held: IntegrationRef[];
  try {
    held = await listHolding(
      connection,
      opts.namespace === undefined
        ? `${GROUP_PATH}/slackintegrations`
        : `${GROUP_PATH}/namespaces/${opts.namespace}/slackintegrations`,
      REMOVAL_FINALIZER,
      opts.delayMs,
    );
  } catch (error) {
    if (isNotFound(error)) return result; // no SlackIntegration CRD: nothing can hold it
    // the Jobs are released already: say what is left, do not pretend nothing happened
    result.listError = describe(error);
    return result;
  }
  for (const ref of held) {
    try {
      if (await releaseOne(connection, ref, opts.dryRun, opts.delayMs)) {
        result.released.push(ref);
        opts.log(`${verb} SlackIntegration ${ref.namespace}/${ref.name}`);
      } else result.gone.push(ref);
    } catch (error) {
      if (isNotFound(error)) result.gone.push(ref);
      else result.failed.push({ integration: ref, error: describe(error) });
    }
  }
  return result;
}
