import type { Finding } from "@lg/protocol";
import { type HopView, hopLabel, ms, ttlRange } from "../hop-view";
import { SPIKE_MIN_MS, SPIKE_MIN_RATIO } from "../thresholds";
import type { TraceView } from "../trace-view";
import { latencyLevels } from "./latency-levels";

/**
 * latency-spike-confined — seed: "Spike confined to a single hop — If latency is high at a hop but
 * drops back to normal on the next hop, ICMP throttling at that hop is the most likely cause."
 *
 * A hop whose Avg exceeds the lowest Avg after it by SPIKE_MIN_MS and SPIKE_MIN_RATIO; consecutive
 * such hops form one finding. The last hop in scope cannot be one (nothing after it returns to normal).
 */
export function latencySpikeConfined(view: TraceView): Finding[] {
  const { hops, floorAvg } = latencyLevels(view);
  const spiking: { hop: HopView; normal: number }[] = [];
  for (let i = 0; i < hops.length - 1; i++) {
    const h = hops[i] as HopView;
    const normal = floorAvg[i + 1] as number;
    const excess = h.hop.avg - normal;
    if (excess >= SPIKE_MIN_MS && excess >= normal * SPIKE_MIN_RATIO) spiking.push({ hop: h, normal });
  }
  const findings: Finding[] = [];
  let group: typeof spiking = [];
  const flush = () => {
    if (group.length === 0) return;
    const first = group[0]?.hop as HopView;
    const last = group[group.length - 1] as (typeof spiking)[number];
    const backTo = hops[hops.indexOf(last.hop) + 1] as HopView;
    const avgs =
      group.length === 1
        ? ms(first.hop.avg)
        : group.map((g) => `hop ${g.hop.ttl} ${ms(g.hop.hop.avg)}`).join(", ");
    findings.push({
      code: "latency-spike-confined",
      severity: "info",
      hops: group.map((g) => g.hop.ttl),
      region: first.region,
      evidence: `${ttlRange(first.ttl, last.hop.ttl)} ${group.length === 1 ? "answers" : "answer"} slowly (Avg ${avgs}) but ${hopLabel(backTo)} is back at ${ms(backTo.hop.avg)}: the delay does not persist.`,
      advice:
        "The router is slow to answer probes aimed at it (ICMP throttling); traffic passing through is not delayed. No action needed.",
    });
    group = [];
  };
  for (const s of spiking) {
    const prev = group[group.length - 1];
    if (prev && hops.indexOf(prev.hop) + 1 !== hops.indexOf(s.hop)) flush();
    group.push(s);
  }
  flush();
  return findings;
}
