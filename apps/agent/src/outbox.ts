import fs from "node:fs";
import path from "node:path";
import { FinalResultMessage } from "@lg/protocol";

export interface OutboxEvents {
  /** A result was stored by JetStream (`duplicate`: it was already there). */
  onStored?: (traceId: string, duplicate: boolean) => void;
  /** A publish attempt failed; it will be retried after `retryInMs`. */
  onRetry?: (traceId: string, error: unknown, retryInMs: number) => void;
  /** The outbox file could not be read or written. */
  onFileError?: (error: unknown) => void;
}

export type PublishFinal = (result: FinalResultMessage) => Promise<{ duplicate: boolean }>;

/**
 * Final results that JetStream has not acknowledged yet. Each is retried with exponential
 * backoff until a PubAck arrives; the message id (= trace id) makes a retried publish that did
 * reach the stream harmless. With a file, unsent results also survive an agent restart.
 */
export class Outbox {
  private readonly pending = new Map<string, FinalResultMessage>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly inFlight = new Set<string>();
  private readonly emptyWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly publish: PublishFinal,
    private readonly opts: { file?: string; baseDelayMs?: number; maxDelayMs?: number } & OutboxEvents = {},
  ) {}

  /** Loads results left in the outbox file by an earlier run; returns how many. */
  load(): number {
    const file = this.opts.file;
    if (!file || !fs.existsSync(file)) return 0;
    try {
      const entries: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
      for (const entry of Array.isArray(entries) ? entries : []) {
        const parsed = FinalResultMessage.safeParse(entry);
        if (parsed.success) this.pending.set(parsed.data.traceId, parsed.data);
      }
    } catch (err) {
      this.opts.onFileError?.(err);
    }
    for (const traceId of this.pending.keys()) this.schedule(traceId, 0);
    return this.pending.size;
  }

  add(result: FinalResultMessage): void {
    this.pending.set(result.traceId, result);
    this.attempts.delete(result.traceId);
    this.save();
    this.schedule(result.traceId, 0);
  }

  get size(): number {
    return this.pending.size;
  }

  has(traceId: string): boolean {
    return this.pending.has(traceId);
  }

  /** Retry everything now (e.g. right after a reconnect) instead of waiting out the backoff. */
  retryNow(): void {
    for (const traceId of this.pending.keys()) this.schedule(traceId, 0);
  }

  /** Resolves when nothing is pending, or after `timeoutMs`; returns whether the outbox is empty. */
  async whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const emptied = new Promise<boolean>((resolve) => this.emptyWaiters.push(() => resolve(true)));
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([emptied, timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** Stops retrying (pending results stay in the file, if there is one). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(traceId: string, delayMs: number): void {
    if (this.stopped || this.inFlight.has(traceId)) return;
    const existing = this.timers.get(traceId);
    if (existing) clearTimeout(existing);
    this.timers.set(
      traceId,
      setTimeout(() => void this.attempt(traceId), delayMs),
    );
  }

  private async attempt(traceId: string): Promise<void> {
    this.timers.delete(traceId);
    const result = this.pending.get(traceId);
    if (!result || this.stopped) return;
    this.inFlight.add(traceId);
    try {
      const { duplicate } = await this.publish(result);
      this.pending.delete(traceId);
      this.attempts.delete(traceId);
      this.save();
      this.opts.onStored?.(traceId, duplicate);
      if (this.pending.size === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    } catch (err) {
      const n = (this.attempts.get(traceId) ?? 0) + 1;
      this.attempts.set(traceId, n);
      const delay = Math.min((this.opts.baseDelayMs ?? 500) * 2 ** (n - 1), this.opts.maxDelayMs ?? 15_000);
      this.opts.onRetry?.(traceId, err, delay);
      this.inFlight.delete(traceId);
      this.schedule(traceId, delay);
      return;
    }
    this.inFlight.delete(traceId);
  }

  private save(): void {
    const file = this.opts.file;
    if (!file) return;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify([...this.pending.values()]));
      fs.renameSync(tmp, file);
    } catch (err) {
      this.opts.onFileError?.(err);
    }
  }
}
