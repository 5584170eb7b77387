import type { Finding } from "@lg/protocol";
import { regionContact } from "../advice";
import { type HopView, hopLabel, pct } from "../hop-view";
import { NOISE_LOSS_RATE } from "../thresholds";
import type { TraceView } from "../trace-view";
import { chance, findPersistentLoss, lossWords } from "./loss-run";

/** At most this many hops are quoted one by one in the evidence. */
const QUOTED_HOPS = 5;

/**
 * real-loss — seed: "Loss on all subsequent hops — A real network exception at this hop is dropping
 * packets. Investigate and contact the responsible carrier." and "Loss on some subsequent hops, with
 * varying rates — Both ICMP throttling and a network exception may be present. Use the loss rate of
 * the last few affected hops as the reference value."
 *
 * The run of lossy hops that lasts to the last answering hop starts at its first hop; the last hops'
 * pooled rate is the reference, and it must stand out from 1% noise (exact binomial test,
 * REAL_LOSS_ALPHA). When the probes cannot tell a persisting loss from throttling at the run's start
 * and noise at the end, the finding is `inconclusive` with about how many more probes would decide.
 */
export function realLoss(view: TraceView): Finding[] {
  const run = findPersistentLoss(view);
  if (!run || run.status === "noise") return [];
  const runHops = view.hops.slice(run.start, run.end + 1);
  const first = runHops[0] as HopView;
  const ref = run.reference;
  const quoted = runHops.length <= QUOTED_HOPS ? runHops : [...runHops.slice(0, QUOTED_HOPS - 1), ref];
  const rates = quoted.map((h) => `hop ${h.ttl} ${pct(h.hop.lossPct)}`).join(", ");
  const gap = runHops.length > QUOTED_HOPS ? " (…)" : "";
  const before = run.start > 0 ? (view.hops[run.start - 1] as HopView) : null;
  const refLabel =
    run.referenceHops.length === 1
      ? `hop ${run.referenceHops[0]?.ttl}`
      : `hops ${run.referenceHops.map((h) => h.ttl).join(" and ")}`;
  const reference = `the reference, ${refLabel}, loses ${lossWords(run.referenceSample)}`;
  const persists =
    run.start === run.end
      ? `${hopLabel(ref)}, the last hop that answers, loses ${lossWords(run.referenceSample)}`
      : `Every hop from ${hopLabel(first)} to hop ${ref.ttl} loses probes (${rates}${gap}); ${reference}`;
  const beforeWords = before ? `; ${hopLabel(before)} before it loses ${pct(before.hop.lossPct)}` : "";

  if (run.status === "inconclusive") {
    const more =
      run.probesNeeded !== undefined
        ? `about ${run.probesNeeded} more probes per hop would decide it at the rates seen`
        : "over a thousand more probes per hop would be needed to decide it";
    const drop =
      run.start === run.end
        ? ""
        : ` and a drop from hop ${first.ttl}'s ${pct(first.hop.lossPct)} to the reference has a chance of ${chance(run.pDrop)} if the loss persisted`;
    return [
      {
        code: "real-loss",
        severity: "info",
        status: "inconclusive",
        ...(run.probesNeeded !== undefined ? { probesNeeded: run.probesNeeded } : {}),
        hops: runHops.map((h) => h.ttl),
        region: first.region,
        evidence: `${persists}${beforeWords}. Too few probes to tell a loss that persists from throttling at hop ${first.ttl}: ${NOISE_LOSS_RATE * 100}% noise explains the reference's loss with a chance of ${chance(run.pNoise)}${drop}; ${more}.`,
        advice: `Run the trace again with more probes (lg trace -c ${Math.max(ref.hop.sent + (run.probesNeeded ?? 100), ref.hop.sent * 2)}, or --until-sure) before contacting anyone.`,
      },
    ];
  }
  return [
    {
      code: "real-loss",
      severity: "problem",
      status: "confirmed",
      hops: runHops.map((h) => h.ttl),
      region: first.region,
      evidence: `${persists}${beforeWords}; ${NOISE_LOSS_RATE * 100}% noise would lose that many with a chance of ${chance(run.pNoise)}.`,
      advice: `Packets are dropped from ${hopLabel(first)} on${
        first.region === "C" ? " (or the destination's firewall rate-limits ICMP)" : ""
      }. ${regionContact(first, "Contact")}; a reverse path test shows whether the way back loses too.`,
    },
  ];
}
