import { z } from "zod";
import { PopLocation } from "./geo";
import {
  AdaptiveRun,
  FollowUp,
  Hop,
  NatReading,
  ProbeProtocol,
  RecordRouteHint,
  TraceFailure,
  TraceOptions,
} from "./trace";

/**
 * Messages between coordinator and agents over NATS. Every message carries `v`, the protocol
 * version; both sides parse what they receive with these schemas and drop what does not parse.
 */
export const PROTOCOL_VERSION = 1 as const;
const V = z.literal(PROTOCOL_VERSION);

export const AgentRole = z.enum(["pop", "neutral", "join"]);
export type AgentRole = z.infer<typeof AgentRole>;

/** Agent ids and regions appear in NATS subjects: keep them to subject-safe tokens. */
export const AgentId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "use letters, digits, '-' and '_' only");
export const RegionName = AgentId;

/**
 * Which flows an agent can pin or enumerate: `udp4` with mtr-packet alone (it holds only IPv4 UDP
 * flows), `all` (ICMP, UDP and TCP over IPv4 and IPv6) when lg-probe, lg's own probe helper,
 * answers on the agent's host.
 */
export const FlowControl = z.enum(["udp4", "all"]);
export type FlowControl = z.infer<typeof FlowControl>;

export const AgentCapabilities = z.object({
  protocols: z.array(ProbeProtocol),
  ipv4: z.boolean(),
  ipv6: z.boolean(),
  /** Flow pinning (for the flows `flowControl` names). */
  pinFlow: z.boolean(),
  /** Multipath enumeration (for the flows `flowControl` names). */
  mda: z.boolean(),
  /** Which flows `pinFlow` and `mda` cover; agents older than lg-probe do not say, and mean `udp4`. */
  flowControl: FlowControl.default("udp4"),
  maxTraces: z.number().int().positive(),
});
export type AgentCapabilities = z.infer<typeof AgentCapabilities>;

export const AgentDescriptor = z.object({
  id: AgentId,
  region: RegionName,
  role: AgentRole,
  version: z.string(),
  /** Public addresses of the agent, as configured or detected. */
  addresses: z.array(z.string()),
  capabilities: AgentCapabilities,
  /** Where the agent is (`LG_LOCATION`, `LG_CITY`); absent when its operator did not say. */
  location: PopLocation.optional(),
});
export type AgentDescriptor = z.infer<typeof AgentDescriptor>;

/** Counters an agent reports with its heartbeat (the coordinator exports them as metrics). */
export const AgentCounters = z.object({
  jobsAccepted: z.number().int().nonnegative(),
  jobsRejected: z.number().int().nonnegative(),
  tracesDone: z.number().int().nonnegative(),
  tracesFailed: z.number().int().nonnegative(),
  probesSent: z.number().int().nonnegative(),
  probesAnswered: z.number().int().nonnegative(),
});
export type AgentCounters = z.infer<typeof AgentCounters>;

/** An agent's counters as it starts: all zero (a fresh object, for the agent to count in). */
export function zeroAgentCounters(): AgentCounters {
  return {
    jobsAccepted: 0,
    jobsRejected: 0,
    tracesDone: 0,
    tracesFailed: 0,
    probesSent: 0,
    probesAnswered: 0,
  };
}

/**
 * Longest user JWT a presence message may carry: the agent template's JWT is about 1 KB; this
 * leaves room for more permissions and tags, far below NATS's 1 MiB payload.
 */
export const MAX_USER_JWT_CHARS = 8_192;

/** Published on `lg.presence.<agentId>`: on start (announce), every 5 s (heartbeat), on shutdown (leaving). */
export const PresenceMessage = z.object({
  v: V,
  kind: z.enum(["announce", "heartbeat", "leaving"]),
  /** The role in `agent.role` is what the agent says; the coordinator decides (see `roles.ts`). */
  agent: AgentDescriptor,
  running: z.number().int().nonnegative(),
  counters: AgentCounters,
  sentAt: z.iso.datetime(),
  /**
   * The agent's NATS user JWT, the public half of its creds file (never the seed), when it has
   * one. In operator mode the coordinator takes the agent's role from this JWT's tags after
   * checking its signature, issuer, expiry and agent id.
   */
  userJwt: z.string().min(1).max(MAX_USER_JWT_CHARS).optional(),
});
export type PresenceMessage = z.infer<typeof PresenceMessage>;

/** Request on `lg.agent.<agentId>.job`; the agent answers at once with a JobReply. */
export const JobRequest = z.object({
  v: V,
  traceId: z.string().min(1).max(64),
  measurementId: z.string().min(1).max(64),
  /** Hostname or IP literal, as the user asked (normalised). */
  target: z.string().min(1).max(255),
  /**
   * The address the coordinator resolved and checked (special ranges, opt-out list, probe budget):
   * the agent probes exactly this address. It still resolves a name itself and refuses the job
   * (`target-refused`) when its own answers do not include this address, and checks the address
   * against its own policy.
   */
  address: z.union([z.ipv4(), z.ipv6()]),
  options: TraceOptions,
  issuedAt: z.iso.datetime(),
});
export type JobRequest = z.infer<typeof JobRequest>;

export const JobRejectReason = z.enum(["busy", "unsupported", "target-refused", "invalid", "draining"]);
export type JobRejectReason = z.infer<typeof JobRejectReason>;

export const JobReply = z.discriminatedUnion("accepted", [
  z.object({ v: V, traceId: z.string(), accepted: z.literal(true) }),
  z.object({
    v: V,
    traceId: z.string(),
    accepted: z.literal(false),
    reason: JobRejectReason,
    message: z.string(),
  }),
]);
export type JobReply = z.infer<typeof JobReply>;

/** Published on `lg.agent.<agentId>.cancel`. */
export const CancelMessage = z.object({ v: V, traceId: z.string() });
export type CancelMessage = z.infer<typeof CancelMessage>;

/** Core NATS on `lg.result.<agentId>.progress.<traceId>`, at a bounded rate while a trace runs. */
export const ProgressMessage = z.object({
  v: V,
  traceId: z.string(),
  agentId: AgentId,
  seq: z.number().int().nonnegative(),
  cycle: z.number().int().nonnegative(),
  /** The resolved address being traced. */
  address: z.string().optional(),
  hops: z.array(Hop),
  sentAt: z.iso.datetime(),
});
export type ProgressMessage = z.infer<typeof ProgressMessage>;

/** Most follow-up records one final result may carry (the engine sends at most 3; room to grow, no more). */
export const MAX_FOLLOW_UPS_PER_RESULT = 16;

/**
 * JetStream on `lg.result.<agentId>.final.<traceId>` with message id = traceId, so a redelivery
 * or a retried publish is stored once.
 */
export const FinalResultMessage = z.object({
  v: V,
  traceId: z.string(),
  measurementId: z.string(),
  agentId: AgentId,
  status: z.enum(["done", "failed"]),
  failure: TraceFailure.optional(),
  target: z.string(),
  address: z.string().optional(),
  hops: z.array(Hop),
  /** Why probing stopped; `unreachable`: a router answered "no route" (ICMP unreachable). */
  stoppedBy: z.enum(["destination", "unreachable", "max-unknown", "max-ttl", "cancelled"]).optional(),
  /** Probes the engine sent after the trace to decide what it left open (a silent end's TCP/UDP probes). */
  followUps: z.array(FollowUp).max(MAX_FOLLOW_UPS_PER_RESULT).optional(),
  /** What `adaptive` (`--until-sure`) added after the requested cycles. */
  adaptive: AdaptiveRun.optional(),
  /** Where a NAT sits, when the routers' quotes show one (lg-probe's probes only). */
  nat: NatReading.optional(),
  /** `recordRoute`: what echo probes with the Record Route option brought back. */
  recordRoute: RecordRouteHint.optional(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
});
export type FinalResultMessage = z.infer<typeof FinalResultMessage>;
