import type { MatchKind } from "@lg/protocol";
import ipaddr from "ipaddr.js";
import type { HopView } from "./hop-view";
import { LINK_PREFIX_V4, LINK_PREFIX_V6 } from "./thresholds";

/** A forward hop and a reverse hop taken to be the same place. Indexes are into the two hop lists. */
export interface AlignedPair {
  forward: number;
  /** Index into the reverse hops in the reverse trace's own order (TTL ascending). */
  reverse: number;
  match: MatchKind;
}

/** Scores make one stronger match outweigh any number of weaker ones (at most 255 hops a side). */
const SCORE: Record<MatchKind, number> = { address: 1_000_000, link: 10_000, name: 300, asn: 1 };

/** Strongest way two hops can be the same place, or null. Silent hops match nothing. */
export function matchHops(a: HopView, b: HopView): MatchKind | null {
  if (a.address === null || b.address === null) return null;
  if (sameAddress(a.address, b.address)) return "address";
  if (samePointToPointLink(a.address, b.address)) return "link";
  const nameA = a.hop.name?.toLowerCase();
  if (nameA && nameA === b.hop.name?.toLowerCase()) return "name";
  if (a.asn !== undefined && a.asn === b.asn) return "asn";
  return null;
}

function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  return ipaddr.isValid(address) ? ipaddr.process(address) : null;
}

function sameAddress(a: string, b: string): boolean {
  const pa = parse(a);
  const pb = parse(b);
  return pa !== null && pb !== null ? pa.kind() === pb.kind() && pa.toString() === pb.toString() : a === b;
}

/**
 * Two different addresses that are the two ends of a point-to-point link: one /31 (IPv4) or /127
 * (IPv6), or the two usable addresses (…1 and …2) of one /30 or /126 — two /31 links side by side
 * share a /30 without being one link.
 */
export function samePointToPointLink(a: string, b: string): boolean {
  const pa = parse(a);
  const pb = parse(b);
  if (pa === null || pb === null || pa.kind() !== pb.kind() || pa.toString() === pb.toString()) return false;
  const [pointToPoint, withEnds] = pa.kind() === "ipv4" ? LINK_PREFIX_V4 : LINK_PREFIX_V6;
  if (pa.match(pb, pointToPoint)) return true;
  return pa.match(pb, withEnds) && isUsableEnd(pa) && isUsableEnd(pb);
}

/** The host part within a /30 or /126 is 1 or 2 (0 is the network, 3 the broadcast address). */
function isUsableEnd(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  const bytes = address.toByteArray();
  const low = (bytes[bytes.length - 1] as number) & 0b11;
  return low === 1 || low === 2;
}

/**
 * Aligns the forward hops with the reversed reverse hops: the order-preserving set of pairs with the
 * greatest total strength (a longest-common-subsequence walk where an address match outweighs any
 * number of link matches, a link any number of name matches, and so on).
 */
export function alignHops(forward: HopView[], reverse: HopView[]): AlignedPair[] {
  const reversed = [...reverse].reverse();
  const n = forward.length;
  const m = reversed.length;
  const best: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const kind: (MatchKind | null)[][] = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(null));
  for (let i = 1; i <= n; i++) {
    const row = best[i] as number[];
    const up = best[i - 1] as number[];
    for (let j = 1; j <= m; j++) {
      const match = matchHops(forward[i - 1] as HopView, reversed[j - 1] as HopView);
      (kind[i] as (MatchKind | null)[])[j] = match;
      const diagonal = match ? (up[j - 1] as number) + SCORE[match] : -1;
      row[j] = Math.max(up[j] as number, row[j - 1] as number, diagonal);
    }
  }
  const pairs: AlignedPair[] = [];
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    const match = (kind[i] as (MatchKind | null)[])[j] ?? null;
    const here = (best[i] as number[])[j] as number;
    if (match && here === ((best[i - 1] as number[])[j - 1] as number) + SCORE[match]) {
      pairs.push({ forward: i - 1, reverse: m - j, match });
      i--;
      j--;
    } else if (here === ((best[i - 1] as number[])[j] as number)) i--;
    else j--;
  }
  return pairs.reverse();
}
