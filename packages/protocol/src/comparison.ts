import { z } from "zod";

/**
 * How a forward trace (A -> B) and a reverse trace (B -> A) read together: which routers both
 * directions cross (identified by evidence, never by address similarity alone), which each crosses
 * alone, where each direction loses packets, and a summary in words.
 */

/** Version of the comparison's shape; comparisons stored before version 2 are made again on read. */
export const COMPARISON_VERSION = 2 as const;

/**
 * The tests that can say two addresses belong to one router:
 * - `address`: the same address answered in both directions;
 * - `name`: the same reverse-DNS name;
 * - `link-mate`: the two ends of one point-to-point link (/31, /30, /127, /126) belong to two
 *   *adjacent* routers; which end is which hop's follows from the router answering from the
 *   interface that faces the prober (its way in, or its way back), checked against the hop before;
 * - `alias-trace`: each end traced to an address only the other end saw and reached it where it
 *   reaches its own hop: at the same distance and after the same router;
 * - `timestamp`: an IP prespecified-timestamp alias test (needs a probe helper that sends options).
 */
export const IdentityTest = z.enum(["address", "name", "link-mate", "alias-trace", "timestamp"]);
export type IdentityTest = z.infer<typeof IdentityTest>;

/** One test's result about a router, in words. `agrees: false` is evidence against. */
export const IdentityEvidence = z.object({
  test: IdentityTest,
  agrees: z.boolean(),
  detail: z.string(),
});
export type IdentityEvidence = z.infer<typeof IdentityEvidence>;

/**
 * Kept for readers of the first version: the strongest test behind a shared pair. The first
 * version's `link` (both ends of a link taken as one place) and `asn` (same origin AS) are gone:
 * neither says "the same router".
 */
export const MatchKind = z.enum(["address", "name", "link-mate", "alias-trace", "timestamp"]);
export type MatchKind = z.infer<typeof MatchKind>;

/**
 * Which address a router answers ICMP errors from, as the two traces show it:
 * `one-address` (the same address towards both ends: a loopback, or a single interface),
 * `inbound` (the interface the probe came in on), `route-back` (the interface of its route back to
 * the prober, Linux's default), `unknown` (the traces do not tell).
 */
export const AnsweringConvention = z.enum(["one-address", "inbound", "route-back", "unknown"]);
export type AnsweringConvention = z.infer<typeof AnsweringConvention>;

/**
 * What is known of a router's place on the two paths:
 * `shared`: identified in both directions (with evidence); `own`: crossed by one direction and shown
 * not to be on the other's path (the other end traced to it and reached it elsewhere); `unknown`:
 * crossed by one direction, and whether the other crosses it too could not be told.
 */
export const RouterIdentity = z.enum(["shared", "own", "unknown"]);
export type RouterIdentity = z.infer<typeof RouterIdentity>;

/** A router of the path test: one entry per router, whichever directions show it. */
export const PathRouter = z.object({
  /** Stable across runs of the same path: `r:` and the address it answers the forward trace from
   * (the reverse trace's, for a router only the reverse trace shows). */
  id: z.string(),
  identity: RouterIdentity,
  /** Its addresses as the two traces (and follow-up probes) saw them. */
  addresses: z.array(z.string()),
  /** Its TTL in each direction's own numbering; null when that direction does not show it. */
  forwardTtl: z.number().int().nullable(),
  reverseTtl: z.number().int().nullable(),
  name: z.string().optional(),
  asn: z.number().int().optional(),
  owner: z.string().optional(),
  answers: AnsweringConvention,
  /** Every test that said something about this router, for and against. */
  evidence: z.array(IdentityEvidence),
  /** How sure the identification is (0-1): 1 for the same address; lower for indirect tests. For
   * `own` and `unknown` routers, how sure the router is *not* on the other path (0 when untested). */
  confidence: z.number().min(0).max(1),
  /** Hidden by the operator (`LG_PRIVATE_HOPS`): its addresses, name and AS are left out. */
  hidden: z.literal(true).optional(),
});
export type PathRouter = z.infer<typeof PathRouter>;

/** One hop as a side-by-side drawing needs it. */
export const SegmentHop = z.object({
  ttl: z.number().int(),
  /** null for a hop that answered no probe. */
  address: z.string().nullable(),
  /** The router behind the hop (null for a silent hop or an endpoint). */
  routerId: z.string().nullable().optional(),
  identity: RouterIdentity.optional(),
  name: z.string().optional(),
  asn: z.number().int().optional(),
  owner: z.string().optional(),
  lossPct: z.number(),
  avg: z.number(),
  /** Hidden by the operator (`LG_PRIVATE_HOPS`): the address and name are left out. */
  hidden: z.literal(true).optional(),
});
export type SegmentHop = z.infer<typeof SegmentHop>;

/** One direction's part of a segment. */
export const SegmentSide = z.object({
  /** Lowest and highest TTL of the segment in this direction's own numbering; null when it has no hop here. */
  ttls: z.object({ from: z.number().int(), to: z.number().int() }).nullable(),
  /** The hops in drawing order, from the forward trace's source to its destination (so a reverse
   * side lists its TTLs from high to low). */
  hops: z.array(SegmentHop),
  /** The routers this direction crosses in the segment, in drawing order (silent hops and the
   * endpoints have none). */
  routerIds: z.array(z.string()).default([]),
  /** Loss that this direction picks up across the segment and keeps to its end, in percentage points. */
  addedLossPct: z.number(),
  /** Latency (lowest Avg from here on) this direction picks up across the segment, in ms. */
  addedLatencyMs: z.number(),
});
export type SegmentSide = z.infer<typeof SegmentSide>;

/**
 * A stretch of the path between the two endpoints, in order from the forward trace's source:
 * `shared` where both directions cross the same routers (identified by evidence), `diverged` where
 * at least one direction crosses a router not identified on the other side (its hops say whether
 * that router is its `own` or `unknown`), `unresolved` where the only hops are silent ones.
 */
export const ComparisonSegment = z.object({
  kind: z.enum(["shared", "diverged", "unresolved"]),
  forward: SegmentSide,
  reverse: SegmentSide,
});
export type ComparisonSegment = z.infer<typeof ComparisonSegment>;

/** A forward hop and a reverse hop identified as one router, with the tests that agreed. */
export const SharedHop = z.object({
  routerId: z.string().optional(),
  /** The strongest test that agreed (see `evidence` for all of them). */
  match: MatchKind,
  forwardTtl: z.number().int(),
  reverseTtl: z.number().int(),
  forwardAddress: z.string().nullable(),
  reverseAddress: z.string().nullable(),
  name: z.string().optional(),
  asn: z.number().int().optional(),
  owner: z.string().optional(),
  evidence: z.array(IdentityEvidence).default([]),
  confidence: z.number().min(0).max(1).default(1),
});
export type SharedHop = z.infer<typeof SharedHop>;

/**
 * Which direction really has the problem. `undetermined`: the two traces show a loss that one of
 * the directions has, and the evidence cannot tell which (the summary says what would).
 */
export const FaultDirection = z.enum(["forward", "reverse", "both", "none", "undetermined"]);
export type FaultDirection = z.infer<typeof FaultDirection>;

/** Where one direction loses packets: between hop `fromTtl` (null: its source) and hop `toTtl`, in its own numbering. */
export const LossStretch = z.object({
  direction: z.enum(["forward", "reverse"]),
  fromTtl: z.number().int().nullable(),
  toTtl: z.number().int(),
  fromAddress: z.string().nullable(),
  toAddress: z.string().nullable(),
  fromRouterId: z.string().nullable(),
  toRouterId: z.string().nullable(),
  /** The one-way loss that best explains every probe series, in percent. */
  lossPct: z.number(),
});
export type LossStretch = z.infer<typeof LossStretch>;

/**
 * How the losses of the two traces were read together. Every probe series (each hop of both traces
 * and each follow-up) is lost on its way out *or* on its replies' way back; the readings
 * "the forward direction loses at stretch X", "the reverse direction loses at stretch Y" and "both"
 * are each scored by how well they predict every series (binomial likelihood), and the best wins
 * only by a clear margin.
 */
export const LossReading = z.object({
  reading: z.enum(["forward", "reverse", "both", "undetermined"]),
  stretches: z.array(LossStretch),
  /** Natural-log likelihood ratio of the reading over the best other one (0 when undetermined). */
  support: z.number(),
  /** The series that decided it, in words. */
  evidence: z.string(),
});
export type LossReading = z.infer<typeof LossReading>;

/** A forward trace (A -> B) and a reverse trace (B -> A) read together. */
export const Comparison = z.object({
  v: z.literal(COMPARISON_VERSION).optional(),
  /** `symmetric` when no segment is diverged: both directions cross the same routers. */
  verdict: z.enum(["symmetric", "asymmetric"]),
  /** Which direction really has a problem, after each trace's loss is put on the right direction. */
  faultDirection: FaultDirection,
  segments: z.array(ComparisonSegment),
  shared: z.array(SharedHop),
  /** Every router of both traces, with what is known of it. */
  routers: z.array(PathRouter).default([]),
  /** Present when either trace shows real loss. */
  loss: LossReading.nullable().optional(),
  /** Plain-language reading of the two directions, for people. */
  summary: z.string(),
});
export type Comparison = z.infer<typeof Comparison>;
