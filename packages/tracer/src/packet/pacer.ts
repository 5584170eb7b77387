/**
 * A token bucket for probes leaving the helpers. Every helper's raw socket sees every ICMP answer
 * that arrives, so pools whose helpers share a host share one pacer: their answers fill the same
 * receive buffers.
 */
export class Pacer {
  private readonly perSecond: number;
  private readonly burst: number;
  private tokens: number;
  private lastRefill = performance.now();

  constructor(opts: { perSecond?: number; burst?: number } = {}) {
    this.perSecond = Math.max(1, opts.perSecond ?? 10_000);
    this.burst = Math.max(1, opts.burst ?? 100);
    this.tokens = this.burst;
  }

  /** Takes one probe's token: 0 when it may leave now, else the milliseconds until one is due. */
  take(): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) * this.perSecond) / 1000);
    this.lastRefill = now;
    if (this.tokens >= 1) {
      this.tokens--;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
  }

  /** Returns a token taken for a probe that could not leave after all (no free slot). */
  giveBack(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}
