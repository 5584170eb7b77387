const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

const bearer = [{ operatorKey: [] }];

/** The operator routes and the key scheme, for the OpenAPI document. */
export function securityPaths(): Record<string, unknown> {
  const auth = {
    401: errorResponse("No key (`unauthorized`) or an unknown or revoked key (`invalid_api_key`)"),
    403: errorResponse("The key lacks the route's scope (`forbidden`)"),
    503: errorResponse("The database does not answer"),
  };
  return {
    "/api/v1/admin/audit": {
      get: {
        summary: "The audit log, newest first (scope `audit`)",
        security: bearer,
        parameters: [
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
          {
            name: "target",
            in: "query",
            schema: { type: "string" },
            description: "Target or resolved address",
          },
          {
            name: "client",
            in: "query",
            schema: { type: "string" },
            description: "Client key (IPv6 as /64)",
          },
          { name: "before", in: "query", schema: { type: "string", format: "date-time" } },
        ],
        responses: {
          200: { description: "Audit rows" },
          400: errorResponse("A bad query parameter"),
          ...auth,
        },
      },
    },
    "/api/v1/admin/opt-out": {
      get: {
        summary: "Networks never probed (scope `opt-out`)",
        security: bearer,
        responses: { 200: { description: "CIDRs" }, ...auth },
      },
      post: {
        summary: "Add a network to the opt-out list (scope `opt-out`)",
        security: bearer,
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["cidr"],
                properties: { cidr: { type: "string" }, reason: { type: "string" } },
                additionalProperties: false,
              },
            },
          },
        },
        responses: { 201: { description: "Added" }, 400: errorResponse("Not a CIDR"), ...auth },
      },
      delete: {
        summary: "Remove a network from the opt-out list (scope `opt-out`)",
        security: bearer,
        parameters: [{ name: "cidr", in: "query", required: true, schema: { type: "string" } }],
        responses: { 204: { description: "Removed" }, 404: errorResponse("Not in the list"), ...auth },
      },
    },
  };
}

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
