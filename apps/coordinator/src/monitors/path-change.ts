import type { Hop } from "@lg/protocol";
import ipaddr from "ipaddr.js";

/**
 * One router position of a path, in TTL order: every address the router is known to answer from
 * there. An empty list is a silent hop (nothing answered: it says nothing about the router).
 */
export interface RouteSlot {
  ttl: number;
  addresses: string[];
}

/** A trace's path as the pathChange rule compares it. */
export interface Route {
  /** The routers before the destination; a trace that stopped short leaves out its trailing silent hops. */
  slots: RouteSlot[];
  /** Origin ASes in order, repeats collapsed (the fallback when no router answered). */
  asPath: number[];
}

/** What changed between a stable route and a new one. */
export interface ChangedSegment {
  /** The last router both share before the change (null: it starts at the first hop). */
  after: RouteSlot | null;
  /** The routers of the stable route in the changed stretch, and of the new route. */
  before: RouteSlot[];
  now: RouteSlot[];
  /** The first router both share after the change (null: it runs to the destination). */
  until: RouteSlot | null;
  /** No router could be compared: the AS path changed. */
  asPath?: { before: number[]; now: number[] };
}

const norm = (a: string) => (ipaddr.isValid(a) ? ipaddr.process(a).toString() : a);

/**
 * The route of a finished trace. Each hop's router is every address it answered from (its
 * responders: an ECMP hop shows each branch it took) plus, in a path test, every address the router
 * identity of the comparison gives its router (`identity`: router id -> addresses; a router answers
 * the two directions from different addresses, and a route change elsewhere can change which one a
 * trace sees).
 */
export function routeOf(
  hops: Hop[],
  destination: string | null,
  identity?: ReadonlyMap<string, readonly string[]>,
): Route {
  const dest = destination ? norm(destination) : null;
  const slots: RouteSlot[] = [];
  let reached = false;
  for (const h of hops) {
    const own = [h.host, ...h.responders.map((r) => r.address)].filter((a): a is string => !!a).map(norm);
    if (dest !== null && own.includes(dest)) {
      reached = true;
      break;
    }
    const known = h.routerId ? (identity?.get(h.routerId) ?? []).map(norm) : [];
    slots.push({ ttl: h.ttl, addresses: [...new Set([...own, ...known])] });
  }
  // A trace that stopped short ends in silent hops up to its limit: they are not routers of the path.
  if (!reached) while (slots.length > 0 && (slots.at(-1) as RouteSlot).addresses.length === 0) slots.pop();
  const asPath: number[] = [];
  for (const h of hops) if (h.asn !== undefined && asPath.at(-1) !== h.asn) asPath.push(h.asn);
  return { slots, asPath };
}

/** One router or the other: they share an address, or one of them is silent (which says nothing). */
function sameRouter(a: RouteSlot, b: RouteSlot): boolean {
  if (a.addresses.length === 0 || b.addresses.length === 0) return true;
  return a.addresses.some((x) => b.addresses.includes(x));
}

const answered = (r: Route) => r.slots.some((s) => s.addresses.length > 0);

/**
 * Compares a new route with the stable one router by router: the longest stretch that agrees from
 * the source and the longest from the destination; what lies between, on either side, is the
 * segment that changed. A hop's known responders are one place, so an ECMP hop answering from
 * another of its known branches is no change. When neither route has an answering router, the AS
 * paths are compared instead. Null when nothing changed.
 */
export function changedSegment(stable: Route, now: Route): ChangedSegment | null {
  if (!answered(stable) && !answered(now)) {
    const same =
      stable.asPath.length === now.asPath.length && stable.asPath.every((a, i) => a === now.asPath[i]);
    return same
      ? null
      : { after: null, before: [], now: [], until: null, asPath: { before: stable.asPath, now: now.asPath } };
  }
  const a = stable.slots;
  const b = now.slots;
  let head = 0;
  while (head < a.length && head < b.length && sameRouter(a[head] as RouteSlot, b[head] as RouteSlot)) head++;
  if (head === a.length && head === b.length) return null;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    sameRouter(a[a.length - 1 - tail] as RouteSlot, b[b.length - 1 - tail] as RouteSlot)
  )
    tail++;
  return {
    after: head > 0 ? (b[head - 1] as RouteSlot) : null,
    before: a.slice(head, a.length - tail),
    now: b.slice(head, b.length - tail),
    until: tail > 0 ? (b[b.length - tail] as RouteSlot) : null,
  };
}

/**
 * The stable route after a run that matched it: each position learns the addresses this run saw
 * there (the other branch of an ECMP hop, the router's other address), so they count as the same
 * place next time.
 */
export function learnRoute(stable: Route, now: Route): Route {
  return {
    slots: stable.slots.map((s, i) => {
      const seen = now.slots[i]?.addresses ?? [];
      return { ttl: s.ttl, addresses: [...new Set([...s.addresses, ...seen])] };
    }),
    asPath: now.asPath.length > 0 ? now.asPath : stable.asPath,
  };
}

/** "198.18.2.2 (or 198.18.2.9)" per router, `*` for a silent hop. */
const slotWords = (s: RouteSlot) =>
  s.addresses.length === 0
    ? `${s.ttl}:*`
    : `${s.ttl}:${s.addresses[0]}${s.addresses.length > 1 ? ` (or ${s.addresses.slice(1).join(", ")})` : ""}`;

/** A route in one line: each router's first address in TTL order, then the AS path. */
export function routeText(r: Route): string {
  const routers = r.slots.map((s) => (s.addresses.length === 0 ? "*" : (s.addresses[0] as string)));
  return `${routers.join(" ")} | AS ${r.asPath.join(" ")}`;
}

/** The changed segment in words: "after 1:198.18.1.2, hops 2-3 198.18.2.2, 198.18.3.2 became hop 2 198.18.6.2". */
export function segmentText(seg: ChangedSegment): string {
  if (seg.asPath) return `AS path ${seg.asPath.before.join(" ")} became ${seg.asPath.now.join(" ")}`;
  const stretch = (slots: RouteSlot[]) => {
    if (slots.length === 0) return "nothing";
    const first = (slots[0] as RouteSlot).ttl;
    const last = (slots.at(-1) as RouteSlot).ttl;
    const where = first === last ? `hop ${first}` : `hops ${first}-${last}`;
    return `${where} ${slots.map(slotWords).join(", ")}`;
  };
  const from = seg.after ? `after ${slotWords(seg.after)}, ` : "from the source, ";
  const to = seg.until ? ` (until ${slotWords(seg.until)})` : " (to the destination)";
  return `${from}${stretch(seg.before)} became ${stretch(seg.now)}${to}`;
}
