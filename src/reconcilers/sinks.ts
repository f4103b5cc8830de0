// What the reconcilers write through, as small interfaces: the Kubernetes layer's StatusWriter,
// EventRecorder and Secret store implement them, tests pass recorders. Reconcilers import no Kubernetes client.
import { JobheraldError } from '../errors.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventSink {
  /** best effort: never throws, never blocks */
  record(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface StatusSink {
  /**
   * Schedule a status write of the object at `path`; `build` runs when the write happens, so it sends the newest
   * state (undefined skips it). Writes are coalesced per object.
   */
  request(path: string, build: () => Record<string, unknown> | undefined): void;
  /** the object was deleted */
  forget(path: string): void;
}

// ---- Secrets (token rotation: src/kube/secret-store.ts)

export interface StoredSecret {
  namespace: string;
  name: string;
  resourceVersion: string;
  /** base64 values, as the API server keeps them */
  data: Record<string, string>;
  annotations: Record<string, string>;
  /** UIDs of the owners (metadata.ownerReferences) */
  ownerUIDs: string[];
}

export interface SecretOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A write to a Secret. `resourceVersion` makes it conditional: a Secret changed since answers Conflict. */
export interface SecretWrite {
  namespace: string;
  name: string;
  /** the version the write is based on; undefined creates the Secret */
  resourceVersion: string | undefined;
  /** plain-text values; sent as stringData-free base64 data */
  values: Record<string, string>;
  annotations: Record<string, string>;
  /** set on create: the Secret is garbage-collected with its owner */
  owner?: SecretOwner;
}

export interface SecretStore {
  /** The Secret as the API server has it now (not the watch's cache), or undefined. */
  read(namespace: string, name: string): Promise<StoredSecret | undefined>;
  /** Rejects with SecretConflictError when the Secret changed (or appeared) since `resourceVersion`. */
  write(write: SecretWrite): Promise<StoredSecret>;
}

/** The Secret changed, appeared or went since it was read: read it again. */
export class SecretConflictError extends JobheraldError {
  constructor(namespace: string, name: string) {
    super('conflict', `Secret ${namespace}/${name} changed since it was read`);
  }
}

// ---- Finalizers on the operator's own kinds (SlackIntegration removal: src/kube/object-finalizers.ts)

export interface FinalizerSink {
  /**
   * Make the object's metadata.finalizers exactly `finalizers`, if it is still at `resourceVersion` (a JSON
   * patch that tests it): nothing but the finalizers is written. Rejects with SecretConflictError-like
   * `conflict` when the object moved on; the next reconcile tries again.
   */
  set(path: string, resourceVersion: string, finalizers: readonly string[]): Promise<void>;
}
