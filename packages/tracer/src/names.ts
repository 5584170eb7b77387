import { Resolver } from "node:dns/promises";

export interface ReverseNamesOptions {
  /** Lookups running at once. Default 8. */
  concurrency?: number;
  /** Give up on one lookup after this long. Default 2,000 ms. */
  timeoutMs?: number;
  /** Keep answers (and failures) this long. Default 1 h. */
  cacheTtlMs?: number;
  /** Most queued lookups; further addresses are not looked up. Default 10,000. */
  maxQueued?: number;
  /** The lookup itself; default: PTR query through the system's resolvers. */
  reverse?: (address: string) => Promise<string[]>;
}

interface CacheEntry {
  name: string | null;
  at: number;
}

/**
 * Reverse DNS for responders: asynchronous, cached, with bounded concurrency and time.
 * Nothing waits on it: a trace asks for a name and carries on; listeners hear when it arrives.
 */
export class ReverseNames {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly queue: string[] = [];
  private readonly pending = new Set<string>();
  private readonly listeners = new Set<(address: string) => void>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly maxQueued: number;
  private readonly reverse: (address: string) => Promise<string[]>;

  constructor(opts: ReverseNamesOptions = {}) {
    this.concurrency = opts.concurrency ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.ttlMs = opts.cacheTtlMs ?? 3_600_000;
    this.maxQueued = opts.maxQueued ?? 10_000;
    if (opts.reverse) {
      this.reverse = opts.reverse;
    } else {
      const resolver = new Resolver({ timeout: this.timeoutMs, tries: 1 });
      this.reverse = (address) => resolver.reverse(address);
    }
  }

  /** The name when known. */
  get(address: string): string | undefined {
    const entry = this.cache.get(address);
    if (!entry || Date.now() - entry.at > this.ttlMs) return undefined;
    return entry.name ?? undefined;
  }

  /** Starts a lookup unless one is cached or under way. */
  request(address: string): void {
    const entry = this.cache.get(address);
    if (entry && Date.now() - entry.at <= this.ttlMs) return;
    if (this.pending.has(address) || this.pending.size >= this.maxQueued) return;
    this.pending.add(address);
    this.queue.push(address);
    this.pump();
  }

  /** Hears every name that arrives; returns an unsubscribe function. */
  subscribe(listener: (address: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when no lookup is pending, or after `maxWaitMs`, whichever is first. */
  settle(maxWaitMs: number): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const address = this.queue.shift() as string;
      this.running++;
      void this.lookup(address).finally(() => {
        this.running--;
        this.pending.delete(address);
        if (this.pending.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        this.pump();
      });
    }
  }

  private async lookup(address: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), this.timeoutMs);
    });
    let names: string[] = [];
    try {
      names = await Promise.race([this.reverse(address), timeout]);
    } catch {
      names = [];
    } finally {
      clearTimeout(timer);
    }
    const name = names[0] ?? null;
    this.cache.set(address, { name, at: Date.now() });
    if (name) for (const l of this.listeners) l(address);
  }
}
