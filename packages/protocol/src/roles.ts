import type { AgentRole } from "./messages";

/**
 * Where an agent's role comes from. A role decides which jobs reach an agent (`pop`: the default
 * set of every measurement; `neutral`: the `via` of a reverse session), so it is never taken from
 * what the agent says about itself where the coordinator can know better:
 *   - an id starting with {@link JOIN_AGENT_PREFIX} is a reverse session's join agent, always `join`;
 *   - in operator mode (NATS with per-agent credentials) the role is a tag on the agent's user JWT,
 *     signed by the account that also signed the coordinator's credentials;
 *   - only without NATS auth (one trusted machine: `lg up`, `lg demo`) is `LG_ROLE` taken as given.
 */

/** Ids of reverse-session join agents (`joinAgentId`); no other agent may use them. */
export const JOIN_AGENT_PREFIX = "join-";
/** User-JWT tag naming the agent's role, e.g. `lg-role:neutral`. */
export const ROLE_TAG_PREFIX = "lg-role:";
/** User-JWT tag naming the agent id the credential was minted for, e.g. `lg-agent:fra-1`. */
export const AGENT_TAG_PREFIX = "lg-agent:";

export const isJoinAgentId = (agentId: string): boolean => agentId.startsWith(JOIN_AGENT_PREFIX);

/** The tags to put on an agent's user JWT (`nats.tags`) for its id and role. */
export function credentialTags(agentId: string, role: AgentRole): string[] {
  return [`${ROLE_TAG_PREFIX}${role}`, `${AGENT_TAG_PREFIX}${agentId}`];
}

/**
 * The role and agent id a user JWT's tags name; either is undefined when it is missing, unknown,
 * or named twice with different values (an ambiguous credential proves nothing).
 */
export function readCredentialTags(tags: readonly unknown[] | undefined): {
  role: AgentRole | undefined;
  agentId: string | undefined;
} {
  const values = (prefix: string) => [
    ...new Set(
      (tags ?? [])
        .filter((t): t is string => typeof t === "string" && t.startsWith(prefix))
        .map((t) => t.slice(prefix.length)),
    ),
  ];
  const roles = values(ROLE_TAG_PREFIX);
  const ids = values(AGENT_TAG_PREFIX);
  const role = roles.length === 1 ? roles[0] : undefined;
  return {
    role: role === "pop" || role === "neutral" || role === "join" ? role : undefined,
    agentId: ids.length === 1 ? ids[0] : undefined,
  };
}
