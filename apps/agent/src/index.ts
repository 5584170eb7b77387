export { detectPublicAddresses } from "./addresses";
export { type AgentDeps, type RunningAgent, runAgent, type TraceEngine } from "./agent";
export {
  type AgentConfig,
  AgentEnvSchema,
  agentIdFromHostname,
  ConfigError,
  parseAgentConfig,
} from "./config";
export { createAgentTracer } from "./engine";
export { JoinError, type JoinOptions, parseJoinUrl, runJoin } from "./join/join";
export { createLogger } from "./logger";
export { AGENT_VERSION } from "./version";
