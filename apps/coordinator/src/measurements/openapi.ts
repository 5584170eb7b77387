import { createRoute, z } from "@hono/zod-openapi";
import {
  AgentView,
  DoneEvent,
  HopEvent,
  MeasurementAccepted,
  MeasurementRequest,
  MeasurementView,
  TraceView,
} from "@lg/protocol";
import {
  errorResponse,
  eventStreamResponse,
  idParams,
  jsonBody,
  jsonResponse,
  named,
  requireJson,
} from "../http/kit";

/** The schemas as named in the document (`#/components/schemas/...`). */
export const Agent = named(AgentView, "Agent");
const Request = named(MeasurementRequest, "MeasurementRequest");
const Accepted = named(MeasurementAccepted, "MeasurementAccepted");
const Measurement = named(MeasurementView, "Measurement");
/** The events' schemas, registered by name: the streams' descriptions refer to them in words. */
export const eventSchemas = {
  Trace: named(TraceView, "Trace"),
  HopEvent: named(HopEvent, "HopEvent"),
  DoneEvent: named(DoneEvent, "DoneEvent"),
};

const measurementId = idParams("Measurement id (nanoid)");

export const listAgents = createRoute({
  method: "get",
  path: "/api/v1/agents",
  tags: ["measurements"],
  summary: "Agents known to the coordinator, online or not",
  responses: {
    200: jsonResponse(z.array(Agent), "Agents by region and id"),
    503: errorResponse("The database does not answer"),
  },
});

export const createMeasurement = createRoute({
  method: "post",
  path: "/api/v1/measurements",
  tags: ["measurements"],
  summary: "Trace a target from several agents",
  description:
    "The target is checked (syntax, resolution, special ranges unless allow-listed) before any " +
    "job is sent. A name is resolved once, within 2 s: one that does not exist or does not " +
    "answer in time is a 400 `resolve_failed`. The resolved address (an IPv4-mapped " +
    "`::ffff:a.b.c.d` counts as IPv4) is what the opt-out list, the probe budget and the audit " +
    "log apply to, and the one address every agent probes; an agent whose own resolution of the " +
    "name does not include it refuses the job (a failed trace, `failure.source: target`). " +
    "Each selected agent accepts or rejects its job at once; an agent that rejects " +
    "or does not answer gets a failed trace saying who failed. " +
    "An ICMP trace that ends in silence after a hop that answers is confirmed by the agent before " +
    "it finishes: 3 TCP SYN to `servicePort` (else 3 to 443 and 3 to 80) and 3 UDP probes to 33434, " +
    "listed in the trace's `followUps`; an answer from the destination makes the diagnosis " +
    "`destination-filters-icmp` with the proof, silence keeps `node-interruption` and says what was " +
    "tried. With `adaptive: true` (`--until-sure`) an inconclusive loss reading is probed further, " +
    "up to 4 x `count` cycles (at most +200); the trace's `adaptive` says how many cycles it took. " +
    "With `mda: true` each cycle follows its own flow (source port, ICMP flow id or IPv6 flow label) " +
    "and up to 64 cycles are added until every hop had the probes the 95% rule asks for; with `pinFlow` " +
    "every probe keeps one flow. Both work for every protocol and family on agents with lg-probe " +
    "(`capabilities.flowControl: all`); other agents take them for IPv4 UDP only and reject the rest as " +
    "`unsupported`. " +
    "With `recordRoute: true` (IPv4; agents with lg-probe, others reject it as `unsupported`) each " +
    "agent sends 3 ICMP echo probes with the Record Route option (and 3 plain ones) after its trace: " +
    "the trace's `recordRoute` holds the way there and the way back as hints, or says the path " +
    "`stripped` or `refused` the option. A trace whose routers' quotes show a NAT (lg-probe's probes " +
    "only) carries `nat`: between which hops, and what it rewrote. " +
    "The target's probe budget is reserved for the worst case: the follow-ups and every cycle " +
    "`adaptive` or `mda` may add. Each hop carries `lossCi`, the 95% interval of its Loss%.",
  middleware: [requireJson] as const,
  request: { body: jsonBody(Request) },
  responses: {
    202: jsonResponse(Accepted, "Jobs dispatched; one trace per agent"),
    400: errorResponse(
      "Invalid body or target, a target name that does not resolve (within 2 s), or an unknown agent",
    ),
    403: errorResponse("The target is in an opted-out network"),
    409: errorResponse("No selected agent is online"),
    415: errorResponse("The body is not JSON"),
    429: errorResponse(
      "Rate limit, concurrency cap or the target's probe budget; `Retry-After` says when to retry",
    ),
    503: errorResponse("The database or NATS does not answer"),
  },
});

export const getMeasurement = createRoute({
  method: "get",
  path: "/api/v1/measurements/{id}",
  tags: ["measurements"],
  summary: "A measurement with every trace and hop",
  request: { params: measurementId },
  responses: {
    200: jsonResponse(Measurement, "The measurement as stored"),
    404: errorResponse("No such measurement"),
    503: errorResponse("The database does not answer"),
  },
});

export const measurementEvents = createRoute({
  method: "get",
  path: "/api/v1/measurements/{id}/events",
  tags: ["measurements"],
  summary: "Live events of a measurement (Server-Sent Events)",
  description:
    "Events: `snapshot` (Measurement) first; `hop` (HopEvent) whenever a hop's statistics change; " +
    "`trace` (Trace) whenever a trace's stored status changes; `done` (DoneEvent) last, when every " +
    "trace is done or failed. The stream ends after `done`.",
  request: { params: measurementId },
  responses: {
    200: eventStreamResponse("text/event-stream"),
    404: errorResponse("No such measurement"),
    503: errorResponse("The database does not answer"),
  },
});
