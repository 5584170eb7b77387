import { createRoute, z } from "@hono/zod-openapi";
import {
  AlertView,
  AlertWebhook,
  HistoryRange,
  MonitorHistory,
  MonitorRequest,
  MonitorSample,
  MonitorView,
} from "@lg/protocol";
import { errorResponse, idParams, jsonBody, jsonResponse, named, requireJson } from "../http/kit";

/** The schemas as named in the document (`#/components/schemas/...`). */
const Request = named(MonitorRequest, "MonitorRequest");
const Monitor = named(MonitorView, "Monitor");
const Sample = named(MonitorSample, "MonitorSample");
const Alert = named(AlertView, "Alert");
const History = named(MonitorHistory, "MonitorHistory");
/** What a webhook receives: no route answers with it, so it is registered by name. */
export const webhookSchemas = { AlertWebhook: named(AlertWebhook, "AlertWebhook") };

export const AlertQuery = z
  .object({
    monitor: z.string().min(1).max(64).optional().openapi({ description: "only this monitor's alerts" }),
    status: z.enum(["firing", "resolved"]).optional().openapi({ description: "firing or resolved" }),
    before: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "ISO date-time: alerts fired before it" }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .openapi({ description: "1-1000, default 100" }),
  })
  .strict();

export const SeriesQuery = z
  .object({
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "ISO date-time; default 24 hours ago" }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(50_000)
      .default(5_000)
      .openapi({ description: "1-50000, default 5000" }),
  })
  .strict();

export const HistoryQuery = z
  .object({
    range: HistoryRange.default("1d").openapi({ description: "1h, 1d, 7d or 30d; default 1d" }),
    hop: z.coerce
      .number()
      .int()
      .min(1)
      .max(255)
      .optional()
      .openapi({ description: "The hop (TTL) to read; default each run's last hop (the far end)" }),
  })
  .strict();

const security = [{ operatorKey: [] }];
const tags = ["monitors"];
const denied = {
  401: errorResponse("No operator key (`unauthorized`) or an invalid one (`invalid_api_key`)"),
  403: errorResponse("The key lacks the `monitors` scope (`forbidden`)"),
};
const monitorId = idParams("monitor id");

export const createMonitor = createRoute({
  method: "post",
  path: "/api/v1/monitors",
  tags,
  security,
  summary: "Schedule a measurement or a path test every N seconds, with alert rules and a webhook",
  description: "Webhook deliveries POST an AlertWebhook body when an alert fires and when it resolves.",
  middleware: [requireJson] as const,
  request: { body: jsonBody(Request) },
  responses: {
    201: jsonResponse(Monitor, "Created; the first run is due at once"),
    400: errorResponse(
      "Invalid body, an unknown agent, a refused target, or a webhook whose host is internal (`webhook_refused`) or does not resolve (the field is named)",
    ),
    415: errorResponse("The body is not application/json"),
    ...denied,
  },
});

export const listMonitors = createRoute({
  method: "get",
  path: "/api/v1/monitors",
  tags,
  security,
  summary: "List monitors",
  responses: { 200: jsonResponse(z.array(Monitor), "Every monitor"), ...denied },
});

export const getMonitor = createRoute({
  method: "get",
  path: "/api/v1/monitors/{id}",
  tags,
  security,
  summary: "One monitor",
  request: { params: monitorId },
  responses: { 200: jsonResponse(Monitor, "The monitor"), 404: errorResponse("No such monitor"), ...denied },
});

export const deleteMonitor = createRoute({
  method: "delete",
  path: "/api/v1/monitors/{id}",
  tags,
  security,
  summary: "Delete a monitor and its series (its alerts stay)",
  request: { params: monitorId },
  responses: { 204: { description: "Deleted" }, 404: errorResponse("No such monitor"), ...denied },
});

export const monitorSeries = createRoute({
  method: "get",
  path: "/api/v1/monitors/{id}/series",
  tags,
  security,
  summary: "The monitor's per-hop series",
  request: { params: monitorId, query: SeriesQuery },
  responses: {
    200: jsonResponse(z.array(Sample), "One row per hop per trace"),
    400: errorResponse("A bad query parameter"),
    404: errorResponse("No such monitor"),
    ...denied,
  },
});

export const listAlerts = createRoute({
  method: "get",
  path: "/api/v1/alerts",
  tags,
  security,
  summary: "Alert history, newest first",
  request: { query: AlertQuery },
  responses: {
    200: jsonResponse(z.array(Alert), "Alerts"),
    400: errorResponse("A bad query parameter"),
    ...denied,
  },
});

export const monitorHistory = createRoute({
  method: "get",
  path: "/api/v1/monitors/{id}/history",
  tags,
  security,
  summary: "The monitor's latency distribution and loss over 1 h, 1 d, 7 d or 30 d, per PoP or direction",
  description:
    "SmokePing-style: the range is cut into intervals (at least the monitor's period each); per interval and subject, the median of the runs' average RTTs, the spread band (25th percentile of avg − stdev to 75th of avg + stdev), the extremes (lowest Best, highest Wrst) and the share of probes lost, at one hop (`hop`) or at each run's last hop.",
  request: { params: monitorId, query: HistoryQuery },
  responses: {
    200: jsonResponse(History, "The history"),
    400: errorResponse("A bad query parameter"),
    404: errorResponse("No such monitor"),
    ...denied,
  },
});
