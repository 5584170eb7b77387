import { contains, type Family, familyOf, hostOf, normalize, prefixLength } from "./address";
import { type LabPlan, nodeAddresses, ownerOf, type PlannedInterface, type PlannedNode } from "./plan";

/**
 * A model of Linux forwarding over a lab plan: which node answers a probe at each TTL.
 * It predicts what mtr should show; the lab self-test compares the prediction with real mtr.
 */

type Lookup =
  | { kind: "local" }
  | { kind: "connected"; iface: PlannedInterface }
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
    if (cidr && contains(cidr, address)) consider(prefixLength(cidr), { kind: "connected", iface });
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
  if (route.kind === "connected") return route.iface[key] ? hostOf(route.iface[key]) : undefined;
  if (route.kind === "via") {
    if (route.src) return route.src;
    const cidr = route.hops[0]?.iface[key];
    return cidr ? hostOf(cidr) : undefined;
  }
  return undefined;
}

/** The next nodes a packet to `destination` goes to from `node` (several for ECMP). */
function nextNodes(plan: LabPlan, node: PlannedNode, destination: string): PlannedNode[] {
  const route = lookupRoute(node, destination);
  if (route.kind === "connected") {
    const owner = ownerOf(plan, destination);
    return owner ? [owner] : [];
  }
  if (route.kind === "via") {
    return route.hops.flatMap((h) => {
      const owner = ownerOf(plan, h.address);
      return owner ? [owner] : [];
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
    const next = new Map<string, PlannedNode>();
    for (const node of frontier) for (const n of nextNodes(plan, node, target)) next.set(n.name, n);
    const responders = new Set<string>();
    const names = new Set<string>();
    const onward: PlannedNode[] = [];
    for (const node of next.values()) {
      names.add(node.name);
      if (lookupRoute(node, target).kind === "local") {
        responders.add(target);
        continue;
      }
      const answer = probeSource ? sourceAddress(node, probeSource) : undefined;
      if (answer) responders.add(answer);
      onward.push(node);
    }
    if (next.size === 0) break;
    hops.push({ ttl, responders: [...responders].sort(), nodes: [...names].sort() });
    frontier = onward;
  }
  return hops;
}
