import type {
  AdaptiveRun,
  AgentCapabilities,
  AgentCounters,
  Diagnosis,
  FollowUp,
  Hop,
  NatReading,
  PopLocation,
  RecordRouteHint,
  TraceFailure,
  TraceOptions,
  TraceUpload,
} from "@lg/protocol";
import { boolean, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** Agents as last announced over NATS presence; `online` is kept by the coordinator's sweep. */
export const agents = pgTable("agents", {
  id: text("id").primaryKey(),
  region: text("region").notNull(),
  role: text("role").notNull(),
  version: text("version").notNull(),
  addresses: jsonb("addresses").$type<string[]>().notNull(),
  capabilities: jsonb("capabilities").$type<AgentCapabilities>().notNull(),
  counters: jsonb("counters").$type<AgentCounters>(),
  /** Where the agent says it is (`LG_LOCATION`, `LG_CITY`); null when it does not say. */
  location: jsonb("location").$type<PopLocation>(),
  running: integer("running").notNull().default(0),
  firstSeen: ts("first_seen").notNull().defaultNow(),
  lastSeen: ts("last_seen").notNull(),
  online: boolean("online").notNull(),
});

/** One request: a target traced from one or more agents. */
export const measurements = pgTable(
  "measurements",
  {
    id: text("id").primaryKey(),
    target: text("target").notNull(),
    options: jsonb("options").$type<TraceOptions>().notNull(),
    /** `running` while any of its traces is queued or running, then `done`. */
    status: text("status").$type<"running" | "done">().notNull(),
    /** Who asked: the client address (and later the API key's id). */
    client: text("client"),
    created: ts("created").notNull().defaultNow(),
  },
  (t) => [index("measurements_created_idx").on(t.created)],
);

/**
 * One trace from one agent. Hops are one JSON document per trace (written once when the final
 * result arrives), so old results are deleted by time without touching a per-hop table.
 */
export const traces = pgTable(
  "traces",
  {
    id: text("id").primaryKey(),
    measurementId: text("measurement_id")
      .notNull()
      .references(() => measurements.id, { onDelete: "cascade" }),
    /** The agent that traced it; null for an uploaded trace. */
    agentId: text("agent_id"),
    /** `agent`: probed by an agent; `upload`: a reverse session's customer uploaded a tool's output. */
    origin: text("origin").$type<"agent" | "upload">().notNull().default("agent"),
    /** An uploaded trace's format, where its time comes from and who sent it. */
    upload: jsonb("upload").$type<TraceUpload>(),
    target: text("target").notNull(),
    /** The address the agent resolved and traced. */
    address: text("address"),
    status: text("status").$type<"queued" | "running" | "done" | "failed">().notNull(),
    failure: jsonb("failure").$type<TraceFailure>(),
    hops: jsonb("hops").$type<Hop[]>().notNull().default([]),
    stoppedBy: text("stopped_by"),
    diagnosis: jsonb("diagnosis").$type<Diagnosis>(),
    /** Probes the agent sent on its own to decide what the trace left open (see `FollowUp`). */
    followUps: jsonb("follow_ups").$type<FollowUp[]>(),
    /** What `--until-sure` added after the requested cycles (null: the trace was not adaptive). */
    adaptive: jsonb("adaptive").$type<AdaptiveRun>(),
    /** Where a NAT sits, when the routers' quotes showed one (lg-probe's probes only; else null). */
    nat: jsonb("nat").$type<NatReading>(),
    /** What echo probes with the Record Route option brought back (null: not asked). */
    recordRoute: jsonb("record_route").$type<RecordRouteHint>(),
    startedAt: ts("started_at"),
    finishedAt: ts("finished_at"),
    /** When the agent's final result was stored; set once, so a redelivered result changes nothing. */
    resultAt: ts("result_at"),
    created: ts("created").notNull().defaultNow(),
  },
  (t) => [
    index("traces_measurement_idx").on(t.measurementId),
    index("traces_agent_status_idx").on(t.agentId, t.status),
    index("traces_created_idx").on(t.created),
  ],
);

/** Forward and reverse traces of one path test, run in the same time window, and their comparison. */
export const pathTests = pgTable(
  "path_tests",
  {
    id: text("id").primaryKey(),
    status: text("status").notNull(),
    options: jsonb("options").$type<TraceOptions>().notNull(),
    forwardTraceId: text("forward_trace_id").references(() => traces.id, { onDelete: "set null" }),
    reverseTraceId: text("reverse_trace_id").references(() => traces.id, { onDelete: "set null" }),
    comparison: jsonb("comparison").$type<Record<string, unknown>>(),
    created: ts("created").notNull().defaultNow(),
    /** Endpoint a (an agent id). */
    a: text("a"),
    /** Endpoint b: an agent id, or `{host}` for a host without an agent. */
    b: jsonb("b").$type<string | { host: string }>(),
    /** The addresses traced: a's (for the reverse) and b's (for the forward). */
    aAddress: text("a_address"),
    bAddress: text("b_address"),
    /** Why a direction is missing (e.g. b has no agent). */
    note: text("note"),
    /** The reverse session this path test is a leg of, if any. */
    sessionId: text("session_id"),
    /**
     * The alias traces the comparison waits for, once both directions are done (null: not started):
     * which end traced to which address, and the measurement that did it.
     */
    followUps: jsonb("follow_ups").$type<PathTestFollowUpRow[]>(),
  },
  (t) => [index("path_tests_created_idx").on(t.created), index("path_tests_session_idx").on(t.sessionId)],
);

/** One alias trace of a path test, as stored with it. */
export interface PathTestFollowUpRow {
  from: "a" | "b";
  target: string;
  seenAt: number;
  purpose: string;
  measurementId: string | null;
  traceId: string | null;
  /** Why it was not sent (the target policy refused the address, the budget was spent…). */
  failure: string | null;
  /** 1 for the first round; 2 for the round sent when the first left the loss reading undecided. */
  round?: number;
  /** `retrace`: the end's own trace again (to the other end's address), in the second round. */
  kind?: "alias-trace" | "retrace";
  /** When it was sent (ISO time): the comparison waits for a round until its deadline from then. */
  sentAt?: string;
}

/**
 * A customer behind NAT joins with a one-time join agent; the coordinator runs the legs (path
 * tests) once it is online. Only the token's SHA-256 is stored.
 */
export const reverseSessions = pgTable(
  "reverse_sessions",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    status: text("status").$type<"waiting" | "joined" | "running" | "done" | "expired">().notNull(),
    server: jsonb("server").$type<string | { host: string }>().notNull(),
    via: text("via"),
    options: jsonb("options").$type<TraceOptions>().notNull(),
    /** The customer's address as seen by the coordinator when the join agent registered. */
    customerAddress: text("customer_address"),
    customerAgentId: text("customer_agent_id"),
    /** When the customer last opened its link (which recorded `customerAddress`). */
    linkOpenedAt: ts("link_opened_at"),
    /** The customer's uploaded trace (the forward leg of a session run from the link). */
    uploadTraceId: text("upload_trace_id"),
    expiresAt: ts("expires_at").notNull(),
    joinedAt: ts("joined_at"),
    endedAt: ts("ended_at"),
    created: ts("created").notNull().defaultNow(),
  },
  (t) => [index("reverse_sessions_status_idx").on(t.status)],
);

export type AgentRow = typeof agents.$inferSelect;
export type MeasurementRow = typeof measurements.$inferSelect;
export type TraceRow = typeof traces.$inferSelect;
export type PathTestRow = typeof pathTests.$inferSelect;
export type ReverseSessionRow = typeof reverseSessions.$inferSelect;

// Monitors, their per-hop series and alerts live in their own file.
export * from "./monitors";
// Operator keys, the opt-out list and the audit log live in their own file.
export * from "./security";
