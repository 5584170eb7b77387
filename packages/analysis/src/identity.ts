import type {
  AnsweringConvention,
  IdentityEvidence,
  MatchKind,
  PathRouter,
  RouterIdentity,
} from "@lg/protocol";
import type { HopView } from "./hop-view";
import { sameAddress, samePointToPointLink } from "./links";
import {
  IDENTITY_ADDRESS_CONFIDENCE,
  IDENTITY_ALIAS_MUTUAL_CONFIDENCE,
  IDENTITY_ALIAS_ONE_SIDED_CONFIDENCE,
  IDENTITY_ENDPOINT_LINK_CONFIDENCE,
  IDENTITY_LINK_CONFIDENCE,
  IDENTITY_NAME_CONFIDENCE,
  IDENTITY_OWN_CONFIDENCE,
  IDENTITY_TIMESTAMP_CONFIDENCE,
  IDENTITY_WEAK_TESTS_NEEDED,
} from "./thresholds";
import type { TraceView } from "./trace-view";

/** The two ends of a path test: `a` is the forward trace's source, `b` the reverse trace's. */
export type End = "a" | "b";

/**
 * A short trace one end of a path test ran to an address only the other end's trace showed
 * (a follow-up of kind `alias-trace`).
 */
export interface AliasObservation {
  from: End;
  target: string;
  /** The responder at each TTL, index 0 = TTL 1 (null: silent). */
  path: (string | null)[];
  /** The TTL at which the target itself answered, or null when it never did. */
  reachedAt: number | null;
  /** Probes sent to the target's TTL, and answers from it. */
  sent: number;
  recv: number;
}

/**
 * An alias test of two addresses run outside this package: are they one router's? @lg/tracer's
 * `timestampAliasTest` (prespecified IPv4 timestamps, run both ways) returns this shape, so its
 * results can be passed as they are; `unknown` results are ignored.
 */
export interface AddressAliasTest {
  a: string;
  b: string;
  verdict: "same-router" | "different" | "unknown";
  /** The test that gave the verdict. */
  test: "timestamp";
  /** Why, in words. */
  evidence: string;
}

export interface IdentityInput {
  forward: TraceView;
  reverse: TraceView;
  /** A's address (what the reverse trace traced) and B's (what the forward trace traced). */
  aAddress?: string;
  bAddress?: string;
  aliases?: AliasObservation[];
  /** Alias tests of address pairs (e.g. prespecified timestamps): one router, or two. */
  addressAliases?: AddressAliasTest[];
}

/** A forward hop and a reverse hop found to be one router. Indexes are into each view's hops. */
export interface RouterPair {
  forward: number;
  reverse: number;
  match: MatchKind;
  evidence: IdentityEvidence[];
  confidence: number;
}

export interface Identity {
  pairs: RouterPair[];
  /** Router id per hop index of each view (null: silent hop or an endpoint). */
  forwardRouter: (string | null)[];
  reverseRouter: (string | null)[];
  /** What is known of each hop's router (null: silent hop or an endpoint). */
  forwardIdentity: (RouterIdentity | null)[];
  reverseIdentity: (RouterIdentity | null)[];
  routers: PathRouter[];
}

type Side = "forward" | "reverse";

interface Candidate {
  forward: number;
  reverse: number;
  evidence: IdentityEvidence[];
  /** Strength of each agreeing test, combined as independent evidence. */
  strengths: number[];
  strong: MatchKind | null;
  /** Distinct links whose link-mate reasoning agrees. */
  links: Set<string>;
  aliasFrom: Set<End>;
  /** An end's alias trace reached the other hop's address somewhere else. */
  refutedBy: Set<End>;
  /** An alias test found the two hops' addresses on different routers. */
  testedApart: boolean;
}

const addressesOf = (h: HopView): string[] => {
  const all = [h.address, ...h.hop.responders.map((r) => r.address)].filter((a): a is string => !!a);
  return [...new Set(all)];
};
const nameOf = (h: HopView): string | undefined =>
  (h.hop.name ?? h.hop.responders.find((r) => r.name)?.name)?.toLowerCase();
const hasAddress = (h: HopView | undefined, address: string | null | undefined) =>
  !!h && !!address && addressesOf(h).some((a) => sameAddress(a, address));

/** Is hop `i` of a view a router: it answered, and it is not the destination (or past it)? */
export function isRouterHop(view: TraceView, i: number): boolean {
  const h = view.hops[i];
  if (!h?.answered) return false;
  return view.destinationIndex === null || i < view.destinationIndex;
}

/** "forward hop 2 (198.18.2.2)". */
function label(side: Side, view: TraceView, i: number): string {
  const h = view.hops[i] as HopView;
  return `${side} hop ${h.ttl} (${h.address ?? "no reply"})`;
}

/** Records one link's link-mate evidence for a candidate pair (each link counts once). */
function addLinkMate(
  c: Candidate,
  link: string,
  atEndpoint: boolean,
  words: { endpoint: string; router: string },
) {
  if (c.links.has(link)) return;
  c.links.add(link);
  c.strengths.push(atEndpoint ? IDENTITY_ENDPOINT_LINK_CONFIDENCE : IDENTITY_LINK_CONFIDENCE);
  c.evidence.push({ test: "link-mate", agrees: true, detail: atEndpoint ? words.endpoint : words.router });
}

/** Combines independent pieces of evidence: the chance that all of them are wrong is the product. */
function combine(strengths: number[]): number {
  const wrong = strengths.reduce((p, s) => p * (1 - s), 1);
  return Math.round((1 - wrong) * 100) / 100;
}

/**
 * Maps each hop of a forward trace (A -> B) and of a reverse trace (B -> A) to a router, and finds
 * which routers both directions cross — from evidence, never from address similarity alone:
 *
 * - the **same address** in both traces (one router answered both);
 * - the same **reverse-DNS name**;
 * - **link-mate** reasoning that respects adjacency: when a hop of one trace and a hop of the other
 *   answer from the two ends of one point-to-point link, those are two *adjacent* routers. If the
 *   hop answers from its side of the link towards the hop before it (its way in, or its way back
 *   when that is the same), the other end is the router of the hop before. One such link is a hint;
 *   two independent ones agreeing, or a link and an alias trace, identify the router. The
 *   endpoints count: a destination's own address and the other trace's first hop are the two ends
 *   of the destination's access link, so that hop is the destination's gateway;
 * - **alias traces** (follow-ups): A traced to an address only B's trace showed and reached it at
 *   the same distance and after the same router as one of its own hops — and B, tracing to that
 *   hop's address, reached it where its own hop is. Both ends agreeing identifies the router; an end
 *   that reached the address somewhere else is evidence against, and shows a router crosses only
 *   one direction.
 *
 * Pairs are then aligned in order (the reverse trace read from A's end) maximising total confidence.
 * A router that is not identified on the other side is `own` when an alias trace showed it is not on
 * the other path, else `unknown` — never silently shared.
 */
export function identifyRouters(input: IdentityInput): Identity {
  const f = input.forward;
  const r = input.reverse;
  const candidates = new Map<string, Candidate>();
  const candidate = (i: number, j: number): Candidate => {
    const key = `${i}:${j}`;
    let c = candidates.get(key);
    if (!c) {
      c = {
        forward: i,
        reverse: j,
        evidence: [],
        strengths: [],
        strong: null,
        links: new Set(),
        aliasFrom: new Set(),
        refutedBy: new Set(),
        testedApart: false,
      };
      candidates.set(key, c);
    }
    return c;
  };
  const routersF = f.hops.map((_, i) => i).filter((i) => isRouterHop(f, i));
  const routersR = r.hops.map((_, j) => j).filter((j) => isRouterHop(r, j));

  // Same address, same name.
  for (const i of routersF) {
    for (const j of routersR) {
      const fh = f.hops[i] as HopView;
      const rh = r.hops[j] as HopView;
      const common = addressesOf(fh).find((a) => hasAddress(rh, a));
      if (common) {
        const c = candidate(i, j);
        c.strong = "address";
        c.strengths.push(IDENTITY_ADDRESS_CONFIDENCE);
        c.evidence.push({
          test: "address",
          agrees: true,
          detail: `${common} answered both ${label("forward", f, i)} and reverse hop ${rh.ttl}`,
        });
        continue;
      }
      const name = nameOf(fh);
      if (name && name === nameOf(rh)) {
        const c = candidate(i, j);
        c.strong ??= "name";
        c.strengths.push(IDENTITY_NAME_CONFIDENCE);
        c.evidence.push({
          test: "name",
          agrees: true,
          detail: `${label("forward", f, i)} and ${label("reverse", r, j)} have the same name ${name}`,
        });
      }
    }
  }

  // Link-mates: forward hop i and reverse hop j answer from the two ends of one link.
  const fLast = f.destinationIndex ?? f.hops.length - 1;
  const rLast = r.destinationIndex ?? r.hops.length - 1;
  for (let i = 0; i <= fLast; i++) {
    const fh = f.hops[i] as HopView;
    if (!fh.answered) continue;
    for (let j = 0; j <= rLast; j++) {
      const rh = r.hops[j] as HopView;
      if (!rh.answered) continue;
      const fa = addressesOf(fh).find((x) => addressesOf(rh).some((y) => samePointToPointLink(x, y)));
      if (!fa) continue;
      const ra = addressesOf(rh).find((y) => samePointToPointLink(fa, y)) as string;
      const link = `${fa}~${ra}`;
      // Forward hop i faces the hop before it: the other end (reverse hop j) is forward hop i-1's router.
      if (i - 1 >= 0 && isRouterHop(f, i - 1) && isRouterHop(r, j)) {
        const before = (f.hops[i - 1] as HopView).ttl;
        addLinkMate(candidate(i - 1, j), link, i === f.destinationIndex, {
          endpoint: `the destination ${fa} and ${label("reverse", r, j)} are the two ends of one link: reverse hop ${rh.ttl} is the destination's gateway, the router of forward hop ${before} before it`,
          router: `${label("forward", f, i)} and ${label("reverse", r, j)} are the two ends of one link; forward hop ${fh.ttl} answers from its side towards forward hop ${before}, whose router holds the other end`,
        });
      }
      // Reverse hop j faces the hop before it: the other end (forward hop i) is reverse hop j-1's router.
      if (j - 1 >= 0 && isRouterHop(r, j - 1) && isRouterHop(f, i)) {
        const before = (r.hops[j - 1] as HopView).ttl;
        addLinkMate(candidate(i, j - 1), link, j === r.destinationIndex, {
          endpoint: `the source's address ${ra} and ${label("forward", f, i)} are the two ends of one link: forward hop ${fh.ttl} is the source's gateway, the router of reverse hop ${before} before it`,
          router: `${label("reverse", r, j)} and ${label("forward", f, i)} are the two ends of one link; reverse hop ${rh.ttl} answers from its side towards reverse hop ${before}, whose router holds the other end`,
        });
      }
    }
  }

  // Alias traces: where did each end reach the addresses only the other end saw?
  const positionOf = (view: TraceView, obs: AliasObservation): number | null => {
    if (obs.reachedAt === null) return null;
    const d = obs.reachedAt;
    const i = view.hops.findIndex((h) => h.ttl === d);
    if (i < 0 || !isRouterHop(view, i)) return null;
    if (d === 1) return i;
    const before = view.hops.find((h) => h.ttl === d - 1);
    const pred = obs.path[d - 2] ?? null;
    // The trace was read from a later hop on (a customer's own network behind its NAT is left out):
    // the hop before is not part of the reading, so the distance alone places the address.
    if (!before) return d - 1 < (view.hops[0]?.ttl ?? 1) ? i : null;
    const same = pred === null ? !before.answered : hasAddress(before, pred);
    return same ? i : null;
  };
  const ownSide = (end: End) => (end === "a" ? f : r);
  const aliasNotes = new Map<string, IdentityEvidence[]>(); // key `${side}:${index}` of the *target* hop
  const note = (side: Side, index: number, e: IdentityEvidence) => {
    const key = `${side}:${index}`;
    aliasNotes.set(key, [...(aliasNotes.get(key) ?? []), e]);
  };
  /** For each target hop: where (own-side index, or null for nowhere of its own) its end reached it. */
  const reachedAtOwn = new Map<string, (number | null)[]>();
  for (const obs of input.aliases ?? []) {
    const view = ownSide(obs.from);
    const otherSide: Side = obs.from === "a" ? "reverse" : "forward";
    const other = obs.from === "a" ? r : f;
    const who = obs.from === "a" ? "A" : "B";
    const targets = other.hops
      .map((_, k) => k)
      .filter((k) => isRouterHop(other, k) && hasAddress(other.hops[k], obs.target));
    if (targets.length === 0 || obs.reachedAt === null) continue;
    const at = positionOf(view, obs);
    const pred = obs.reachedAt > 1 ? (obs.path[obs.reachedAt - 2] ?? "a silent hop") : "nothing (first hop)";
    for (const k of targets) {
      const key = `${otherSide}:${k}`;
      reachedAtOwn.set(key, [...(reachedAtOwn.get(key) ?? []), at]);
      if (at !== null) {
        const c = obs.from === "a" ? candidate(at, k) : candidate(k, at);
        c.aliasFrom.add(obs.from);
        const ownLabel = label(obs.from === "a" ? "forward" : "reverse", view, at);
        c.evidence.push({
          test: "alias-trace",
          agrees: true,
          detail: `${who} traced to ${obs.target} and reached it at hop ${obs.reachedAt} after ${pred}, where its own ${ownLabel} is`,
        });
      } else {
        note(otherSide, k, {
          test: "alias-trace",
          agrees: false,
          detail: `${who} traced to ${obs.target} and reached it at hop ${obs.reachedAt} after ${pred}, not where any hop of its own path is`,
        });
      }
    }
  }
  // An end that reached the address elsewhere speaks against every pair that puts it at one of its hops.
  for (const c of candidates.values()) {
    const atA = reachedAtOwn.get(`reverse:${c.reverse}`);
    if (atA && !atA.includes(c.forward)) {
      c.refutedBy.add("a");
      c.evidence.push({
        test: "alias-trace",
        agrees: false,
        detail: `A reached ${label("reverse", r, c.reverse)} elsewhere than at its forward hop ${(f.hops[c.forward] as HopView).ttl}`,
      });
    }
    const atB = reachedAtOwn.get(`forward:${c.forward}`);
    if (atB && !atB.includes(c.reverse)) {
      c.refutedBy.add("b");
      c.evidence.push({
        test: "alias-trace",
        agrees: false,
        detail: `B reached ${label("forward", f, c.forward)} elsewhere than at its reverse hop ${(r.hops[c.reverse] as HopView).ttl}`,
      });
    }
  }

  // Alias tests of two addresses: a forward hop with one and a reverse hop with the other.
  for (const t of input.addressAliases ?? []) {
    if (t.verdict === "unknown") continue;
    for (const i of routersF) {
      for (const j of routersR) {
        const fh = f.hops[i] as HopView;
        const rh = r.hops[j] as HopView;
        const across =
          (hasAddress(fh, t.a) && hasAddress(rh, t.b)) || (hasAddress(fh, t.b) && hasAddress(rh, t.a));
        if (!across) continue;
        const c = candidate(i, j);
        const hops = `${label("forward", f, i)} and ${label("reverse", r, j)}`;
        if (t.verdict === "same-router") {
          c.strong ??= t.test;
          c.strengths.push(IDENTITY_TIMESTAMP_CONFIDENCE);
          c.evidence.push({ test: t.test, agrees: true, detail: `${hops}: ${t.evidence}` });
        } else {
          c.testedApart = true;
          c.evidence.push({ test: t.test, agrees: false, detail: `${hops}: ${t.evidence}` });
        }
      }
    }
  }

  // Decide: strong tests alone; otherwise both ends' alias traces, or two weak tests and nothing against.
  // An alias test that found two routers overrules everything but the same address.
  const confirmed: RouterPair[] = [];
  for (const c of candidates.values()) {
    const mutual = c.aliasFrom.has("a") && c.aliasFrom.has("b");
    if (mutual) c.strengths.push(IDENTITY_ALIAS_MUTUAL_CONFIDENCE);
    else if (c.aliasFrom.size > 0) c.strengths.push(IDENTITY_ALIAS_ONE_SIDED_CONFIDENCE);
    const weak = c.links.size + (c.aliasFrom.size > 0 ? 1 : 0);
    const against = c.refutedBy.size > 0;
    const ok =
      c.strong === "address" ||
      (!c.testedApart && (c.strong !== null || mutual || (!against && weak >= IDENTITY_WEAK_TESTS_NEEDED)));
    if (!ok) continue;
    const match: MatchKind = c.strong ?? (c.aliasFrom.size > 0 ? "alias-trace" : "link-mate");
    confirmed.push({
      forward: c.forward,
      reverse: c.reverse,
      match,
      evidence: c.evidence,
      confidence: combine(c.strengths),
    });
  }
  const pairs = alignPairs(confirmed);

  // Router ids, identities and the router list.
  const forwardRouter: (string | null)[] = f.hops.map(() => null);
  const reverseRouter: (string | null)[] = r.hops.map(() => null);
  const forwardIdentity: (RouterIdentity | null)[] = f.hops.map(() => null);
  const reverseIdentity: (RouterIdentity | null)[] = r.hops.map(() => null);
  const routers: PathRouter[] = [];
  const used = new Set<string>();
  const idFor = (address: string | null, fallback: string) => {
    let id = `r:${address ?? fallback}`;
    while (used.has(id)) id += "'";
    used.add(id);
    return id;
  };
  const pairedF = new Map(pairs.map((p) => [p.forward, p]));
  const pairedR = new Map(pairs.map((p) => [p.reverse, p]));
  const addressSet = (...hops: (HopView | undefined)[]) => [
    ...new Set(hops.flatMap((h) => (h ? addressesOf(h) : []))),
  ];
  const describe = (h: HopView) => ({
    ...(h.hop.name ? { name: h.hop.name } : {}),
    ...(h.asn !== undefined ? { asn: h.asn } : {}),
    ...(h.owner !== undefined ? { owner: h.owner } : {}),
  });

  const context: ConventionContext = { f, r, pairs, aAddress: input.aAddress, bAddress: input.bAddress };
  for (const i of routersF) {
    const fh = f.hops[i] as HopView;
    const pair = pairedF.get(i);
    if (pair) {
      const rh = r.hops[pair.reverse] as HopView;
      const id = idFor(fh.address, `forward-${fh.ttl}`);
      forwardRouter[i] = id;
      reverseRouter[pair.reverse] = id;
      forwardIdentity[i] = "shared";
      reverseIdentity[pair.reverse] = "shared";
      routers.push({
        id,
        identity: "shared",
        addresses: addressSet(fh, rh),
        forwardTtl: fh.ttl,
        reverseTtl: rh.ttl,
        ...describe(fh.hop.name || fh.asn !== undefined ? fh : rh),
        answers: conventionOf(context, pair),
        evidence: pair.evidence,
        confidence: pair.confidence,
      });
      continue;
    }
    const id = idFor(fh.address, `forward-${fh.ttl}`);
    forwardRouter[i] = id;
    routers.push(oneSided(id, "forward", i, fh));
  }
  for (const j of routersR) {
    if (pairedR.has(j)) continue;
    const rh = r.hops[j] as HopView;
    const id = idFor(rh.address, `reverse-${rh.ttl}`);
    reverseRouter[j] = id;
    routers.push(oneSided(id, "reverse", j, rh));
  }

  function oneSided(id: string, side: Side, index: number, h: HopView): PathRouter {
    const notes = aliasNotes.get(`${side}:${index}`) ?? [];
    // Reached elsewhere by the other end, or reached where the other end's hop is but that pairing
    // was refuted from this end: either way, not on the other direction's path.
    const places = reachedAtOwn.get(`${side}:${index}`) ?? [];
    const refutedPlaces = places.filter((k) => {
      if (k === null) return true;
      const c = side === "forward" ? candidates.get(`${index}:${k}`) : candidates.get(`${k}:${index}`);
      return c !== undefined && c.refutedBy.size > 0;
    });
    const own = places.length > 0 && refutedPlaces.length === places.length;
    const identity: RouterIdentity = own ? "own" : "unknown";
    (side === "forward" ? forwardIdentity : reverseIdentity)[index] = identity;
    const against = [...candidates.values()]
      .filter((c) => (side === "forward" ? c.forward === index : c.reverse === index))
      .flatMap((c) => c.evidence.filter((e) => e.test === "alias-trace" || e.test === "timestamp"));
    const evidence = [...notes, ...against];
    return {
      id,
      identity,
      addresses: addressesOf(h),
      forwardTtl: side === "forward" ? h.ttl : null,
      reverseTtl: side === "reverse" ? h.ttl : null,
      ...describe(h),
      answers: "unknown",
      evidence,
      confidence: own ? IDENTITY_OWN_CONFIDENCE : 0,
    };
  }

  routers.sort(
    (x, y) => (x.forwardTtl ?? 999) - (y.forwardTtl ?? 999) || (y.reverseTtl ?? 0) - (x.reverseTtl ?? 0),
  );
  return { pairs, forwardRouter, reverseRouter, forwardIdentity, reverseIdentity, routers };
}

/**
 * The order-preserving set of pairs with the greatest total confidence: forward hops in TTL order
 * against reverse hops from A's end (reverse TTLs descending), each hop in at most one pair.
 */
export function alignPairs(pairs: RouterPair[]): RouterPair[] {
  const sorted = [...pairs].sort((a, b) => a.forward - b.forward || b.reverse - a.reverse);
  const best: number[] = [];
  const prev: number[] = [];
  for (let k = 0; k < sorted.length; k++) {
    const p = sorted[k] as RouterPair;
    best[k] = p.confidence;
    prev[k] = -1;
    for (let q = 0; q < k; q++) {
      const o = sorted[q] as RouterPair;
      if (
        o.forward < p.forward &&
        o.reverse > p.reverse &&
        (best[q] as number) + p.confidence > (best[k] as number)
      ) {
        best[k] = (best[q] as number) + p.confidence;
        prev[k] = q;
      }
    }
  }
  let end = -1;
  for (let k = 0; k < sorted.length; k++) if (end < 0 || (best[k] as number) > (best[end] as number)) end = k;
  const chain: RouterPair[] = [];
  for (let k = end; k >= 0; k = prev[k] as number) chain.push(sorted[k] as RouterPair);
  return chain.reverse();
}

interface ConventionContext {
  f: TraceView;
  r: TraceView;
  pairs: RouterPair[];
  aAddress: string | undefined;
  bAddress: string | undefined;
}

/**
 * Which address a shared router answers from, from what its two answers' link-mates are:
 * the hop before it in that direction (the way the probe came in), or the next router towards the
 * prober (its way back), which for a router both directions cross is the other trace's next hop.
 */
function conventionOf(ctx: ConventionContext, pair: RouterPair): AnsweringConvention {
  const fh = ctx.f.hops[pair.forward] as HopView;
  const rh = ctx.r.hops[pair.reverse] as HopView;
  if (fh.address && rh.address && sameAddress(fh.address, rh.address)) return "one-address";
  const known = (view: TraceView, i: number, endpoint: string | undefined): string[] => {
    if (i < 0) return endpoint ? [endpoint] : [];
    const h = view.hops[i];
    if (!h) return endpoint ? [endpoint] : [];
    // A router's addresses: its answers in both traces when paired.
    const p =
      view === ctx.f ? ctx.pairs.find((x) => x.forward === i) : ctx.pairs.find((x) => x.reverse === i);
    const other = p ? (view === ctx.f ? ctx.r.hops[p.reverse] : ctx.f.hops[p.forward]) : undefined;
    return [...addressesOf(h), ...(other ? addressesOf(other) : [])];
  };
  const facesAny = (address: string | null, candidates: string[]) =>
    !!address && candidates.some((c) => samePointToPointLink(address, c));
  // Forward side: before it is forward hop i-1 (or A); its way back to A is reverse hop j+1 (or A).
  const fPred = known(ctx.f, pair.forward - 1, ctx.aAddress);
  const fBack =
    pair.reverse + 1 >= (ctx.r.destinationIndex ?? ctx.r.hops.length)
      ? [ctx.aAddress ?? ""]
      : known(ctx.r, pair.reverse + 1, ctx.aAddress);
  const rPred = known(ctx.r, pair.reverse - 1, ctx.bAddress);
  const rBack =
    pair.forward + 1 >= (ctx.f.destinationIndex ?? ctx.f.hops.length)
      ? [ctx.bAddress ?? ""]
      : known(ctx.f, pair.forward + 1, ctx.bAddress);
  const votes = { inbound: 0, routeBack: 0 };
  for (const [address, pred, back] of [
    [fh.address, fPred, fBack],
    [rh.address, rPred, rBack],
  ] as const) {
    const p = facesAny(address, pred);
    const b = facesAny(address, back);
    if (p && !b) votes.inbound++;
    if (b && !p) votes.routeBack++;
  }
  if (votes.inbound > 0 && votes.routeBack === 0) return "inbound";
  if (votes.routeBack > 0 && votes.inbound === 0) return "route-back";
  return "unknown";
}
