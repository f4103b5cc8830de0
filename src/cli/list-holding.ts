// Every object of one collection that holds a given finalizer, listed page by page before any is patched: a
// continue token expires after a few minutes, and patching thousands of objects between pages could outlast
// it. If it expires anyway (410 Gone), the list starts over (twice at most).
import { isGone, type KubeConnection } from '../kube/connection.ts';
import { withRetries } from './kube-retries.ts';

const PAGE_SIZE = 500;

export interface ObjectRef {
  namespace: string;
  name: string;
}

interface Page {
  metadata: { continue?: string };
  items: { metadata: { namespace: string; name: string; finalizers?: string[] } }[];
}

export async function listHolding(
  connection: KubeConnection,
  path: string,
  finalizer: string,
  delayMs: number,
): Promise<ObjectRef[]> {
  for (let restarts = 0; ; restarts++) {
    const held: ObjectRef[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await withRetries(
          () => connection.get<Page>(path, { limit: PAGE_SIZE, continue: token }),
          delayMs,
        );
        for (const o of page.items)
          if (o.metadata.finalizers?.includes(finalizer) === true)
            held.push({ namespace: o.metadata.namespace, name: o.metadata.name });
        token = page.metadata.continue === '' ? undefined : page.metadata.continue;
      } while (token !== undefined);
      return held;
    } catch (error) {
      if (!isGone(error) || restarts >= 2) throw error;
    }
  }
}
