import type { Finding } from "@lg/protocol";
import { regionContact } from "../advice";
import { type HopView, hopLabel, ms } from "../hop-view";
import { LATENCY_STEP_MIN_MS, LATENCY_STEP_MIN_RATIO, PROPAGATION_SHARE } from "../thresholds";
import type { TraceView } from "../trace-view";
import { latencyLevels } from "./latency-levels";

/**
 * latency-step — seed: "Spike starting at a hop — If latency increases sharply at a hop and remains
 * elevated on subsequent hops, a network exception likely occurred at that hop. [...] A latency spike
 * alone does not confirm packet loss — run a reverse path test to confirm."
 *
 * A step is where the lowest Avg of the remaining hops rises by LATENCY_STEP_MIN_MS and by
 * LATENCY_STEP_MIN_RATIO of the level before. Following the guide it is a problem either way; the
 * evidence tells the two shapes apart: when Best rises by PROPAGATION_SHARE of the step too, every
 * probe takes longer (a longer link or route — expected over an ocean crossing), otherwise probes
 * queue (congestion).
 */
export function latencyStep(view: TraceView): Finding[] {
  const { hops, floorAvg, floorBest } = latencyLevels(view);
  const findings: Finding[] = [];
  for (let i = 1; i < hops.length; i++) {
    const before = floorAvg[i - 1] as number;
    const after = floorAvg[i] as number;
    const rise = after - before;
    if (rise < LATENCY_STEP_MIN_MS || rise < before * LATENCY_STEP_MIN_RATIO) continue;
    const at = hops[i] as HopView;
    const prev = hops[i - 1] as HopView;
    const bestRise = (floorBest[i] as number) - (floorBest[i - 1] as number);
    const distance = bestRise >= rise * PROPAGATION_SHARE;
    const later = hops.slice(i);
    findings.push({
      code: "latency-step",
      severity: "problem",
      hops: later.map((h) => h.ttl),
      region: at.region,
      evidence:
        `Avg rises from ${ms(prev.hop.avg)} at ${hopLabel(prev)} to ${ms(at.hop.avg)} at ${hopLabel(at)} and no later hop drops below ${ms(after)} ` +
        `(+${ms(rise)} that persists); Best rises by ${ms(Math.max(bestRise, 0))}` +
        (distance
          ? ", as much as Avg: every probe takes longer, as over a longer link or route."
          : ", much less than Avg: probes queue or take a slower path from this hop on."),
      advice:
        `A network exception likely starts at ${hopLabel(at)}` +
        (distance ? " (unless this hop crosses a long distance, which makes every probe slower too)" : "") +
        `. A latency step alone does not confirm packet loss: run a reverse path test to confirm, then ${regionContact(at, "contact")}.`,
    });
  }
  return findings;
}
