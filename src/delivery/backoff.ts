// Exponential backoff with jitter for transient Slack failures (5xx, network, timeouts).

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor?: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): base·factor^(attempt−1), capped at max, with "equal
 * jitter" (between half and all of it) so that many queues failing together do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = options.baseMs * (options.factor ?? 2) ** Math.max(0, attempt - 1);
  const capped = Math.min(options.maxMs, exp);
  return Math.round(capped / 2 + (random() * capped) / 2);
}
