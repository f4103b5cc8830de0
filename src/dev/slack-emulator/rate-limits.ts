// Slack-like rate limits: a token bucket per method (its tier), plus chat.postMessage's own limits,
// about 1 message per second per channel with a small burst under a workspace-wide cap
// (slack-behaviour.md §2). Time comes from the injected clock, so tests advance it instead of sleeping.
import type { Clock } from './clock.ts';

export type Tier = 'tier1' | 'tier2' | 'tier3' | 'tier4';

/** `burst` calls at once, refilled at `perMinute`. */
export interface Bucket {
  perMinute: number;
  burst: number;
}

export interface RateLimitSettings {
  tiers: Record<Tier, Bucket>;
  /** Per method, overriding its tier; 'off' exempts the method. */
  methods: Record<string, Bucket | 'off'>;
  postMessagePerChannel: Bucket;
  postMessagePerWorkspace: Bucket;
  /** Incoming webhooks: "1 per second, short bursts >1 allowed", per webhook URL. */
  webhook: Bucket;
  /**
   * How a limited call is answered: HTTP 429 + Retry-After + `ratelimited` (the default, what the SDK
   * handles), or chat.postMessage's documented HTTP 200 `rate_limited` variant.
   */
  style: 'http429' | 'error200';
}

/** 'slack' (the default), 'off', or changes to the Slack values; `scale` multiplies every rate. */
export type RateLimitOption =
  | 'slack'
  | 'off'
  | {
      scale?: number;
      tiers?: Partial<Record<Tier, Bucket>>;
      methods?: Record<string, Bucket | 'off'>;
      postMessagePerChannel?: Bucket;
      postMessagePerWorkspace?: Bucket;
      webhook?: Bucket;
      style?: RateLimitSettings['style'];
    };

// Slack documents floors ("20+ per minute") and "occasional bursts"; the bursts here are our choice.
export const slackRateLimits: RateLimitSettings = {
  tiers: {
    tier1: { perMinute: 1, burst: 2 },
    tier2: { perMinute: 20, burst: 20 },
    tier3: { perMinute: 50, burst: 50 },
    tier4: { perMinute: 100, burst: 100 },
  },
  methods: {},
  postMessagePerChannel: { perMinute: 60, burst: 3 },
  postMessagePerWorkspace: { perMinute: 300, burst: 50 },
  webhook: { perMinute: 60, burst: 3 },
  style: 'http429',
};

export function rateLimitSettings(option: RateLimitOption | undefined): RateLimitSettings | 'off' {
  if (option === 'off') return 'off';
  if (option === undefined || option === 'slack') return slackRateLimits;
  const scale = option.scale ?? 1;
  const scaled = (b: Bucket): Bucket => ({
    perMinute: b.perMinute * scale,
    burst: Math.ceil(b.burst * scale),
  });
  const tiers = { ...slackRateLimits.tiers, ...option.tiers };
  return {
    tiers: {
      tier1: scaled(tiers.tier1),
      tier2: scaled(tiers.tier2),
      tier3: scaled(tiers.tier3),
      tier4: scaled(tiers.tier4),
    },
    methods: Object.fromEntries(
      Object.entries(option.methods ?? {}).map(([m, b]) => [m, b === 'off' ? 'off' : scaled(b)]),
    ),
    postMessagePerChannel: scaled(option.postMessagePerChannel ?? slackRateLimits.postMessagePerChannel),
    postMessagePerWorkspace: scaled(
      option.postMessagePerWorkspace ?? slackRateLimits.postMessagePerWorkspace,
    ),
    webhook: scaled(option.webhook ?? slackRateLimits.webhook),
    style: option.style ?? slackRateLimits.style,
  };
}

interface BucketState {
  tokens: number;
  updatedAt: number;
}

export type Admission = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RateLimiter {
  private readonly settings: RateLimitSettings | 'off';
  private readonly clock: Clock;
  private readonly buckets = new Map<string, BucketState>();

  constructor(option: RateLimitOption | undefined, clock: Clock) {
    this.settings = rateLimitSettings(option);
    this.clock = clock;
  }

  get style(): RateLimitSettings['style'] {
    return this.settings === 'off' ? 'http429' : this.settings.style;
  }

  /**
   * Takes one call from the buckets that apply (all of them, or none). The emulator hosts one app in
   * one workspace, so "per method per workspace per app" is simply per method here.
   */
  admit(method: string, tier: Tier, channel: string | undefined): Admission {
    const settings = this.settings;
    if (settings === 'off') return { allowed: true };
    const override = settings.methods[method];
    if (override === 'off') return { allowed: true };
    const checks: [string, Bucket][] = [];
    if (method === 'chat.postMessage') {
      checks.push(['chat.postMessage', override ?? settings.postMessagePerWorkspace]);
      if (channel !== undefined) checks.push([`chat.postMessage#${channel}`, settings.postMessagePerChannel]);
    } else {
      checks.push([method, override ?? settings.tiers[tier]]);
    }
    return this.take(checks);
  }

  admitWebhook(path: string): Admission {
    if (this.settings === 'off') return { allowed: true };
    return this.take([[`webhook#${path}`, this.settings.webhook]]);
  }

  private take(checks: [string, Bucket][]): Admission {
    const now = this.clock.now();
    const states = checks.map(([key, bucket]) => this.refill(key, bucket, now));
    let waitMs = 0;
    for (const [i, [, bucket]] of checks.entries()) {
      const state = states[i];
      if (state !== undefined && state.tokens < 1)
        waitMs = Math.max(waitMs, ((1 - state.tokens) * 60_000) / bucket.perMinute);
    }
    if (waitMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    for (const state of states) state.tokens -= 1;
    return { allowed: true };
  }

  private refill(key: string, bucket: Bucket, now: number): BucketState {
    let state = this.buckets.get(key);
    if (state === undefined) {
      state = { tokens: bucket.burst, updatedAt: now };
      this.buckets.set(key, state);
    }
    const elapsedMs = Math.max(0, now - state.updatedAt);
    state.tokens = Math.min(bucket.burst, state.tokens + (elapsedMs * bucket.perMinute) / 60_000);
    state.updatedAt = now;
    return state;
  }
}
