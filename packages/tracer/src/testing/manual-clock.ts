import type { Clock } from "../clock";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to, so scheduling tests are exact and instant. */
export class ManualClock implements Clock {
  private t = 0;
  private nextId = 1;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /**
   * Runs timers in time order, letting promises settle in between, until `done` settles or no
   * timer is left. Returns what `done` resolved to.
   */
  async runUntil<T>(done: Promise<T>): Promise<T> {
    let settled = false;
    const watched = done.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    for (let guard = 0; guard < 1_000_000; guard++) {
      await new Promise((r) => setImmediate(r));
      if (settled) break;
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers.shift();
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    return watched;
  }
}
