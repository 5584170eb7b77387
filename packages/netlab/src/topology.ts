/**
 * The declarative description of a lab: nodes (one network namespace each), links between
 * them, addresses, routes, sysctls, firewall rules and long-running processes.
 */

/** An address with its prefix length, e.g. "198.18.1.1/24" or "2001:2:0:1::1/64". */
export type Cidr = string;

export interface RouteSpec {
  /** Destination prefix ("198.18.5.0/24", "default" is not used in the lab). */
  to: Cidr;
  /** Next-hop address; several addresses make a multipath (ECMP) route. */
  via?: string | string[];
  /** `blackhole` drops silently, `unreachable` answers with ICMP unreachable. */
  type?: "unicast" | "blackhole" | "unreachable";
  /** Preferred source address of traffic (and ICMP errors) that leaves over this route. */
  src?: string;
}

export interface ProcessSpec {
  /** Stable name, used to look the process up on the lab handle. */
  name: string;
  /** Arguments; with `helper`, the arguments of that bundled python3 helper script. */
  argv: string[];
  helper?: "tcp-listen.py" | "wire.py";
  /** Text the process prints once it is ready; the build waits for it. */
  readyText?: string;
  env?: Record<string, string>;
}

/**
 * Which of its addresses a router answers ICMP errors (time exceeded, unreachable) from:
 * - `route` (the Linux default): over IPv4 the address of the interface of its route back to
 *   the prober; over IPv6 Linux answers from the interface the probe came **in** on (unless the
 *   route back names a `src`) — the build changes nothing;
 * - `inbound`: from the interface the probe came in on (`net.ipv4.icmp_errors_use_inbound_ifaddr=1`;
 *   IPv6 already does so);
 * - `loopback`: from its loopback address, in both families (`src <loopback>` on every route,
 *   the connected subnets included). Needs a loopback address of each family it has addresses in.
 */
export type AnswerFrom = "route" | "inbound" | "loopback";

export interface NodeSpec {
  /** Forwards packets (sets net.ipv4.ip_forward and IPv6 forwarding). */
  router?: boolean;
  /** Which address the node answers ICMP errors from (default `route`, the Linux default). */
  answerFrom?: AnswerFrom;
  /**
   * Directed loss at build time: neighbour name -> fraction (0-1] of the packets this node sends
   * out towards that neighbour that it drops (forwarded packets and its own, IPv4 and IPv6).
   * A running lab changes it with `lab.setLinkLoss` / `lab.clearLinkLoss`.
   */
  egressLoss?: Record<string, number>;
  /** Extra sysctls (key: value), applied after the lab's defaults. */
  sysctls?: Record<string, string | number>;
  /** Rules in iptables command syntax without the command, e.g. "-t raw -A PREROUTING -j DROP". */
  iptables?: string[];
  ip6tables?: string[];
  /** Addresses on the loopback interface (host routes others can reach). */
  loopback?: Cidr[];
  /**
   * Prefixes reachable through this node without an address on it (automatic routing sends
   * them here; the node's own routes say where they go next).
   */
  announce?: Cidr[];
  /** Explicit routes; they replace automatic routes to the same prefix. */
  routes?: RouteSpec[];
  processes?: ProcessSpec[];
}

export interface LinkEnd {
  v4?: Cidr;
  v6?: Cidr;
}

export interface LinkSpec {
  /** Node names; a link end named "host" is the root namespace (see Topology.host). */
  a: string;
  b: string;
  aAddr?: LinkEnd;
  bAddr?: LinkEnd;
  /**
   * "veth" is a plain pair; "wire" is a userspace pair of TUN devices that adds
   * `delayMs` of one-way delay in each direction (this kernel has no netem).
   */
  kind?: "veth" | "wire";
  delayMs?: number;
  /** Whether automatic routing spreads routes to this link's subnets (default true). */
  announce?: boolean;
}

/**
 * Link `n` of the usual address plan between `a` and `b`: `198.18.n.0/24` and `2001:2:0:n::/64`,
 * `.1`/`::1` on `a`, `.2`/`::2` on `b`, so an address names its link. `extra` adds the rest
 * (`kind`, `delayMs`, `announce`).
 *
 * @example
 * numberedLink(3, "r2", "tgt") // r2 198.18.3.1/24 and 2001:2:0:3::1/64, tgt .2 and ::2
 */
export function numberedLink(n: number, a: string, b: string, extra: Partial<LinkSpec> = {}): LinkSpec {
  return {
    a,
    b,
    aAddr: { v4: `198.18.${n}.1/24`, v6: `2001:2:0:${n}::1/64` },
    bAddr: { v4: `198.18.${n}.2/24`, v6: `2001:2:0:${n}::2/64` },
    ...extra,
  };
}

export interface HostLinkSpec {
  /** The lab node the root namespace is linked to. */
  node: string;
  hostAddr: LinkEnd;
  nodeAddr: LinkEnd;
  /** Prefixes the root namespace routes into the lab over this link. */
  routes: Cidr[];
}

export interface Topology {
  nodes: Record<string, NodeSpec>;
  links: LinkSpec[];
  /** Link from the root namespace into the lab (for services that lab nodes dial). */
  host?: HostLinkSpec;
  /**
   * Compute shortest-path routes for every announced subnet and loopback address on every
   * node (explicit routes win). Saves listing hundreds of routes by hand.
   */
  autoRoutes?: boolean;
}

/** The pseudo node name of the root namespace in links and routing. */
export const HOST_NODE = "host";

const NODE_NAME = /^[a-z][a-z0-9]{0,7}$/;

/** Thrown for a topology that cannot be built (unknown node, bad name, missing address). */
export class TopologyError extends Error {
  override name = "TopologyError";
}

/** Checks names and references so the build fails before touching the kernel. */
export function validateTopology(topology: Topology): void {
  const names = Object.keys(topology.nodes);
  if (names.length === 0) throw new TopologyError("a topology needs at least one node");
  for (const name of names) {
    if (!NODE_NAME.test(name) || name === HOST_NODE) {
      throw new TopologyError(
        `node name "${name}" must be 1-8 lowercase letters/digits starting with a letter (and not "host")`,
      );
    }
  }
  for (const link of topology.links) {
    for (const end of [link.a, link.b]) {
      if (!(end in topology.nodes))
        throw new TopologyError(`link ${link.a}-${link.b}: unknown node "${end}"`);
    }
    if (link.a === link.b) throw new TopologyError(`link ${link.a}-${link.b} connects a node to itself`);
    if (link.kind === "wire" && !(typeof link.delayMs === "number" && link.delayMs >= 0)) {
      throw new TopologyError(`wire ${link.a}-${link.b} needs delayMs >= 0`);
    }
  }
  for (const [name, spec] of Object.entries(topology.nodes)) {
    for (const [peer, probability] of Object.entries(spec.egressLoss ?? {})) {
      const linked = topology.links.some(
        (l) => (l.a === name && l.b === peer) || (l.b === name && l.a === peer),
      );
      if (!linked)
        throw new TopologyError(`node ${name}: egress loss towards "${peer}", which is not its neighbour`);
      validateLossProbability(probability, `node ${name}: egress loss towards ${peer}`);
    }
    if (spec.answerFrom === "loopback") {
      const ends = topology.links.flatMap((l) => [
        ...(l.a === name && l.aAddr ? [l.aAddr] : []),
        ...(l.b === name && l.bAddr ? [l.bAddr] : []),
      ]);
      const lo = spec.loopback ?? [];
      for (const [key, family] of [
        ["v4", 4],
        ["v6", 6],
      ] as const) {
        const needs = ends.some((e) => e[key] !== undefined);
        const has = lo.some((c) => c.includes(":") === (family === 6));
        if (needs && !has) {
          throw new TopologyError(
            `node ${name} answers from its loopback but has no IPv${family} loopback address`,
          );
        }
      }
    }
  }
  if (topology.host && !(topology.host.node in topology.nodes)) {
    throw new TopologyError(`host link: unknown node "${topology.host.node}"`);
  }
}

/** A loss probability is a number in [0, 1] (0: no loss). */
export function validateLossProbability(probability: number, what: string): void {
  if (
    !(typeof probability === "number" && Number.isFinite(probability) && probability >= 0 && probability <= 1)
  ) {
    throw new TopologyError(`${what}: probability must be a number from 0 to 1, got ${probability}`);
  }
}
