// Time as a dependency: production uses the system clock, tests a manual one, so no test ever sleeps.

/** Whatever the clock's setTimeout returned; only ever handed back to its clearTimeout. */
export type TimerHandle = unknown;

export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    // Pending retries must not keep a stopping process alive; the servers and watches do that.
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
