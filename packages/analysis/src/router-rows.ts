import type {
  AnsweringConvention,
  Comparison,
  ComparisonSegment,
  IdentityEvidence,
  IdentityTest,
  PathRouter,
  SegmentHop,
} from "@lg/protocol";

/**
 * What one line of a segment's side-by-side table is:
 * `shared`: a router both directions cross (both hops on the line); `own`: a router only this
 * direction crosses, shown not to be on the other path; `unknown`: a router only this direction's
 * trace shows, not identified on the other side (never drawn as shared); `endpoint`: the trace's
 * destination (the other end itself); `silent`: a hop that answered no probe.
 */
export type RouterPlace = "shared" | "own" | "unknown" | "endpoint" | "silent";

/** One line of a segment: a forward hop, a reverse hop, or both when they are one router. */
export interface RouterRow {
  place: RouterPlace;
  /** The forward hop on this line (null: the line is the reverse direction's alone). */
  forward: SegmentHop | null;
  reverse: SegmentHop | null;
  /** The router behind the line (null for endpoints, silent hops, and comparisons without routers). */
  router: PathRouter | null;
}

/**
 * The lines of a segment for a side-by-side table, in drawing order (from A): a router both
 * directions cross is one line with its forward and reverse hops; every other hop is a line of its
 * own direction. A reverse hop that comes before the next shared router (in drawing order) is put
 * before it, so each line sits where it is on the path.
 *
 * @example
 * const routers = new Map(comparison.routers.map((r) => [r.id, r]));
 * routerRows(comparison.segments[0], routers);
 * // [{ place: "endpoint", forward: null, reverse: {ttl: 4, …} , router: null },
 * //  { place: "shared", forward: {ttl: 1, …}, reverse: {ttl: 3, …}, router: {id: "r:198.18.1.2", …} }]
 */
export function routerRows(segment: ComparisonSegment, routers: Map<string, PathRouter>): RouterRow[] {
  const rows: RouterRow[] = [];
  const reverse = segment.reverse.hops;
  let next = 0;
  const one = (hop: SegmentHop, side: "forward" | "reverse"): RouterRow => {
    const router = hop.routerId ? (routers.get(hop.routerId) ?? null) : null;
    const place: RouterPlace = !hop.address
      ? "silent"
      : !hop.routerId
        ? "endpoint"
        : (router?.identity ?? hop.identity ?? "unknown") === "own"
          ? "own"
          : "unknown";
    return {
      place,
      forward: side === "forward" ? hop : null,
      reverse: side === "reverse" ? hop : null,
      router,
    };
  };
  for (const hop of segment.forward.hops) {
    const id = hop.routerId;
    const shared = id ? (routers.get(id)?.identity ?? hop.identity) === "shared" : false;
    const k = shared ? reverse.findIndex((r, i) => i >= next && r.routerId === id) : -1;
    if (k < 0) {
      rows.push(one(hop, "forward"));
      continue;
    }
    for (; next < k; next++) rows.push(one(reverse[next] as SegmentHop, "reverse"));
    rows.push({
      place: "shared",
      forward: hop,
      reverse: reverse[k] as SegmentHop,
      router: id ? (routers.get(id) ?? null) : null,
    });
    next = k + 1;
  }
  for (; next < reverse.length; next++) rows.push(one(reverse[next] as SegmentHop, "reverse"));
  return rows;
}

/** Every segment's lines, with the comparison's routers looked up once. */
export function segmentRows(comparison: Pick<Comparison, "segments" | "routers">): RouterRow[][] {
  const routers = new Map((comparison.routers ?? []).map((r) => [r.id, r]));
  return comparison.segments.map((s) => routerRows(s, routers));
}

/** How many tests of each kind spoke for and against, in the order they first appear. */
export interface EvidenceCount {
  test: IdentityTest;
  agree: number;
  against: number;
}

export function evidenceCounts(evidence: IdentityEvidence[]): EvidenceCount[] {
  const out: EvidenceCount[] = [];
  for (const e of evidence) {
    let count = out.find((c) => c.test === e.test);
    if (!count) {
      count = { test: e.test, agree: 0, against: 0 };
      out.push(count);
    }
    if (e.agrees) count.agree++;
    else count.against++;
  }
  return out;
}

/**
 * The tests behind a router, counted: "link-mate ×2, alias-trace ×2", with the ones that spoke
 * against ("alias-trace (2 against)"); "" when no test said anything.
 */
export function evidenceTally(evidence: IdentityEvidence[]): string {
  return evidenceCounts(evidence)
    .map((c) => {
      const agree = `${c.test}${c.agree > 1 ? ` ×${c.agree}` : ""}`;
      if (c.against === 0) return agree;
      return c.agree > 0 ? `${agree} (${c.against} against)` : `${c.test} (${c.against} against)`;
    })
    .join(", ");
}

/** Which address a router answers from, in words for people. */
export const ANSWERS_WORDS: Record<AnsweringConvention, string> = {
  "one-address": "answers both ends from one address (a loopback, or a single interface)",
  inbound: "answers from the interface the probe came in on",
  "route-back": "answers from the interface of its route back to the prober (Linux's default)",
  unknown: "the traces do not show which address it answers from",
};
