import {
  type Comparison,
  type Hop,
  isAllowListed,
  type MeasurementView,
  type PathTestView,
  type ReverseSessionView,
  type TraceView,
} from "@lg/protocol";
import ipaddr from "ipaddr.js";
import type { PrivateHops } from "./settings";

/** What the redaction needs to know besides the policy: the addresses our own agents announce. */
export interface PrivacyContext {
  policy: PrivateHops;
  /** Our PoPs' and neutral agents' own addresses (normalised): a trace towards one ends in its infrastructure. */
  ourAddresses: ReadonlySet<string>;
}

/** An address in one spelling (`::ffff:a.b.c.d` is the IPv4 address); anything else as given. */
export function normalised(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}

const final = (t: TraceView) => t.status === "done" || t.status === "failed";

/** Traced by one of our agents (not a customer's join agent, not an upload). */
const fromOurAgent = (t: Pick<TraceView, "agentId" | "origin">) =>
  !!t.agentId && !t.agentId.startsWith("join-") && t.origin !== "upload";

const towardsOurAgent = (t: Pick<TraceView, "address">, ctx: PrivacyContext) =>
  t.address !== null && ctx.ourAddresses.has(normalised(t.address));

const addressesOf = (h: Hop): string[] => [
  ...new Set([h.host, ...h.responders.map((r) => r.address)].filter((a): a is string => !!a)),
];

const inRanges = (address: string, ctx: PrivacyContext) =>
  ctx.policy.ranges.length > 0 && ipaddr.isValid(address) && isAllowListed(address, ctx.policy.ranges);

/** Is hop `h` the trace's destination (the address traced)? It is never hidden: the visitor asked for it. */
const isDestination = (t: Pick<TraceView, "address">, h: Hop) =>
  h.host !== null && t.address !== null && normalised(h.host) === normalised(t.address);

/**
 * The TTLs of a trace the policy hides by position or range: with `leading` N, the first N hops of a
 * trace from one of our agents, and the N hops before one of our agents at the end of a trace towards
 * it (while such a trace runs, where it ends is not known yet: every hop but the destination); with
 * ranges, every hop answering from them. The destination itself is never hidden.
 */
export function hiddenTtls(t: TraceView, ctx: PrivacyContext): Set<number> {
  const hidden = new Set<number>();
  const { leading } = ctx.policy;
  const eligible = t.hops.filter((h) => !isDestination(t, h));
  if (leading > 0 && fromOurAgent(t)) for (const h of eligible) if (h.ttl <= leading) hidden.add(h.ttl);
  if (leading > 0 && towardsOurAgent(t, ctx)) {
    const destination = t.hops.find((h) => isDestination(t, h));
    if (!final(t)) for (const h of eligible) hidden.add(h.ttl);
    else {
      // The last N hops before the end: before the destination, or before the trace stopped.
      const end =
        destination?.ttl ?? Math.max(0, ...t.hops.filter((h) => h.host !== null).map((h) => h.ttl)) + 1;
      for (const h of eligible) if (h.ttl < end && h.ttl >= end - leading) hidden.add(h.ttl);
    }
  }
  for (const h of eligible) if (addressesOf(h).some((a) => inRanges(a, ctx))) hidden.add(h.ttl);
  return hidden;
}

/** The set of addresses and names a view hides, and the token each becomes in text. */
export interface HiddenSet {
  addresses: Set<string>;
  names: Set<string>;
}

export const emptyHiddenSet = (): HiddenSet => ({ addresses: new Set(), names: new Set() });

/** Both spellings of an address, so text that uses either is scrubbed. */
function addAddress(into: HiddenSet, address: string) {
  into.addresses.add(address);
  into.addresses.add(normalised(address));
}

/**
 * Collects what a view hides: every address and name of the hops its traces hide by position or
 * range, then — through the path test's router identity — every other address of a router that
 * answered from one of them (a router answers the two directions from different addresses), minus
 * the endpoints the visitor named.
 */
export function collectHidden(
  traces: TraceView[],
  comparisons: (Comparison | null)[],
  ctx: PrivacyContext,
  endpoints: (string | null | undefined)[],
  into: HiddenSet = emptyHiddenSet(),
): HiddenSet {
  const keep = new Set(
    [...endpoints, ...traces.map((t) => t.address)].filter((a): a is string => !!a).map(normalised),
  );
  for (const t of traces) {
    const ttls = hiddenTtls(t, ctx);
    for (const h of t.hops) {
      if (!ttls.has(h.ttl)) continue;
      for (const a of addressesOf(h)) if (!keep.has(normalised(a))) addAddress(into, a);
      for (const n of [h.name, ...h.responders.map((r) => r.name)]) if (n) into.names.add(n);
    }
  }
  for (const c of comparisons) {
    for (const r of c?.routers ?? []) {
      if (!r.addresses.some((a) => into.addresses.has(normalised(a)))) continue;
      for (const a of r.addresses) if (!keep.has(normalised(a))) addAddress(into, a);
      if (r.name) into.names.add(r.name);
    }
  }
  return into;
}

const hides = (hidden: HiddenSet, address: string | null | undefined) =>
  !!address && hidden.addresses.has(normalised(address));

/** A hop with its identity left out and its counts kept. */
export function hiddenHop(h: Hop): Hop {
  const { name: _n, asn: _a, owner: _o, geo: _g, mpls: _m, routerId, ...counts } = h;
  return { ...counts, ...(routerId ? { routerId } : {}), host: null, responders: [], hidden: true };
}

function redactHops(t: TraceView, hidden: HiddenSet, ctx: PrivacyContext): TraceView {
  const ttls = hiddenTtls(t, ctx);
  return {
    ...t,
    hops: t.hops.map((h) =>
      ttls.has(h.ttl) || (!isDestination(t, h) && addressesOf(h).some((a) => hides(hidden, a)))
        ? hiddenHop(h)
        : h,
    ),
  };
}

function redactComparison(c: Comparison, hidden: HiddenSet): Comparison {
  const strip = <T extends { name?: string; asn?: number; owner?: string }>(x: T) => {
    const { name: _n, asn: _a, owner: _o, ...rest } = x;
    return rest;
  };
  return {
    ...c,
    routers: c.routers.map((r) =>
      r.addresses.some((a) => hides(hidden, a)) ? { ...strip(r), addresses: [], hidden: true as const } : r,
    ),
    segments: c.segments.map((s) => ({
      ...s,
      forward: {
        ...s.forward,
        hops: s.forward.hops.map((h) =>
          hides(hidden, h.address) ? { ...strip(h), address: null, hidden: true as const } : h,
        ),
      },
      reverse: {
        ...s.reverse,
        hops: s.reverse.hops.map((h) =>
          hides(hidden, h.address) ? { ...strip(h), address: null, hidden: true as const } : h,
        ),
      },
    })),
    shared: c.shared.map((p) =>
      hides(hidden, p.forwardAddress) || hides(hidden, p.reverseAddress)
        ? {
            ...strip(p),
            forwardAddress: hides(hidden, p.forwardAddress) ? null : p.forwardAddress,
            reverseAddress: hides(hidden, p.reverseAddress) ? null : p.reverseAddress,
          }
        : p,
    ),
    ...(c.loss
      ? {
          loss: {
            ...c.loss,
            stretches: c.loss.stretches.map((s) => ({
              ...s,
              fromAddress: hides(hidden, s.fromAddress) ? null : s.fromAddress,
              toAddress: hides(hidden, s.toAddress) ? null : s.toAddress,
            })),
          },
        }
      : {}),
  };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Replaces every hidden address and name left in the view's text (evidence, summaries, follow-up
 * targets and paths, router ids such as `r:198.51.100.1`) with `hidden-<n>`, one number per hidden
 * address or name, so what refers to the same router still reads as the same.
 */
export function scrubText<T>(value: T, hidden: HiddenSet): T {
  const tokens = [...hidden.addresses, ...hidden.names].sort((a, b) => b.length - a.length);
  if (tokens.length === 0) return value;
  const numbers = new Map(tokens.map((t, i) => [t, `hidden-${i + 1}`]));
  // A token stands alone: no name or address character before it (`r:` of a router id may be), and
  // none after it (a sentence's full stop may).
  const pattern = new RegExp(
    `(?<![0-9A-Za-z.\\-]|[0-9A-Fa-f]:)(${tokens.map(escapeRegExp).join("|")})(?![0-9A-Za-z:]|\\.[0-9A-Za-z])`,
    "g",
  );
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(pattern, (m) => numbers.get(m) ?? m);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** A measurement as the public sees it. */
export function redactMeasurement(view: MeasurementView, ctx: PrivacyContext): MeasurementView {
  if (!hasPolicy(ctx)) return view;
  const hidden = collectHidden(view.traces, [], ctx, [view.target]);
  return scrubText({ ...view, traces: view.traces.map((t) => redactHops(t, hidden, ctx)) }, hidden);
}

/** A path test as the public sees it: both traces and the comparison, one hidden set for all of them. */
export function redactPathTest(view: PathTestView, ctx: PrivacyContext): PathTestView {
  if (!hasPolicy(ctx)) return view;
  const traces = [view.forward, ...(view.reverse ? [view.reverse] : [])];
  const hidden = collectHidden(traces, [view.comparison], ctx, [view.aAddress, view.bAddress]);
  return scrubText(
    {
      ...view,
      forward: redactHops(view.forward, hidden, ctx),
      reverse: view.reverse ? redactHops(view.reverse, hidden, ctx) : null,
      comparison: view.comparison ? redactComparison(view.comparison, hidden) : null,
    },
    hidden,
  );
}

/** A reverse session as the public (its customer) sees it: each leg as a path test. */
export function redactReverseSession(view: ReverseSessionView, ctx: PrivacyContext): ReverseSessionView {
  if (!hasPolicy(ctx)) return view;
  return { ...view, legs: view.legs.map((leg) => redactPathTest(leg, ctx)) };
}

/** A single trace (a live `trace` event), with what the stream already knows to hide. */
export function redactTrace(t: TraceView, ctx: PrivacyContext, known: HiddenSet): TraceView {
  if (!hasPolicy(ctx)) return t;
  const hidden = collectHidden([t], [], ctx, [], known);
  return scrubText(redactHops(t, hidden, ctx), hidden);
}

/** One live hop of a trace, given what is known of the trace (its agent, where it goes, its state). */
export function redactLiveHop(
  hop: Hop,
  trace: Pick<TraceView, "agentId" | "origin" | "address" | "status"> | undefined,
  ctx: PrivacyContext,
  known: HiddenSet,
): Hop {
  if (!hasPolicy(ctx)) return hop;
  // A trace the stream knows nothing of is read as one of ours going somewhere else.
  const t = trace ?? { agentId: "?", address: null, status: "running" as const };
  if (isDestination(t, hop)) return hop;
  const { leading } = ctx.policy;
  const hide =
    (leading > 0 && fromOurAgent(t) && hop.ttl <= leading) ||
    (leading > 0 && towardsOurAgent(t, ctx)) ||
    addressesOf(hop).some((a) => inRanges(a, ctx) || hides(known, a));
  if (!hide) return hop;
  const out = hiddenHop(hop);
  return scrubText(out, known);
}

const hasPolicy = (ctx: PrivacyContext) => ctx.policy.leading > 0 || ctx.policy.ranges.length > 0;
