import type { Family } from "./address";
import { buildLab, type LabHandle, randomPrefix } from "./lab";
import { nodeAddress } from "./reference";
import { LabError, runChecked } from "./system";
import { numberedLink as link, type NodeSpec, type Topology } from "./topology";

/**
 * The flow lab: what ECMP routers hash, a NAT that shows in ICMP quotes, and a way back that
 * differs from the way there — the ground for flow pinning, `--mda`, NAT detection and Record
 * Route (issue 15). Dual-stack, built in its own namespaces (no host link).
 *
 * ```
 *                     ┌─151── bra ──153─┐
 *  src ──150── split ─┤                 ├─ join ──155── tflow      (ECMP: TTL 2 is bra or brb)
 *                │    └─152── brb ──154─┘
 *                ├──160── nat ──161── outer ──162── tnat          (NAT between hop 2 and hop 3)
 *                ├──170── rrthere ──171── trr                     (the way there)
 *                └──173── rrback ──172───┘                        (trr's way back)
 * ```
 *
 * Link L is 198.18.L.0/24 and 2001:2:0:L::/64 (end `a` .1/::1, end `b` .2/::2), L in 150-173,
 * which no other lab topology uses.
 *
 * - **split** balances tflow's prefix over bra and brb the way ECMP routers do, per protocol on
 *   the fields of a flow: UDP and TCP on the 5-tuple (`fib_multipath_hash_policy=1` in both
 *   families, with a fixed `fib_multipath_hash_seed` so which branch a flow takes is the same in
 *   every run); ICMP and ICMPv6 on the first four bytes of the ICMP header, checksum included, as
 *   real routers do (the kernel hashes ICMP on addresses only, so an xt_bpf match computes a
 *   one-bit hash of those bytes and sets a fwmark, and `ip rule fwmark` picks a table with one
 *   branch). Echo probes vary the checksum with the sequence number, so free ICMP spreads; an
 *   ICMP probe that holds its checksum keeps to one branch.
 * - **nat** rewrites src's address to its own outside address statelessly (nftables payload
 *   statements, no conntrack) on the way out and back on the way in; see natRuleset.
 * - **trr** answers src over rrback (its route back), while src reaches it over rrthere: an echo
 *   with Record Route records rrback, which no forward trace shows.
 */

/** Link numbers of the flow lab (the third octet / fourth IPv6 group of their subnets). */
export const FLOW_LINKS = {
  srcSplit: 150,
  splitA: 151,
  splitB: 152,
  aJoin: 153,
  bJoin: 154,
  joinTarget: 155,
  splitNat: 160,
  natOuter: 161,
  outerTarget: 162,
  splitThere: 170,
  thereTarget: 171,
  targetBack: 172,
  backSplit: 173,
} as const;

/** Node roles, for readers of the lab (each node's part in the drawing above). */
export const FLOW_NODES: Record<string, string> = {
  src: "the prober",
  split: "ECMP router: UDP/TCP on the 5-tuple, ICMP on the ICMP checksum; routes the NAT and RR legs",
  bra: "ECMP branch a",
  brb: "ECMP branch b",
  join: "joins the branches",
  tflow: "target behind the ECMP pair; TCP listener on FLOW_TCP_PORT",
  nat: "stateless NAT: src's address becomes its outside address on the way out",
  outer: "router beyond the NAT",
  tnat: "target beyond the NAT; TCP listener on FLOW_TCP_PORT",
  rrthere: "on the way to trr only",
  trr: "Record Route target: answers over rrback",
  rrback: "on trr's way back only",
};

/** TCP port the targets listen on (a SYN-ACK ends a TCP trace there). */
export const FLOW_TCP_PORT = 8080;
/** The fwmark and routing table of each branch for ICMP (parity 0 -> a, 1 -> b: icmpParityBytecode). */
export const ICMP_SPLIT_TABLES = { a: 151, b: 152 } as const;
/** A fixed multipath hash seed: which branch a given 5-tuple takes is the same in every build. */
export const FLOW_HASH_SEED = 1515;
/** Hop (TTL from src) where the ECMP pair answers, and where the NAT sits (between k and k+1). */
export const ECMP_TTL = 2;
export const NAT_AFTER_TTL = 2;

const v4 = (n: number, end: 1 | 2) => `198.18.${n}.${end}`;
const v6 = (n: number, end: 1 | 2) => `2001:2:0:${n}::${end}`;
const net4 = (n: number) => `198.18.${n}.0/24`;
const net6 = (n: number) => `2001:2:0:${n}::/64`;

/**
 * A classic BPF program (xt_bpf `--bytecode`) that hashes the first four bytes of the ICMP header
 * — type, code, checksum — to one bit: their parity (the XOR of all 32 bits). It runs on the
 * packet from its network header: IPv4 skips the header by its IHL, IPv6 reads at 40 (no
 * extension headers in the lab). One bit of the checksum alone would not do: a prober whose
 * sequence numbers at one TTL step by an even number (one probe per TTL per cycle, four TTLs)
 * keeps that bit, and would look pinned when it is not.
 */
export function icmpParityBytecode(family: Family): string {
  const [LDX_MSH, LD_W_IND, LD_W_ABS, TAX, RSH_K, XOR_X, AND_K, RET_A] = [
    0xb1, 0x40, 0x20, 0x07, 0x74, 0xac, 0x54, 0x16,
  ];
  const load =
    family === 4
      ? [
          [LDX_MSH, 0],
          [LD_W_IND, 0],
        ]
      : [[LD_W_ABS, 40]];
  const fold = [16, 8, 4, 2, 1].flatMap((shift) => [
    [TAX, 0],
    [RSH_K, shift],
    [XOR_X, 0],
  ]);
  const program = [...load, ...fold, [AND_K, 1], [RET_A, 0]] as [number, number][];
  return [String(program.length), ...program.map(([code, k]) => `${code} 0 0 ${k}`)].join(",");
}

function splitRules(family: Family): string[] {
  const L = FLOW_LINKS;
  const proto = family === 4 ? "icmp" : "ipv6-icmp";
  const dest = family === 4 ? net4(L.joinTarget) : net6(L.joinTarget);
  const icmp = `-t mangle -A PREROUTING -p ${proto} -d ${dest}`;
  // MARK does not end the chain: every ICMP probe gets a's mark, odd parity then b's.
  return [
    `${icmp} -j MARK --set-mark ${ICMP_SPLIT_TABLES.a}`,
    `${icmp} -m bpf --bytecode "${icmpParityBytecode(family)}" -j MARK --set-mark ${ICMP_SPLIT_TABLES.b}`,
  ];
}

/** The flow lab's topology (policy routes and the NAT's nftables come on top: startFlowLab). */
export function flowTopology(): Topology {
  const L = FLOW_LINKS;
  const router = (extra: NodeSpec = {}): NodeSpec => ({ router: true, ...extra });
  const listener = {
    processes: [
      {
        name: "tcp",
        helper: "tcp-listen.py" as const,
        argv: [String(FLOW_TCP_PORT)],
        readyText: "listening",
      },
    ],
  };
  return {
    autoRoutes: true,
    nodes: {
      src: {},
      split: router({
        sysctls: {
          "net.ipv4.fib_multipath_hash_policy": 1,
          "net.ipv6.fib_multipath_hash_policy": 1,
          "net.ipv4.fib_multipath_hash_seed": FLOW_HASH_SEED,
        },
        routes: [
          { to: net4(L.joinTarget), via: [v4(L.splitA, 2), v4(L.splitB, 2)] },
          { to: net6(L.joinTarget), via: [v6(L.splitA, 2), v6(L.splitB, 2)] },
          // trr is two hops away either way: the way there is rrthere (trr returns over rrback).
          { to: net4(L.thereTarget), via: v4(L.splitThere, 2) },
          { to: net6(L.thereTarget), via: v6(L.splitThere, 2) },
        ],
        iptables: splitRules(4),
        ip6tables: splitRules(6),
      }),
      bra: router(),
      brb: router(),
      join: router(),
      tflow: listener,
      nat: router(),
      outer: router(),
      tnat: listener,
      rrthere: router(),
      trr: {
        routes: [
          { to: net4(L.srcSplit), via: v4(L.targetBack, 2) },
          { to: net6(L.srcSplit), via: v6(L.targetBack, 2) },
        ],
      },
      rrback: router(),
    },
    links: [
      link(L.srcSplit, "src", "split"),
      link(L.splitA, "split", "bra"),
      link(L.splitB, "split", "brb"),
      link(L.aJoin, "bra", "join"),
      link(L.bJoin, "brb", "join"),
      link(L.joinTarget, "join", "tflow"),
      link(L.splitNat, "split", "nat"),
      link(L.natOuter, "nat", "outer"),
      link(L.outerTarget, "outer", "tnat"),
      link(L.splitThere, "split", "rrthere"),
      link(L.thereTarget, "rrthere", "trr"),
      link(L.targetBack, "trr", "rrback"),
      link(L.backSplit, "rrback", "split"),
    ],
  };
}

/** `ip rule` + one-route tables on split: a fwmark set by the checksum rule picks a branch. */
function splitPolicyBatch(family: Family): string {
  const L = FLOW_LINKS;
  const dest = family === 4 ? net4(L.joinTarget) : net6(L.joinTarget);
  const via = (n: number) => (family === 4 ? v4(n, 2) : v6(n, 2));
  return [
    `route replace ${dest} via ${via(L.splitA)} table ${ICMP_SPLIT_TABLES.a}`,
    `route replace ${dest} via ${via(L.splitB)} table ${ICMP_SPLIT_TABLES.b}`,
    `rule add fwmark ${ICMP_SPLIT_TABLES.a} lookup ${ICMP_SPLIT_TABLES.a} pref 1000`,
    `rule add fwmark ${ICMP_SPLIT_TABLES.b} lookup ${ICMP_SPLIT_TABLES.b} pref 1001`,
    "",
  ].join("\n");
}

/**
 * nat's nftables ruleset: src's address becomes nat's outside address towards outer and back
 * again on what comes in from outer, statelessly (`notrack`; payload statements fix the IP
 * header checksum and the transport checksum's pseudo-header). Neighbour discovery to nat's own
 * IPv6 address is left alone.
 *
 * Why stateless. Checked by hand on this kernel (6.18), UDP probes built whole (the
 * checksum computed by the sender, as lg-probe and mtr-packet do) from src at TTL 1-4 towards
 * tnat, sent checksum 0x2844:
 *
 * - conntrack MASQUERADE on nat: every hop quotes 198.18.150.1:40000 and 0x2844 — the NAT
 *   restores the quote completely (nf_nat_icmp_reply_translation runs the inner header through
 *   the reverse manip: address, port or echo id, and the UDP/TCP/ICMPv6 checksum). Invisible.
 *   (Probes from an ordinary UDP socket leave with a partial checksum over veth, and then the
 *   restored quote's checksum differs: an artefact of checksum offload, not of the NAT.)
 * - this stateless rewrite (nftables `ip saddr set` / `ip daddr set`, `notrack`): hops 1-2 quote
 *   198.18.150.1 and 0x2844, hops 3-4 quote 198.18.161.1 and 0x1d44 (the payload statement fixed
 *   the pseudo-header's share). IPv6 the same (0xa9b2 -> 0xa9a1). It rewrites only the outer
 *   header of what passes, so the errors of routers beyond it keep the rewritten quote; nat's own
 *   error quotes what src sent (the TTL runs out before its postrouting rewrite).
 *
 * IPv4 ICMP probes keep their checksum (no pseudo-header) and show the NAT by address only.
 */
function natRuleset(
  outside: string,
  inside: { v4: string; v6: string },
  out: { v4: string; v6: string },
): string {
  return `table inet lgnat {
  chain raw_pre {
    type filter hook prerouting priority raw; policy accept;
    notrack
    iifname "${outside}" ip daddr ${out.v4} ip daddr set ${inside.v4}
    iifname "${outside}" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert, nd-redirect } accept
    iifname "${outside}" ip6 daddr ${out.v6} ip6 daddr set ${inside.v6}
  }
  chain raw_out {
    type filter hook output priority raw; policy accept;
    notrack
  }
  chain post {
    type filter hook postrouting priority srcnat; policy accept;
    oifname "${outside}" ip saddr ${inside.v4} ip saddr set ${out.v4}
    oifname "${outside}" ip6 saddr ${inside.v6} ip6 saddr set ${out.v6}
  }
}
`;
}

export interface FlowLab extends LabHandle {
  /** A node's main address (its first link's) in a family. */
  addr(node: string, family?: Family): string;
  ecmp: {
    from: "src";
    /** tflow's address per family. */
    target: Record<Family, string>;
    ttl: number;
    /** bra's and brb's addresses as src sees them at `ttl`, per family. */
    branches: Record<Family, { a: string; b: string }>;
    tcpPort: number;
  };
  nat: {
    from: "src";
    target: Record<Family, string>;
    /** The NAT sits between hop `afterTtl` and hop `afterTtl + 1`. */
    afterTtl: number;
    /** Responder per TTL (split, nat, outer, tnat), per family. */
    hops: Record<Family, string[]>;
    /** src's address, and what nat rewrites it to. */
    inside: Record<Family, string>;
    outside: Record<Family, string>;
    tcpPort: number;
  };
  recordRoute: {
    from: "src";
    /** trr's IPv4 address (Record Route is an IPv4 option). */
    target: string;
    /** Responder per TTL of the way there (split, rrthere, trr). */
    hops: string[];
    /** What the reply to a Record Route echo carries, in order: there, the target, back. */
    recorded: string[];
    /** The router only the way back crosses (rrback's recording address). */
    returnOnly: string;
  };
}

/**
 * Builds the flow lab with a per-run prefix: the topology, then split's policy routes and nat's
 * nftables ruleset (`nft` from the Debian package nftables).
 *
 * @example
 * const lab = await startFlowLab();
 * await lab.exec("src", ["mtr", "-n", "-r", "-u", lab.ecmp.target[4]]); // both branches at TTL 2
 * await lab.down();
 */
export async function startFlowLab(opts: { prefix?: string } = {}): Promise<FlowLab> {
  const L = FLOW_LINKS;
  const lab = await buildLab(flowTopology(), { prefix: opts.prefix ?? randomPrefix() });
  try {
    for (const family of [4, 6] as const) {
      await runChecked(["ip", `-${family}`, "-n", lab.ns("split"), "-batch", "-"], {
        input: splitPolicyBatch(family),
      });
    }
    const natOut = lab.plan.nodes.get("nat")?.interfaces.find((i) => i.peer === "outer");
    if (!natOut) throw new LabError("flow lab: nat has no interface towards outer");
    const inside = { v4: v4(L.srcSplit, 1), v6: v6(L.srcSplit, 1) };
    const outside = { v4: v4(L.natOuter, 1), v6: v6(L.natOuter, 1) };
    await runChecked(["ip", "netns", "exec", lab.ns("nat"), "nft", "-f", "-"], {
      input: natRuleset(natOut.name, inside, outside),
    });
    const addr = (node: string, family: Family = 4) => nodeAddress(lab.plan, node, family);
    return Object.assign(lab, {
      addr,
      ecmp: {
        from: "src" as const,
        target: { 4: v4(L.joinTarget, 2), 6: v6(L.joinTarget, 2) },
        ttl: ECMP_TTL,
        // IPv4 answers from the route back (the branch's link to split), IPv6 from the inbound
        // interface: the same link either way.
        branches: {
          4: { a: v4(L.splitA, 2), b: v4(L.splitB, 2) },
          6: { a: v6(L.splitA, 2), b: v6(L.splitB, 2) },
        },
        tcpPort: FLOW_TCP_PORT,
      },
      nat: {
        from: "src" as const,
        target: { 4: v4(L.outerTarget, 2), 6: v6(L.outerTarget, 2) },
        afterTtl: NAT_AFTER_TTL,
        hops: {
          4: [L.srcSplit, L.splitNat, L.natOuter, L.outerTarget].map((n) => v4(n, 2)),
          6: [L.srcSplit, L.splitNat, L.natOuter, L.outerTarget].map((n) => v6(n, 2)),
        },
        inside: { 4: inside.v4, 6: inside.v6 },
        outside: { 4: outside.v4, 6: outside.v6 },
        tcpPort: FLOW_TCP_PORT,
      },
      recordRoute: {
        from: "src" as const,
        target: v4(L.thereTarget, 2),
        hops: [L.srcSplit, L.splitThere, L.thereTarget].map((n) => v4(n, 2)),
        // Read by hand on this kernel (lg-probe, which builds the option empty): each router
        // records the address it sends the packet out of, trr the address the echo came to and
        // again the reply's source, src itself on receipt. (A sender that sets the option with
        // IP_OPTIONS on its socket gets its own address recorded first as well.)
        recorded: [
          v4(L.splitThere, 1),
          v4(L.thereTarget, 1),
          v4(L.thereTarget, 2),
          v4(L.thereTarget, 2),
          v4(L.backSplit, 1),
          v4(L.srcSplit, 2),
          v4(L.srcSplit, 1),
        ],
        returnOnly: v4(L.backSplit, 1),
      },
    });
  } catch (err) {
    await lab.down();
    throw err;
  }
}
