// The workspace-wide side of chat.postMessage pacing, for one integration (one app in one workspace): how many
// messages the whole workspace may still take, whether that is too few for what waits ("short"), when a burst
// looks complete, and whether a 429 was about one channel or the whole workspace. The per-channel side lives in
// each ChannelQueue's bucket; scheduler.ts combines the two.
import type { DeliveryLimits } from './limits.ts';
import type { Clock } from './clock.ts';
import { TokenBucket } from './token-bucket.ts';

/**
 * How much of the workspace burst single messages may use. A burst shows itself to the dispatcher a few alerts
 * at a time (the watch hands them over in chunks), so judged on what waits at that moment the budget always
 * looks ample at first: the bench's fan-out spent 55 messages of a 50-message burst on singles to channels that
 * needed a digest a moment later anyway. So the budget is short as soon as serving every waiting channel would
 * leave less than this share of the burst: singles (and per-channel digests) go out at once only from the top
 * fifth of the bucket (10 of 50 messages at once); the rest is kept for one digest per channel.
 */
const RESERVED_SHARE = 0.8;

export type RateLimitScope = 'channel' | 'workspace';

export class WorkspaceBudget {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #limits: Pick<DeliveryLimits, 'burstQuietMs' | 'burstGatherMs'>;
  readonly #bucket: TokenBucket;
  readonly #reserve: number;
  /** a workspace-wide 429 asked us to send nothing before this */
  #pausedUntil = 0;
  #lastArrivalAt = Number.NEGATIVE_INFINITY;
  /** channel → until when its last 429's Retry-After runs */
  readonly #limited = new Map<string, number>();

  constructor(
    limits: Pick<
      DeliveryLimits,
      'workspaceRatePerSecond' | 'workspaceBurst' | 'burstQuietMs' | 'burstGatherMs'
    >,
    clock: Pick<Clock, 'now'>,
  ) {
    const { workspaceRatePerSecond: rate, workspaceBurst: burst } = limits;
    if (!(rate > 0) || !(burst >= 1)) {
      throw new RangeError(`invalid workspace budget: ${rate}/s, burst ${burst}`);
    }
    this.#clock = clock;
    this.#limits = limits;
    this.#bucket = new TokenBucket({ ratePerSecond: rate, burst }, clock);
    this.#reserve = Math.floor(Math.floor(burst) * RESERVED_SHARE);
  }

  /** Messages the workspace would take right now (Infinity without a budget); 0 while paused. */
  available(): number {
    if (this.#clock.now() < this.#pausedUntil) return 0;
    return this.#bucket.available();
  }

  /** ms until a message may be sent: a workspace pause, or the next token. */
  waitMs(): number {
    return Math.max(0, this.#pausedUntil - this.#clock.now(), this.#bucket.waitMs());
  }

  /** Take a token for one message, if the workspace takes one now. */
  tryTake(): boolean {
    return this.#clock.now() >= this.#pausedUntil && this.#bucket.tryTake();
  }

  /**
   * Whether `demand` channels (each with something waiting) are more than the budget should serve at once: see
   * RESERVED_SHARE. While short, the scheduler gives each token to the channel that has waited longest and that
   * channel sends everything it holds as one digest.
   */
  isShort(demand: number): boolean {
    return demand > 0 && demand > this.available() - this.#reserve;
  }

  /** An alert entered the dispatcher (the clock of "has the burst stopped arriving?"). */
  arrived(): void {
    this.#lastArrivalAt = this.#clock.now();
  }

  /**
   * While short, when a channel whose oldest alert arrived at `headSince` may send: once nothing has arrived
   * for burstQuietMs (the burst is in: every channel can fold all of its alerts into one message, instead of
   * sending the first few and needing another message for the rest), or at the latest once that alert has
   * waited burstGatherMs. Waiting costs little here: the budget is short, so most channels wait for tokens
   * anyway, and tokens saved on partial digests are what lets the last channel be served sooner.
   */
  gatheredAt(headSince: number): number {
    return Math.min(headSince + this.#limits.burstGatherMs, this.#lastArrivalAt + this.#limits.burstQuietMs);
  }

  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /**
   * A 429 (or Slack's 200 `rate_limited`) on `channel`: was it the channel's limit or the workspace's?
   *
   * Slack does not say. Both answers are the same HTTP 429 + Retry-After + `ratelimited` (slack-behaviour.md
   * §2.2); the emulator, too, checks both buckets and answers with the longer wait. The documented 200-level
   * `rate_limited` ("Application has posted too many messages") sounds workspace-wide, but the emulator's
   * `error200` style and proxies use it for every limit, so it is no better a hint. What we can tell:
   *
   * - our own channel buckets mirror Slack's per-channel limit, so two channels hitting *their* limits at the
   *   same moment is unlikely, while a workspace limit refuses every channel at once. So when a 429 arrives for
   *   one channel while another channel's Retry-After is still running, the workspace is limited: pause it;
   * - a lone 429 (one channel, the others going through) is the channel's: pause only that channel, as before.
   *   A 429 storm on one channel (a fault, or a channel another app floods) must never stall the rest
   *   (product.md §4, e2e R4); and if the first 429 was in fact the workspace's, the in-flight requests to
   *   other channels come back refused too and make the second one, a round trip later.
   *
   * A workspace pause lasts the Retry-After and empties the bucket, so that we resume at the refill rate
   * (Slack's bucket is empty too) rather than with a new burst into a workspace that has just said no.
   */
  rateLimited(channel: string, retryAfterMs: number): RateLimitScope {
    const now = this.#clock.now();
    for (const [c, until] of this.#limited) if (until <= now) this.#limited.delete(c);
    const others = [...this.#limited.keys()].some((c) => c !== channel);
    const until = now + Math.max(0, retryAfterMs);
    this.#limited.set(channel, Math.max(this.#limited.get(channel) ?? 0, until));
    if (!others) return 'channel';
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
    this.#bucket.drain();
    return 'workspace';
  }
}
