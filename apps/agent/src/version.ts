/** Reported in the agent's announcement so the coordinator can tell versions apart during a rollout. */
export const AGENT_VERSION = "0.1.0";
