import { join } from "node:path";
import {
  LAB_WRONG_PLACE,
  type LabProcess,
  labOrigins,
  labPlaceTable,
  labPopLocation,
  type ReferenceLab,
  startReferenceLab,
} from "@lg/netlab";
import type { Command } from "commander";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { USAGE } from "../options";
import { exitAfterShutdown, untilSignal } from "./coordinator";
import { agentEnv, type LocalStack, selfCommand, startLocalStack } from "./up";

/** Lab nodes that run an agent in the demo, with the role and region each reports. */
const DEMO_AGENTS = [
  { node: "fra", role: "pop" },
  { node: "sin", role: "pop" },
  { node: "ams", role: "pop" },
  { node: "nyc", role: "pop" },
  { node: "vm", role: "neutral" },
  { node: "cust", role: "neutral" },
] as const;

/**
 * Starts one agent inside each demo node of the lab. They reach NATS over the lab's host link,
 * and their pipes are drained to stderr so a chatty agent never blocks on a full pipe.
 */
export function startLabAgents(
  lab: ReferenceLab,
  stack: LocalStack,
  natsUrl: string,
): Map<string, LabProcess> {
  const agents = new Map<string, LabProcess>();
  for (const { node, role } of DEMO_AGENTS) {
    const proc = lab.spawn(node, selfCommand("agent"), {
      env: agentEnv(stack, natsUrl, {
        LG_AGENT_ID: node,
        LG_REGION: lab.nodes[node]?.region ?? "customer",
        LG_ROLE: role,
        LG_PUBLIC_ADDRS: lab.addr(node),
        // Where the lab says the node is: one metro, as its microsecond delays demand.
        LG_LOCATION: labPopLocation(node).location,
        LG_CITY: labPopLocation(node).city,
        LG_DATA_DIR: join(stack.dataDir, "agents", node),
      }),
    });
    proc.stdout.on("data", (d: Buffer) => process.stderr.write(d));
    proc.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    agents.set(node, proc);
  }
  return agents;
}

/**
 * `lg demo`: `lg up` plus the reference lab with agents inside its PoPs (fra, sin, and ams, nyc of
 * the two-way block), VM and customer host. The lab comes up with reta dropping 25% towards eams.
 */
export function register(command: Command): void {
  command.action(async () => {
    if (process.getuid?.() !== 0) throw new CliError("lg demo builds network namespaces and needs root");
    const config = loadCliConfig();
    const external = config.natsUrl;
    if (external && /(^|\/\/|,)(127\.|localhost|\[::1\])/.test(external)) {
      throw new CliError(
        "NATS_URL points at a loopback address, which agents inside the lab cannot reach; unset it (lg demo then starts its own NATS) or give an address the lab can route to",
        USAGE,
      );
    }
    process.stdout.write("building the lab internet…\n");
    let lab: ReferenceLab;
    try {
      lab = await startReferenceLab();
    } catch (err) {
      throw new CliError(`cannot build the lab: ${(err as Error).message.split("\n")[0]}`);
    }
    let stack: LocalStack | undefined;
    let agents = new Map<string, LabProcess>();
    try {
      if (!lab.hostAddress.v4) throw new CliError("the lab was built without its host link");
      stack = await startLocalStack(config, {
        extraAllow: lab.labCidrs,
        extraHosts: [lab.hostAddress.v4],
        // The lab's pretend networks, so hops name their "carrier" like public ones do.
        asnPrefixes: labOrigins(lab.plan).map((o) => `${o.cidr},${o.asn},${o.owner}`),
        // The lab's places, with one deliberately wrong (see packages/netlab, Places).
        geoPrefixes: labPlaceTable(lab.plan),
      });
      // Lab agents dial NATS on the host-side lab address (an extra listener of the local server).
      const labNats = stack.nats?.extraUrls[0] ?? stack.natsUrl;
      agents = startLabAgents(lab, stack, labNats);
      const url = stack.coordinator.url;
      const labUrl = stack.coordinator.urls[1] ?? url;
      const s = lab.scenarios;
      process.stdout.write(
        [
          `lg demo is up: ${url}  (inside the lab: ${labUrl})`,
          `  agents   ${DEMO_AGENTS.map((a) => `${a.node} (${a.role})`).join(", ")} in lab ${lab.prefix}`,
          `  targets  the lab ranges ${lab.labCidrs.join(", ")} are allow-listed`,
          "Try (in another terminal):",
          `  bin/lg measure --from fra,sin ${s.clean.target}        # ${s.clean.description}`,
          `  bin/lg measure --from fra ${s.loss.target}             # ${s.loss.description}`,
          `  bin/lg measure --from fra ${s.throttle.target}         # ${s.throttle.description}`,
          `  bin/lg measure --from fra -T -P ${s.filtered.tcpPort ?? 8080} ${s.filtered.target}  # ${s.filtered.description}`,
          `  bin/lg path fra sin                                  # both directions at once: ${s.asym.description}`,
          `  bin/lg path ams nyc                                  # ${lab.pairs.retloss.description}`,
          `  the map: every lab PoP and router is in Frankfurt as far as light can tell (microseconds apart), tdelay`,
          `    25 ms away in Lisbon; ${LAB_WRONG_PLACE.address} (${LAB_WRONG_PLACE.node}) is placed in ${LAB_WRONG_PLACE.place.city} on purpose: the page marks it implausible`,
          `  bin/lg measure --geo --from fra ${s.delay.target}      # city and country per hop`,
          `  bin/lg lab loss --prefix ${lab.prefix} fwdb enyc 0.25   # then both directions of ams <-> nyc lose (0 switches it off)`,
          "  a customer behind the lab's NAT (asked on the lab-side address, so the command works inside the lab):",
          `    curl -s -XPOST ${labUrl}/api/v1/reverse-sessions -H 'content-type: application/json' -d '{"server":{"host":"${s.clean.target}"},"via":"vm"}'`,
          `    ip netns exec ${lab.ns("cust")} sh    # a shell on the customer's host: paste the command it printed`,
          `  curl ${url}/api/v1/agents`,
          "Ctrl-C stops everything and removes the lab.",
          "",
        ].join("\n"),
      );
      await untilSignal();
      process.stdout.write("lg: stopping…\n");
    } finally {
      await Promise.all([...agents.values()].map((a) => a.stop("SIGTERM")));
      await stack?.stop();
      await lab.down();
    }
    exitAfterShutdown();
  });
}
