import {
  AgentView,
  ApiErrorBody,
  DoneEvent,
  HopEvent,
  MeasurementAccepted,
  MeasurementRequest,
  MeasurementView,
  TraceView,
} from "@lg/protocol";
import { z } from "zod";
import { monitorPaths, monitorSchemas } from "../monitors/openapi";
import { pathTestPaths, pathTestSchemas } from "../path-tests/openapi";
import { SECURITY_ERROR_CODES, securityPaths, securitySchemes } from "../security/openapi";
import { HealthReport } from "./health";

const schema = (s: z.ZodType, io: "input" | "output" = "output") =>
  z.toJSONSchema(s, { target: "draft-2020-12", io, unrepresentable: "any" });

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

const json = (ref: string, description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});

/** Error codes the API answers with, by status. */
export const ERROR_CODES = {
  400: [
    "invalid_json",
    "invalid_request",
    "missing_field",
    "invalid_field",
    "unknown_field",
    "invalid_target",
    "target_refused",
    "resolve_failed",
    "unknown_agent",
    "no_client_address",
    "webhook_refused",
  ],
  401: ["invalid_token"],
  404: ["not_found"],
  409: ["no_agents_online", "agent_offline", "no_address", "already_joined"],
  410: ["session_expired", "session_ended"],
  413: ["body_too_large"],
  415: ["unsupported_media_type"],
  426: ["upgrade_required"],
  500: ["internal"],
  503: ["database_unavailable", "nats_unavailable", "join_bundle_missing"],
} as const;

/** The codes above and the abuse protections' codes, merged by status. */
function allErrorCodes(): Record<string, string[]> {
  const all: Record<string, string[]> = {};
  for (const table of [ERROR_CODES, SECURITY_ERROR_CODES]) {
    for (const [status, codes] of Object.entries(table)) all[status] = [...(all[status] ?? []), ...codes];
  }
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => Number(a) - Number(b)));
}

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate and answer
 * with, so the two cannot drift apart.
 */
export function openApiDocument(): Record<string, unknown> {
  const idParam = {
    name: "id",
    in: "path",
    required: true,
    schema: { type: "string" },
    description: "Measurement id (nanoid)",
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "lg coordinator API",
      version: "1",
      description:
        "A distributed looking-glass: mtr-grade traces from many PoPs. A request body over the " +
        "coordinator's `LG_MAX_BODY` (64 KiB by default) is refused with 413 on every route. Errors are always " +
        '`{"error": {"code", "message", "field"?}}`; codes by status: ' +
        Object.entries(allErrorCodes())
          .map(([status, codes]) => `${status}: ${codes.join(", ")}`)
          .join("; "),
    },
    paths: {
      "/healthz": {
        get: {
          summary: "Liveness and dependencies",
          responses: {
            200: json("Health", "NATS and the database answer"),
            503: json("Health", "NATS or the database does not answer"),
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { 200: { description: "OpenAPI 3.1 document" } } },
      },
      "/api/v1/agents": {
        get: {
          summary: "Agents known to the coordinator, online or not",
          responses: {
            200: {
              description: "Agents by region and id",
              content: {
                "application/json": {
                  schema: { type: "array", items: { $ref: "#/components/schemas/Agent" } },
                },
              },
            },
            503: errorResponse("The database does not answer"),
          },
        },
      },
      "/api/v1/measurements": {
        post: {
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
            "The target's probe budget is reserved for the worst case: the follow-ups and every cycle " +
            "`adaptive` may add. Each hop carries `lossCi`, the 95% interval of its Loss%.",
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/MeasurementRequest" } } },
          },
          responses: {
            202: json("MeasurementAccepted", "Jobs dispatched; one trace per agent"),
            400: errorResponse(
              "Invalid body or target, a target name that does not resolve (within 2 s), or an unknown agent",
            ),
            403: errorResponse("The target is in an opted-out network"),
            409: errorResponse("No selected agent is online"),
            413: errorResponse("The body is over `LG_MAX_BODY` (64 KiB by default); refused unread"),
            415: errorResponse("The body is not JSON"),
            429: errorResponse(
              "Rate limit, concurrency cap or the target's probe budget; `Retry-After` says when to retry",
            ),
            503: errorResponse("The database or NATS does not answer"),
          },
        },
      },
      "/api/v1/measurements/{id}": {
        get: {
          summary: "A measurement with every trace and hop",
          parameters: [idParam],
          responses: {
            200: json("Measurement", "The measurement as stored"),
            404: errorResponse("No such measurement"),
            503: errorResponse("The database does not answer"),
          },
        },
      },
      "/api/v1/measurements/{id}/events": {
        get: {
          summary: "Live events of a measurement (Server-Sent Events)",
          description:
            "Events: `snapshot` (Measurement) first; `hop` (HopEvent) whenever a hop's statistics change; " +
            "`trace` (Trace) whenever a trace's stored status changes; `done` (DoneEvent) last, when every " +
            "trace is done or failed. The stream ends after `done`.",
          parameters: [idParam],
          responses: {
            200: {
              description: "text/event-stream",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            404: errorResponse("No such measurement"),
          },
        },
      },
      ...pathTestPaths(),
      ...monitorPaths(),
      ...securityPaths(),
    },
    components: {
      securitySchemes,
      schemas: {
        Error: schema(ApiErrorBody),
        Health: schema(HealthReport),
        Agent: schema(AgentView),
        MeasurementRequest: schema(MeasurementRequest, "input"),
        MeasurementAccepted: schema(MeasurementAccepted),
        Measurement: schema(MeasurementView),
        Trace: schema(TraceView),
        HopEvent: schema(HopEvent),
        DoneEvent: schema(DoneEvent),
        ...pathTestSchemas(),
        ...monitorSchemas(),
      },
    },
  };
}
