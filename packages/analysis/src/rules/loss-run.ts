import { lossInterval } from "@lg/protocol";
import { type HopView, pct } from "../hop-view";
import { binomialAtLeast, fisherMoreLoss } from "../stats";
import {
  LOSS_HINT_ALPHA,
  MAX_PROBES_NEEDED,
  NOISE_LOSS_RATE,
  PERSIST_DROP_ALPHA,
  REAL_LOSS_ALPHA,
  REFERENCE_HOPS,
} from "../thresholds";
import type { TraceView } from "../trace-view";

/** Probes lost of probes sent, pooled over one or more hops. */
export interface LossSample {
  lost: number;
  sent: number;
}

/**
 * The run of lossy hops that reaches the last answering hop, and what the probes say about it:
 * `real` — the loss reaching the end is more than noise; `inconclusive` — the probes sent cannot tell
 * a loss that persists from throttling at the run's start and noise at the end; `noise` — neither.
 */
export interface PersistentLoss {
  /** Index of the first hop of the run. */
  start: number;
  /** Index of the last hop of the run: the last hop in scope. */
  end: number;
  /** The last hop. */
  reference: HopView;
  /** The last hops of the run after its start, pooled: the loss that persists to the end. */
  referenceHops: HopView[];
  referenceSample: LossSample;
  status: "real" | "inconclusive" | "noise";
  /** Chance that 1% noise loses as many of the reference probes (or more). */
  pNoise: number;
  /** Chance of a drop at least this large from the start hop to the reference if the loss persisted. */
  pDrop: number;
  /** For `inconclusive`: about how many more probes per hop would decide, at the rates seen. */
  probesNeeded?: number;
}

const sampleOf = (hops: HopView[]): LossSample => ({
  lost: hops.reduce((n, h) => n + h.lost, 0),
  sent: hops.reduce((n, h) => n + h.hop.sent, 0),
});

/** "25% (5 of 20; 95%: 11.2–46.9%)". */
export function lossWords(sample: LossSample): string {
  const [low, high] = lossInterval(sample.sent, sample.sent - sample.lost);
  const rate = sample.sent > 0 ? (sample.lost / sample.sent) * 100 : 0;
  return `${pct(rate)} (${sample.lost} of ${sample.sent}; 95%: ${low}–${high}%)`;
}

/** "0.2%" or "< 0.01%" for a chance. */
export function chance(p: number): string {
  return p < 0.0001 ? "< 0.01%" : `${Number((p * 100).toPrecision(2))}%`;
}

/**
 * Walks back from the last hop in scope while hops lose probes (the guide's "loss on all subsequent
 * hops"), then tests it: the reference (the last hops of the run after its start, pooled) against 1%
 * noise (exact binomial), and the start hop against the reference (Fisher's exact test: does the loss
 * drop after the start?).
 */
export function findPersistentLoss(view: TraceView): PersistentLoss | null {
  const end = view.scopeEnd;
  if (end < 0) return null;
  const reference = view.hops[end] as HopView;
  if (reference.lost === 0) return null;
  let start = end;
  while (start > 0 && (view.hops[start - 1] as HopView).lost > 0) start--;
  const after = view.hops.slice(start + 1, end + 1).filter((h) => h.answered);
  const referenceHops = after.length > 0 ? after.slice(-REFERENCE_HOPS) : [reference];
  const referenceSample = sampleOf(referenceHops);
  const startHop = view.hops[start] as HopView;
  const startSample = { lost: startHop.lost, sent: startHop.hop.sent };
  const pNoise = binomialAtLeast(referenceSample.lost, referenceSample.sent, NOISE_LOSS_RATE);
  const separate = referenceHops[0] !== startHop;
  const pDrop = separate
    ? fisherMoreLoss(startSample.lost, startSample.sent, referenceSample.lost, referenceSample.sent)
    : 1;
  const startIsLoss = binomialAtLeast(startSample.lost, startSample.sent, NOISE_LOSS_RATE) < REAL_LOSS_ALPHA;
  let status: PersistentLoss["status"] = "noise";
  if (pNoise < REAL_LOSS_ALPHA) status = "real";
  else if (pNoise < LOSS_HINT_ALPHA || (separate && startIsLoss && pDrop >= PERSIST_DROP_ALPHA))
    status = "inconclusive";
  const run: PersistentLoss = {
    start,
    end,
    reference,
    referenceHops,
    referenceSample,
    status,
    pNoise,
    pDrop,
  };
  if (status === "inconclusive") {
    const needed = probesToDecide(startSample, referenceSample, referenceHops.length, separate);
    if (needed !== undefined) run.probesNeeded = needed;
  }
  return run;
}

/**
 * About how many more probes per hop would decide an inconclusive run if the rates seen so far held:
 * enough for the reference's loss to stand out from noise, or for the start hop's loss to stand out
 * from the reference's (it does not persist). Undefined past {@link MAX_PROBES_NEEDED}.
 */
export function probesToDecide(
  start: LossSample,
  ref: LossSample,
  refHops: number,
  separate: boolean,
): number | undefined {
  const n0 = Math.max(1, Math.round(ref.sent / refHops));
  const startRate = start.sent > 0 ? start.lost / start.sent : 0;
  const refRate = ref.sent > 0 ? ref.lost / ref.sent : 0;
  for (let n = n0 + 1; n <= n0 + MAX_PROBES_NEEDED; n++) {
    const refSent = n * refHops;
    const refLost = Math.round(refRate * refSent);
    const pNoise = binomialAtLeast(refLost, refSent, NOISE_LOSS_RATE);
    if (pNoise < REAL_LOSS_ALPHA) return n - n0;
    if (separate && pNoise >= LOSS_HINT_ALPHA) {
      const pDrop = fisherMoreLoss(Math.round(startRate * n), n, refLost, refSent);
      if (pDrop < PERSIST_DROP_ALPHA) return n - n0;
    }
  }
  return undefined;
}
