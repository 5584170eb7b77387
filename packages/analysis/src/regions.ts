import type { Region } from "@lg/protocol";
import type { HopView } from "./hop-view";
import { ACCESS_PUBLIC_HOPS, DESTINATION_HOPS } from "./thresholds";

/** What the region heuristic needs to know about the ends of the trace. */
export interface RegionHints {
  /** The hops end at the destination (so the last hops are its network). */
  reachedDestination: boolean;
  /** Origin AS of the source, when known from outside the hops. */
  sourceAsn?: number;
  /** Origin AS of the destination, when known from outside the hops. */
  destinationAsn?: number;
}

/**
 * Assigns each hop to region A (the source's LAN and access carrier), B (backbone carriers)
 * or C (the destination's network), relative to the trace's own direction.
 *
 * With ASN data: A is the leading run of hops that are private or in the source's AS (the AS
 * of the first public hop); C is the trailing run in the destination's AS (the AS of the last
 * public hop when the destination was reached, or `destinationAsn`); the rest is B. Without
 * ASN data for an end, or when source and destination share one AS: A is the leading private
 * hops plus `ACCESS_PUBLIC_HOPS` public hop(s), C the last `DESTINATION_HOPS` answering hops of a
 * trace that reached its destination. Silent hops take the region of the hop before them. A always wins
 * the first hop and C the destination.
 */
export function assignRegions(hops: HopView[], hints: RegionHints): Region[] {
  if (hops.length === 0) return [];
  const publicHops = hops.filter((h) => h.answered && !h.private && h.address !== null);
  const sourceAsn = hints.sourceAsn ?? publicHops[0]?.asn;
  const lastPublic = publicHops[publicHops.length - 1];
  const destinationAsn = hints.destinationAsn ?? (hints.reachedDestination ? lastPublic?.asn : undefined);

  // One AS for both ends (a path inside one network) cannot separate A from C by AS.
  const distinct = sourceAsn === undefined || destinationAsn === undefined || sourceAsn !== destinationAsn;
  let aEnd =
    sourceAsn !== undefined && distinct
      ? leadingRunEnd(hops, (h) => h.private || h.asn === sourceAsn)
      : positionalAccessEnd(hops);
  let cStart = hops.length;
  if (destinationAsn !== undefined && distinct) {
    cStart = trailingRunStart(hops, (h) => h.private || h.asn === destinationAsn);
  } else if (hints.reachedDestination) {
    cStart = positionalDestinationStart(hops);
  }
  aEnd = Math.max(aEnd, 0);
  if (hints.reachedDestination) cStart = Math.min(cStart, hops.length - 1);
  if (cStart <= aEnd) cStart = Math.max(aEnd + 1, hints.reachedDestination ? hops.length - 1 : hops.length);

  const regions: Region[] = hops.map((_, i) => (i <= aEnd ? "A" : i >= cStart ? "C" : "B"));
  // A silent router has no address to place it by; it sits where the hop before it is.
  for (let i = 1; i < hops.length; i++) {
    if (!(hops[i] as HopView).answered && i < cStart) regions[i] = regions[i - 1] as Region;
  }
  if (hints.reachedDestination) regions[hops.length - 1] = "C";
  regions[0] = "A";
  return regions;
}

/** Index of the last answering hop of the leading run whose answering hops all satisfy `inRun`. */
function leadingRunEnd(hops: HopView[], inRun: (h: HopView) => boolean): number {
  let end = -1;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i] as HopView;
    if (!h.answered) continue;
    if (!inRun(h)) break;
    end = i;
  }
  return end;
}

/** Index of the first hop of the trailing run whose answering hops all satisfy `inRun`. */
function trailingRunStart(hops: HopView[], inRun: (h: HopView) => boolean): number {
  let start = hops.length;
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i] as HopView;
    if (!h.answered) continue;
    if (!inRun(h)) break;
    start = i;
  }
  return start;
}

function positionalAccessEnd(hops: HopView[]): number {
  let end = -1;
  let publicSeen = 0;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i] as HopView;
    if (!h.answered) continue;
    if (!h.private) {
      publicSeen++;
      if (publicSeen > ACCESS_PUBLIC_HOPS) break;
    }
    end = i;
  }
  return end;
}

/** The last DESTINATION_HOPS answering hops (silent routers between them do not count). */
function positionalDestinationStart(hops: HopView[]): number {
  let counted = 0;
  for (let i = hops.length - 1; i >= 0; i--) {
    if ((hops[i] as HopView).answered) counted++;
    if (counted === DESTINATION_HOPS) return i;
  }
  return 0;
}
