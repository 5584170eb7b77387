import { withTimeout } from "./timeout";

interface ActiveTrace {
  controller: AbortController;
  /** Settles when the trace is over (its final result handed on); never rejects. */
  done: Promise<void>;
}

/**
 * The traces an agent holds: those running (each with its abort controller), the jobs whose
 * target is being checked (each holding a slot), and the ids of traces finished recently (so a
 * repeated request is confirmed, never run twice); and whether it still takes jobs.
 */
export class TraceRegistry {
  private readonly active = new Map<string, ActiveTrace>();
  private readonly checking = new Set<string>();
  private readonly recent = new Set<string>();
  private stopped = false;

  /** `recentLimit`: how many finished trace ids are remembered (the oldest is forgotten first). */
  constructor(private readonly recentLimit = 1_000) {}

  /** Shutting down: no new jobs. */
  get draining(): boolean {
    return this.stopped;
  }

  stopTaking(): void {
    this.stopped = true;
  }

  /** Trace ids running now. */
  ids(): string[] {
    return [...this.active.keys()];
  }

  get running(): number {
    return this.active.size;
  }

  /** Slots taken: traces running plus jobs being checked. */
  get inFlight(): number {
    return this.active.size + this.checking.size;
  }

  /** The trace is running or finished recently. */
  has(traceId: string): boolean {
    return this.active.has(traceId) || this.recent.has(traceId);
  }

  isChecking(traceId: string): boolean {
    return this.checking.has(traceId);
  }

  /** Holds a slot for a job while its target is checked; `release` gives it back. */
  hold(traceId: string): void {
    this.checking.add(traceId);
  }

  release(traceId: string): void {
    this.checking.delete(traceId);
  }

  /**
   * Runs a trace: it counts as running until `run` settles, then is remembered as finished.
   * Returns `run`'s promise (the caller handles its rejection).
   */
  start(traceId: string, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    const done = run(controller.signal).finally(() => {
      this.remember(traceId);
      this.active.delete(traceId);
    });
    this.active.set(traceId, { controller, done: done.catch(() => {}) });
    return done;
  }

  /** Aborts a running trace; false when it is not running. */
  cancel(traceId: string): boolean {
    const trace = this.active.get(traceId);
    trace?.controller.abort();
    return trace !== undefined;
  }

  /** Aborts every running trace; each still ends with a final result (stoppedBy "cancelled"). */
  cancelAll(): void {
    for (const trace of this.active.values()) trace.controller.abort();
  }

  /** Resolves when every trace running now is over, or with "timeout" after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<"settled" | "timeout"> {
    const all = Promise.all([...this.active.values()].map((t) => t.done));
    return (await withTimeout(all, timeoutMs)) === "timeout" ? "timeout" : "settled";
  }

  private remember(traceId: string): void {
    this.recent.add(traceId);
    if (this.recent.size > this.recentLimit) this.recent.delete(this.recent.values().next().value as string);
  }
}
