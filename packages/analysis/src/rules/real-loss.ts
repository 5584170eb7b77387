import type { Finding } from "@lg/protocol";
import { regionContact } from "../advice";
import { type HopView, hopLabel, pct } from "../hop-view";
import type { TraceView } from "../trace-view";
import { findPersistentLoss } from "./loss-run";

/** At most this many hops are quoted one by one in the evidence. */
const QUOTED_HOPS = 5;

/**
 * real-loss — seed: "Loss on all subsequent hops — A real network exception at this hop is dropping
 * packets. Investigate and contact the responsible carrier." and "Loss on some subsequent hops, with
 * varying rates — Both ICMP throttling and a network exception may be present. Use the loss rate of
 * the last few affected hops as the reference value."
 *
 * The run of lossy hops that lasts to the last answering hop starts at its first hop; the last hop's
 * rate is the reference, and it must exceed sampling noise (REAL_LOSS_MIN_LOST_PROBES, REAL_LOSS_MIN_PCT).
 */
export function realLoss(view: TraceView): Finding[] {
  const run = findPersistentLoss(view);
  if (!run?.significant) return [];
  const runHops = view.hops.slice(run.start, run.end + 1);
  const first = runHops[0] as HopView;
  const ref = run.reference;
  const quoted = runHops.length <= QUOTED_HOPS ? runHops : [...runHops.slice(0, QUOTED_HOPS - 1), ref];
  const rates = quoted.map((h) => `hop ${h.ttl} ${pct(h.hop.lossPct)}`).join(", ");
  const gap = runHops.length > QUOTED_HOPS ? " (…)" : "";
  const before = run.start > 0 ? (view.hops[run.start - 1] as HopView) : null;
  const persists =
    run.start === run.end
      ? `${hopLabel(ref)}, the last hop that answers, loses ${pct(ref.hop.lossPct)} (${ref.lost} of ${ref.hop.sent} probes)`
      : `Every hop from ${hopLabel(first)} to hop ${ref.ttl} loses probes (${rates}${gap}); the last hop's ${pct(ref.hop.lossPct)} (${ref.lost} of ${ref.hop.sent}) is the reference value`;
  return [
    {
      code: "real-loss",
      severity: "problem",
      hops: runHops.map((h) => h.ttl),
      region: first.region,
      evidence: `${persists}${before ? `; ${hopLabel(before)} before it loses ${pct(before.hop.lossPct)}` : ""}.`,
      advice: `Packets are dropped from ${hopLabel(first)} on${
        first.region === "C" ? " (or the destination's firewall rate-limits ICMP)" : ""
      }. ${regionContact(first, "Contact")}; a reverse path test shows whether the way back loses too.`,
    },
  ];
}
