import type { Hop } from "@lg/protocol";

export interface ProgressSnapshot {
  seq: number;
  /** The clock reading (`now()`) at which it was published; snapshots are `minIntervalMs` apart by it. */
  at: number;
  cycle: number;
  hops: Hop[];
}

/**
 * Coalesces a trace's hop updates into snapshots published at most once per `minIntervalMs`.
 * A completed cycle is published at once when the interval allows, otherwise as soon as it
 * does; intermediate hop updates are merged into the next snapshot, never queued.
 *
 * The interval is measured on `now()`, not trusted to the timer: Node runs timers on its event
 * loop's cached clock, so a timer can fire a millisecond before `now()` says the interval has
 * passed. A pending flush checks again and waits out the rest. If `now()` goes backwards (a wall
 * clock stepped back), it publishes rather than waiting for the clock to catch up.
 */
export class ProgressThrottle {
  private readonly hops = new Map<number, Hop>();
  private cycle = 0;
  private seq = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly publish: (snapshot: ProgressSnapshot) => void,
    private readonly minIntervalMs = 500,
    private readonly now: () => number = Date.now,
  ) {}

  /** A hop's statistics changed: publish when the interval allows. */
  hop(hop: Hop): void {
    if (this.closed) return;
    this.hops.set(hop.ttl, hop);
    this.markDirty();
  }

  /** A cycle completed with this whole table. */
  cycleDone(cycle: number, hops: Hop[]): void {
    if (this.closed) return;
    this.cycle = cycle;
    this.hops.clear();
    for (const hop of hops) this.hops.set(hop.ttl, hop);
    this.markDirty();
  }

  /** The latest table, ordered by TTL. */
  table(): Hop[] {
    return [...this.hops.values()].sort((a, b) => a.ttl - b.ttl);
  }

  /** Stops publishing (the final result supersedes any pending snapshot). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private markDirty(): void {
    this.dirty = true;
    if (!this.timer) this.flush();
  }

  /** Publishes the pending snapshot if the interval has passed, otherwise waits out the rest. */
  private flush(): void {
    this.timer = undefined;
    if (!this.dirty || this.closed) return;
    const now = this.now();
    const elapsed = now - this.lastSentAt;
    if (elapsed >= 0 && elapsed < this.minIntervalMs) {
      this.timer = setTimeout(() => this.flush(), this.minIntervalMs - elapsed);
      return;
    }
    this.dirty = false;
    this.lastSentAt = now;
    this.publish({ seq: this.seq++, at: now, cycle: this.cycle, hops: this.table() });
  }
}
