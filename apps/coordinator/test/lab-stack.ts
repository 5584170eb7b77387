import { join } from "node:path";
import { diagnose } from "@lg/analysis";
import { type LabProcess, type ReferenceLab, startReferenceLab } from "@lg/netlab";
import type { AgentView } from "@lg/protocol";
import { lgBin, repoRoot, type Stack, startStack, waitForAgents } from "./harness";

export { lgBin };

/** Lab nodes that run a PoP agent. */
export const LAB_POPS = ["fra", "sin"] as const;

export interface LabStack {
  lab: ReferenceLab;
  stack: Stack;
  /** The coordinator's main URL (127.0.0.1, for clients in the root namespace). */
  url: string;
  agents: Map<string, LabProcess>;
  /** Agents as the coordinator lists them once they are all online. */
  online: AgentView[];
  /** What the agents printed, for failure messages. */
  output(): string;
  /** Agents, coordinator, NATS, then the lab; safe to call after a failed start. */
  stop(): Promise<void>;
}

/**
 * The reference lab with the real stack on top: nats-server and the coordinator listen on
 * 127.0.0.1 and on the lab's host-side address, one real agent process (`lg agent`) runs inside
 * each PoP namespace (fra, sin) and reaches NATS over the lab, and the coordinator and the agents
 * allow-list only the lab's ranges. Final results are diagnosed with @lg/analysis.
 */
export async function startLabStack(opts: { pops?: readonly string[] } = {}): Promise<LabStack> {
  const pops = opts.pops ?? LAB_POPS;
  const lab = await startReferenceLab();
  const agents = new Map<string, LabProcess>();
  let stack: Stack | undefined;
  let out = "";
  const stop = async () => {
    await Promise.all([...agents.values()].map((a) => a.stop("SIGTERM").catch(() => null)));
    await stack?.stop().catch(() => {});
    await lab.down();
  };
  try {
    const hostAddress = lab.hostAddress.v4;
    if (!hostAddress) throw new Error("the reference lab was built without its host link");
    const allow = lab.labCidrs.join(",");
    stack = await startStack("pglite", {
      allow,
      natsHost: hostAddress,
      extraHosts: [hostAddress],
      diagnose: (result) => diagnose(result.hops, result.address ? { destination: result.address } : {}),
    });
    for (const node of pops) {
      const proc = lab.spawn(
        node,
        [process.execPath, "--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), "agent"],
        {
          cwd: repoRoot,
          env: {
            NATS_URL: stack.nats.url,
            LG_AGENT_ID: node,
            LG_REGION: lab.nodes[node]?.region ?? "lab",
            LG_ROLE: "pop",
            LG_ALLOW_TARGETS: allow,
            LG_PUBLIC_ADDRS: lab.addr(node),
            LG_DATA_DIR: join(stack.dir, "agents", node),
            LOG_LEVEL: "warn",
          },
        },
      );
      proc.stdout.on("data", (d: Buffer) => {
        out += d;
      });
      proc.stderr.on("data", (d: Buffer) => {
        out += d;
      });
      agents.set(node, proc);
    }
    const url = stack.coordinator.url;
    const online = await waitForAgents(url, [...pops], 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${out}`);
    });
    return { lab, stack, url, agents, online, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
