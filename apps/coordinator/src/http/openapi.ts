import type { OpenAPIHono } from "@hono/zod-openapi";
import { SECURITY_ERROR_CODES, securitySchemes } from "../security/openapi";
import type { AppEnv } from "./kit";

/** Error codes the API answers with, by status (the protections' codes are in security/openapi.ts). */
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

/**
 * Statuses any route may answer, whatever it declares: they come from the middleware every
 * request passes (the body limit, the operator-key check, `onError`). The document adds them to
 * every operation, so a route declares only its own.
 */
export const COMMON_RESPONSES = {
  401: "An `lgk_` bearer key that is unknown, revoked or mistyped (`invalid_api_key`)",
  413: "The body is over `LG_MAX_BODY` (64 KiB by default); refused unread (`body_too_large`)",
  500: "An unexpected failure (`internal`); the coordinator's log has the details",
  503: "A dependency does not answer (`database_unavailable`, `nats_unavailable`); the caller may retry",
} as const;

/** The codes above and the abuse protections' codes, merged by status. */
function allErrorCodes(): Record<string, string[]> {
  const all: Record<string, string[]> = {};
  for (const table of [ERROR_CODES, SECURITY_ERROR_CODES]) {
    for (const [status, codes] of Object.entries(table)) all[status] = [...(all[status] ?? []), ...codes];
  }
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => Number(a) - Number(b)));
}

/** The document's sections, in the order a reader meets them. */
const TAGS = [
  {
    name: "measurements",
    description: "Traces of one target from several PoPs, and the PoPs (agents) themselves",
  },
  { name: "path-tests", description: "Both directions of a path at once, compared" },
  {
    name: "reverse-sessions",
    description: "A reverse test for a customer behind NAT: the one command they run",
  },
  { name: "monitors", description: "Scheduled measurements and path tests with alert rules (operator key)" },
  { name: "operator", description: "The audit log and the opt-out list (operator key)" },
  { name: "service", description: "Health, metrics and this document" },
];

type Operation = { responses?: Record<string, unknown> };
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

/**
 * The OpenAPI 3.1 document of `app`, generated from its route declarations (`createRoute` with
 * the zod schemas the routes validate and answer with), so the two cannot drift apart. Every
 * operation also lists {@link COMMON_RESPONSES}.
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  const doc = app.getOpenAPI31Document({
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
  });
  const paths = { ...doc.paths } as Record<string, Record<string, Operation>>;
  for (const item of Object.values(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const responses = { ...op.responses };
      for (const [status, description] of Object.entries(COMMON_RESPONSES)) {
        responses[status] ??= { description, content: { "application/json": { schema: ref("Error") } } };
      }
      item[method] = { ...op, responses: sortByStatus(responses) };
    }
  }
  return {
    ...doc,
    tags: TAGS,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: { ...doc.components, securitySchemes },
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const sortByStatus = (responses: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));

/** The statuses `doc` documents for each operation, by `METHOD /path/{param}`. */
export function documentedStatuses(doc: { paths?: Record<string, unknown> }): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (op) out.set(`${method.toUpperCase()} ${path}`, new Set(Object.keys(op.responses ?? {})));
    }
  }
  return out;
}
