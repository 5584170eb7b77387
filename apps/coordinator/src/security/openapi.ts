import { createRoute, z } from "@hono/zod-openapi";
import { errorResponse, jsonBody, jsonResponse } from "../http/kit";

const security = [{ operatorKey: [] }];
const tags = ["operator"];
const auth = {
  401: errorResponse("No key (`unauthorized`) or an unknown or revoked key (`invalid_api_key`)"),
  403: errorResponse("The key lacks the route's scope (`forbidden`)"),
  503: errorResponse("The database does not answer"),
};

/** What an audit row records. */
export const AuditEventName = z.enum(["measurement", "sign-in", "sign-in-failed", "sign-out"]);

export const AuditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    target: z.string().min(1).max(253).optional().openapi({ description: "Target or resolved address" }),
    client: z.string().min(1).max(64).optional().openapi({ description: "Client key (IPv6 as /64)" }),
    before: z.iso.datetime({ offset: true }).optional(),
    event: AuditEventName.optional().openapi({ description: "Only rows of this event" }),
  })
  .strict();

export const OptOutBody = z
  .object({ cidr: z.string().min(1).max(64), reason: z.string().max(500).optional() })
  .strict()
  .openapi("OptOutRequest");

const AuditEntry = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    event: AuditEventName.openapi({
      description:
        "`measurement`: a prepared measurement (a path test writes two); `sign-in`, `sign-in-failed`, `sign-out`: an operator at /login and /logout (the measurement's fields are null)",
    }),
    detail: z.string().nullable().openapi({ description: "Why a sign-in failed, or how a session ended" }),
    client: z.string().nullable(),
    clientKey: z.string(),
    keyId: z.string().nullable(),
    target: z.string().nullable(),
    address: z.string().nullable(),
    pops: z.array(z.string()).nullable(),
    probesPerMinute: z.number().int().nullable(),
    measurementId: z.string().nullable(),
  })
  .openapi("AuditEntry");

const OptOutEntry = z
  .object({ cidr: z.string(), reason: z.string().nullable(), created: z.iso.datetime() })
  .openapi("OptOutEntry");

const OptOutAdded = z.object({ cidr: z.string(), reason: z.string().nullable() }).openapi("OptOutAdded");

export const listAudit = createRoute({
  method: "get",
  path: "/api/v1/admin/audit",
  tags,
  security,
  summary: "The audit log, newest first: measurements, sign-ins and sign-outs (scope `audit`)",
  request: { query: AuditQuery },
  responses: {
    200: jsonResponse(z.array(AuditEntry), "Audit rows"),
    400: errorResponse("A bad query parameter"),
    ...auth,
  },
});

export const listOptOut = createRoute({
  method: "get",
  path: "/api/v1/admin/opt-out",
  tags,
  security,
  summary: "Networks never probed (scope `opt-out`)",
  responses: { 200: jsonResponse(z.array(OptOutEntry), "CIDRs"), ...auth },
});

export const addOptOut = createRoute({
  method: "post",
  path: "/api/v1/admin/opt-out",
  tags,
  security,
  summary: "Add a network to the opt-out list (scope `opt-out`)",
  request: { body: jsonBody(OptOutBody) },
  responses: {
    201: jsonResponse(OptOutAdded, "Added (the CIDR as stored)"),
    400: errorResponse("Not a CIDR"),
    415: errorResponse("The body is not application/json"),
    ...auth,
  },
});

export const removeOptOut = createRoute({
  method: "delete",
  path: "/api/v1/admin/opt-out",
  tags,
  security,
  summary: "Remove a network from the opt-out list (scope `opt-out`)",
  request: { query: z.object({ cidr: z.string() }) },
  responses: {
    204: { description: "Removed" },
    400: errorResponse("No `cidr` (`missing_field`)"),
    404: errorResponse("Not in the list"),
    ...auth,
  },
});

export const securitySchemes = {
  operatorKey: {
    type: "http",
    scheme: "bearer",
    description:
      "An operator key `lgk_<id>_<secret>` from `lg keys create`; it lifts the public limits (scope `unlimited`) and opens the admin routes.",
  },
};

/** Error codes the protections add, by status. */
export const SECURITY_ERROR_CODES = {
  400: ["over_public_limit", "request_over_budget"],
  401: ["invalid_api_key", "unauthorized"],
  403: ["forbidden", "target_opted_out"],
  429: ["rate_limited", "too_many_running", "target_budget_exceeded"],
} as const;
