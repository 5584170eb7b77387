import { z } from "zod";
import { PopLocation } from "./geo";
import { AgentCapabilities, AgentCounters, AgentRole } from "./messages";
import {
  AdaptiveRun,
  Diagnosis,
  FollowUp,
  Hop,
  NatReading,
  RecordRouteHint,
  TraceFailure,
  TraceOptions,
  TraceStatus,
} from "./trace";

/**
 * Bodies of the coordinator's HTTP API (`/api/v1`) and of its live streams. The coordinator
 * validates and documents (OpenAPI) with these schemas; clients parse with them.
 */

/** The one error shape of the API: a stable machine-readable code, a sentence, and the field at fault. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const AgentView = z.object({
  id: z.string(),
  region: z.string(),
  role: AgentRole,
  version: z.string(),
  online: z.boolean(),
  lastSeen: z.iso.datetime(),
  addresses: z.array(z.string()),
  capabilities: AgentCapabilities,
  /** Traces running on the agent at its last heartbeat. */
  running: z.number().int().nonnegative(),
  counters: AgentCounters.nullable(),
  /** Where the PoP is (`LG_LOCATION`, `LG_CITY` of its agent), when its agent says. */
  location: PopLocation.optional(),
});
export type AgentView = z.infer<typeof AgentView>;

/** A PoP selector: an agent id, or `region:<name>` for every online agent of a region. */
export const PopSelector = z
  .string()
  .min(1)
  .max(80)
  .regex(/^(region:)?[A-Za-z0-9_-]+$/, "give an agent id or region:<name>");

const pickedOptions = TraceOptions.pick({
  protocol: true,
  port: true,
  size: true,
  ipVersion: true,
  maxTtl: true,
  pinFlow: true,
  mda: true,
  servicePort: true,
  adaptive: true,
  recordRoute: true,
}).shape;

/**
 * `POST /api/v1/measurements`. Options carry mtr's defaults; count and interval are bounded more
 * tightly than `lg trace` because anyone may submit them.
 */
export const MeasurementRequest = z
  .object({
    target: z.string().min(1).max(253),
    /** Agent ids and `region:<r>` selectors; default: every online PoP agent. */
    from: z.array(PopSelector).min(1).max(100).optional(),
    ...pickedOptions,
    count: z.number().int().min(1).max(300).default(10),
    interval: z.number().min(0.1).max(60).default(1),
  })
  .strict();
export type MeasurementRequest = z.infer<typeof MeasurementRequest>;
export type MeasurementRequestInput = z.input<typeof MeasurementRequest>;

/** Where a trace's hops come from: an agent probed them, or a customer uploaded a tool's output. */
export const TraceOrigin = z.enum(["agent", "upload"]);
export type TraceOrigin = z.infer<typeof TraceOrigin>;

/** The tools' outputs a reverse session's customer can upload (see `TraceUpload`). */
export const UploadFormat = z.enum([
  "mtr-report",
  "mtr-json",
  "mtr-csv",
  "mtr-xml",
  "winmtr-text",
  "winmtr-html",
]);
export type UploadFormat = z.infer<typeof UploadFormat>;

/**
 * What an uploaded trace was read from. `timeFrom` says where its `startedAt` comes from: the
 * format's own start time (`format`: mtr report's `Start:`, CSV's `Start_Time`), or the time it was
 * uploaded (`upload`) when the format carries none (JSON, XML, WinMTR) or one without a time zone.
 */
export const TraceUpload = z.object({
  format: UploadFormat,
  timeFrom: z.enum(["format", "upload"]),
  /** Why the upload time stands in, in words. */
  timeNote: z.string().optional(),
  uploadedAt: z.iso.datetime(),
  /** The address the upload came from, as the coordinator saw it. */
  uploadedFrom: z.string().nullable(),
  /** The tracing host's name as the tool wrote it (report `HOST:`, JSON `src`, XML `SRC`). */
  source: z.string().optional(),
});
export type TraceUpload = z.infer<typeof TraceUpload>;

export const TraceView = z.object({
  id: z.string(),
  measurementId: z.string(),
  /** The agent that traced it; absent for an uploaded trace (`origin: "upload"`). */
  agentId: z.string().optional(),
  /**
   * `agent`: traced by `agentId`; `upload`: a reverse session customer's mtr or WinMTR output (see
   * `upload`). The coordinator always sends it; absent (older coordinators) means `agent`.
   */
  origin: TraceOrigin.optional(),
  /** Present on an uploaded trace: the format it was read from and where its time comes from. */
  upload: TraceUpload.optional(),
  target: z.string(),
  /** The address the agent traced, once known. */
  address: z.string().nullable(),
  status: TraceStatus,
  failure: TraceFailure.nullable(),
  hops: z.array(Hop),
  diagnosis: Diagnosis.nullable(),
  /** Probes sent on the system's own initiative to decide what this trace left open. */
  followUps: z
    .array(FollowUp)
    .default([])
    .describe(
      "Probes sent on the system's own initiative: a silent end's TCP SYN and UDP probes to the destination, a path test's alias traces",
    ),
  /** Present when the trace ran with `adaptive` (`--until-sure`): the cycles it added and whether they decided. */
  adaptive: AdaptiveRun.optional(),
  /** Where a NAT sits, when the routers' quotes of the agent's probes showed one (lg-probe only). */
  nat: NatReading.optional(),
  /** Present when the trace ran with `recordRoute`: what echo probes with the option brought back. */
  recordRoute: RecordRouteHint.optional(),
  stoppedBy: z.string().nullable(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
});
export type TraceView = z.infer<typeof TraceView>;

export const MeasurementStatus = z.enum(["running", "done"]);

export const MeasurementView = z.object({
  id: z.string(),
  target: z.string(),
  status: MeasurementStatus,
  options: TraceOptions,
  created: z.iso.datetime(),
  traces: z.array(TraceView),
});
export type MeasurementView = z.infer<typeof MeasurementView>;

/** `202` answer of `POST /api/v1/measurements`: one trace per agent, accepted or failed at once. */
export const MeasurementAccepted = z.object({
  id: z.string(),
  traces: z.array(
    z.object({
      id: z.string(),
      agentId: z.string(),
      status: TraceStatus,
      failure: TraceFailure.optional(),
    }),
  ),
});
export type MeasurementAccepted = z.infer<typeof MeasurementAccepted>;

/** SSE `hop` event: one hop of one trace changed. */
export const HopEvent = z.object({ traceId: z.string(), agentId: z.string(), hop: Hop });
export type HopEvent = z.infer<typeof HopEvent>;

/** SSE `done` event: every trace of the measurement is done or failed. */
export const DoneEvent = z.object({ id: z.string(), status: MeasurementStatus });
export type DoneEvent = z.infer<typeof DoneEvent>;

/** Server-sent event names of `/api/v1/measurements/{id}/events`, in the order they can come. */
export const MEASUREMENT_EVENTS = ["snapshot", "hop", "trace", "done"] as const;

/**
 * Core NATS on `lg.live.trace.<traceId>`: a coordinator replica stored a change of the trace;
 * every replica relays it to its watchers.
 */
export const LiveTraceMessage = z.object({
  v: z.literal(1),
  trace: TraceView,
});
export type LiveTraceMessage = z.infer<typeof LiveTraceMessage>;
