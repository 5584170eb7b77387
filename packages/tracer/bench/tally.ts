/** What the concurrency workers count over their traces' hops. */

/** The part of a trace's result the tally reads. */
export interface TracedHops {
  hops: { ttl: number; sent: number; recv: number }[];
  unsentProbes?: number;
  reachedDestination: boolean;
}

export interface TraceTally {
  sent: number;
  recv: number;
  /** Probes the engine gave up for lack of a slot (in no hop's Snt). */
  unsent: number;
  /** Traces that reached their destination. */
  reached: number;
  /** Traces with a probe lost at any hop. */
  tracesWithLoss: number;
  /** Probes lost, by the TTL of their hop. */
  lostByTtl: Record<number, number>;
}

/** Sums every hop of every trace: probes sent and answered, losses by TTL, unsent probes, traces that got there. */
export function tallyTraces(results: TracedHops[]): TraceTally {
  const tally: TraceTally = { sent: 0, recv: 0, unsent: 0, reached: 0, tracesWithLoss: 0, lostByTtl: {} };
  for (const r of results) {
    let lost = false;
    for (const h of r.hops) {
      tally.sent += h.sent;
      tally.recv += h.recv;
      if (h.recv < h.sent) {
        lost = true;
        tally.lostByTtl[h.ttl] = (tally.lostByTtl[h.ttl] ?? 0) + h.sent - h.recv;
      }
    }
    if (lost) tally.tracesWithLoss++;
    if (r.reachedDestination) tally.reached++;
    tally.unsent += r.unsentProbes ?? 0;
  }
  return tally;
}
