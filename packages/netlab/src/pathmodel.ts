import { contains, type Family, familyOf, hostOf, normalize, prefixLength } from "./address";
import {
  type LabPlan,
  nodeAddresses,
  ownerOf,
  type PlannedInterface,
  type PlannedNode,
  peerInterface,
} from "./plan";

/**
 * A model of Linux forwarding over a lab plan: which node answers a probe at each TTL, and from
 * which of its addresses. It predicts what mtr should show; the lab self-test compares the
 * prediction with real mtr.
 *
 * The answering address (checked on the kernel, 6.x):
 * - IPv4: the preferred source of the route back to the prober — the route's `src`, else the
 *   address of its outgoing interface; with `icmp_errors_use_inbound_ifaddr=1` (answerFrom
 *   `inbound`) the address of the interface the probe came in on;
 * - IPv6: the route back's `src` when it has one, else the address of the interface the probe
 *   came in on (icmp6_send picks "a more meaningful saddr from input"), whatever answerFrom says.
 */

type Lookup =
  | { kind: "local" }
  | { kind: "connected"; iface: PlannedInterface; src?: string }
  | { kind: "via"; hops: { address: string; iface: PlannedInterface }[]; src?: string }
  | { kind: "drop" };

function ifaceFor(node: PlannedNode, family: Family, address: string): PlannedInterface | undefined {
  const key = family === 4 ? "v4" : "v6";
  return node.interfaces.find((i) => {
    const cidr = i[key];
    return cidr !== undefined && contains(cidr, address);
  });
}

/** Longest-prefix match over a node's connected subnets and routes, like the kernel's main table. */
export function lookupRoute(node: PlannedNode, address: string): Lookup {
  const family = familyOf(address);
  if (nodeAddresses(node, family).includes(normalize(address))) return { kind: "local" };
  let best: { len: number; result: Lookup } | undefined;
  const consider = (len: number, result: Lookup) => {
    if (!best || len > best.len) best = { len, result };
  };
  const key = family === 4 ? "v4" : "v6";
  for (const iface of node.interfaces) {
    const cidr = iface[key];
    const src = node.src[key];
    if (cidr && contains(cidr, address))
      consider(prefixLength(cidr), { kind: "connected", iface, ...(src ? { src } : {}) });
  }
  for (const route of node.routes) {
    if (route.family !== family || !contains(route.to, address)) continue;
    if (route.type === "blackhole" || route.type === "unreachable" || !route.via) {
      consider(prefixLength(route.to), { kind: "drop" });
      continue;
    }
    const vias = Array.isArray(route.via) ? route.via : [route.via];
    const hops = vias.flatMap((via) => {
      const iface = ifaceFor(node, family, via);
      return iface ? [{ address: normalize(via), iface }] : [];
    });
    const result: Lookup = { kind: "via", hops };
    if (route.src) result.src = normalize(route.src);
    consider(prefixLength(route.to), result);
  }
  return best?.result ?? { kind: "drop" };
}

/** The source address a node uses towards `destination` (what its ICMP errors carry). */
export function sourceAddress(node: PlannedNode, destination: string): string | undefined {
  const family = familyOf(destination);
  const key = family === 4 ? "v4" : "v6";
  const route = lookupRoute(node, destination);
  if (route.kind === "connected")
    return route.src ?? (route.iface[key] ? hostOf(route.iface[key]) : undefined);
  if (route.kind === "via") {
    if (route.src) return route.src;
    const cidr = route.hops[0]?.iface[key];
    return cidr ? hostOf(cidr) : undefined;
  }
  return undefined;
}

/**
 * The address a node answers a probe with (time exceeded) when the probe came in on `inIface`
 * from a prober at `prober`.
 */
export function answerAddress(
  node: PlannedNode,
  inIface: PlannedInterface | undefined,
  prober: string,
): string | undefined {
  const family = familyOf(prober);
  if (family === 4) {
    if (node.answerFrom === "inbound" && inIface?.v4) return hostOf(inIface.v4);
    return sourceAddress(node, prober);
  }
  const route = lookupRoute(node, prober);
  const src = route.kind === "connected" || route.kind === "via" ? route.src : undefined;
  if (src) return src;
  if (inIface?.v6) return hostOf(inIface.v6);
  return sourceAddress(node, prober);
}

/** A node a packet reaches, and the interface it arrives on. */
interface Arrival {
  node: PlannedNode;
  iface: PlannedInterface | undefined;
}

/** The interface of `owner` that holds `address`. */
function interfaceWith(owner: PlannedNode, address: string): PlannedInterface | undefined {
  const key = familyOf(address) === 4 ? "v4" : "v6";
  const want = normalize(address);
  return owner.interfaces.find((i) => i[key] !== undefined && hostOf(i[key] as string) === want);
}

/** Where a packet to `destination` goes next from `node` (several for ECMP). */
function nextArrivals(plan: LabPlan, node: PlannedNode, destination: string): Arrival[] {
  const route = lookupRoute(node, destination);
  if (route.kind === "connected") {
    const owner = ownerOf(plan, destination);
    if (!owner) return [];
    const peer = peerInterface(plan, node.name, route.iface);
    return [{ node: owner, iface: peer && route.iface.peer === owner.name ? peer : undefined }];
  }
  if (route.kind === "via") {
    return route.hops.flatMap((h) => {
      const owner = ownerOf(plan, h.address);
      return owner ? [{ node: owner, iface: interfaceWith(owner, h.address) }] : [];
    });
  }
  return [];
}

export interface ModelHop {
  ttl: number;
  /** Responder addresses at this TTL; several where ECMP branches differ. */
  responders: string[];
  /** Node names behind the responders. */
  nodes: string[];
}

/**
 * Predicts the hops of a trace from `from` to `destination` up to `maxTtl`, following every
 * ECMP branch. Stops after the destination answers on every branch.
 */
export function modelTrace(plan: LabPlan, from: string, destination: string, maxTtl = 30): ModelHop[] {
  const start = plan.nodes.get(from);
  if (!start) throw new Error(`unknown node "${from}"`);
  const target = normalize(destination);
  const probeSource = sourceAddress(start, target);
  const hops: ModelHop[] = [];
  let frontier: PlannedNode[] = [start];
  for (let ttl = 1; ttl <= maxTtl && frontier.length > 0; ttl++) {
    const next = new Map<string, Arrival>();
    for (const node of frontier) {
      for (const a of nextArrivals(plan, node, target)) next.set(`${a.node.name}/${a.iface?.name ?? ""}`, a);
    }
    if (next.size === 0) break;
    const responders = new Set<string>();
    const names = new Set<string>();
    const onward = new Map<string, PlannedNode>();
    for (const { node, iface } of next.values()) {
      names.add(node.name);
      if (lookupRoute(node, target).kind === "local") {
        responders.add(target);
        continue;
      }
      const answer = probeSource ? answerAddress(node, iface, probeSource) : undefined;
      if (answer) responders.add(answer);
      onward.set(node.name, node);
    }
    hops.push({ ttl, responders: [...responders].sort(), nodes: [...names].sort() });
    frontier = [...onward.values()];
  }
  return hops;
}

/**
 * The nodes a packet from `from` to `destination` crosses, `from` first and the destination's
 * node last (the first branch of a multipath route; at most `maxHops` steps, so a routing loop
 * ends). Used for the way back of a hop's answer.
 */
export function modelPath(plan: LabPlan, from: string, destination: string, maxHops = 64): string[] {
  let node = plan.nodes.get(from);
  if (!node) throw new Error(`unknown node "${from}"`);
  const target = normalize(destination);
  const path = [node.name];
  for (let i = 0; i < maxHops && lookupRoute(node, target).kind !== "local"; i++) {
    const next: PlannedNode | undefined = nextArrivals(plan, node, target)[0]?.node;
    if (!next) break;
    path.push(next.name);
    node = next;
  }
  return path;
}
