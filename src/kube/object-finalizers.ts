// Writes metadata.finalizers of one object and nothing else: a JSON patch that first tests the
// resourceVersion the operator decided on, so a concurrent change (a new spec, another finalizer) is a 409 and
// the decision is made again on the new object. The operator never writes spec (GitOps owns it).
import type { KubeConnection } from './connection.ts';
import type { FinalizerSink } from '../reconcilers/sinks.ts';

export function kubeFinalizers(connection: KubeConnection): FinalizerSink {
  return {
    async set(path, resourceVersion, finalizers) {
      await connection.json('PATCH', path, {
        contentType: 'application/json-patch+json',
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [...finalizers] },
        ],
      });
    },
  };
}
