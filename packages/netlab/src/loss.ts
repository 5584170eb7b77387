import { type LabPlan, type PlannedInterface, peerInterface } from "./plan";
import { LabError, run } from "./system";
import { TopologyError, validateLossProbability } from "./topology";

/**
 * Directed loss: a node drops a fraction of the packets it sends out towards one neighbour —
 * the packets it forwards there and its own (e.g. its ICMP answers), IPv4 and IPv6 — and nothing
 * in the other direction. One iptables chain per neighbour (`lg-loss-<neighbour>`), jumped to
 * from FORWARD and OUTPUT, holds a `-o <interface> -m statistic --mode random` DROP; clearing
 * removes the chain and its jumps, so setting and clearing never touch the node's other rules.
 */
export interface DirectedLoss {
  /** The node that drops. */
  from: string;
  /** The neighbour the dropped packets were going to. */
  to: string;
  /** Fraction of the packets from `from` towards `to` dropped (0-1). */
  probability: number;
}

/** The chain holding a node's loss towards `toward`. */
export function lossChain(toward: string): string {
  return `lg-loss-${toward}`;
}

/**
 * Neighbour discovery is exempt: a node that lost a quarter of its neighbour solicitations would
 * add resolution delays of its own to the loss asked for (IPv4's ARP is not IP, so iptables never
 * sees it).
 */
const ND_TYPES = ["neighbour-solicitation", "neighbour-advertisement"];

/** iptables-restore input (`--noflush`) that creates the chain and its two jumps. */
export function lossRestoreInput(family: 4 | 6, iface: string, toward: string, probability: number): string {
  const chain = lossChain(toward);
  const lines = ["*filter", `:${chain} - [0:0]`];
  if (family === 6) {
    for (const type of ND_TYPES) lines.push(`-A ${chain} -p ipv6-icmp --icmpv6-type ${type} -j RETURN`);
  }
  lines.push(
    `-A ${chain} -o ${iface} -m statistic --mode random --probability ${probability} -j DROP`,
    `-I FORWARD 1 -j ${chain}`,
    `-I OUTPUT 1 -j ${chain}`,
    "COMMIT",
    "",
  );
  return lines.join("\n");
}

/** Shell script run inside the node: removes the chain (and every jump to it), then installs the new one. */
const SCRIPT = `
for t in iptables ip6tables; do
  while $t -w -D FORWARD -j "$CHAIN" 2>/dev/null; do :; done
  while $t -w -D OUTPUT -j "$CHAIN" 2>/dev/null; do :; done
  $t -w -F "$CHAIN" 2>/dev/null
  $t -w -X "$CHAIN" 2>/dev/null
done
if [ -n "$V4" ]; then printf '%s' "$V4" | iptables-restore -w --noflush || exit 1; fi
if [ -n "$V6" ]; then printf '%s' "$V6" | ip6tables-restore -w --noflush || exit 1; fi
exit 0
`;

/** The interface of `from` that leads to `toward`, in a plan. */
export function interfaceTowards(plan: LabPlan, from: string, toward: string): PlannedInterface {
  const node = plan.nodes.get(from);
  if (!node) throw new TopologyError(`no node "${from}" in lab ${plan.prefix}`);
  const iface = node.interfaces.find((i) => i.peer === toward && peerInterface(plan, from, i));
  if (!iface) throw new TopologyError(`node ${from} has no link to "${toward}"`);
  return iface;
}

/**
 * Makes `from` drop `probability` of what it sends towards `toward` (0 clears it). Replaces any
 * loss set before on that stretch.
 */
export async function applyLinkLoss(
  plan: LabPlan,
  from: string,
  toward: string,
  probability: number,
): Promise<void> {
  validateLossProbability(probability, `loss ${from} -> ${toward}`);
  const iface = interfaceTowards(plan, from, toward);
  const ns = plan.nodes.get(from)?.ns ?? "";
  const env: Record<string, string> = { CHAIN: lossChain(toward), V4: "", V6: "" };
  if (probability > 0) {
    env.V4 = lossRestoreInput(4, iface.name, toward, probability);
    env.V6 = lossRestoreInput(6, iface.name, toward, probability);
  }
  const r = await run(["ip", "netns", "exec", ns, "sh", "-c", SCRIPT], { env, timeoutMs: 15_000 });
  if (r.code !== 0) {
    throw new LabError(
      `cannot set loss ${from} -> ${toward} in ${ns}: ${r.stderr.trim() || `exit ${r.code}`}`,
    );
  }
}
