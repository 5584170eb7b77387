/** Time source of the scheduler; tests replace it to run traces deterministically. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
