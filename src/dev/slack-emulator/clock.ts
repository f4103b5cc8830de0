// Where the emulator reads the time: message timestamps, rate-limit buckets, token expiry, fault
// durations. Tests pass a clock they advance by hand, so rate-limit refills need no sleeps.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
