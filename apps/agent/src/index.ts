export { detectPublicAddresses } from "./addresses";
export { type AgentDeps, type RunningAgent, runAgent } from "./agent";
export {
  type AgentConfig,
  AgentEnvSchema,
  agentIdFromHostname,
  ConfigError,
  parseAgentConfig,
} from "./config";
export { createAgentTracer, type TraceEngine } from "./engine";
export { JoinError, type JoinOptions, legVerdictLines, parseJoinUrl, runJoin } from "./join/join";
export { createLogger } from "./logger";
export { AGENT_VERSION } from "./version";
