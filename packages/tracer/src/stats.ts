import { type Hop, lossInterval, type MplsLabel } from "@lg/protocol";

/** Most responders kept per hop, as in mtr. */
export const MAX_RESPONDERS = 8;

interface ResponderTally {
  address: string;
  count: number;
  mpls: MplsLabel[];
  /** Order of first appearance, to break ties in count deterministically. */
  order: number;
}

/**
 * Running statistics of one hop with mtr's definitions: Loss% counts probes that are no longer
 * in flight; StDev is the sample standard deviation (Welford's running sum of squares, as mtr
 * keeps it); Jttr is |RTT - previous RTT| of consecutive replies, 0 for the first; Javg is the
 * mean of those values over every reply (the first one's 0 included); Jmax the largest.
 *
 * Only its methods change it: the session reports what happened to each probe (`probeSent`,
 * `probeAnswered`, `probeLost`, `probeUnsent`) and reads the figures through getters.
 */
export class HopStats {
  #sent = 0;
  #recv = 0;
  #inFlight = 0;
  #last = 0;
  #best = 0;
  #worst = 0;
  #avg = 0;
  #ssd = 0;
  #jitter = 0;
  #jitterAvg = 0;
  #jitterMax = 0;
  readonly #responders = new Map<string, ResponderTally>();
  #nextOrder = 0;

  constructor(readonly ttl: number) {}

  probeSent(): void {
    this.#sent++;
    this.#inFlight++;
  }

  /** A probe ended without an answer (timeout, late reply, abandoned at the end). */
  probeLost(): void {
    this.#inFlight--;
  }

  /**
   * A probe counted by `probeSent` never left (the packet helper gave up sending it): it counts
   * neither as sent nor as lost.
   */
  probeUnsent(): void {
    this.#sent--;
    this.#inFlight--;
  }

  probeAnswered(address: string, rttMs: number, mpls: MplsLabel[]): void {
    this.#inFlight--;
    const jitter = this.#recv === 0 ? 0 : Math.abs(rttMs - this.#last);
    if (this.#recv === 0) {
      this.#best = rttMs;
      this.#worst = rttMs;
    }
    this.#last = rttMs;
    this.#jitter = jitter;
    if (rttMs < this.#best) this.#best = rttMs;
    if (rttMs > this.#worst) this.#worst = rttMs;
    if (jitter > this.#jitterMax) this.#jitterMax = jitter;
    this.#recv++;
    const oldAvg = this.#avg;
    this.#avg += (rttMs - oldAvg) / this.#recv;
    this.#ssd += (rttMs - oldAvg) * (rttMs - this.#avg);
    this.#jitterAvg += (jitter - this.#jitterAvg) / this.#recv;

    const tally = this.#responders.get(address);
    if (tally) {
      tally.count++;
      if (mpls.length > 0) tally.mpls = mpls;
    } else if (this.#responders.size < MAX_RESPONDERS) {
      this.#responders.set(address, { address, count: 1, mpls, order: this.#nextOrder++ });
    }
  }

  /** Probes sent to this hop, those still in flight included. */
  get sent(): number {
    return this.#sent;
  }

  /** Probes answered. */
  get recv(): number {
    return this.#recv;
  }

  /** Probes sent and neither answered nor given up yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get last(): number {
    return this.#last;
  }

  get best(): number {
    return this.#best;
  }

  get worst(): number {
    return this.#worst;
  }

  get avg(): number {
    return this.#avg;
  }

  get jitter(): number {
    return this.#jitter;
  }

  get jitterAvg(): number {
    return this.#jitterAvg;
  }

  get jitterMax(): number {
    return this.#jitterMax;
  }

  get answered(): boolean {
    return this.#recv > 0;
  }

  hasResponder(address: string): boolean {
    return this.#responders.has(address);
  }

  get responderCount(): number {
    return this.#responders.size;
  }

  get stdev(): number {
    return this.#recv > 1 ? Math.sqrt(Math.max(0, this.#ssd) / (this.#recv - 1)) : 0;
  }

  get lossPct(): number {
    const settled = this.#sent - this.#inFlight;
    return settled === 0 ? 0 : (100 * (settled - this.#recv)) / settled;
  }

  /** Responders, most frequent first. */
  rankedResponders(): readonly Readonly<ResponderTally>[] {
    return [...this.#responders.values()].sort((a, b) => b.count - a.count || a.order - b.order);
  }

  /** The hop as @lg/protocol's Hop; `names` maps addresses to reverse-DNS names when known. */
  toHop(names?: (address: string) => string | undefined): Hop {
    const ranked = this.rankedResponders();
    const main = ranked[0];
    const hop: Hop = {
      ttl: this.ttl,
      host: main?.address ?? null,
      lossPct: this.lossPct,
      sent: this.#sent,
      recv: this.#recv,
      drop: this.#sent - this.#inFlight - this.#recv,
      // Over the settled probes, like Loss%: one still in flight is neither lost nor answered yet.
      lossCi: lossInterval(this.#sent - this.#inFlight, this.#recv),
      last: this.#last,
      avg: this.#avg,
      best: this.#best,
      worst: this.#worst,
      stdev: this.stdev,
      jitter: this.#jitter,
      jitterAvg: this.#jitterAvg,
      jitterMax: this.#jitterMax,
      responders: ranked.map((r) => {
        const entry: Hop["responders"][number] = { address: r.address, count: r.count };
        const name = names?.(r.address);
        if (name) entry.name = name;
        if (r.mpls.length > 0) entry.mpls = r.mpls;
        return entry;
      }),
    };
    const name = main && names?.(main.address);
    if (name) hop.name = name;
    if (main && main.mpls.length > 0) hop.mpls = main.mpls;
    return hop;
  }
}
