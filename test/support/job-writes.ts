// Counting jobherald's writes to Jobs from outside the operator, as the API server shows them: a watch of
// the namespace's Jobs records every change of the delivery finalizer or the delivery record per Job (what
// the admission policy set at creation is not a write), and the API server's own request counter gives the
// PATCHes it served. Neither asks the operator.
import { DELIVERY_FINALIZER, DELIVERY_RECORD_ANNOTATION } from '../../src/api/job-metadata.ts';
import { KubeConnection } from '../../src/kube/connection.ts';
import { ListWatch, type KubeObject } from '../../src/kube/list-watch.ts';
import { kube } from './kube.ts';

interface Meta {
  name: string;
  held: boolean;
  record: string | undefined;
}

const metaOf = (o: KubeObject): Meta => ({
  name: o.metadata.name,
  held: ((o.metadata.finalizers as string[] | undefined) ?? []).includes(DELIVERY_FINALIZER),
  record: (o.metadata.annotations as Record<string, string> | undefined)?.[DELIVERY_RECORD_ANNOTATION],
});

export class JobWriteRecorder {
  /** Job name → number of changes to jobherald's finalizer or record */
  readonly writes = new Map<string, number>();
  /** Jobs whose DELETED event the watch has delivered */
  readonly deleted = new Set<string>();
  /** Job name → held at creation (the admission policy) */
  readonly heldAtCreation = new Map<string, boolean>();
  readonly #watch: ListWatch<Meta>;

  constructor(namespace: string) {
    this.#watch = new ListWatch<Meta>(
      {
        connection: new KubeConnection(kube().kc),
        path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
        resource: 'jobs',
        toRecord: metaOf,
      },
      {
        onChange: (type, record, previous) => {
          if (type === 'added') {
            this.heldAtCreation.set(record.name, record.held);
            this.writes.set(record.name, 0);
            return;
          }
          if (type === 'deleted') this.deleted.add(record.name);
          // Releasing the last finalizer of a Job being deleted deletes it: that write shows only as the DELETED
          // event (whose object may still show the finalizer). A held Job cannot go any other way.
          if (type === 'deleted' && previous?.held === true) {
            this.writes.set(record.name, (this.writes.get(record.name) ?? 0) + 1);
            return;
          }
          if (type === 'modified' && previous !== undefined) {
            if (previous.held !== record.held || previous.record !== record.record) {
              this.writes.set(record.name, (this.writes.get(record.name) ?? 0) + 1);
            }
          }
        },
      },
    );
  }

  /** Starts watching before the Jobs are created; resolves once the watch has listed. */
  async start(): Promise<this> {
    this.#watch.start();
    await this.#watch.synced;
    return this;
  }

  stop(): Promise<void> {
    return this.#watch.stop();
  }

  total(): number {
    return [...this.writes.values()].reduce((a, b) => a + b, 0);
  }
}

/** PATCH requests on Jobs the API server served (any answer), from its own /metrics (apiserver_request_total). */
export async function apiServerJobPatches(): Promise<{ stored: number; refused: number }> {
  const { total, byCode } = await apiServerJobPatchesByCode();
  const stored = Object.entries(byCode)
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0);
  return { stored, refused: total - stored };
}

/** PATCHes on Jobs between two readings of apiServerJobPatches. */
export const patchesSince = (
  before: { stored: number; refused: number },
  after: { stored: number; refused: number },
): { stored: number; refused: number } => ({
  stored: after.stored - before.stored,
  refused: after.refused - before.refused,
});

/** The same, by HTTP answer code. */
export async function apiServerJobPatchesByCode(): Promise<{
  total: number;
  byCode: Record<string, number>;
}> {
  const connection = new KubeConnection(kube().kc);
  const response = await connection.send('GET', '/metrics');
  const text = await response.text();
  let total = 0;
  const byCode: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (!line.includes('resource="jobs"') || !line.includes('verb="PATCH"')) continue;
    if (!line.includes('subresource=""')) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    const code = /code="(\d+)"/.exec(line)?.[1] ?? '?';
    byCode[code] = (byCode[code] ?? 0) + n;
    total += n;
  }
  return { total, byCode };
}
