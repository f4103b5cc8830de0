// The operator's few writes to Secrets: refreshed bot tokens (token rotation), into the Secret the user named
// or into one the operator owns. Reads go through a LIST with a field selector, because the operator's RBAC on
// Secrets is list/watch/create/update in the integration namespaces, never get. Errors never carry the API
// server's text (a Secret's data must not reach a log through an error message): status and reason only.
import { isConflict, isNotFound, KubeApiError, type KubeConnection } from './connection.ts';
import { JobheraldError } from '../errors.ts';
import { SecretConflictError, type SecretStore, type StoredSecret } from '../reconcilers/sinks.ts';

interface SecretObject {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string }[];
  };
  data?: Record<string, string>;
}

const toStored = (o: SecretObject): StoredSecret => ({
  namespace: o.metadata.namespace ?? '',
  name: o.metadata.name,
  resourceVersion: o.metadata.resourceVersion ?? '',
  data: o.data ?? {},
  annotations: o.metadata.annotations ?? {},
  ownerUIDs: (o.metadata.ownerReferences ?? []).map((r) => r.uid),
});

/** The API server's answer without its text: "409 Conflict", "403 Forbidden". */
function quiet(error: unknown, what: string): unknown {
  if (!(error instanceof KubeApiError)) return error;
  return new JobheraldError(
    error.code,
    `${what}: HTTP ${error.status}${error.reason ? ` ${error.reason}` : ''}`,
  );
}

export function kubeSecretStore(connection: KubeConnection): SecretStore {
  return {
    async read(namespace, name) {
      let list: { items?: SecretObject[] };
      try {
        list = await connection.get(`/api/v1/namespaces/${namespace}/secrets`, {
          fieldSelector: `metadata.name=${name}`,
        });
      } catch (error) {
        throw quiet(error, `reading Secret ${namespace}/${name}`);
      }
      const found = (list.items ?? []).find((s) => s.metadata.name === name);
      return found === undefined
        ? undefined
        : toStored({ ...found, metadata: { namespace, ...found.metadata } });
    },

    async write(write) {
      const data = Object.fromEntries(
        Object.entries(write.values).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]),
      );
      const metadata: Record<string, unknown> = {
        name: write.name,
        namespace: write.namespace,
        annotations: write.annotations,
      };
      const collection = `/api/v1/namespaces/${write.namespace}/secrets`;
      try {
        if (write.resourceVersion === undefined) {
          if (write.owner !== undefined)
            metadata.ownerReferences = [{ ...write.owner, controller: true, blockOwnerDeletion: false }];
          const created = await connection.json<SecretObject>('POST', collection, {
            body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata, data },
          });
          return toStored(created);
        }
        // A merge patch that carries resourceVersion is conditional (409 if the Secret moved on). Keys the
        // operator does not write (a user's own) are kept.
        const patched = await connection.mergePatch<SecretObject>(`${collection}/${write.name}`, {
          metadata: { resourceVersion: write.resourceVersion, annotations: write.annotations },
          data,
        });
        return toStored(patched);
      } catch (error) {
        // 409: changed since read (or created meanwhile); 404: deleted since read. Both: read again.
        if (isConflict(error) || isNotFound(error))
          throw new SecretConflictError(write.namespace, write.name);
        throw quiet(error, `writing Secret ${write.namespace}/${write.name}`);
      }
    },
  };
}
