/**
 * NATS subject names, in one place. Every agent-facing subject carries the agent id so NATS
 * permissions can confine an agent to its own jobs, results and presence:
 *   agent may subscribe `lg.agent.<id>.>` and `_INBOX_<id>.>` (its inbox prefix),
 *   agent may publish `lg.result.<id>.>` and `lg.presence.<id>`.
 */
export const subjects = {
  job: (agentId: string) => `lg.agent.${agentId}.job`,
  cancel: (agentId: string) => `lg.agent.${agentId}.cancel`,
  agentAll: (agentId: string) => `lg.agent.${agentId}.>`,
  presence: (agentId: string) => `lg.presence.${agentId}`,
  presenceAll: "lg.presence.*",
  progress: (agentId: string, traceId: string) => `lg.result.${agentId}.progress.${traceId}`,
  /** Progress of one trace from whichever agent runs it (for live watchers on any coordinator). */
  progressOfTrace: (traceId: string) => `lg.result.*.progress.${traceId}`,
  final: (agentId: string, traceId: string) => `lg.result.${agentId}.final.${traceId}`,
  finalAll: "lg.result.*.final.*",
  resultsOf: (agentId: string) => `lg.result.${agentId}.>`,
  /** Coordinator-to-coordinator: a trace's stored state changed (live streams on every replica). */
  traceUpdated: (traceId: string) => `lg.live.trace.${traceId}`,
} as const;

/** The JetStream stream that carries final results. */
export const RESULTS_STREAM = "LG_RESULTS";
/** The durable consumer all coordinator replicas share. */
export const RESULTS_CONSUMER = "lg-coordinator";

/** Inbox prefix an agent must use so its permissions can name its own inbox. */
export const agentInboxPrefix = (agentId: string) => `_INBOX_${agentId}`;

/** Heartbeat period and the silence after which the coordinator marks an agent offline. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const OFFLINE_AFTER_MS = 15_000;
