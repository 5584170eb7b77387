import type { DirectedLoss } from "./loss";
import type { AnswerFrom, LinkSpec, NodeSpec, Topology } from "./topology";

/**
 * "The lab internet": the fixed topology every lab test and `lg lab up` builds.
 * See packages/netlab/README.md for the drawing and the reading of each scenario.
 *
 * Address plan: link number L is 198.18.L.0/24 and 2001:2:0:L::/64, end `a` is .1/::1 and
 * end `b` is .2/::2 — so an address names its link. The customer LAN behind the NAT is
 * 198.19.11.0/24 (not routed in the lab), the routing-loop prefix 198.18.59.0/24 exists on no
 * node, and host links take 198.19.255.4s/30 and 2001:2:0:ffss::/64 for slot s.
 */

export type NodeRole = "pop" | "neutral" | "customer" | "router" | "target";

export interface ReferenceNode {
  role: NodeRole;
  /** PoPs and hosts carry the region an agent there would report. */
  region?: string;
  description: string;
}

export const REFERENCE_NODES: Record<string, ReferenceNode> = {
  fra: { role: "pop", region: "eu", description: "PoP Frankfurt" },
  sin: { role: "pop", region: "ap", description: "PoP Singapore" },
  vm: { role: "neutral", region: "eu", description: "neutral VM host" },
  cust: { role: "customer", description: "customer host on a private LAN behind nat" },
  nat: { role: "router", description: "customer router, masquerades the LAN behind its outside address" },
  efra: { role: "router", description: "edge router of fra; sends traffic for sin the long way (via core1)" },
  esin: {
    role: "router",
    description: "edge router of sin; returns traffic for fra the short way (via core3)",
  },
  core1: { role: "router", description: "core; ECMP split towards ecmpa/ecmpb (L4 hash); host link" },
  core2: { role: "router", description: "core" },
  core3: { role: "router", description: "core on the return path sin -> fra only" },
  tclean: { role: "target", description: "clean dual-stack target" },
  throt: { role: "router", description: "drops every 2nd ICMP time-exceeded it sends (throttling)" },
  tthrot: { role: "target", description: "target behind the throttling router" },
  lossy: { role: "router", description: "drops every 4th packet towards tloss (per TTL class)" },
  lossb: { role: "router", description: "router behind the lossy one" },
  tloss: { role: "target", description: "target behind the lossy router" },
  tfilt: { role: "target", description: "drops ICMP echo requests, serves TCP" },
  loopa: { role: "router", description: "routes the loop prefix to loopb" },
  loopb: { role: "router", description: "routes the loop prefix back to loopa" },
  hole: { role: "router", description: "black-holed node: answers nothing, forwards nothing" },
  tbh: { role: "target", description: "target behind the black hole" },
  ecmpa: { role: "router", description: "ECMP branch a" },
  ecmpb: { role: "router", description: "ECMP branch b" },
  ecmpj: { role: "router", description: "joins the ECMP branches" },
  tecmp: { role: "target", description: "target behind the ECMP pair" },
  dla: { role: "router", description: "near end of the delay wire" },
  dlb: { role: "router", description: "far end of the delay wire" },
  tdelay: { role: "target", description: "target behind the delay wire" },
  // The two-way block: ams -> nyc crosses eams, fwda, fwdb, enyc; nyc -> ams returns over enyc, reta, eams.
  ams: { role: "pop", region: "eu", description: "PoP Amsterdam (two-way block)" },
  nyc: { role: "pop", region: "us", description: "PoP New York (two-way block)" },
  eams: {
    role: "router",
    description: "edge router of ams; sends nyc's traffic via fwda; answers from its loopback",
  },
  enyc: {
    role: "router",
    description: "edge router of nyc; returns ams's traffic via reta; answers from the incoming interface",
  },
  fwda: { role: "router", description: "on ams -> nyc only; answers from the incoming interface" },
  fwdb: {
    role: "router",
    description: "on ams -> nyc only; answers the Linux way; switchable 25% loss towards enyc",
  },
  reta: {
    role: "router",
    description: "on nyc -> ams only; answers from its loopback; drops 25% of what it sends towards eams",
  },
};

/** TCP port the filtered target serves. */
export const FILTERED_TCP_PORT = 8080;
/** One-way delay of the wire between dla and dlb, each direction. */
export const WIRE_ONE_WAY_MS = 25;
export const LOOP_PREFIX = "198.18.59.0/24";
export const LOOP_TARGET = "198.18.59.1";
export const CUSTOMER_LAN = "198.19.11.0/24";
/** Every Nth ICMP time-exceeded of throt is dropped (N = 2: 50 % at its hop). */
export const THROTTLE_EVERY = 2;
/** Every Nth packet towards tloss is dropped at lossy (N = 4: 25 % from its hop on). */
export const LOSS_EVERY = 4;
export const LAB_CIDRS = ["198.18.0.0/15", "2001:2::/48"];

/**
 * The two-way block's loopbacks: node k of LOOPBACKS has 198.18.110.k/32 and 2001:2:0:110::k/128
 * ("link" 110 is the loopback block, so these addresses too name where they live).
 */
export const LOOPBACK_LINK = 110;
export const LOOPBACKS = ["eams", "reta"] as const;
/** How the routers of the two-way block answer ICMP errors (see AnswerFrom and the README drawing). */
export const ANSWER_FROM: Record<string, AnswerFrom> = {
  eams: "loopback",
  fwda: "inbound",
  fwdb: "route",
  reta: "loopback",
  enyc: "inbound",
};
/** Fraction reta drops of what it sends towards eams: on from the start (the return-path-only loss of ams -> nyc). */
export const RETURN_LOSS: DirectedLoss = { from: "reta", to: "eams", probability: 0.25 };
/** Fraction fwdb drops towards enyc when switched on (the forward half of "both directions lose"). */
export const FORWARD_LOSS: DirectedLoss = { from: "fwdb", to: "enyc", probability: 0.25 };
/** The directed losses a freshly built reference lab has. */
export const DEFAULT_LOSSES: DirectedLoss[] = [RETURN_LOSS];

export function v4(link: number, end: 1 | 2): string {
  return `198.18.${link}.${end}`;
}

export function v6(link: number, end: 1 | 2): string {
  return `2001:2:0:${link}::${end}`;
}

/** Loopback addresses of a node of the two-way block. */
export function loopbackOf(node: (typeof LOOPBACKS)[number]): { v4: string; v6: string } {
  const k = LOOPBACKS.indexOf(node) + 1;
  return { v4: `198.18.${LOOPBACK_LINK}.${k}`, v6: `2001:2:0:${LOOPBACK_LINK}::${k}` };
}

function link(
  n: number,
  a: string,
  b: string,
  opts: { v6?: boolean; extra?: Partial<LinkSpec> } = {},
): LinkSpec {
  const spec: LinkSpec = {
    a,
    b,
    aAddr: { v4: `${v4(n, 1)}/24` },
    bAddr: { v4: `${v4(n, 2)}/24` },
    ...opts.extra,
  };
  if (opts.v6 && spec.aAddr && spec.bAddr) {
    spec.aAddr.v6 = `${v6(n, 1)}/64`;
    spec.bAddr.v6 = `${v6(n, 2)}/64`;
  }
  return spec;
}

/** Host-link addresses for slot s: 198.19.255.4s+1 (root) / +2 (core1). */
export function hostLinkAddresses(slot: number): {
  host: { v4: string; v6: string };
  lab: { v4: string; v6: string };
} {
  const base = slot * 4;
  const hex = (0xff00 + slot).toString(16);
  return {
    host: { v4: `198.19.255.${base + 1}`, v6: `2001:2:0:${hex}::1` },
    lab: { v4: `198.19.255.${base + 2}`, v6: `2001:2:0:${hex}::2` },
  };
}

export const MAX_HOST_SLOTS = 64;

/** The reference topology; `hostSlot` adds the link from the root namespace to core1. */
export function referenceTopology(hostSlot?: number): Topology {
  const router = (extra: NodeSpec = {}): NodeSpec => ({ router: true, ...extra });
  const lossTarget = v4(32, 2);
  const lossRule = (ttl: string) =>
    `-t raw -A PREROUTING -d ${lossTarget}/32 -m ttl ${ttl} -m statistic --mode nth --every ${LOSS_EVERY} --packet 0 -j DROP`;
  const nodes: Record<string, NodeSpec> = {
    fra: {},
    sin: {},
    vm: {},
    cust: {},
    nat: router({
      iptables: [`-t nat -A POSTROUTING -s ${CUSTOMER_LAN} ! -d ${CUSTOMER_LAN} -j MASQUERADE`],
    }),
    // The asymmetry: efra reaches sin's LAN over core1/core2 although core3 is shorter; the
    // way back (esin -> core3 -> efra) is the automatic shortest path.
    efra: router({
      routes: [
        { to: "198.18.7.0/24", via: v4(2, 2) },
        { to: "2001:2:0:7::/64", via: v6(2, 2) },
      ],
    }),
    esin: router(),
    core1: router({
      sysctls: { "net.ipv4.fib_multipath_hash_policy": 1 },
      routes: [{ to: "198.18.74.0/24", via: [v4(70, 2), v4(71, 2)] }],
    }),
    core2: router(),
    core3: router(),
    tclean: {},
    throt: router({
      iptables: [
        `-A OUTPUT -p icmp --icmp-type time-exceeded -m statistic --mode nth --every ${THROTTLE_EVERY} --packet 0 -j DROP`,
      ],
    }),
    tthrot: {},
    // One nth counter per TTL class, so each hop from lossy on loses exactly 1 in LOSS_EVERY.
    lossy: router({ iptables: [lossRule("--ttl-eq 1"), lossRule("--ttl-eq 2"), lossRule("--ttl-gt 2")] }),
    lossb: router(),
    tloss: {},
    tfilt: {
      iptables: ["-A INPUT -p icmp --icmp-type echo-request -j DROP"],
      processes: [
        { name: "tcp", helper: "tcp-listen.py", argv: [String(FILTERED_TCP_PORT)], readyText: "listening" },
      ],
    },
    loopa: router({ announce: [LOOP_PREFIX], routes: [{ to: LOOP_PREFIX, via: v4(51, 2) }] }),
    // loopb's automatic route for the loop prefix points back at loopa: the loop.
    loopb: router(),
    hole: router({ iptables: ["-A INPUT -j DROP", "-A FORWARD -j DROP", "-A OUTPUT -j DROP"] }),
    tbh: {},
    ecmpa: router(),
    ecmpb: router(),
    ecmpj: router(),
    tecmp: {},
    dla: router(),
    dlb: router(),
    tdelay: {},
    ams: {},
    nyc: {},
    // The way there: eams sends nyc's LAN over fwda (the core, eams-core1-core2-enyc, is as long).
    eams: router({
      answerFrom: ANSWER_FROM.eams,
      loopback: [`${loopbackOf("eams").v4}/32`, `${loopbackOf("eams").v6}/128`],
      routes: [
        { to: "198.18.104.0/24", via: v4(101, 2) },
        { to: "2001:2:0:104::/64", via: v6(101, 2) },
      ],
    }),
    fwda: router({ answerFrom: ANSWER_FROM.fwda }),
    fwdb: router({ answerFrom: ANSWER_FROM.fwdb }),
    // The way back: enyc returns ams's LAN over reta (also the shortest path; explicit all the same).
    enyc: router({
      answerFrom: ANSWER_FROM.enyc,
      routes: [
        { to: "198.18.100.0/24", via: v4(106, 1) },
        { to: "2001:2:0:100::/64", via: v6(106, 1) },
      ],
    }),
    reta: router({
      answerFrom: ANSWER_FROM.reta,
      loopback: [`${loopbackOf("reta").v4}/32`, `${loopbackOf("reta").v6}/128`],
      egressLoss: { [RETURN_LOSS.to]: RETURN_LOSS.probability },
    }),
  };
  const links: LinkSpec[] = [
    link(1, "fra", "efra", { v6: true }),
    link(2, "efra", "core1", { v6: true }),
    link(3, "core1", "core2", { v6: true }),
    link(4, "core2", "esin", { v6: true }),
    link(5, "esin", "core3", { v6: true }),
    link(6, "core3", "efra", { v6: true }),
    link(7, "esin", "sin", { v6: true }),
    link(8, "core2", "vm", { v6: true }),
    link(9, "core2", "tclean", { v6: true }),
    link(10, "core3", "nat"),
    {
      a: "nat",
      b: "cust",
      aAddr: { v4: "198.19.11.1/24" },
      bAddr: { v4: "198.19.11.2/24" },
      announce: false,
    },
    link(20, "core1", "throt"),
    link(21, "throt", "tthrot"),
    link(30, "core1", "lossy"),
    link(31, "lossy", "lossb"),
    link(32, "lossb", "tloss"),
    link(40, "core2", "tfilt"),
    link(50, "core1", "loopa"),
    link(51, "loopa", "loopb"),
    link(60, "core2", "hole"),
    link(61, "hole", "tbh"),
    link(70, "core1", "ecmpa"),
    link(71, "core1", "ecmpb"),
    link(72, "ecmpa", "ecmpj"),
    link(73, "ecmpb", "ecmpj"),
    link(74, "ecmpj", "tecmp"),
    link(80, "core1", "dla"),
    link(81, "dla", "dlb", { extra: { kind: "wire", delayMs: WIRE_ONE_WAY_MS } }),
    link(82, "dlb", "tdelay"),
    // The two-way block; links to core1 and core2 carry the agents' way to the host link.
    link(100, "ams", "eams", { v6: true }),
    link(101, "eams", "fwda", { v6: true }),
    link(102, "fwda", "fwdb", { v6: true }),
    link(103, "fwdb", "enyc", { v6: true }),
    link(104, "enyc", "nyc", { v6: true }),
    link(105, "eams", "reta", { v6: true }),
    link(106, "reta", "enyc", { v6: true }),
    link(107, "core1", "eams", { v6: true }),
    link(108, "core2", "enyc", { v6: true }),
  ];
  const topology: Topology = { nodes, links, autoRoutes: true };
  if (hostSlot !== undefined) {
    const addrs = hostLinkAddresses(hostSlot);
    topology.host = {
      node: "core1",
      hostAddr: { v4: `${addrs.host.v4}/30`, v6: `${addrs.host.v6}/64` },
      nodeAddr: { v4: `${addrs.lab.v4}/30`, v6: `${addrs.lab.v6}/64` },
      routes: LAB_CIDRS,
    };
  }
  return topology;
}
