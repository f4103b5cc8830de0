// Lease-based leader election (coordination.k8s.io/v1), with client-go's semantics: a lease is expired
// when its record has not changed for leaseDuration *as observed by this replica's clock*, so clock skew
// between replicas cannot make two leaders. Only the leader reconciles and sends; a replica that cannot
// renew within renewDeadline stops leading at once (the caller exits and restarts clean).
import { isConflict, isNotFound, type KubeConnection } from './connection.ts';

export interface LeaderElectionOptions {
  connection: KubeConnection;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** metav1.MicroTime */
const microTime = (date = new Date()): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'log'>> & Pick<LeaderElectionOptions, 'log'>;
  #leading = false;
  #stopped = false;
  #observed: { record: string; at: number } | undefined;
  #lastRenew = 0;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.#o = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...opts };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops trying; if leading, gives the lease up so a standby takes over without waiting it out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.(); // end the retry-period sleep now, or the loop would never finish
    await this.#loop;
    if (this.#leading) {
      this.#leading = false;
      await this.#release().catch(() => undefined);
    }
  }

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases/${this.#o.name}`;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew();
      } catch (error) {
        this.#o.log?.('warn', `leader election: ${error instanceof Error ? error.message : String(error)}`);
      }
      const now = Date.now();
      if (ok) {
        this.#lastRenew = now;
        if (!this.#leading) {
          this.#leading = true;
          this.#o.log?.('info', `leader election: ${this.#o.identity} is now the leader`);
          this.#o.onStartedLeading();
        }
      } else if (this.#leading && now - this.#lastRenew > this.#o.renewDeadlineMs) {
        this.#leading = false;
        this.#o.log?.(
          'warn',
          `leader election: ${this.#o.identity} could not renew the lease; stepping down`,
        );
        this.#o.onStoppedLeading();
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#o.retryPeriodMs);
      });
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: Lease;
    try {
      lease = await this.#o.connection.get<Lease>(this.#path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.#o.connection.json(
          'POST',
          `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`,
          {
            body: this.#lease(undefined, now, 0),
          },
        );
        return true;
      } catch (createError) {
        if (isConflict(createError)) return false; // someone else created it first
        throw createError;
      }
    }
    const spec = lease.spec;
    const record = JSON.stringify(spec);
    if (this.#observed?.record !== record) this.#observed = { record, at: now.getTime() };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? this.#o.leaseDurationSeconds) * 1000;
    const expired = holder === '' || this.#observed.at + duration <= now.getTime();
    if (holder !== this.#o.identity && !expired) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === this.#o.identity ? 0 : 1);
    const next = this.#lease(
      lease.metadata.resourceVersion,
      now,
      transitions,
      holder === this.#o.identity ? spec : undefined,
    );
    try {
      const written = await this.#o.connection.json<Lease>('PUT', this.#path, { body: next });
      this.#observed = { record: JSON.stringify(written.spec), at: now.getTime() };
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // lost a race for it
      throw error;
    }
  }

  #lease(resourceVersion: string | undefined, now: Date, transitions: number, current?: LeaseSpec): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace, resourceVersion },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: this.#o.leaseDurationSeconds,
        acquireTime: current?.acquireTime ?? microTime(now),
        renewTime: microTime(now),
        leaseTransitions: transitions,
      },
    };
  }

  async #release(): Promise<void> {
    const lease = await this.#o.connection.get<Lease>(this.#path);
    if (lease.spec.holderIdentity !== this.#o.identity) return;
    await this.#o.connection.json('PUT', this.#path, {
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() },
      },
    });
  }
}
