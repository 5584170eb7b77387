import { type Family, familyOf, hostOf, networkOf, normalize } from "./address";
import {
  type AnswerFrom,
  HOST_NODE,
  type LinkSpec,
  type RouteSpec,
  type Topology,
  TopologyError,
  validateTopology,
} from "./topology";

/** One interface of a node after names are assigned. */
export interface PlannedInterface {
  name: string;
  peer: string;
  /** Index into Topology.links, or -1 for the host link. */
  link: number;
  kind: "veth" | "wire";
  v4?: string;
  v6?: string;
}

export interface PlannedRoute extends RouteSpec {
  family: Family;
  /** Computed by automatic routing rather than listed in the topology. */
  auto: boolean;
}

export interface PlannedNode {
  name: string;
  ns: string;
  interfaces: PlannedInterface[];
  loopback: string[];
  routes: PlannedRoute[];
  /** Which address it answers ICMP errors from (see AnswerFrom). */
  answerFrom: AnswerFrom;
  /**
   * `loopback` nodes: the address every route of a family carries as `src`, the connected
   * subnets' routes included (the build replaces the kernel's connected routes with ones that
   * carry it).
   */
  src: { v4?: string; v6?: string };
}

/** A topology with names, interfaces and routes resolved; the build and the path model read it. */
export interface LabPlan {
  prefix: string;
  topology: Topology;
  nodes: Map<string, PlannedNode>;
  /** Root-namespace end of the host link, if any. */
  hostInterface?: PlannedInterface;
}

const MAX_IFNAME = 15;

export function namespaceName(prefix: string, node: string): string {
  return `${prefix}-${node}`;
}

function interfaceName(prefix: string, peer: string, taken: Set<string>): string {
  let name = `${prefix}-${peer}`;
  for (let i = 2; taken.has(name); i++) name = `${prefix}-${peer}${i}`;
  if (name.length > MAX_IFNAME) {
    throw new TopologyError(
      `interface name "${name}" exceeds ${MAX_IFNAME} characters: use a shorter prefix or node name`,
    );
  }
  taken.add(name);
  return name;
}

/** Resolves names, interfaces and (optionally) automatic routes of a topology. */
export function planLab(topology: Topology, prefix: string): LabPlan {
  validateTopology(topology);
  const nodes = new Map<string, PlannedNode>();
  const taken = new Map<string, Set<string>>();
  for (const [name, spec] of Object.entries(topology.nodes)) {
    nodes.set(name, {
      name,
      ns: namespaceName(prefix, name),
      interfaces: [],
      loopback: (spec.loopback ?? []).map((c) => c),
      routes: [],
      answerFrom: spec.answerFrom ?? "route",
      src: {},
    });
    taken.set(name, new Set());
  }
  const add = (node: string, peer: string, link: number, kind: "veth" | "wire", addr: LinkSpec["aAddr"]) => {
    const planned = nodes.get(node);
    const names = taken.get(node);
    if (!planned || !names) throw new TopologyError(`unknown node "${node}"`);
    const iface: PlannedInterface = { name: interfaceName(prefix, peer, names), peer, link, kind };
    if (addr?.v4) iface.v4 = addr.v4;
    if (addr?.v6) iface.v6 = addr.v6;
    planned.interfaces.push(iface);
    return iface;
  };
  topology.links.forEach((link, i) => {
    const kind = link.kind ?? "veth";
    add(link.a, link.b, i, kind, link.aAddr);
    add(link.b, link.a, i, kind, link.bAddr);
  });
  const plan: LabPlan = { prefix, topology, nodes };
  if (topology.host) {
    add(topology.host.node, HOST_NODE, -1, "veth", topology.host.nodeAddr);
    const hostIface: PlannedInterface = {
      name: interfaceName(prefix, topology.host.node, new Set()),
      peer: topology.host.node,
      link: -1,
      kind: "veth",
    };
    if (topology.host.hostAddr.v4) hostIface.v4 = topology.host.hostAddr.v4;
    if (topology.host.hostAddr.v6) hostIface.v6 = topology.host.hostAddr.v6;
    plan.hostInterface = hostIface;
  }
  for (const [name, spec] of Object.entries(topology.nodes)) {
    const planned = nodes.get(name);
    if (!planned) continue;
    for (const route of spec.routes ?? []) {
      planned.routes.push({
        ...route,
        to: canonicalPrefix(route.to),
        family: familyOf(route.to),
        auto: false,
      });
    }
  }
  if (topology.autoRoutes) addAutoRoutes(plan);
  for (const node of nodes.values()) if (node.answerFrom === "loopback") addLoopbackSources(node);
  return plan;
}

/** `src <loopback>` on every forwarding route of a loopback-answering node (explicit ones keep theirs). */
function addLoopbackSources(node: PlannedNode): void {
  for (const lo of node.loopback) {
    const key = familyOf(lo) === 4 ? "v4" : "v6";
    node.src[key] ??= hostOf(lo);
  }
  for (const route of node.routes) {
    const src = route.family === 4 ? node.src.v4 : node.src.v6;
    if (src && !route.src && (route.type ?? "unicast") === "unicast") route.src = src;
  }
}

function canonicalPrefix(cidr: string): string {
  return cidr.includes("/") ? networkOf(cidr) : networkOf(`${cidr}/${familyOf(cidr) === 4 ? 32 : 128}`);
}

interface Edge {
  to: string;
  /** The neighbour's address on the shared link (the next hop). */
  via: string;
}

/** Neighbours per node for one family, in link order so ties break the same way every run. */
function adjacency(plan: LabPlan, family: Family): Map<string, Edge[]> {
  const key = family === 4 ? "v4" : "v6";
  const adj = new Map<string, Edge[]>();
  for (const name of [...plan.nodes.keys(), HOST_NODE]) adj.set(name, []);
  for (const node of plan.nodes.values()) {
    for (const iface of node.interfaces) {
      if (!iface[key]) continue;
      const peerAddr = peerInterface(plan, node.name, iface)?.[key];
      if (!peerAddr) continue;
      adj.get(node.name)?.push({ to: iface.peer, via: hostOf(peerAddr) });
    }
  }
  return adj;
}

/** The interface at the other end of a node's interface. */
export function peerInterface(
  plan: LabPlan,
  node: string,
  iface: PlannedInterface,
): PlannedInterface | undefined {
  if (iface.peer === HOST_NODE) return plan.hostInterface;
  if (iface.link === -1) return plan.nodes.get(iface.peer)?.interfaces.find((i) => i.peer === HOST_NODE);
  return plan.nodes.get(iface.peer)?.interfaces.find((i) => i.link === iface.link && i.peer === node);
}

/** Prefixes to spread, each with the nodes it is attached to. */
function destinations(plan: LabPlan, family: Family): Map<string, Set<string>> {
  const key = family === 4 ? "v4" : "v6";
  const dests = new Map<string, Set<string>>();
  const attach = (prefix: string, node: string) => {
    const set = dests.get(prefix) ?? new Set<string>();
    set.add(node);
    dests.set(prefix, set);
  };
  for (const node of plan.nodes.values()) {
    for (const iface of node.interfaces) {
      const cidr = iface[key];
      if (!cidr) continue;
      const announced = iface.link === -1 || plan.topology.links[iface.link]?.announce !== false;
      if (announced) attach(networkOf(cidr), node.name);
    }
    for (const lo of node.loopback) {
      if (familyOf(lo) === family) attach(canonicalPrefix(hostOf(lo)), node.name);
    }
    for (const prefix of plan.topology.nodes[node.name]?.announce ?? []) {
      if (familyOf(prefix) === family) attach(canonicalPrefix(prefix), node.name);
    }
  }
  return dests;
}

/** First hop of a breadth-first shortest path from `start` to each reachable node. */
function firstHops(adj: Map<string, Edge[]>, start: string): Map<string, Edge> {
  const first = new Map<string, Edge>();
  const seen = new Set([start]);
  const queue: string[] = [];
  for (const edge of adj.get(start) ?? []) {
    if (seen.has(edge.to)) continue;
    seen.add(edge.to);
    first.set(edge.to, edge);
    queue.push(edge.to);
  }
  while (queue.length > 0) {
    const current = queue.shift() as string;
    const hop = first.get(current) as Edge;
    // The root namespace does not forward lab traffic: never route through it.
    if (current === HOST_NODE) continue;
    for (const edge of adj.get(current) ?? []) {
      if (seen.has(edge.to)) continue;
      seen.add(edge.to);
      first.set(edge.to, hop);
      queue.push(edge.to);
    }
  }
  return first;
}

function addAutoRoutes(plan: LabPlan): void {
  for (const family of [4, 6] as const) {
    const adj = adjacency(plan, family);
    const dests = destinations(plan, family);
    for (const node of plan.nodes.values()) {
      const first = firstHops(adj, node.name);
      const explicit = new Set(node.routes.filter((r) => r.family === family).map((r) => r.to));
      for (const [prefix, owners] of dests) {
        if (owners.has(node.name) || explicit.has(prefix)) continue;
        const hop = [...owners].map((o) => first.get(o)).find((e) => e !== undefined);
        if (!hop) continue;
        node.routes.push({ to: prefix, via: hop.via, family, auto: true });
      }
    }
  }
}

/** All addresses a node owns (interfaces and loopback), canonical, one family. */
export function nodeAddresses(node: PlannedNode, family: Family): string[] {
  const key = family === 4 ? "v4" : "v6";
  const out: string[] = [];
  for (const iface of node.interfaces) {
    const cidr = iface[key];
    if (cidr) out.push(hostOf(cidr));
  }
  for (const lo of node.loopback) if (familyOf(lo) === family) out.push(hostOf(lo));
  return out;
}

/** The node that owns an address, if any. */
export function ownerOf(plan: LabPlan, address: string): PlannedNode | undefined {
  const want = normalize(address);
  const family = familyOf(want);
  for (const node of plan.nodes.values()) if (nodeAddresses(node, family).includes(want)) return node;
  return undefined;
}

/**
 * The node that owns a lab address (interface or loopback, either family), "host" for the root
 * namespace's end of the host link, undefined for anything else (including text that is no address).
 */
export function nodeOfAddress(plan: LabPlan, address: string): string | undefined {
  try {
    const owner = ownerOf(plan, address);
    if (owner) return owner.name;
    const want = normalize(address);
    const host = [plan.hostInterface?.v4, plan.hostInterface?.v6].some((c) => c && hostOf(c) === want);
    return host ? HOST_NODE : undefined;
  } catch {
    return undefined;
  }
}
