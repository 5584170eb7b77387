import ipaddr from "ipaddr.js";
import { LINK_PREFIX_V4, LINK_PREFIX_V6 } from "./thresholds";

function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  return ipaddr.isValid(address) ? ipaddr.process(address) : null;
}

/** The same address, whatever its spelling (IPv4-mapped IPv6 is its IPv4 address). */
export function sameAddress(a: string, b: string): boolean {
  const pa = parse(a);
  const pb = parse(b);
  return pa !== null && pb !== null ? pa.kind() === pb.kind() && pa.toString() === pb.toString() : a === b;
}

/**
 * Two different addresses that are the two ends of a point-to-point link: one /31 (IPv4) or /127
 * (IPv6), or the two usable addresses (…1 and …2) of one /30 or /126 — two /31 links side by side
 * share a /30 without being one link. The two ends belong to two *adjacent* routers.
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
