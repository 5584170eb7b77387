import {
  COMPARISON_VERSION,
  type Comparison,
  type ComparisonSegment,
  type Diagnosis,
  type FaultDirection,
  type Hop,
  type LossReading,
  type SegmentHop,
  type SegmentSide,
  type SharedHop,
} from "@lg/protocol";
import { diagnose } from "./diagnose";
import type { AsnOf, HopView } from "./hop-view";
import {
  type AddressAliasTest,
  type AliasObservation,
  type Identity,
  identifyRouters,
  type RouterPair,
} from "./identity";
import { readLosses } from "./loss-reading";
import { directionSentences, type Labels, shapeSentence } from "./summary";
import { buildTraceView, type DiagnoseOptions, type TraceView } from "./trace-view";

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Diagnosis options of the forward trace (A -> B); its `destination` is B's address. */
  forward?: DiagnoseOptions;
  /** Diagnosis options of the reverse trace (B -> A); its `destination` is A's address. */
  reverse?: DiagnoseOptions;
  /** Diagnoses already made (e.g. stored with each trace); computed when absent. */
  forwardDiagnosis?: Diagnosis;
  reverseDiagnosis?: Diagnosis;
  /** Origin AS lookup for hops without `asn`, for both directions. */
  asnOf?: AsnOf;
  /** Follow-up alias traces each end ran to addresses only the other end's trace showed. */
  aliases?: AliasObservation[];
  /** Alias tests of address pairs (e.g. @lg/tracer's timestampAliasTest): one router, or two. */
  addressAliases?: AddressAliasTest[];
  /** Names of the two ends in the summary (agent ids); default "A" and "B". */
  labels?: Labels;
}

/** A hop list block in drawing order: forward indexes ascending, reverse indexes descending. */
interface Block {
  kind: ComparisonSegment["kind"];
  forward: number[];
  reverse: number[];
}

/**
 * Reads a forward trace (A -> B) and a reverse trace (B -> A) together:
 * 1. maps every hop of both to a router and finds the routers both directions cross, from evidence
 *    (same address, same name, link-mate reasoning that respects adjacency, alias traces), leaving
 *    what cannot be identified `unknown` ({@link identifyRouters});
 * 2. cuts the path into shared and diverged segments, with the routers each direction crosses alone
 *    and the loss and latency each adds in each;
 * 3. puts each trace's loss on the direction that really loses it, since a trace's loss may be its
 *    replies' way back over the other direction ({@link readLosses});
 * 4. says which direction has the problem, and a summary of only what the evidence shows.
 *
 * @example
 * const c = compare(forwardTrace.hops, reverseTrace.hops, {
 *   forward: { destination: b }, reverse: { destination: a }, aliases, labels: { a: "fra", b: "sin" },
 * });
 * c.faultDirection; // "reverse"
 * c.summary;        // "… fra → sin is clean: its loss from hop 4 is its replies' way back …"
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
  const labels = options.labels ?? { a: "A", b: "B" };

  const identity = identifyRouters({
    forward: fView,
    reverse: rView,
    ...(options.reverse?.destination ? { aAddress: options.reverse.destination } : {}),
    ...(options.forward?.destination ? { bAddress: options.forward.destination } : {}),
    ...(options.aliases ? { aliases: options.aliases } : {}),
    ...(options.addressAliases ? { addressAliases: options.addressAliases } : {}),
  });
  const blocks = classify(cut(identity.pairs, fView.hops.length, rView.hops.length), fView, rView);
  const segments = blocks.map((b) => toSegment(b, fView, rView, identity));
  const shared = identity.pairs.map((p) => toShared(p, fView, rView, identity));
  const loss = readLosses({
    forward: fView,
    reverse: rView,
    forwardDiagnosis: fDiagnosis,
    reverseDiagnosis: rDiagnosis,
    identity,
    ...(options.aliases ? { aliases: options.aliases } : {}),
    labels,
  });

  const verdict = segments.some((s) => s.kind === "diverged") ? "asymmetric" : "symmetric";
  const faultDirection = faultOf(fDiagnosis, rDiagnosis, loss);
  const silent = fView.lastAnswered < 0 ? "forward" : rView.lastAnswered < 0 ? "reverse" : null;
  const shape = silent
    ? `The paths cannot be aligned: no hop of the ${silent} trace answered.`
    : shapeSentence(segments, identity, labels);
  const reading = directionSentences({
    forward: { diagnosis: fDiagnosis, view: fView },
    reverse: { diagnosis: rDiagnosis, view: rView },
    loss,
    identity,
    segments,
    labels,
  });
  return {
    v: COMPARISON_VERSION,
    verdict,
    faultDirection,
    segments,
    shared,
    routers: identity.routers,
    loss,
    summary: `${shape} ${reading}`,
  };
}

/**
 * The direction that really has a problem: real loss goes where the two traces read together put it;
 * every other problem finding (a latency step, a loop, an interruption, a filtering destination) is
 * its own trace's.
 */
function faultOf(forward: Diagnosis, reverse: Diagnosis, loss: LossReading | null): FaultDirection {
  const other = (d: Diagnosis) => {
    const problems = d.findings.filter((x) => x.severity === "problem");
    return d.verdict === "problem" && (problems.length === 0 || problems.some((x) => x.code !== "real-loss"));
  };
  let f = other(forward);
  let r = other(reverse);
  if (loss) {
    if (loss.reading === "forward" || loss.reading === "both") f = true;
    if (loss.reading === "reverse" || loss.reading === "both") r = true;
    if (loss.reading === "undetermined" && !f && !r) return "undetermined";
  }
  return f && r ? "both" : f ? "forward" : r ? "reverse" : "none";
}

/** Splits the path at identified routers: runs of pairs are shared, the stretches between are gaps. */
function cut(pairs: RouterPair[], n: number, m: number): Block[] {
  const blocks: Block[] = [];
  let nextForward = 0;
  let nextReverse = m - 1;
  for (const pair of pairs) {
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

function toSegment(block: Block, fView: TraceView, rView: TraceView, identity: Identity): ComparisonSegment {
  return {
    kind: block.kind,
    forward: toSide(block.forward, fView, identity.forwardRouter, identity.forwardIdentity),
    reverse: toSide(block.reverse, rView, identity.reverseRouter, identity.reverseIdentity),
  };
}

function toSide(
  indexes: number[],
  view: TraceView,
  ids: (string | null)[],
  identities: Identity["forwardIdentity"],
): SegmentSide {
  if (indexes.length === 0)
    return { ttls: null, hops: [], routerIds: [], addedLossPct: 0, addedLatencyMs: 0 };
  const low = Math.min(...indexes);
  const high = Math.max(...indexes);
  const hops = indexes.map((i) =>
    toSegmentHop(view.hops[i] as HopView, ids[i] ?? null, identities[i] ?? null),
  );
  const loss = persistent(view, (h) => h.hop.lossPct);
  const latency = persistent(view, (h) => h.hop.avg);
  return {
    ttls: { from: (view.hops[low] as HopView).ttl, to: (view.hops[high] as HopView).ttl },
    hops,
    routerIds: indexes.map((i) => ids[i]).filter((id): id is string => !!id),
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

function toSegmentHop(
  h: HopView,
  routerId: string | null,
  identity: Identity["forwardIdentity"][number],
): SegmentHop {
  return {
    ttl: h.ttl,
    address: h.address,
    routerId,
    ...(identity ? { identity } : {}),
    ...(h.hop.name ? { name: h.hop.name } : {}),
    ...(h.asn !== undefined ? { asn: h.asn } : {}),
    ...(h.owner !== undefined ? { owner: h.owner } : {}),
    lossPct: h.hop.lossPct,
    avg: h.hop.avg,
  };
}

function toShared(pair: RouterPair, fView: TraceView, rView: TraceView, identity: Identity): SharedHop {
  const f = fView.hops[pair.forward] as HopView;
  const r = rView.hops[pair.reverse] as HopView;
  const name = f.hop.name ?? r.hop.name;
  const asn = f.asn ?? r.asn;
  const owner = f.owner ?? r.owner;
  const routerId = identity.forwardRouter[pair.forward];
  return {
    ...(routerId ? { routerId } : {}),
    match: pair.match,
    forwardTtl: f.ttl,
    reverseTtl: r.ttl,
    forwardAddress: f.address,
    reverseAddress: r.address,
    ...(name ? { name } : {}),
    ...(asn !== undefined ? { asn } : {}),
    ...(owner !== undefined ? { owner } : {}),
    evidence: pair.evidence,
    confidence: pair.confidence,
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

/**
 * The router id of every hop of a path test's two traces, from its comparison: forward TTL -> id
 * and reverse TTL -> id (silent hops and the endpoints have none).
 */
export function routerIdsByTtl(comparison: Pick<Comparison, "routers">): {
  forward: Map<number, string>;
  reverse: Map<number, string>;
} {
  const forward = new Map<number, string>();
  const reverse = new Map<number, string>();
  for (const router of comparison.routers ?? []) {
    if (router.forwardTtl !== null) forward.set(router.forwardTtl, router.id);
    if (router.reverseTtl !== null) reverse.set(router.reverseTtl, router.id);
  }
  return { forward, reverse };
}
