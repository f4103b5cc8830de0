// What the reconcilers write through, as small interfaces: the Kubernetes layer's StatusWriter and
// EventRecorder implement them, tests pass recorders. Reconcilers import no Kubernetes client.

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
