// Lease-based leader election (coordination.k8s.io/v1), with client-go's semantics: a lease is expired
// when its record has not changed for leaseDuration *as observed by this replica's clock*, so clock skew
// between replicas cannot make two leaders. Only the leader reconciles and sends; a replica that cannot
// renew within renewDeadline stops leading at once (the caller exits and restarts clean).
import { performance } from 'node:perf_hooks';
import { isConflict, isNotFound, type KubeConnection } from './connection.ts';
import { describe } from '../errors.ts';

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
  /** the lease record as last seen, and when (performance.now()): expiry is judged by our own clock */
  #observed: { record: string; at: number } | undefined;
  /** performance.now() at the start of the last successful renew (a monotonic clock: wall time can jump) */
  #lastRenew = 0;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.#o = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...opts };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops trying; if leading, gives the lease up so a standby takes over without waiting it out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#deadlineTimer);
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
      const attemptStart = performance.now();
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew();
      } catch (error) {
        this.#o.log?.('warn', `leader election: ${describe(error)}`);
      }
      if (this.#stopped) break;
      if (ok) {
        this.#lastRenew = attemptStart;
        if (!this.#leading) {
          this.#leading = true;
          this.#o.log?.('info', `leader election: ${this.#o.identity} is now the leader`);
          // Step down when the renew deadline passes, even while a lease request hangs.
          this.#deadlineTimer = setInterval(() => this.#checkDeadline(), 250);
          this.#deadlineTimer.unref();
          this.#o.onStartedLeading();
        }
      }
      this.#checkDeadline();
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#o.retryPeriodMs);
      });
    }
  }

  /** A leader that has not renewed within renewDeadline stops leading for good (the caller exits). */
  #checkDeadline(): void {
    if (!this.#leading || performance.now() - this.#lastRenew <= this.#o.renewDeadlineMs) return;
    this.#leading = false;
    this.#stopped = true;
    clearInterval(this.#deadlineTimer);
    this.#wake?.();
    this.#o.log?.(
      'warn',
      `leader election: ${this.#o.identity} could not renew the lease in time; stepping down`,
    );
    this.#o.onStoppedLeading();
  }

  /** Every lease request is bounded, so one hung request cannot outlive the renew deadline. */
  #signal(): AbortSignal {
    return AbortSignal.timeout(Math.max(1_000, this.#o.renewDeadlineMs / 2));
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date(); // lease records carry wall time (MicroTime); expiry below uses our own observation
    let lease: Lease;
    try {
      lease = await this.#o.connection.json<Lease>('GET', this.#path, { signal: this.#signal() });
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
    const observedNow = performance.now();
    if (this.#observed?.record !== record) this.#observed = { record, at: observedNow };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? this.#o.leaseDurationSeconds) * 1000;
    const expired = holder === '' || this.#observed.at + duration <= observedNow;
    if (holder !== this.#o.identity && !expired) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === this.#o.identity ? 0 : 1);
    const next = this.#lease(
      lease.metadata.resourceVersion,
      now,
      transitions,
      holder === this.#o.identity ? spec : undefined,
    );
    try {
      const written = await this.#o.connection.json<Lease>('PUT', this.#path, {
        body: next,
        signal: this.#signal(),
      });
      this.#observed = { record: JSON.stringify(written.spec), at: performance.now() };
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
