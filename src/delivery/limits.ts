// The knobs of the delivery engine and their defaults: Slack's chat.postMessage limits as we understand them
// (/work/shared/reference/slack-behaviour.md §2), plus our own choices for digests, retries and holds.
import { MAX_DIGEST_ENTRIES } from '../domain/render.ts';

export interface DeliveryLimits {
  /** chat.postMessage allows ~1 message per second per channel */
  channelRatePerSecond: number;
  channelBurst: number;
  /**
   * The workspace-wide chat.postMessage budget of the app (all channels together). Infinity: no budget of our
   * own (Slack's 429s are then the only brake).
   */
  workspaceRatePerSecond: number;
  workspaceBurst: number;
  /** requests in flight at once for this integration */
  maxInFlight: number;
  /** fold the backlog into a digest when more than this many items wait as a send slot opens */
  digestThreshold: number;
  /** most items per digest message (the renderer's limit) */
  digestCapacity: number;
  /**
   * While the workspace budget is short (workspace-budget.ts), a burst is taken to be over once no alert has
   * arrived for this long: channels then send what they hold, one digest each.
   */
  burstQuietMs: number;
  /** ... or once a channel's oldest alert has waited this long, even if alerts keep arriving */
  burstGatherMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** how long an item may keep failing (transient errors, rate limits, auth) before it is reported Failed */
  maxDeliveryMs: number;
  /**
   * how long alerts wait for a channel that is unavailable (not_in_channel, channel_not_found after a send) or
   * does not resolve yet (a private channel before /invite, see Dispatcher.hold()) before they fail with that
   * error
   */
  channelHoldMs: number;
}

/**
 * Slack's workspace-wide ceiling for chat.postMessage. slack-behaviour.md §2.1 quotes the method page: beyond
 * ~1 message/s per channel "there are limits governing your app's relationship with the entire workspace
 * above that, limiting posting to several hundred messages per minute. Generous burst behavior is also
 * granted." Slack publishes no exact figure; 300 per minute with a burst of 50 is the low end of "several
 * hundred" and exactly what our Slack emulator enforces (src/dev/slack-emulator/rate-limits.ts
 * `postMessagePerWorkspace`), so by default we never ask for more than the workspace will take. Raise it with
 * `--slack-workspace-rate` for a workspace known to allow more.
 */
export const SLACK_WORKSPACE_POSTS_PER_MINUTE = 300;
export const SLACK_WORKSPACE_BURST = 50;

export const DEFAULT_LIMITS: Readonly<DeliveryLimits> = {
  channelRatePerSecond: 1,
  channelBurst: 3,
  workspaceRatePerSecond: SLACK_WORKSPACE_POSTS_PER_MINUTE / 60,
  workspaceBurst: SLACK_WORKSPACE_BURST,
  maxInFlight: 16,
  digestThreshold: 3,
  digestCapacity: MAX_DIGEST_ENTRIES,
  // One token interval at 300/min: the Job controller's status updates of a burst arrive back to back, so
  // a fifth of a second without any is a good sign the burst is in.
  burstQuietMs: 200,
  // One channel interval: bounds the wait when alerts never stop arriving (a sustained overload).
  burstGatherMs: 1_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  maxDeliveryMs: 15 * 60_000,
  // a private channel may take a while to be invited to
  channelHoldMs: 60 * 60_000,
};

/**
 * The `--slack-workspace-rate` value: "300/m", "300/m:50" (rate per minute, burst), "5/s:50" (per second), or
 * "off" (no workspace budget of our own). Returns the limits it sets; the burst is left at its default when
 * not given.
 */
export function parseWorkspaceRate(
  text: string,
): Pick<DeliveryLimits, 'workspaceRatePerSecond'> & Partial<Pick<DeliveryLimits, 'workspaceBurst'>> {
  const value = text.trim();
  if (value === 'off') return { workspaceRatePerSecond: Number.POSITIVE_INFINITY };
  const match = /^(\d+(?:\.\d+)?)\/(s|m)(?::(\d+))?$/.exec(value);
  const rate = match === null ? Number.NaN : Number(match[1]);
  const burst = match?.[3] === undefined ? undefined : Number(match[3]);
  if (match === null || !(rate > 0) || (burst !== undefined && burst < 1)) {
    throw new Error(
      `--slack-workspace-rate: "${text}" is not a rate like 300/m, 300/m:50 (per minute, burst) or 5/s:50, or off`,
    );
  }
  const perSecond = match[2] === 'm' ? rate / 60 : rate;
  return burst === undefined
    ? { workspaceRatePerSecond: perSecond }
    : { workspaceRatePerSecond: perSecond, workspaceBurst: burst };
}
