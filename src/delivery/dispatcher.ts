// The delivery engine of one SlackIntegration: a keyed set of per-destination FIFO queues in front of one
// SlackPort. docs/adr/*-per-channel-queue.md explains the choices; in short:
//
// - each destination (channel ID, or user ID for a DM) has its own queue and token bucket (~1 msg/s, burst 3),
//   and at most one request in flight, so order per channel is kept and Slack's per-channel limit respected;
// - queues run in parallel, bounded by `maxInFlight` requests and the workspace-wide budget (Slack's
//   "several hundred per minute": 300/min, burst 50 by default, limits.ts), which workspace-budget.ts keeps;
// - scheduler.ts decides who sends next: round-robin while the budget is ample, where a digest of up to
//   `digestCapacity` items goes out when more than `digestThreshold` wait for one channel (a burst of 1,000
//   alerts into one channel is ~40 messages rather than 1,000 seconds); oldest-first with one digest per
//   channel while the budget is short (1,000 alerts over 100 channels: 100 messages);
// - a 429 pauses its queue for exactly Retry-After, and the whole workspace when several channels are refused
//   at once (WorkspaceBudget.rateLimited); transient errors (5xx, network, timeouts) retry the head with
//   exponential backoff and jitter until the item's deadline; permanent errors fail the item at once; channel
//   errors park the queue and ask for a membership re-check; auth errors park the whole integration;
// - every item ends in exactly one onResult(item, Delivered|Failed) — except those still queued at stop(),
//   which are handed back for the ledger to offer again after the restart.
import { backoffDelay } from './backoff.ts';
import type { Entry } from './channel-queue.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { systemClock } from './clock.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { DeliveryLimits } from './limits.ts';
import { PacedQueue, Scheduler } from './scheduler.ts';
import { TokenBucket } from './token-bucket.ts';
import type { DeliveryItem, DeliveryMetrics, SendResult } from './types.ts';
import { noMetrics } from './types.ts';
import { WorkspaceBudget } from './workspace-budget.ts';
import type { SlackMessage } from '../domain/message.ts';
import {
  AuthError,
  ChannelUnavailableError,
  PermanentError,
  RateLimitedError,
  RetryableError,
  asJobheraldError,
} from '../errors.ts';
import type { JobheraldError } from '../errors.ts';
import type { LogSink } from '../slack/logging.ts';
import { silentLog } from '../slack/logging.ts';
import type { PostedMessage, SlackPort } from '../slack/port.ts';

// The limits moved to limits.ts; operator config and reconcilers import them from here.
export { DEFAULT_LIMITS, parseWorkspaceRate } from './limits.ts';
export type { DeliveryLimits } from './limits.ts';

/** The queue of alerts for a channel reference that does not resolve yet: never a Slack ID (those have no `?`). */
const heldKey = (ref: string): string => `?${ref}`;

/**
 * An optional extra hook (src/observability/metrics.ts has it): the latency from an item's observation to the
 * first chat.postMessage that carries it, in seconds (quality bar P1).
 */
export interface DispatchMetrics {
  dispatched?(latencySeconds: number): void;
}

export interface DispatcherOptions<I extends DeliveryItem> {
  /** "namespace/name" of the SlackIntegration, for logs and metrics */
  integration: string;
  port: SlackPort;
  /** one message for several items of one destination (domain/render.ts renderDigest, bound by the caller) */
  renderDigest: (items: readonly I[]) => SlackMessage;
  /** the one place every final result goes: status, Events, metrics, ledger.markSent() */
  onResult: (item: I, result: SendResult) => void;
  /** a channel error parked `destination`: re-check membership, then call resume(destination) */
  onChannelUnavailable?: (destination: string, code: string, item: I) => void;
  /** the token failed: mark the integration not Authenticated; call resumeIntegration() once it works again */
  onAuthError?: (code: string, message: string) => void;
  limits?: Partial<DeliveryLimits>;
  clock?: Clock;
  /** for the backoff jitter; tests pass a fixed one */
  random?: () => number;
  log?: LogSink;
  metrics?: DeliveryMetrics & DispatchMetrics;
}

export class Dispatcher<I extends DeliveryItem = DeliveryItem> {
  readonly integration: string;
  readonly limits: Readonly<DeliveryLimits>;
  #port: SlackPort;
  readonly #opts: DispatcherOptions<I>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: LogSink;
  readonly #metrics: DeliveryMetrics & DispatchMetrics;
  readonly #queues = new Map<string, PacedQueue<I>>();
  readonly #ids = new Set<string>();
  readonly #budget: WorkspaceBudget;
  readonly #scheduler: Scheduler<I>;
  readonly #requests = new Set<Promise<void>>();
  #inFlight = 0;
  #integrationPark: { code: string; message: string } | undefined;
  #stopped = false;
  #pumpScheduled = false;
  #timer: { handle: TimerHandle; at: number } | undefined;
  #idleWaiters: (() => void)[] = [];
  /** the scheduler's regime at the last pump, to log its changes */
  #short = false;

  constructor(options: DispatcherOptions<I>) {
    this.#opts = options;
    this.integration = options.integration;
    this.#port = options.port;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.log ?? silentLog;
    this.#metrics = options.metrics ?? noMetrics;
    this.#budget = new WorkspaceBudget(this.limits, this.#clock);
    this.#scheduler = new Scheduler<I>(this.limits, this.#budget);
  }

  /**
   * Queue an item for its destination. Returns false when the dispatcher is stopped or an item with the same id
   * is already queued (the caller's ledger should have prevented that).
   */
  enqueue(item: I): boolean {
    if (this.#stopped || this.#ids.has(item.id) || !item.destination) return false;
    let queue = this.#queues.get(item.destination);
    if (!queue) {
      const bucket = new TokenBucket(
        { ratePerSecond: this.limits.channelRatePerSecond, burst: this.limits.channelBurst },
        this.#clock,
      );
      queue = new PacedQueue<I>(item.destination, bucket);
      this.#queues.set(item.destination, queue);
    }
    const now = this.#clock.now();
    queue.push({
      item,
      enqueuedAt: now,
      deadline: now + this.limits.maxDeliveryMs,
      attempts: 0,
      noDigest: false,
    });
    this.#ids.add(item.id);
    this.#budget.arrived();
    this.#schedulePump();
    return true;
  }

  /**
   * An alert for a channel reference that does not resolve yet: it waits in a parked queue of its own, like a
   * channel that became unavailable, until releaseHeld() names the channel or the hold (channelHoldMs) expires
   * and it fails with `code`. With no item, only updates the code and message of what waits (e.g. the channel
   * turned out to be private: not_in_channel). Returns false when the item cannot be queued.
   */
  hold(ref: string, item: I | undefined, code: string, message: string): boolean {
    const key = heldKey(ref);
    if (item !== undefined && !this.enqueue({ ...item, destination: key })) return false;
    const queue = this.#queues.get(key);
    if (queue === undefined) return item === undefined;
    const until = queue.parked?.until ?? this.#clock.now() + this.limits.channelHoldMs;
    queue.parked = { code, message, until };
    this.#schedulePump();
    return true;
  }

  /** Channel references with alerts waiting for them to resolve. */
  heldRefs(): string[] {
    const refs: string[] = [];
    for (const [key, q] of this.#queues) if (key.startsWith('?') && q.length > 0) refs.push(key.slice(1));
    return refs;
  }

  /** The reference resolves now: its waiting alerts join the channel's queue, in order. */
  releaseHeld(ref: string, channelId: string, label: string): void {
    const entries = this.#takeHeld(ref);
    for (const e of entries) {
      if (!this.enqueue({ ...e.item, destination: channelId, destinationLabel: label })) {
        this.#fail(e, 'not_enqueued', `${label}: not enqueued`);
      }
    }
  }

  /** The reference will not resolve (the channel is archived): its waiting alerts fail now. */
  failHeld(ref: string, code: string, message: string): void {
    for (const e of this.#takeHeld(ref)) this.#fail(e, code, message);
  }

  #takeHeld(ref: string): Entry<I>[] {
    const queue = this.#queues.get(heldKey(ref));
    if (queue === undefined) return [];
    this.#queues.delete(heldKey(ref));
    const entries = queue.clear();
    for (const e of entries) this.#ids.delete(e.item.id);
    return entries;
  }

  /** Whether stop() was called: it takes nothing any more. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The channel is usable again (membership re-checked, bot joined or invited): send its queue now. */
  resume(destination: string): void {
    const queue = this.#queues.get(destination);
    if (!queue?.parked) return;
    queue.parked = undefined;
    queue.notBefore = 0;
    this.#schedulePump();
  }

  /** The token works again (or was replaced with setPort): unpark every queue of the integration. */
  resumeIntegration(): void {
    if (!this.#integrationPark) return;
    this.#integrationPark = undefined;
    this.#schedulePump();
  }

  /** Use a new client (the token Secret changed). In-flight requests finish on the old one. */
  setPort(port: SlackPort): void {
    this.#port = port;
  }

  /** Items waiting or in flight, for one destination or in total (the queue-depth gauge). */
  depth(destination?: string): number {
    if (destination !== undefined) return this.#queues.get(destination)?.length ?? 0;
    let total = 0;
    for (const q of this.#queues.values()) total += q.length;
    return total;
  }

  depths(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, q] of this.#queues) if (q.length > 0) out.set(key, q.length);
    return out;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The code a destination is parked with, if it is. */
  parkedWith(destination: string): string | undefined {
    return this.#queues.get(destination)?.parked?.code;
  }

  /** The auth error code the whole integration is parked with, if it is. */
  get integrationParkedWith(): string | undefined {
    return this.#integrationPark?.code;
  }

  /** Resolves once every queue is empty and nothing is in flight (or the dispatcher stopped). */
  drain(): Promise<void> {
    if (this.#stopped || this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Graceful shutdown: start no new request, wait for those in flight (their results are still reported, so the
   * ledger records what Slack accepted), and hand back the items never sent. They are not reported: the caller
   * releases them from the ledger's pending set, and the next leader delivers them after its relist.
   */
  async stop(): Promise<I[]> {
    this.#stopped = true;
    this.#clearTimer();
    while (this.#requests.size > 0) await Promise.allSettled([...this.#requests]);
    const left: I[] = [];
    for (const q of this.#queues.values()) for (const e of q.clear()) left.push(e.item);
    this.#queues.clear();
    this.#ids.clear();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    return left;
  }

  // ------------------------------------------------------------------------------------ scheduling

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#stopped) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    this.#pumpScheduled = false;
    if (this.#stopped) return;
    const now = this.#clock.now();
    for (const q of this.#queues.values()) this.#expire(q, now);

    if (!this.#integrationPark) {
      const slots = this.limits.maxInFlight - this.#inFlight;
      const turns = this.#scheduler.turns([...this.#queues.values()], now, slots, (q) => this.#ready(q, now));
      for (const { queue, digestThreshold } of turns) this.#send(queue, digestThreshold);
      if (this.#scheduler.short !== this.#short) {
        this.#short = this.#scheduler.short;
        // debug: near the threshold the regime may change at every pump
        this.#log.debug(
          { integration: this.integration, waiting: this.depth(), available: this.#budget.available() },
          this.#short
            ? 'workspace budget short: one digest per channel, oldest first'
            : 'workspace budget ample again',
        );
      }
    }

    // Forget idle queues whose bucket is full again: a new one would behave the same.
    for (const [key, q] of this.#queues) {
      if (q.length === 0 && !q.inFlight && !q.parked && q.notBefore <= now && q.bucket.isFull()) {
        this.#queues.delete(key);
      }
    }
    this.#armTimer(now);
    if (this.#idle()) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #ready(q: PacedQueue<I>, now: number): boolean {
    return q.length > 0 && !q.inFlight && !q.parked && !this.#integrationPark && q.notBefore <= now;
  }

  #idle(): boolean {
    return this.#inFlight === 0 && this.depth() === 0;
  }

  /**
   * When the next pump must run: the earliest retry, Retry-After, bucket refill, workspace pause, end of a
   * burst's gathering, hold or deadline.
   */
  #armTimer(now: number): void {
    let wake = Number.POSITIVE_INFINITY;
    for (const q of this.#queues.values()) {
      if (q.length === 0 || q.inFlight) continue;
      const head = q.at(0);
      const failing =
        q.parked !== undefined || this.#integrationPark !== undefined || q.lastError !== undefined;
      if (failing && head) wake = Math.min(wake, head.deadline);
      if (q.parked) wake = Math.min(wake, q.parked.until);
      else if (this.#integrationPark) continue;
      else if (q.notBefore > now) wake = Math.min(wake, q.notBefore);
      else if (this.#inFlight < this.limits.maxInFlight) {
        wake = Math.min(wake, this.#scheduler.readyAt(q, now));
      }
    }
    if (this.#timer && this.#timer.at === wake) return;
    this.#clearTimer();
    if (!Number.isFinite(wake)) return;
    const at = Math.max(wake, now);
    const handle = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, at - now);
    this.#timer = { handle, at: wake };
  }

  #clearTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer.handle);
    this.#timer = undefined;
  }

  /** Fail what can no longer be delivered: a parked channel past its hold, items past their deadline. */
  #expire(q: PacedQueue<I>, now: number): void {
    if (q.inFlight || q.length === 0) {
      if (q.parked && q.length === 0 && now >= q.parked.until) q.parked = undefined;
      return;
    }
    if (q.parked && now >= q.parked.until) {
      const { code, message } = q.parked;
      q.parked = undefined;
      for (const e of q.clear()) this.#fail(e, code, `${message} (channel still unavailable)`);
      return;
    }
    const cause = q.parked ?? this.#integrationPark ?? q.lastError;
    if (!cause) return;
    while (q.length > 0 && (q.at(0)?.deadline ?? Infinity) <= now) {
      const [e] = q.shift();
      if (e)
        this.#fail(e, cause.code, `${cause.message} (gave up after ${this.limits.maxDeliveryMs / 1000} s)`);
    }
  }

  // ------------------------------------------------------------------------------------ sending

  #send(q: PacedQueue<I>, digestThreshold: number): void {
    let batch = q.nextBatch(digestThreshold, this.limits.digestCapacity);
    const head = batch[0];
    if (!head) return;
    let message = head.item.message;
    if (batch.length > 1) {
      try {
        message = this.#opts.renderDigest(batch.map((e) => e.item));
      } catch (err) {
        this.#log.error(
          { integration: this.integration, destination: q.key, err },
          'digest rendering failed',
        );
        for (const e of batch) e.noDigest = true;
        batch = [head];
      }
    }
    const sentAt = this.#clock.now();
    for (const e of batch) {
      e.attempts++;
      // P1: observed → first chat.postMessage carrying the item (retries are not dispatch latency)
      if (e.attempts === 1 && this.#metrics.dispatched !== undefined) {
        const seconds = (sentAt - e.item.observedAt) / 1000;
        this.#hook(() => this.#metrics.dispatched?.(seconds));
      }
    }
    q.inFlight = true;
    q.sending = batch.length;
    q.lastSentAt = sentAt;
    this.#inFlight++;
    const port = this.#port;
    const threadTs = head.item.threadTs;
    const attempt = async (): Promise<void> => {
      try {
        let posted: PostedMessage;
        try {
          posted = await port.postMessage(q.key, message, threadTs === undefined ? {} : { threadTs });
        } catch (err) {
          this.#onError(q, batch, asJobheraldError(err));
          return;
        }
        this.#onPosted(q, batch, posted);
      } finally {
        q.inFlight = false;
        q.sending = 0;
        this.#inFlight--;
        this.#schedulePump();
      }
    };
    const request: Promise<void> = attempt().finally(() => this.#requests.delete(request));
    this.#requests.add(request);
  }

  #onPosted(q: PacedQueue<I>, batch: Entry<I>[], posted: PostedMessage): void {
    q.shift(batch.length);
    q.failures = 0;
    q.lastError = undefined;
    this.#hook(() =>
      this.#metrics.message(this.integration, batch.length > 1 ? 'digest' : 'single', batch.length),
    );
    const at = this.#clock.now();
    for (const e of batch) {
      this.#report(e, {
        result: 'Delivered',
        channel: posted.channel,
        ts: posted.ts,
        batchSize: batch.length,
        attempts: e.attempts,
        at,
      });
    }
  }

  #onError(q: PacedQueue<I>, batch: Entry<I>[], err: JobheraldError): void {
    const now = this.#clock.now();
    const head = batch[0];
    if (!head) return;
    const context = { integration: this.integration, destination: q.key, code: err.code, err };
    q.lastError = err;
    if (err instanceof RateLimitedError) {
      q.notBefore = now + err.retryAfterMs;
      const scope = this.#budget.rateLimited(q.key, err.retryAfterMs);
      this.#hook(() => this.#metrics.rateLimited(this.integration));
      this.#log.warn(
        { ...context, retryAfterMs: err.retryAfterMs, scope },
        scope === 'workspace'
          ? 'rate limited by Slack on several channels at once; pausing the whole workspace'
          : 'rate limited by Slack; pausing this channel',
      );
    } else if (err instanceof RetryableError) {
      q.failures++;
      const delay =
        err.retryAfterMs ??
        backoffDelay(
          q.failures,
          { baseMs: this.limits.backoffBaseMs, maxMs: this.limits.backoffMaxMs },
          this.#random,
        );
      q.notBefore = now + delay;
      this.#hook(() => this.#metrics.retry(this.integration, err.code));
      this.#log.info(
        { ...context, attempt: q.failures, delayMs: delay },
        'transient Slack error; will retry',
      );
    } else if (err instanceof ChannelUnavailableError) {
      q.parked = { code: err.code, message: err.message, until: now + this.limits.channelHoldMs };
      this.#log.warn(context, 'channel unavailable; parking its queue until membership is re-checked');
      this.#hook(() => this.#opts.onChannelUnavailable?.(q.key, err.code, head.item));
    } else if (err instanceof AuthError) {
      this.#integrationPark = { code: err.code, message: err.message };
      this.#log.error(context, 'Slack token rejected; parking every queue of the integration');
      this.#hook(() => this.#opts.onAuthError?.(err.code, err.message));
    } else if (err instanceof PermanentError && batch.length > 1) {
      // A digest Slack refuses (e.g. invalid_blocks) must not take its items down: send them one by one.
      q.lastError = undefined;
      for (const e of batch) e.noDigest = true;
      this.#log.error(context, 'Slack refused a digest; sending its items one by one');
    } else {
      // PermanentError (or an unclassified JobheraldError): this item will never go through as is.
      q.lastError = undefined;
      q.failures = 0;
      q.shift(1);
      this.#fail(head, err.code, err.message);
    }
  }

  #fail(entry: Entry<I>, code: string, message: string): void {
    this.#report(entry, {
      result: 'Failed',
      error: code,
      message,
      attempts: entry.attempts,
      at: this.#clock.now(),
    });
  }

  #report(entry: Entry<I>, result: SendResult): void {
    const { item } = entry;
    this.#ids.delete(item.id);
    const error = result.result === 'Failed' ? result.error : undefined;
    this.#hook(() =>
      this.#metrics.result(this.integration, result.result, result.at - item.observedAt, error),
    );
    if (result.result === 'Failed') {
      this.#log.warn(
        {
          integration: this.integration,
          rule: `${item.rule.namespace}/${item.rule.name}`,
          job: item.job,
          event: item.event,
          destination: item.destinationLabel,
          error: result.error,
          attempts: result.attempts,
        },
        `delivery failed: ${result.message}`,
      );
    }
    this.#hook(() => this.#opts.onResult(item, result));
  }

  /** Run a caller's callback; its exceptions are logged, never allowed to break the queue. */
  #hook(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ integration: this.integration, err }, 'delivery callback threw');
    }
  }
}
