import type { Diagnosis, Finding, LossReading, LossStretch } from "@lg/protocol";
import { type HopView, pct } from "./hop-view";
import { type AliasObservation, type Identity, isRouterHop } from "./identity";
import { sameAddress } from "./links";
import { LOSS_NOISE_FLOOR, LOSS_READING_MARGIN, LOSS_READING_MAX } from "./thresholds";
import type { TraceView } from "./trace-view";

export interface LossReadingInput {
  forward: TraceView;
  reverse: TraceView;
  forwardDiagnosis: Diagnosis;
  reverseDiagnosis: Diagnosis;
  identity: Identity;
  aliases?: AliasObservation[];
  /** Names of the two ends for the evidence ("fra", "sin"); default "A" and "B". */
  labels?: { a: string; b: string };
}

/** A stretch a packet crosses: into forward hop `index` (from the one before, or from A), or into reverse hop `index`. */
type StretchKey = `f:${number}` | `r:${number}`;

/** One probe series: probes sent, answers received, and the stretches its probes and replies cross. */
interface Series {
  label: string;
  sent: number;
  recv: number;
  out: Set<StretchKey>;
  /** null: the replies' way back is not known (the router is not identified on the other path). */
  back: Set<StretchKey> | null;
  /** Whether it is a follow-up probe (evidence beyond the two traces). */
  followUp: boolean;
}

type Reading = LossReading["reading"];

interface Hypothesis {
  name: "none" | "forward" | "reverse" | "both";
  forwardStretch: StretchKey | null;
  reverseStretch: StretchKey | null;
}

const range = (prefix: "f" | "r", from: number, to: number): StretchKey[] => {
  const out: StretchKey[] = [];
  for (let i = from; i <= to; i++) out.push(`${prefix}:${i}` as StretchKey);
  return out;
};

/** Index of the first hop of a trace's real-loss finding, or null. */
function lossStart(view: TraceView, diagnosis: Diagnosis): number | null {
  const finding = diagnosis.findings.find((x) => x.code === "real-loss");
  const ttl = finding?.hops[0];
  if (ttl === undefined) return null;
  const i = view.hops.findIndex((h) => h.ttl === ttl);
  return i < 0 ? null : i;
}

function throttled(diagnosis: Diagnosis): Set<number> {
  return new Set(
    diagnosis.findings.filter((x: Finding) => x.code === "icmp-throttling").flatMap((x) => x.hops),
  );
}

/**
 * Reads the losses of a forward trace (A -> B) and a reverse trace (B -> A) together and says which
 * direction loses, where.
 *
 * Every answer at a hop is lost either on the probe's way out or on the reply's way back, and the way
 * back of a router both directions cross is the other trace's path from that router on. So "the
 * forward direction loses p at the stretch where A's loss starts", "the reverse direction loses q
 * at the stretch where B's loss starts" and "both" each predict the loss of every series — each hop of
 * both traces, and each follow-up alias trace (whose replies come back over the other direction's
 * path but whose probes avoid this direction's lossy stretch: the series that tell the two readings
 * apart). Each reading is scored by binomial likelihood at its best p and q; the best wins when it
 * beats the next by {@link LOSS_READING_MARGIN}, else the direction is `undetermined`.
 *
 * Returns null when neither trace shows real loss.
 */
export function readLosses(input: LossReadingInput): LossReading | null {
  const f = input.forward;
  const r = input.reverse;
  const labels = input.labels ?? { a: "A", b: "B" };
  const kf = lossStart(f, input.forwardDiagnosis);
  const kr = lossStart(r, input.reverseDiagnosis);
  if (kf === null && kr === null) return null;

  const series = buildSeries(input, labels);
  const hypotheses: Hypothesis[] = [{ name: "none", forwardStretch: null, reverseStretch: null }];
  const fs: StretchKey | null = kf !== null ? `f:${kf}` : null;
  const rs: StretchKey | null = kr !== null ? `r:${kr}` : null;
  if (fs) hypotheses.push({ name: "forward", forwardStretch: fs, reverseStretch: null });
  if (rs) hypotheses.push({ name: "reverse", forwardStretch: null, reverseStretch: rs });
  if (fs && rs) hypotheses.push({ name: "both", forwardStretch: fs, reverseStretch: rs });

  const fitted = hypotheses.map((h) => ({ h, ...fit(h, series) }));
  const score = (name: Hypothesis["name"]) => fitted.find((x) => x.h.name === name);
  const none = score("none") as (typeof fitted)[number];
  const singles = fitted.filter((x) => x.h.name === "forward" || x.h.name === "reverse");
  singles.sort((a, b) => b.ll - a.ll);
  const bestSingle = singles[0];
  const both = score("both");

  let chosen: (typeof fitted)[number] | undefined;
  let runnerUp: (typeof fitted)[number] | undefined;
  if (both && bestSingle && both.ll - bestSingle.ll >= LOSS_READING_MARGIN) {
    chosen = both;
    runnerUp = bestSingle;
  } else if (bestSingle) {
    const second = singles[1] ?? none;
    if (bestSingle.ll - second.ll >= LOSS_READING_MARGIN && bestSingle.ll - none.ll >= LOSS_READING_MARGIN) {
      chosen = bestSingle;
      runnerUp = second;
    } else {
      runnerUp = second;
    }
  }

  const stretchOf = (key: StretchKey, p: number): LossStretch => {
    const forward = key.startsWith("f:");
    const view = forward ? f : r;
    const index = Number(key.slice(2));
    const to = view.hops[index] as HopView;
    const from = index > 0 ? (view.hops[index - 1] as HopView) : undefined;
    const ids = forward ? input.identity.forwardRouter : input.identity.reverseRouter;
    return {
      direction: forward ? "forward" : "reverse",
      fromTtl: from?.ttl ?? null,
      toTtl: to.ttl,
      fromAddress: from?.address ?? null,
      toAddress: to.address,
      fromRouterId: index > 0 ? (ids[index - 1] ?? null) : null,
      toRouterId: ids[index] ?? null,
      lossPct: Math.round(p * 1000) / 10,
    };
  };

  if (!chosen) {
    const candidates = singles.map((s) => s.h.name).join(" or ");
    return {
      reading: "undetermined",
      stretches: [],
      support: 0,
      evidence: `the two traces' losses fit "${candidates}" about equally well (log-likelihood ${singles.map((s) => `${s.h.name} ${s.ll.toFixed(1)}`).join(", ")}); ${undecidedHint(series)}`,
    };
  }
  const stretches: LossStretch[] = [];
  if (chosen.h.forwardStretch) stretches.push(stretchOf(chosen.h.forwardStretch, chosen.p));
  if (chosen.h.reverseStretch) stretches.push(stretchOf(chosen.h.reverseStretch, chosen.q));
  const support = runnerUp ? chosen.ll - runnerUp.ll : chosen.ll - none.ll;
  return {
    reading: chosen.h.name as Reading,
    stretches,
    support: Math.round(support * 10) / 10,
    evidence: deciding(series, chosen, runnerUp ?? none),
  };
}

function buildSeries(input: LossReadingInput, labels: { a: string; b: string }): Series[] {
  const f = input.forward;
  const r = input.reverse;
  const fEnd = f.destinationIndex ?? f.scopeEnd;
  const rEnd = r.destinationIndex ?? r.scopeEnd;
  const pairF = new Map(input.identity.pairs.map((p) => [p.forward, p.reverse]));
  const pairR = new Map(input.identity.pairs.map((p) => [p.reverse, p.forward]));
  const skipF = throttled(input.forwardDiagnosis);
  const skipR = throttled(input.reverseDiagnosis);
  const out: Series[] = [];

  // Each hop of a trace: its probes cross this direction's stretches up to it; its answers come back
  // over the other direction's path from the same router on (known when the router is identified
  // there, or when the hop is the destination, whose answers take the whole other path).
  const hopSeries = (
    view: TraceView,
    own: "f" | "r",
    end: number,
    pairs: Map<number, number>,
    skip: Set<number>,
    otherEnd: number,
    name: string,
  ) => {
    const other = own === "f" ? "r" : "f";
    view.hops.forEach((h, i) => {
      if (i > end || h.hop.recv === 0 || skip.has(h.ttl)) return;
      const k = pairs.get(i);
      const back =
        i === view.destinationIndex
          ? new Set(range(other, 0, otherEnd))
          : k !== undefined
            ? new Set(range(other, k + 1, otherEnd))
            : null;
      out.push({
        label: `${name}'s hop ${h.ttl} (${h.address})`,
        sent: h.hop.sent,
        recv: h.hop.recv,
        out: new Set(range(own, 0, i)),
        back,
        followUp: false,
      });
    });
  };
  hopSeries(f, "f", fEnd, pairF, skipF, rEnd, labels.a);
  hopSeries(r, "r", rEnd, pairR, skipR, fEnd, labels.b);

  // Follow-ups: the target's replies come back over the other direction's path from that router on;
  // the probes go out over this end's own path only as far as it matches this end's trace.
  for (const obs of input.aliases ?? []) {
    if (obs.reachedAt === null || obs.sent === 0) continue;
    const own = obs.from === "a" ? f : r;
    const other = obs.from === "a" ? r : f;
    const otherEnd = obs.from === "a" ? rEnd : fEnd;
    const k = other.hops.findIndex(
      (h, idx) =>
        isRouterHop(other, idx) &&
        [h.address, ...h.hop.responders.map((x) => x.address)].some((a) => !!a && sameAddress(a, obs.target)),
    );
    if (k < 0) continue;
    let matched = 0;
    for (let t = 0; t < obs.reachedAt - 1; t++) {
      const hop = own.hops.find((h) => h.ttl === t + 1);
      const at = obs.path[t];
      if (!hop || !at || !hop.hop.responders.some((x) => sameAddress(x.address, at))) break;
      matched = t + 1;
    }
    const ownPrefix = obs.from === "a" ? "f" : "r";
    const otherPrefix = obs.from === "a" ? "r" : "f";
    const outStretches = matched > 0 ? range(ownPrefix, 0, matched - 1) : [];
    out.push({
      label: `${obs.from === "a" ? labels.a : labels.b}'s probes to ${obs.target}`,
      sent: obs.sent,
      recv: obs.recv,
      out: new Set(outStretches),
      back: new Set(range(otherPrefix, k + 1, otherEnd)),
      followUp: true,
    });
  }
  return out;
}

/** Predicted loss of a series under a hypothesis with one-way losses p (forward stretch) and q (reverse). */
function predicted(s: Series, h: Hypothesis, p: number, q: number, backCrosses?: boolean): number {
  const crosses = (key: StretchKey | null) => {
    if (!key) return false;
    if (s.out.has(key)) return true;
    if (s.back) return s.back.has(key);
    return backCrosses ?? false;
  };
  const keep = (crosses(h.forwardStretch) ? 1 - p : 1) * (crosses(h.reverseStretch) ? 1 - q : 1);
  return Math.min(1 - LOSS_NOISE_FLOOR, Math.max(LOSS_NOISE_FLOOR, 1 - keep));
}

function logLikelihood(s: Series, loss: number): number {
  const lost = s.sent - s.recv;
  return s.recv * Math.log(1 - loss) + lost * Math.log(loss);
}

/** Log-likelihood of one series; a series whose way back is unknown counts at its better case. */
function seriesLL(s: Series, h: Hypothesis, p: number, q: number): number {
  if (s.back !== null) return logLikelihood(s, predicted(s, h, p, q));
  return Math.max(
    logLikelihood(s, predicted(s, h, p, q, false)),
    logLikelihood(s, predicted(s, h, p, q, true)),
  );
}

/** The hypothesis's best one-way losses on a 1% grid and the log-likelihood there. */
function fit(h: Hypothesis, series: Series[]): { p: number; q: number; ll: number } {
  const grid: number[] = [];
  for (let x = 0; x <= LOSS_READING_MAX + 1e-9; x += 0.01) grid.push(Math.round(x * 100) / 100);
  const ps = h.forwardStretch ? grid : [0];
  const qs = h.reverseStretch ? grid : [0];
  let best = { p: 0, q: 0, ll: Number.NEGATIVE_INFINITY };
  for (const p of ps) {
    for (const q of qs) {
      let ll = 0;
      for (const s of series) ll += seriesLL(s, h, p, q);
      if (ll > best.ll) best = { p, q, ll };
    }
  }
  return best;
}

/** The series that separate the chosen reading from the runner-up most, in words. */
function deciding(
  series: Series[],
  chosen: { h: Hypothesis; p: number; q: number; ll: number },
  other: { h: Hypothesis; p: number; q: number; ll: number },
): string {
  const rows = series
    .map((s) => {
      const a = predicted(s, chosen.h, chosen.p, chosen.q);
      const b = predicted(s, other.h, other.p, other.q);
      const gain = seriesLL(s, chosen.h, chosen.p, chosen.q) - seriesLL(s, other.h, other.p, other.q);
      return { s, a, b, gain };
    })
    .filter((x) => x.gain > 0.5)
    .sort((x, y) => y.gain - x.gain)
    .slice(0, 4);
  const words = rows.map(
    ({ s, a, b }) =>
      `${s.label} lost ${pct(((s.sent - s.recv) / Math.max(1, s.sent)) * 100)} (${s.sent - s.recv} of ${s.sent}); "${chosen.h.name}" expects about ${pct(a * 100)}, "${other.h.name}" about ${pct(b * 100)}`,
  );
  const lead = `"${chosen.h.name}" fits every probe series better than "${other.h.name}" by a log-likelihood ratio of ${(chosen.ll - other.ll).toFixed(1)}`;
  return words.length > 0 ? `${lead}: ${words.join("; ")}` : lead;
}

/** What would decide an undetermined reading. */
function undecidedHint(series: Series[]): string {
  const followUps = series.filter((s) => s.followUp);
  if (followUps.length === 0) {
    return "no follow-up probe tells them apart: alias traces from each end to the routers only the other end crosses would (their replies come back over the other direction only)";
  }
  const sent = followUps.reduce((n, s) => n + s.sent, 0);
  return `the ${followUps.length} follow-up series (${sent} probes) do not tell them apart either; more probes would`;
}
