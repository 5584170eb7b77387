import { z } from "zod";

/**
 * How a forward hop and a reverse hop were found to be the same place, strongest first: the same
 * address; the two ends of one point-to-point link (same /30 or /31, /126 or /127); the same
 * reverse-DNS name; the same origin AS (same network, not necessarily the same router).
 */
export const MatchKind = z.enum(["address", "link", "name", "asn"]);
export type MatchKind = z.infer<typeof MatchKind>;

/** One hop as a side-by-side drawing needs it. */
export const SegmentHop = z.object({
  ttl: z.number().int(),
  /** null for a hop that answered no probe. */
  address: z.string().nullable(),
  name: z.string().optional(),
  asn: z.number().int().optional(),
  owner: z.string().optional(),
  lossPct: z.number(),
  avg: z.number(),
});
export type SegmentHop = z.infer<typeof SegmentHop>;

/** One direction's part of a segment. */
export const SegmentSide = z.object({
  /** Lowest and highest TTL of the segment in this direction's own numbering; null when it has no hop here. */
  ttls: z.object({ from: z.number().int(), to: z.number().int() }).nullable(),
  /** The hops in drawing order, from the forward trace's source to its destination (so a reverse
   * side lists its TTLs from high to low). */
  hops: z.array(SegmentHop),
  /** Loss that this direction picks up across the segment and keeps to its end, in percentage points. */
  addedLossPct: z.number(),
  /** Latency (lowest Avg from here on) this direction picks up across the segment, in ms. */
  addedLatencyMs: z.number(),
});
export type SegmentSide = z.infer<typeof SegmentSide>;

/**
 * A stretch of the path between the two endpoints, in order from the forward trace's source:
 * `shared` where both directions cross the same routers (address, link or name matches), `diverged`
 * where at least one direction crosses routers the other does not, `unresolved` where the only hops
 * are silent ones that cannot be told apart.
 */
export const ComparisonSegment = z.object({
  kind: z.enum(["shared", "diverged", "unresolved"]),
  forward: SegmentSide,
  reverse: SegmentSide,
});
export type ComparisonSegment = z.infer<typeof ComparisonSegment>;

/** A forward hop and a reverse hop aligned with each other. `asn` pairs sit inside diverged segments. */
export const SharedHop = z.object({
  match: MatchKind,
  forwardTtl: z.number().int(),
  reverseTtl: z.number().int(),
  forwardAddress: z.string().nullable(),
  reverseAddress: z.string().nullable(),
  name: z.string().optional(),
  asn: z.number().int().optional(),
  owner: z.string().optional(),
});
export type SharedHop = z.infer<typeof SharedHop>;

export const FaultDirection = z.enum(["forward", "reverse", "both", "none"]);
export type FaultDirection = z.infer<typeof FaultDirection>;

/** A forward trace (A -> B) and a reverse trace (B -> A) read together. */
export const Comparison = z.object({
  /** `symmetric` when no segment is diverged: both directions cross the same routers. */
  verdict: z.enum(["symmetric", "asymmetric"]),
  /** Which direction's diagnosis shows a real problem. */
  faultDirection: FaultDirection,
  segments: z.array(ComparisonSegment),
  shared: z.array(SharedHop),
  /** Plain-language reading of the two directions, for people. */
  summary: z.string(),
});
export type Comparison = z.infer<typeof Comparison>;
