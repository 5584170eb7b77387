import type { TraceOptions } from "@lg/protocol";

/** A path longer than this is rare, and a trace stops at its destination: a fair ceiling per trace. */
export const HOPS_ESTIMATE = 30;

/**
 * Probes per minute a request sends towards its target, across its PoPs: each agent sends one
 * probe per hop per cycle, so hops x cycles in the first minute (all of them when the run is
 * shorter) x PoPs. Every probe carries the target as destination address, whichever router
 * answers it, so all of them count.
 */
export function probeRate(options: TraceOptions, pops: number): number {
  const hops = Math.max(1, Math.min(options.maxTtl - options.firstTtl + 1, HOPS_ESTIMATE));
  const cyclesPerMinute = Math.min(options.count, Math.ceil(60 / options.interval));
  return hops * cyclesPerMinute * pops;
}

/** How long a request probes: its cycles, then the wait for late replies. */
export function probingMs(options: TraceOptions): number {
  return Math.ceil((options.count * options.interval + options.timeout + options.gracePeriod) * 1000);
}
