import type {
  Comparison,
  ComparisonSegment,
  Diagnosis,
  FaultDirection,
  Hop,
  SegmentHop,
  SegmentSide,
  SharedHop,
} from "@lg/protocol";
import { type AlignedPair, alignHops } from "./align";
import { diagnose } from "./diagnose";
import type { AsnOf, HopView } from "./hop-view";
import { directionSentence, shapeSentence } from "./summary";
import { buildTraceView, type DiagnoseOptions, type TraceView } from "./trace-view";

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Diagnosis options of the forward trace (A -> B). */
  forward?: DiagnoseOptions;
  /** Diagnosis options of the reverse trace (B -> A). */
  reverse?: DiagnoseOptions;
  /** Diagnoses already made (e.g. stored with each trace); computed when absent. */
  forwardDiagnosis?: Diagnosis;
  reverseDiagnosis?: Diagnosis;
  /** Origin AS lookup for hops without `asn`, for both directions. */
  asnOf?: AsnOf;
}

/** A hop list block in drawing order: forward indexes ascending, reverse indexes descending. */
interface Block {
  kind: ComparisonSegment["kind"];
  forward: number[];
  reverse: number[];
}

/**
 * Reads a forward trace (A -> B) and a reverse trace (B -> A) together: aligns the forward hops with the
 * reversed reverse hops (same address, then the two ends of one point-to-point link, then the same
 * reverse-DNS name, then the same origin AS), cuts the path into shared and diverged segments with the
 * loss and latency each direction adds in each, and says which direction has a real problem.
 *
 * @example
 * const c = compare(forwardTrace.hops, reverseTrace.hops, { forward: { servicePort: 443 } });
 * c.verdict;        // "asymmetric"
 * c.faultDirection; // "reverse"
 * c.summary;        // "… The forward path is clean; the reverse path loses 30% from hop 4 (198.18.4.1) on; …"
 */
export function compare(forward: Hop[], reverse: Hop[], options: CompareOptions = {}): Comparison {
  const withLookup = (o: DiagnoseOptions | undefined): DiagnoseOptions => ({
    ...(options.asnOf ? { asnOf: options.asnOf } : {}),
    ...o,
  });
  const forwardOptions = withLookup(options.forward);
  const reverseOptions = withLookup(options.reverse);
  const fView = buildTraceView(forward, forwardOptions);
  const rView = buildTraceView(reverse, reverseOptions);
  const fDiagnosis = options.forwardDiagnosis ?? diagnose(forward, forwardOptions);
  const rDiagnosis = options.reverseDiagnosis ?? diagnose(reverse, reverseOptions);

  const pairs = alignHops(fView.hops, rView.hops);
  const blocks = classify(cut(pairs, fView.hops.length, rView.hops.length), fView, rView);
  const segments = blocks.map((b) => toSegment(b, fView, rView));
  const shared = pairs.map((p) => toShared(p, fView, rView));

  const verdict = segments.some((s) => s.kind === "diverged") ? "asymmetric" : "symmetric";
  const faultDirection = faultOf(fDiagnosis, rDiagnosis);
  const strongShared = shared.filter((s) => s.match !== "asn").length;
  const fSentence = directionSentence("forward", fDiagnosis, fView, segments);
  const rSentence = directionSentence("reverse", rDiagnosis, rView, segments);
  const silent = fView.lastAnswered < 0 ? "forward" : rView.lastAnswered < 0 ? "reverse" : null;
  const shape = silent
    ? `The paths cannot be aligned: no hop of the ${silent} trace answered.`
    : shapeSentence(segments, strongShared);
  const summary = `${shape} ${capitalize(fSentence)}; ${rSentence}.`;
  return { verdict, faultDirection, segments, shared, summary };
}

function faultOf(forward: Diagnosis, reverse: Diagnosis): FaultDirection {
  const f = forward.verdict === "problem";
  const r = reverse.verdict === "problem";
  return f && r ? "both" : f ? "forward" : r ? "reverse" : "none";
}

/** Splits the path at router-level matches: runs of matches are shared, the stretches between are gaps. */
function cut(pairs: AlignedPair[], n: number, m: number): Block[] {
  const blocks: Block[] = [];
  let nextForward = 0;
  let nextReverse = m - 1;
  for (const pair of pairs) {
    if (pair.match === "asn") continue;
    const gapForward = range(nextForward, pair.forward - 1);
    const gapReverse = range(pair.reverse + 1, nextReverse).reverse();
    if (gapForward.length > 0 || gapReverse.length > 0) {
      blocks.push({ kind: "diverged", forward: gapForward, reverse: gapReverse });
    }
    const last = blocks[blocks.length - 1];
    if (last?.kind === "shared") {
      last.forward.push(pair.forward);
      last.reverse.push(pair.reverse);
    } else blocks.push({ kind: "shared", forward: [pair.forward], reverse: [pair.reverse] });
    nextForward = pair.forward + 1;
    nextReverse = pair.reverse - 1;
  }
  const tailForward = range(nextForward, n - 1);
  const tailReverse = range(0, nextReverse).reverse();
  if (tailForward.length > 0 || tailReverse.length > 0) {
    blocks.push({ kind: "diverged", forward: tailForward, reverse: tailReverse });
  }
  return blocks;
}

/**
 * Decides what each gap is. The endpoints themselves (the forward trace's destination is the reverse
 * trace's source, and the other way round) appear in one direction only and prove nothing: a gap of
 * endpoints joins the shared stretch next to it; a gap of silent hops is unresolved; a gap with an
 * answering router of either direction is diverged.
 */
function classify(blocks: Block[], fView: TraceView, rView: TraceView): Block[] {
  const isEndpoint = (view: TraceView, index: number) =>
    view.destinationIndex !== null && index >= view.destinationIndex;
  const out: Block[] = [];
  blocks.forEach((block, i) => {
    if (block.kind === "shared") {
      out.push(block);
      return;
    }
    const routers = [
      ...block.forward.filter((x) => !isEndpoint(fView, x) && (fView.hops[x] as HopView).answered),
      ...block.reverse.filter((x) => !isEndpoint(rView, x) && (rView.hops[x] as HopView).answered),
    ];
    // With one direction entirely silent there is nothing to hold the other against.
    const comparable = fView.lastAnswered >= 0 && rView.lastAnswered >= 0;
    if (routers.length > 0 && comparable) {
      out.push(block);
      return;
    }
    const onlyEndpoints =
      block.forward.every((x) => isEndpoint(fView, x)) && block.reverse.every((x) => isEndpoint(rView, x));
    if (!onlyEndpoints) {
      out.push({ ...block, kind: "unresolved" });
      return;
    }
    const neighbour = i === 0 ? blocks[1] : blocks[i - 1];
    if (neighbour?.kind === "shared") {
      // Endpoints go at the outer edge of the shared stretch, in drawing order.
      neighbour.forward =
        i === 0 ? [...block.forward, ...neighbour.forward] : [...neighbour.forward, ...block.forward];
      neighbour.reverse =
        i === 0 ? [...block.reverse, ...neighbour.reverse] : [...neighbour.reverse, ...block.reverse];
      return;
    }
    out.push({ ...block, kind: "shared" });
  });
  return out;
}

function toSegment(block: Block, fView: TraceView, rView: TraceView): ComparisonSegment {
  return { kind: block.kind, forward: toSide(block.forward, fView), reverse: toSide(block.reverse, rView) };
}

function toSide(indexes: number[], view: TraceView): SegmentSide {
  if (indexes.length === 0) return { ttls: null, hops: [], addedLossPct: 0, addedLatencyMs: 0 };
  const low = Math.min(...indexes);
  const high = Math.max(...indexes);
  const hops = indexes.map((i) => toSegmentHop(view.hops[i] as HopView));
  const loss = persistent(view, (h) => h.hop.lossPct);
  const latency = persistent(view, (h) => h.hop.avg);
  return {
    ttls: { from: (view.hops[low] as HopView).ttl, to: (view.hops[high] as HopView).ttl },
    hops,
    addedLossPct: round(loss(high) - loss(low - 1)),
    addedLatencyMs: round(latency(high) - latency(low - 1)),
  };
}

/**
 * The part of a per-hop value that persists from a hop to the end (the lowest value of the answering
 * hops from there on), so throttling at one router is not counted as loss or delay a segment adds.
 */
function persistent(view: TraceView, value: (h: HopView) => number): (index: number) => number {
  const floor = new Array<number>(view.hops.length).fill(0);
  let min = Number.POSITIVE_INFINITY;
  for (let i = view.hops.length - 1; i >= 0; i--) {
    const h = view.hops[i] as HopView;
    if (h.answered) min = Math.min(min, value(h));
    floor[i] = min;
  }
  return (index) => {
    for (let i = Math.min(index, view.hops.length - 1); i >= 0; i--) {
      if ((view.hops[i] as HopView).answered) return floor[i] as number;
    }
    return 0;
  };
}

function toSegmentHop(h: HopView): SegmentHop {
  return {
    ttl: h.ttl,
    address: h.address,
    ...(h.hop.name ? { name: h.hop.name } : {}),
    ...(h.asn !== undefined ? { asn: h.asn } : {}),
    ...(h.owner !== undefined ? { owner: h.owner } : {}),
    lossPct: h.hop.lossPct,
    avg: h.hop.avg,
  };
}

function toShared(pair: AlignedPair, fView: TraceView, rView: TraceView): SharedHop {
  const f = fView.hops[pair.forward] as HopView;
  const r = rView.hops[pair.reverse] as HopView;
  const name = f.hop.name ?? r.hop.name;
  const asn = f.asn ?? r.asn;
  const owner = f.owner ?? r.owner;
  return {
    match: pair.match,
    forwardTtl: f.ttl,
    reverseTtl: r.ttl,
    forwardAddress: f.address,
    reverseAddress: r.address,
    ...(name ? { name } : {}),
    ...(asn !== undefined ? { asn } : {}),
    ...(owner !== undefined ? { owner } : {}),
  };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
