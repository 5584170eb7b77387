import type { AgentRow } from "@lg/db";
import { ApiError } from "../errors";

/**
 * Resolves the `from` selectors (agent ids and `region:<r>`) to online agents.
 * Without selectors: every online PoP agent.
 */
export function selectAgents(all: AgentRow[], from: string[] | undefined): AgentRow[] {
  if (!from) {
    const pops = all.filter((a) => a.online && a.role === "pop");
    if (pops.length === 0) throw new ApiError(409, "no_agents_online", "no PoP agent is online", "from");
    return pops;
  }
  const chosen = new Map<string, AgentRow>();
  for (const selector of from) {
    if (selector.startsWith("region:")) {
      const region = selector.slice("region:".length);
      const inRegion = all.filter((a) => a.region === region);
      const online = inRegion.filter((a) => a.online);
      if (online.length === 0) {
        const why = inRegion.length === 0 ? "has no agents" : "has no agent online";
        throw new ApiError(409, "no_agents_online", `region '${region}' ${why}`, "from");
      }
      for (const a of online) chosen.set(a.id, a);
      continue;
    }
    const agent = all.find((a) => a.id === selector);
    if (!agent) throw new ApiError(400, "unknown_agent", `there is no agent '${selector}'`, "from");
    if (!agent.online) throw new ApiError(409, "agent_offline", `agent '${selector}' is offline`, "from");
    chosen.set(agent.id, agent);
  }
  return [...chosen.values()];
}
