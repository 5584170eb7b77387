import type { Finding } from "@lg/protocol";
import { regionContact } from "../advice";
import { type HopView, hopLabel, ms, ttlRange } from "../hop-view";
import {
  UNSTABLE_MIN_REPLIES,
  UNSTABLE_MIN_STDEV_MS,
  UNSTABLE_PERSIST_MIN_HOPS,
  UNSTABLE_STDEV_RATIO,
} from "../thresholds";
import type { TraceView } from "../trace-view";
import { latencySpikeConfined } from "./latency-spike-confined";

/** StDev high relative to Avg, from enough replies to mean something. */
export function isUnstable(h: HopView): boolean {
  const { stdev, avg, recv } = h.hop;
  return (
    recv >= UNSTABLE_MIN_REPLIES && stdev >= UNSTABLE_MIN_STDEV_MS && stdev >= avg * UNSTABLE_STDEV_RATIO
  );
}

/**
 * unstable-latency — seed: "High StDev — The Avg alone is unreliable. Examine Best and Wrst to assess
 * the actual range of latency at this hop. [...] There is no fixed threshold for 'high' or 'low' StDev —
 * it is always relative to the other latency values at the same hop."
 *
 * StDev at or above UNSTABLE_STDEV_RATIO of Avg (and at least UNSTABLE_MIN_STDEV_MS). Hops already
 * explained by a confined spike are left out. Like loss, instability that stops before the end is
 * the router's own (information; the seed's sample hop 4); a run that lasts to the last hop over
 * UNSTABLE_PERSIST_MIN_HOPS hops is a problem.
 */
export function unstableLatency(view: TraceView): Finding[] {
  const spiked = new Set(latencySpikeConfined(view).flatMap((f) => f.hops));
  const inScope = view.hops.slice(0, view.scopeEnd + 1).filter((h) => h.answered);
  const lastTtl = inScope[inScope.length - 1]?.ttl;
  const groups: HopView[][] = [];
  let previousUnstable = false;
  for (const h of inScope) {
    const unstable = isUnstable(h) && !spiked.has(h.ttl);
    if (unstable) {
      if (previousUnstable) groups[groups.length - 1]?.push(h);
      else groups.push([h]);
    }
    previousUnstable = unstable;
  }
  return groups.map((group) => {
    const first = group[0] as HopView;
    const last = group[group.length - 1] as HopView;
    const persists = last.ttl === lastTtl && group.length >= UNSTABLE_PERSIST_MIN_HOPS;
    const ranges = group
      .map(
        (h) =>
          `${hopLabel(h)} StDev ${ms(h.hop.stdev)} against Avg ${ms(h.hop.avg)}, Best ${ms(h.hop.best)}, Wrst ${ms(h.hop.worst)}`,
      )
      .join("; ");
    return {
      code: "unstable-latency",
      severity: persists ? "problem" : "info",
      hops: group.map((h) => h.ttl),
      region: first.region,
      evidence: `${ranges}: Avg is unreliable here, the real range is Best to Wrst${
        persists
          ? ", and it stays that way to the last hop"
          : `; ${ttlRange(first.ttl, last.ttl)} only, later hops are steady`
      }.`,
      advice: persists
        ? `Latency varies from ${hopLabel(first)} to the end: ${regionContact(first, "contact")} about congestion.`
        : "A brief fluctuation at this router (one slow probe cycle), not a sustained issue. No action needed.",
    } satisfies Finding;
  });
}
