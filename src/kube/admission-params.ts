// Keeps the parameter object of the delivery-finalizer MutatingAdmissionPolicy current: a ConfigMap in the
// operator's namespace whose data keys are the namespaces that deliverable rules reach. The policy adds the
// finalizer at creation to Jobs in exactly those namespaces (docs/adr/0009), so Jobs elsewhere are never
// touched. jobherald creates the ConfigMap itself (it is state, not configuration: GitOps tools never see it
// drift) and writes it only when the set changes; without the policy in the cluster it is simply unused.
import type { Clock } from '../delivery/clock.ts';
import { describe } from '../errors.ts';
import { isNotFound, type KubeConnection } from './connection.ts';

interface ConfigMap {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  data?: Record<string, string>;
}

export interface AdmissionParamsOptions {
  connection: KubeConnection;
  namespace: string;
  name: string;
  clock: Clock;
  log: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
}

export class AdmissionParams {
  readonly #o: AdmissionParamsOptions;
  #want: Set<string> | undefined;
  /** what the ConfigMap holds, as far as we know (undefined: not read yet) */
  #have: Set<string> | undefined;
  #writing = false;
  #failures = 0;
  #stopped = false;

  constructor(options: AdmissionParamsOptions) {
    this.#o = options;
  }

  get path(): string {
    return `/api/v1/namespaces/${this.#o.namespace}/configmaps/${this.#o.name}`;
  }

  /** The namespaces to hold Jobs in, now. Written soon, once; later calls win. */
  set(namespaces: Iterable<string>): void {
    this.#want = new Set(namespaces);
    if (!this.#writing) void this.#sync();
  }

  stop(): void {
    this.#stopped = true;
  }

  async #sync(): Promise<void> {
    this.#writing = true;
    try {
      while (!this.#stopped && this.#want !== undefined && !sameSet(this.#want, this.#have)) {
        const want = this.#want;
        try {
          await this.#write(want);
          this.#have = want;
          this.#failures = 0;
          this.#o.log(
            'info',
            { configMap: `${this.#o.namespace}/${this.#o.name}`, namespaces: [...want].sort() },
            'admission policy scope updated',
          );
        } catch (error) {
          this.#failures++;
          this.#have = undefined; // read it again
          this.#o.log(
            'warn',
            { configMap: `${this.#o.namespace}/${this.#o.name}`, err: describe(error) },
            'could not update the admission policy scope; retrying',
          );
          await new Promise((resolve) =>
            this.#o.clock.setTimeout(() => resolve(undefined), Math.min(60_000, 1_000 * 2 ** this.#failures)),
          );
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  async #write(want: Set<string>): Promise<void> {
    let current: ConfigMap | undefined;
    if (this.#have === undefined) {
      try {
        current = await this.#o.connection.get<ConfigMap>(this.path);
        this.#have = new Set(Object.keys(current.data ?? {}));
        if (sameSet(want, this.#have)) return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (current === undefined) {
        await this.#o.connection.json('POST', `/api/v1/namespaces/${this.#o.namespace}/configmaps`, {
          body: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name: this.#o.name,
              namespace: this.#o.namespace,
              labels: { 'app.kubernetes.io/managed-by': 'jobherald' },
              annotations: {
                'jobherald.dev/purpose':
                  'written by jobherald: the namespaces whose new Jobs get its delivery finalizer (MutatingAdmissionPolicy parameter)',
              },
            },
            data: Object.fromEntries([...want].sort().map((ns) => [ns, ''])),
          },
        });
        return;
      }
    }
    // a merge patch: keys to add with "", keys to drop with null
    const data: Record<string, string | null> = {};
    for (const ns of want) if (!this.#have?.has(ns)) data[ns] = '';
    for (const ns of this.#have ?? []) if (!want.has(ns)) data[ns] = null;
    await this.#o.connection.mergePatch(this.path, { data });
  }
}

function sameSet(a: Set<string>, b: Set<string> | undefined): boolean {
  if (b === undefined || a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
