import ipaddr from "ipaddr.js";

export type Family = 4 | 6;

/** The address part of "198.18.1.1/24". */
export function hostOf(cidr: string): string {
  const slash = cidr.indexOf("/");
  return normalize(slash < 0 ? cidr : cidr.slice(0, slash));
}

/** The canonical text form (RFC 5952 for IPv6), as mtr prints addresses. */
export function normalize(address: string): string {
  return ipaddr.parse(address).toString();
}

export function familyOf(address: string): Family {
  const slash = address.indexOf("/");
  return ipaddr.parse(slash < 0 ? address : address.slice(0, slash)).kind() === "ipv6" ? 6 : 4;
}

/** The network of a CIDR in canonical form, e.g. "198.18.1.1/24" -> "198.18.1.0/24". */
export function networkOf(cidr: string): string {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const net =
    addr.kind() === "ipv6"
      ? ipaddr.IPv6.networkAddressFromCIDR(cidr)
      : ipaddr.IPv4.networkAddressFromCIDR(cidr);
  return `${net.toString()}/${len}`;
}

export function prefixLength(cidr: string): number {
  return ipaddr.parseCIDR(cidr)[1];
}

/** Whether `address` lies inside `cidr` (false across families). */
export function contains(cidr: string, address: string): boolean {
  const [net, len] = ipaddr.parseCIDR(cidr);
  const addr = ipaddr.parse(address);
  if (addr.kind() !== net.kind()) return false;
  return addr.match(net, len);
}
