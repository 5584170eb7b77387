import type { Finding } from "@lg/protocol";
import { type HopView, hopLabel, pct, ttlRange } from "../hop-view";
import { binomialAtLeast, fisherMoreLoss } from "../stats";
import { NOISE_LOSS_RATE, PERSIST_DROP_ALPHA, REAL_LOSS_ALPHA, REFERENCE_HOPS } from "../thresholds";
import type { TraceView } from "../trace-view";
import { chance, findPersistentLoss, type LossSample, lossWords, probesToDecide } from "./loss-run";

/**
 * icmp-throttling — seed: "No loss on subsequent hops — The loss at this hop is caused by ICMP
 * throttling. No action needed." and "If loss or high latency appears at a hop but the subsequent
 * hops return to normal, the hop is deprioritizing ICMP probes — not dropping your traffic."
 *
 * Every lossy hop (silent routers included) outside a significant persistent-loss run, grouped into
 * consecutive hops of one region. A run that reaches the end but stays within sampling noise is
 * reported here too, saying so. "Does not persist" is tested, not assumed: the group's loss must
 * stand out from that of the hops right after it (Fisher's exact test, PERSIST_DROP_ALPHA); when too
 * few probes were sent to show that, the finding is `inconclusive` with how many more would.
 */
export function icmpThrottling(view: TraceView): Finding[] {
  const run = findPersistentLoss(view);
  const lossy: HopView[] = [];
  for (let i = 0; i <= view.scopeEnd; i++) {
    const h = view.hops[i] as HopView;
    if (h.lost === 0) continue;
    // A real or undecided run is the real-loss rule's to report.
    if (run && run.status !== "noise" && i >= run.start) continue;
    lossy.push(h);
  }
  const findings: Finding[] = [];
  for (const group of groupConsecutive(lossy)) {
    const first = group[0] as HopView;
    const last = group[group.length - 1] as HopView;
    const noise = run !== null && run.status === "noise" && last === run.reference;
    const after = nextClean(view, last);
    const verb = group.length === 1 ? "loses" : "lose";
    const allSilent = group.every((h) => !h.answered);
    const rates = allSilent
      ? "no reply at all"
      : group
          .map((h) => (h.answered ? `hop ${h.ttl} ${pct(h.hop.lossPct)}` : `hop ${h.ttl} no reply`))
          .join(", ");
    const evidence = noise
      ? `${ttlRange(first.ttl, last.ttl)} ${verb} probes (${rates}), but the last hops lose only ${lossWords(run.referenceSample)}, which 1% noise explains with a chance of ${chance(run.pNoise)}: sampling noise, not a persistent loss.`
      : `${ttlRange(first.ttl, last.ttl)} ${verb} probes (${rates}) but the loss does not persist: ${
          after
            ? `${hopLabel(after)} after ${group.length === 1 ? "it" : "them"} loses ${pct(after.hop.lossPct)}`
            : "later hops answer"
        }.`;
    const undecided = noise
      ? undefined
      : undecidedDrop(view, group, run?.status === "noise" ? null : (run?.start ?? null));
    if (undecided) {
      const more =
        undecided.probesNeeded !== undefined
          ? `about ${undecided.probesNeeded} more probes per hop would decide it`
          : "over a thousand more probes per hop would be needed to decide it";
      findings.push({
        code: "icmp-throttling",
        severity: "info",
        status: "inconclusive",
        ...(undecided.probesNeeded !== undefined ? { probesNeeded: undecided.probesNeeded } : {}),
        hops: group.map((h) => h.ttl),
        region: first.region,
        evidence: `${ttlRange(first.ttl, last.ttl)} ${verb} ${lossWords(undecided.group)} and the hops right after lose ${lossWords(undecided.after)}: likely ICMP throttling, but so few probes cannot rule out a loss that persists (a drop this large happens by chance ${chance(undecided.pDrop)} of the time); ${more}.`,
        advice: "Run the trace again with more probes (or --until-sure) to tell throttling from a real loss.",
      });
      continue;
    }
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

/**
 * Whether a lossy group's loss cannot yet be shown not to persist: its answering hops lose more than
 * noise, yet not significantly more than the (up to REFERENCE_HOPS) answering hops right after it.
 * Silent routers (no answer at all) are left out: a router that never answers while later hops do
 * is plainly not dropping traffic.
 */
function undecidedDrop(
  view: TraceView,
  group: HopView[],
  runStart: number | null,
): { group: LossSample; after: LossSample; pDrop: number; probesNeeded?: number } | undefined {
  const answering = group.filter((h) => h.answered);
  if (answering.length === 0) return undefined;
  const sample = (hops: HopView[]): LossSample => ({
    lost: hops.reduce((n, h) => n + h.lost, 0),
    sent: hops.reduce((n, h) => n + h.hop.sent, 0),
  });
  const g = sample(answering);
  if (binomialAtLeast(g.lost, g.sent, NOISE_LOSS_RATE) >= REAL_LOSS_ALPHA) return undefined;
  const lastIndex = view.hops.indexOf(group[group.length - 1] as HopView);
  const stop = runStart ?? view.scopeEnd + 1;
  const after = view.hops
    .slice(lastIndex + 1, Math.min(stop, view.scopeEnd + 1))
    .filter((h) => h.answered)
    .slice(0, REFERENCE_HOPS);
  if (after.length === 0) return undefined;
  const a = sample(after);
  const pDrop = fisherMoreLoss(g.lost, g.sent, a.lost, a.sent);
  if (pDrop < PERSIST_DROP_ALPHA) return undefined;
  const perHop: LossSample = { lost: g.lost / answering.length, sent: g.sent / answering.length };
  const needed = probesToDecide(perHop, a, after.length, true);
  return { group: g, after: a, pDrop, ...(needed !== undefined ? { probesNeeded: needed } : {}) };
}
