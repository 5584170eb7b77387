import { AlertView, AlertWebhook, MonitorRequest, MonitorSample, MonitorView } from "@lg/protocol";
import { z } from "zod";

const schema = (s: z.ZodType, io: "input" | "output" = "output") =>
  z.toJSONSchema(s, { target: "draft-2020-12", io, unrepresentable: "any" });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string, array = false) => ({
  description,
  content: { "application/json": { schema: array ? { type: "array", items: ref(name) } : ref(name) } },
});
const error = (description: string) => json("Error", description);
const bearer = [{ operatorKey: [] }];
const denied = {
  401: error("No operator key (`unauthorized`) or an invalid one (`invalid_api_key`)"),
  403: error("The key lacks the `monitors` scope (`forbidden`)"),
};
const idParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "monitor id",
};
const query = (name: string, description: string, type = "string") => ({
  name,
  in: "query",
  required: false,
  schema: { type },
  description,
});

/** OpenAPI paths of monitors and alerts (merged into the coordinator's document). */
export function monitorPaths(): Record<string, unknown> {
  return {
    "/api/v1/monitors": {
      post: {
        summary: "Schedule a measurement or a path test every N seconds, with alert rules and a webhook",
        description: "Webhook deliveries POST an AlertWebhook body when an alert fires and when it resolves.",
        security: bearer,
        requestBody: { required: true, content: { "application/json": { schema: ref("MonitorRequest") } } },
        responses: {
          201: json("Monitor", "Created; the first run is due at once"),
          400: error(
            "Invalid body, an unknown agent, a refused target, or a webhook whose host is internal (`webhook_refused`) or does not resolve (the field is named)",
          ),
          413: error("The body is over `LG_MAX_BODY` (64 KiB by default)"),
          415: error("The body is not application/json"),
          ...denied,
        },
      },
      get: {
        summary: "List monitors",
        security: bearer,
        responses: { 200: json("Monitor", "Every monitor", true), ...denied },
      },
    },
    "/api/v1/monitors/{id}": {
      get: {
        summary: "One monitor",
        security: bearer,
        parameters: [idParam],
        responses: { 200: json("Monitor", "The monitor"), 404: error("No such monitor"), ...denied },
      },
      delete: {
        summary: "Delete a monitor and its series (its alerts stay)",
        security: bearer,
        parameters: [idParam],
        responses: { 204: { description: "Deleted" }, 404: error("No such monitor"), ...denied },
      },
    },
    "/api/v1/monitors/{id}/series": {
      get: {
        summary: "The monitor's per-hop series",
        security: bearer,
        parameters: [
          idParam,
          query("since", "ISO date-time; default 24 hours ago"),
          query("limit", "1-50000, default 5000", "integer"),
        ],
        responses: {
          200: json("MonitorSample", "One row per hop per trace", true),
          404: error("No such monitor"),
          ...denied,
        },
      },
    },
    "/api/v1/alerts": {
      get: {
        summary: "Alert history, newest first",
        security: bearer,
        parameters: [
          query("monitor", "only this monitor's alerts"),
          query("status", "firing or resolved"),
          query("before", "ISO date-time: alerts fired before it"),
          query("limit", "1-1000, default 100", "integer"),
        ],
        responses: { 200: json("Alert", "Alerts", true), 400: error("A bad query parameter"), ...denied },
      },
    },
  };
}

export function monitorSchemas(): Record<string, unknown> {
  return {
    MonitorRequest: schema(MonitorRequest, "input"),
    Monitor: schema(MonitorView),
    MonitorSample: schema(MonitorSample),
    Alert: schema(AlertView),
    AlertWebhook: schema(AlertWebhook),
  };
}
