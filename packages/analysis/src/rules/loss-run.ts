import type { HopView } from "../hop-view";
import { REAL_LOSS_MIN_LOST_PROBES, REAL_LOSS_MIN_PCT } from "../thresholds";
import type { TraceView } from "../trace-view";

/** The run of lossy hops that reaches the last answering hop, and whether it is more than noise. */
export interface PersistentLoss {
  /** Index of the first hop of the run. */
  start: number;
  /** Index of the last hop of the run: the last hop in scope, whose loss is the reference value. */
  end: number;
  reference: HopView;
  /** The reference hop lost enough probes to rule out sampling noise. */
  significant: boolean;
}

/** Enough lost probes, and a high enough rate, to call a hop's loss real rather than noise. */
export function isSignificantLoss(hop: HopView): boolean {
  return hop.lost >= REAL_LOSS_MIN_LOST_PROBES && hop.hop.lossPct >= REAL_LOSS_MIN_PCT;
}

/**
 * Walks back from the last hop in scope while hops lose probes: loss present on every hop from the
 * run's start to the end is the seed's "loss on all subsequent hops".
 */
export function findPersistentLoss(view: TraceView): PersistentLoss | null {
  const end = view.scopeEnd;
  if (end < 0) return null;
  const reference = view.hops[end] as HopView;
  if (reference.lost === 0) return null;
  let start = end;
  while (start > 0 && (view.hops[start - 1] as HopView).lost > 0) start--;
  return { start, end, reference, significant: isSignificantLoss(reference) };
}
