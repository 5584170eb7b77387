import { z } from "zod";
import { MeasurementRequest, TraceView } from "./api";
import { Comparison } from "./comparison";
import { AgentId } from "./messages";
import { JOIN_AGENT_PREFIX } from "./roles";
import { TraceOptions } from "./trace";

/**
 * Bodies of `/api/v1/path-tests` and `/api/v1/reverse-sessions`: a forward and a reverse trace run
 * at the same time with the same options, and reverse sessions for customers behind NAT.
 */

/** The trace options a path test or reverse session takes: the same fields and bounds as a measurement. */
const optionFields = MeasurementRequest.omit({ target: true, from: true }).shape;

/** A host without an agent: only the direction towards it can be traced. */
export const HostEndpoint = z.object({ host: z.string().min(1).max(253) }).strict();
export type HostEndpoint = z.infer<typeof HostEndpoint>;

/** An agent id, or a plain host. */
export const PathEndpoint = z.union([AgentId, HostEndpoint]);
export type PathEndpoint = z.infer<typeof PathEndpoint>;

/** `POST /api/v1/path-tests`: forward a -> b and reverse b -> a, together. */
export const PathTestRequest = z
  .object({
    a: AgentId,
    b: PathEndpoint,
    ...optionFields,
  })
  .strict();
export type PathTestRequest = z.infer<typeof PathTestRequest>;
export type PathTestRequestInput = z.input<typeof PathTestRequest>;

export const PathTestAccepted = z.object({ id: z.string() });
export type PathTestAccepted = z.infer<typeof PathTestAccepted>;

export const PathTestStatus = z.enum(["running", "done"]);
export type PathTestStatus = z.infer<typeof PathTestStatus>;

/**
 * `GET /api/v1/path-tests/{id}`. Each trace carries its own diagnosis; `comparison` is the two read
 * together, present once both are done. `reverse` and `comparison` are null when only the forward
 * direction could run (b has no agent), and `note` says why.
 */
export const PathTestView = z.object({
  id: z.string(),
  status: PathTestStatus,
  a: z.string(),
  b: PathEndpoint,
  /** The address a was traced back to (its public address; for a customer behind NAT, the NAT's). */
  aAddress: z.string(),
  /** The address traced towards b. */
  bAddress: z.string(),
  options: TraceOptions,
  created: z.iso.datetime(),
  forward: TraceView,
  reverse: TraceView.nullable(),
  comparison: Comparison.nullable(),
  note: z.string().nullable(),
});
export type PathTestView = z.infer<typeof PathTestView>;

/** SSE `done` event of a path test: its final view. */
export const PathTestDoneEvent = PathTestView;

/** Server-sent event names of `/api/v1/path-tests/{id}/events`, in the order they can come. */
export const PATH_TEST_EVENTS = ["snapshot", "hop", "trace", "done"] as const;

/** `POST /api/v1/reverse-sessions`: a customer behind NAT against a server. */
export const ReverseSessionRequest = z
  .object({
    /** The server the customer has trouble reaching: an agent, or a host without one. */
    server: PathEndpoint,
    /** A neutral agent to go through when the server has no agent. */
    via: AgentId.optional(),
    /** How long the customer has to join, and the session to finish; seconds. */
    expiresIn: z.number().int().min(30).max(3_600).default(900),
    ...optionFields,
  })
  .strict();
export type ReverseSessionRequest = z.infer<typeof ReverseSessionRequest>;
export type ReverseSessionRequestInput = z.input<typeof ReverseSessionRequest>;

/**
 * `201` answer: the one command the customer runs and the join URL it uses (`lg join <joinUrl>`),
 * or, with nothing to install, the customer's link: `customerUrl` is a page (GET shows it and
 * records the customer's public address; POST starts the reverse leg) and `uploadUrl` takes the
 * customer's own trace (mtr's report, `--json`, CSV or XML, or a WinMTR export). All carry the token.
 */
export const ReverseSessionCreated = z.object({
  id: z.string(),
  expiresAt: z.iso.datetime(),
  command: z.string(),
  joinUrl: z.string(),
  customerUrl: z.string(),
  uploadUrl: z.string(),
});
export type ReverseSessionCreated = z.infer<typeof ReverseSessionCreated>;

export const ReverseSessionStatus = z.enum(["waiting", "joined", "running", "done", "expired"]);
export type ReverseSessionStatus = z.infer<typeof ReverseSessionStatus>;

/**
 * `GET /api/v1/reverse-sessions/{id}`. `customer.publicAddress` is the address the customer's
 * join request came from (its NAT's public address). Each leg is a path test: customer <-> server
 * when the server has an agent; otherwise customer <-> neutral agent and neutral agent -> server host.
 */
export const ReverseSessionView = z.object({
  id: z.string(),
  status: ReverseSessionStatus,
  created: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  server: PathEndpoint,
  via: z.string().nullable(),
  customer: z.object({
    publicAddress: z.string().nullable(),
    /** The join agent, when the customer runs one (`lg join`); null when it uses the link. */
    agentId: z.string().nullable(),
    /** When the customer last opened its link (`customerUrl`), which recorded `publicAddress`. */
    linkOpenedAt: z.iso.datetime().nullable().optional(),
    /** The customer's uploaded trace (its forward leg), once uploaded. */
    uploadTraceId: z.string().nullable().optional(),
  }),
  legs: z.array(PathTestView),
});
export type ReverseSessionView = z.infer<typeof ReverseSessionView>;

/** `201` answer of an upload to `uploadUrl`: the trace as read, and the session it belongs to. */
export const ReverseSessionUploaded = z.object({
  trace: TraceView,
  session: ReverseSessionView,
});
export type ReverseSessionUploaded = z.infer<typeof ReverseSessionUploaded>;

/** Answer of `POST /api/v1/reverse-sessions/{id}/join`: what the join agent needs to connect. */
export const JoinGrant = z.object({
  v: z.literal(1),
  sessionId: z.string(),
  agentId: AgentId,
  region: z.string(),
  /** NATS over WebSocket through the coordinator's HTTP port, scoped to this session. */
  natsWsUrl: z.string(),
  /** The session credential, sent as the NATS CONNECT token; the coordinator checks it. */
  token: z.string(),
  /** Target ranges the join agent accepts on top of public addresses (the coordinator's allow list). */
  allowTargets: z.string(),
  publicAddress: z.string(),
  expiresAt: z.iso.datetime(),
});
export type JoinGrant = z.infer<typeof JoinGrant>;

/** The join agent's id for a session: subject-safe and recognisable. */
export const joinAgentId = (sessionId: string) => `${JOIN_AGENT_PREFIX}${sessionId}`;
