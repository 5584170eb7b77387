import { type AllowList, isAllowListed } from "@lg/protocol";
import ipaddr from "ipaddr.js";

/**
 * The key a client's limits are counted under: an IPv4 address as is, an IPv6 address by its
 * /64 (one subscriber usually holds a whole /64, so counting single addresses would let one
 * host rotate through 2^64 of them). IPv4-mapped IPv6 counts as the IPv4 address.
 */
export function clientKeyOf(address: string | null): string {
  if (!address || !ipaddr.isValid(address)) return "unknown";
  let addr = ipaddr.parse(address);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  const prefix = new ipaddr.IPv6([...parts, 0, 0, 0, 0]);
  return `${prefix.toString()}/64`;
}

const inList = (address: string, list: AllowList) => ipaddr.isValid(address) && isAllowListed(address, list);

/**
 * The client's address: the socket peer, unless that peer is a trusted proxy, in which case
 * the right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further
 * left are written by the client and cannot be believed).
 */
export function effectiveClient(
  socket: string | null,
  forwardedFor: string | undefined,
  trustedProxies: AllowList,
): string | null {
  if (!socket || trustedProxies.length === 0 || !inList(socket, trustedProxies)) return socket;
  const hops = (forwardedFor ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!ipaddr.isValid(hop)) return socket;
    if (!inList(hop, trustedProxies)) return ipaddr.parse(hop).toString();
  }
  return socket;
}
