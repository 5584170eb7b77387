import type { Finding } from "@lg/protocol";
import { type HopView, hopLabel, pct, ttlRange } from "../hop-view";
import { REAL_LOSS_MIN_LOST_PROBES } from "../thresholds";
import type { TraceView } from "../trace-view";
import { findPersistentLoss } from "./loss-run";

/**
 * icmp-throttling — seed: "No loss on subsequent hops — The loss at this hop is caused by ICMP
 * throttling. No action needed." and "If loss or high latency appears at a hop but the subsequent
 * hops return to normal, the hop is deprioritizing ICMP probes — not dropping your traffic."
 *
 * Every lossy hop (silent routers included) outside a significant persistent-loss run, grouped into
 * consecutive hops of one region. A run that reaches the end but stays within sampling noise is
 * reported here too, saying so.
 */
export function icmpThrottling(view: TraceView): Finding[] {
  const run = findPersistentLoss(view);
  const lossy: HopView[] = [];
  for (let i = 0; i <= view.scopeEnd; i++) {
    const h = view.hops[i] as HopView;
    if (h.lost === 0) continue;
    if (run?.significant && i >= run.start) continue;
    lossy.push(h);
  }
  const findings: Finding[] = [];
  for (const group of groupConsecutive(lossy)) {
    const first = group[0] as HopView;
    const last = group[group.length - 1] as HopView;
    const noise = run !== null && !run.significant && last === run.reference;
    const after = nextClean(view, last);
    const verb = group.length === 1 ? "loses" : "lose";
    const allSilent = group.every((h) => !h.answered);
    const rates = allSilent
      ? "no reply at all"
      : group
          .map((h) => (h.answered ? `hop ${h.ttl} ${pct(h.hop.lossPct)}` : `hop ${h.ttl} no reply`))
          .join(", ");
    const evidence = noise
      ? `${ttlRange(first.ttl, last.ttl)} ${verb} probes (${rates}), but the last hop loses only ${last.lost} of ${last.hop.sent}: fewer than ${REAL_LOSS_MIN_LOST_PROBES} lost probes is sampling noise, not a persistent loss.`
      : `${ttlRange(first.ttl, last.ttl)} ${verb} probes (${rates}) but the loss does not persist: ${
          after
            ? `${hopLabel(after)} after ${group.length === 1 ? "it" : "them"} loses ${pct(after.hop.lossPct)}`
            : "later hops answer"
        }.`;
    findings.push({
      code: "icmp-throttling",
      severity: "info",
      hops: group.map((h) => h.ttl),
      region: first.region,
      evidence,
      advice:
        "The router deprioritizes ICMP probes aimed at it; traffic passing through is not dropped. No action needed.",
    });
  }
  return findings;
}

/** Splits hops into runs of consecutive TTLs that share one region. */
function groupConsecutive(hops: HopView[]): HopView[][] {
  const groups: HopView[][] = [];
  for (const h of hops) {
    const current = groups[groups.length - 1];
    const prev = current?.[current.length - 1];
    if (current && prev && prev.ttl + 1 === h.ttl && prev.region === h.region) current.push(h);
    else groups.push([h]);
  }
  return groups;
}

/** The first answering hop after `hop` that loses nothing (the proof that the loss stopped). */
function nextClean(view: TraceView, hop: HopView): HopView | undefined {
  const index = view.hops.indexOf(hop);
  return view.hops.slice(index + 1, view.scopeEnd + 1).find((h) => h.answered && h.lost === 0);
}
