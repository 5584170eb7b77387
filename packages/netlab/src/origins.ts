import type { LabPlan } from "./plan";
import { REFERENCE_NODES } from "./reference-topology";

/** A host prefix of the reference lab and the pretend network (AS) that owns it. */
export interface LabOrigin {
  cidr: string;
  asn: number;
  owner: string;
}

/** The reference lab's pretend networks: each PoP's access network, the backbone, the hosting network. */
function networkOf(node: string): { asn: number; owner: string } {
  if (node === "fra" || node === "efra") return { asn: 64501, owner: "Lab Access Frankfurt" };
  if (node === "sin" || node === "esin") return { asn: 64502, owner: "Lab Access Singapore" };
  if (node === "cust" || node === "nat") return { asn: 64503, owner: "Lab Customer ISP" };
  if (node === "vm") return { asn: 64504, owner: "Lab Cloud" };
  if (node === "ams" || node === "eams") return { asn: 64505, owner: "Lab Access Amsterdam" };
  if (node === "nyc" || node === "enyc") return { asn: 64506, owner: "Lab Access New York" };
  const role = (REFERENCE_NODES as Record<string, { role: string } | undefined>)[node]?.role;
  if (role === "target") return { asn: 64520, owner: "Lab Hosting" };
  return { asn: 64510, owner: "Lab Backbone Carrier" };
}

/**
 * One entry per interface and loopback address of the reference lab, naming the pretend network that owns the
 * node, so the coordinator's origin-AS lookup (an operator prefix table) can say which "carrier"
 * a hop belongs to. Lines for a prefix-table file: `${cidr},${asn},${owner}`.
 */
export function labOrigins(plan: LabPlan): LabOrigin[] {
  const out: LabOrigin[] = [];
  for (const node of plan.nodes.values()) {
    const net = networkOf(node.name);
    for (const iface of node.interfaces) {
      if (iface.peer === "host") continue;
      if (iface.v4) out.push({ cidr: `${iface.v4.split("/")[0]}/32`, ...net });
      if (iface.v6) out.push({ cidr: `${iface.v6.split("/")[0]}/128`, ...net });
    }
    for (const lo of node.loopback)
      out.push({ cidr: `${lo.split("/")[0]}/${lo.includes(":") ? 128 : 32}`, ...net });
  }
  return out;
}
