import type { HopView } from "../hop-view";
import type { TraceView } from "../trace-view";

/** Answering hops in scope with the lowest Avg and Best seen from each of them to the end. */
export interface LatencyLevels {
  hops: HopView[];
  /** floorAvg[i] = min Avg of hops[i..]: the part of hop i's latency that persists. */
  floorAvg: number[];
  /** floorBest[i] = min Best of hops[i..]. */
  floorBest: number[];
}

/**
 * A latency increase that persists raises the minimum Avg of every later hop, while a spike
 * confined to one hop does not: suffix minimums separate the two without any smoothing window.
 */
export function latencyLevels(view: TraceView): LatencyLevels {
  const hops = view.hops.slice(0, view.scopeEnd + 1).filter((h) => h.answered);
  const floorAvg = suffixMin(hops.map((h) => h.hop.avg));
  const floorBest = suffixMin(hops.map((h) => h.hop.best));
  return { hops, floorAvg, floorBest };
}

function suffixMin(values: number[]): number[] {
  const out = new Array<number>(values.length);
  let min = Number.POSITIVE_INFINITY;
  for (let i = values.length - 1; i >= 0; i--) {
    min = Math.min(min, values[i] as number);
    out[i] = min;
  }
  return out;
}
