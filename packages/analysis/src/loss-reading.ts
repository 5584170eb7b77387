import type { Diagnosis, Finding, LossReading, LossStretch } from "@lg/protocol";
import { type HopView, pct } from "./hop-view";
import { type AliasObservation, type Identity, isRouterHop } from "./identity";
import { sameAddress } from "./links";
import {
  CLEAN_DIRECTION_SHARE,
  LOSS_NOISE_FLOOR,
  LOSS_READING_MARGIN,
  LOSS_READING_MAX,
  PROFILE_DROP,
} from "./thresholds";
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

/** Stretches of each direction combined when testing "both" (the best few by their own fit). */
const BOTH_CANDIDATES = 2;

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
 * forward direction loses p at one of its stretches", "the reverse direction loses q at one of its
 * stretches" and "both" each predict the loss of every series — each hop of
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
  // Every stretch of each direction is a candidate, not only where its own trace's loss starts: a
  // direction whose own trace happens to show little loss can still be the one that loses. The best
  // stretch per direction (ties go to the one where that trace's loss starts) and, for "both", the
  // best two of each combined.
  const candidateStretches = (prefix: "f" | "r", view: TraceView, start: number | null): StretchKey[] => {
    const end = view.destinationIndex ?? view.scopeEnd;
    const keys = range(prefix, 0, Math.max(-1, end));
    return start === null
      ? keys
      : [`${prefix}:${start}` as StretchKey, ...keys.filter((k) => k !== `${prefix}:${start}`)];
  };
  const bestOf = (candidates: Hypothesis[]) =>
    candidates.map((h) => ({ h, ...fit(h, series) })).sort((a, b) => b.ll - a.ll);
  const forwards = bestOf(
    candidateStretches("f", f, kf).map((k) => ({
      name: "forward" as const,
      forwardStretch: k,
      reverseStretch: null,
    })),
  );
  const reverses = bestOf(
    candidateStretches("r", r, kr).map((k) => ({
      name: "reverse" as const,
      forwardStretch: null,
      reverseStretch: k,
    })),
  );
  const bothCandidates: Hypothesis[] = [];
  for (const x of forwards.slice(0, BOTH_CANDIDATES))
    for (const y of reverses.slice(0, BOTH_CANDIDATES))
      bothCandidates.push({
        name: "both",
        forwardStretch: x.h.forwardStretch,
        reverseStretch: y.h.reverseStretch,
      });
  const fitted = [
    {
      h: { name: "none" as const, forwardStretch: null, reverseStretch: null },
      ...fit({ name: "none", forwardStretch: null, reverseStretch: null }, series),
    },
    ...forwards.slice(0, 1),
    ...reverses.slice(0, 1),
    ...bestOf(bothCandidates).slice(0, 1),
  ];
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
  // A one-direction reading says the other direction is clean: that needs evidence too. Under "both",
  // the other direction's loss must be ruled out above CLEAN_DIRECTION_SHARE of the loss found.
  let otherMayLose: { direction: "forward" | "reverse"; upTo: number } | undefined;
  if (chosen && chosen !== both && both) {
    const forwardChosen = chosen.h.name === "forward";
    const found = forwardChosen ? chosen.p : chosen.q;
    const upTo = upperBound(forwardChosen ? both.profileQ : both.profileP, both.ll);
    if (upTo > CLEAN_DIRECTION_SHARE * found)
      otherMayLose = { direction: forwardChosen ? "reverse" : "forward", upTo };
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
  if (otherMayLose) {
    const name =
      otherMayLose.direction === "forward" ? `${labels.a} → ${labels.b}` : `${labels.b} → ${labels.a}`;
    return {
      reading: "undetermined",
      stretches,
      support: 0,
      evidence: `${deciding(series, chosen, runnerUp ?? none)}; but the probes cannot rule out that ${name} loses too (up to ${Math.round(otherMayLose.upTo * 100)}% one way at its own lossy stretch, 95%), so it is not called clean; ${undecidedHint(series)}`,
    };
  }
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
    // The prefix of the alias trace that runs along this end's own trace (same responder, same TTL).
    let last = -1;
    for (let ttl = 1; ttl < obs.reachedAt; ttl++) {
      const index = own.hops.findIndex((h) => h.ttl === ttl);
      const at = obs.path[ttl - 1];
      if (index < 0) continue; // before the reading starts (behind a NAT)
      const hop = own.hops[index] as HopView;
      if (!at || !hop.hop.responders.some((x) => sameAddress(x.address, at))) break;
      last = index;
    }
    // When the target's router is one of this end's own hops, reached where that hop is, the last
    // link the probes cross is the stretch into that hop.
    const pairs = obs.from === "a" ? pairR : pairF;
    const ownIndex = pairs.get(k);
    const ownHop = ownIndex !== undefined ? own.hops[ownIndex] : undefined;
    if (ownIndex !== undefined && ownHop?.ttl === obs.reachedAt && ownIndex === last + 1) last = ownIndex;
    const ownPrefix = obs.from === "a" ? "f" : "r";
    const otherPrefix = obs.from === "a" ? "r" : "f";
    const outStretches = last >= 0 ? range(ownPrefix, 0, last) : [];
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

const GRID: number[] = [];
for (let x = 0; x <= LOSS_READING_MAX + 1e-9; x += 0.01) GRID.push(Math.round(x * 100) / 100);

interface Fit {
  p: number;
  q: number;
  ll: number;
  /** The best log-likelihood at each value of p (over q), and at each value of q (over p). */
  profileP: Map<number, number>;
  profileQ: Map<number, number>;
}

/**
 * A series as one hypothesis sees it: whether its probes or answers cross the forward stretch and the
 * reverse stretch (`null`: only the unknown way back could cross it, so either case may hold).
 */
interface Crossing {
  lost: number;
  recv: number;
  forward: boolean | null;
  reverse: boolean | null;
}

function crossingOf(s: Series, h: Hypothesis): Crossing {
  const at = (key: StretchKey | null): boolean | null => {
    if (!key) return false;
    if (s.out.has(key)) return true;
    if (s.back) return s.back.has(key);
    return null;
  };
  return {
    lost: s.sent - s.recv,
    recv: s.recv,
    forward: at(h.forwardStretch),
    reverse: at(h.reverseStretch),
  };
}

const clampLoss = (x: number) => Math.min(1 - LOSS_NOISE_FLOOR, Math.max(LOSS_NOISE_FLOOR, x));

/** The hypothesis's best one-way losses on a 1% grid, the log-likelihood there, and its profiles. */
function fit(h: Hypothesis, series: Series[]): Fit {
  const ps = h.forwardStretch ? GRID : [0];
  const qs = h.reverseStretch ? GRID : [0];
  // Series that cross the same way add up; only those whose way back is unknown stay apart.
  const known = new Map<string, Crossing>();
  const open: Crossing[] = [];
  for (const x of series.map((one) => crossingOf(one, h))) {
    if (x.forward === null || x.reverse === null) {
      open.push(x);
      continue;
    }
    const key = `${x.forward}:${x.reverse}`;
    const sum = known.get(key);
    if (sum) {
      sum.lost += x.lost;
      sum.recv += x.recv;
    } else known.set(key, { ...x });
  }
  const groups = [...known.values()];
  const ll = (x: Crossing, f: boolean, r: boolean, p: number, q: number) => {
    const loss = clampLoss(1 - (f ? 1 - p : 1) * (r ? 1 - q : 1));
    return x.recv * Math.log(1 - loss) + x.lost * Math.log(loss);
  };
  const best: Fit = { p: 0, q: 0, ll: Number.NEGATIVE_INFINITY, profileP: new Map(), profileQ: new Map() };
  for (const p of ps) {
    for (const q of qs) {
      let total = 0;
      for (const g of groups) total += ll(g, g.forward === true, g.reverse === true, p, q);
      for (const x of open) {
        const f = x.forward ?? false;
        const r = x.reverse ?? false;
        total += Math.max(ll(x, f, r, p, q), ll(x, x.forward ?? true, x.reverse ?? true, p, q));
      }
      if (total > best.ll) Object.assign(best, { p, q, ll: total });
      if (total > (best.profileP.get(p) ?? Number.NEGATIVE_INFINITY)) best.profileP.set(p, total);
      if (total > (best.profileQ.get(q) ?? Number.NEGATIVE_INFINITY)) best.profileQ.set(q, total);
    }
  }
  return best;
}

/** The highest one-way loss the data still allow (profile likelihood, 95%): where the profile drops by PROFILE_DROP. */
function upperBound(profile: Map<number, number>, best: number): number {
  let high = 0;
  for (const [x, ll] of profile) if (ll >= best - PROFILE_DROP && x > high) high = x;
  return high;
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
