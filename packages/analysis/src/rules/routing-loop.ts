import type { Finding } from "@lg/protocol";
import { regionContact } from "../advice";
import { type HopView, hopLabel } from "../hop-view";
import type { TraceView } from "../trace-view";

/** A cycle of routers that repeats until the trace ends. */
export interface RoutingLoop {
  /** Index of the first hop of the loop. */
  start: number;
  /** Hops per cycle (2 for two routers sending packets back and forth). */
  period: number;
  /** Index of the last hop that repeats the cycle. */
  end: number;
}

/**
 * Finds the earliest point after which the answering addresses repeat with a fixed period to the
 * last answering hop, over at least two full cycles. A loop needs two routers at least: one address
 * answering at consecutive TTLs is the destination answering probes that outlived it, or a box that
 * does not decrement TTL.
 */
export function findRoutingLoop(hops: HopView[]): RoutingLoop | null {
  let last = hops.length - 1;
  while (last >= 0 && (hops[last] as HopView).address === null) last--;
  for (let start = 0; start < last; start++) {
    const first = (hops[start] as HopView).address;
    if (first === null) continue;
    for (let period = 2; start + period <= last; period++) {
      if ((hops[start + period] as HopView).address !== first) continue;
      const span = last - start + 1;
      if (span < 2 * period) continue;
      if (repeatsWithPeriod(hops, start, last, period)) return { start, period, end: last };
    }
  }
  return null;
}

function repeatsWithPeriod(hops: HopView[], start: number, last: number, period: number): boolean {
  for (let i = start + period; i <= last; i++) {
    const here = (hops[i] as HopView).address;
    const cycleBefore = (hops[i - period] as HopView).address;
    if (here !== null && cycleBefore !== null && here !== cycleBefore) return false;
  }
  return true;
}

/**
 * routing-loop — seed: "Packets loop through the same hops repeatedly after a certain point and
 * never reach the destination. [...] This is usually caused by a misconfigured route on a
 * carrier node. Contact the carrier to resolve the issue."
 *
 * The finding's hops are the first cycle, starting where the loop starts.
 */
export function routingLoop(view: TraceView): Finding[] {
  const loop = view.loop;
  if (!loop) return [];
  const cycle = view.hops.slice(loop.start, loop.start + loop.period);
  const first = cycle[0] as HopView;
  const members = cycle.map((h) => h.address ?? "no reply").join(", ");
  const repeats = Math.floor((loop.end - loop.start + 1) / loop.period);
  return [
    {
      code: "routing-loop",
      severity: "problem",
      hops: cycle.map((h) => h.ttl),
      region: first.region,
      evidence:
        `From ${hopLabel(first)} the path repeats the same ${loop.period} routers ` +
        `(${members}) ${repeats} times up to hop ${(view.hops[loop.end] as HopView).ttl} and never reaches the destination.`,
      advice: `A route on a carrier node is misconfigured. ${regionContact(first, "Contact")} and name the looping addresses.`,
    },
  ];
}
