import { createRoute, z } from "@hono/zod-openapi";
import { JoinGrant, ReverseSessionCreated, ReverseSessionRequest, ReverseSessionView } from "@lg/protocol";
import { errorResponse, idParams, jsonBody, jsonResponse, named, requireJson } from "../http/kit";

/**
 * The reverse-session routes, each declared once (`createRoute`): the handlers in `./routes.ts`
 * validate with these schemas, and the coordinator's /openapi.json is generated from them.
 * The statuses any route may answer (`COMMON_RESPONSES`: 401, 413, 500, 503) are added to every
 * operation by `http/openapi.ts`; a route declares its own.
 */

const tags = ["reverse-sessions"];

/** The schemas as named in the document (`#/components/schemas/...`). */
const Request = named(ReverseSessionRequest, "ReverseSessionRequest");
const Created = named(ReverseSessionCreated, "ReverseSessionCreated");
const ReverseSession = named(ReverseSessionView, "ReverseSession");
const Grant = named(JoinGrant, "JoinGrant");

const SessionId = idParams("Reverse session id (nanoid)");
/**
 * The join token in the query. Optional to the validator: a missing or wrong token is the
 * service's `401 invalid_token`, and the join agent may send it as `Authorization: Bearer` instead.
 * A repeated `token` counts by its first value, as `c.req.query` reads it.
 */
const TokenQuery = z.object({
  token: z
    .preprocess((v) => (Array.isArray(v) ? v[0] : v), z.string().optional())
    .describe("The session's join token (from joinUrl / command), or send `Authorization: Bearer <token>`"),
});

const invalidToken = errorResponse("Missing or wrong token");
const noSession = errorResponse("No such session");
const gone = errorResponse("The session expired (`session_expired`) or ended (`session_ended`)");

export const createReverseSession = createRoute({
  method: "post",
  path: "/api/v1/reverse-sessions",
  tags,
  summary: "A reverse test for a customer behind NAT: returns the one command the customer runs",
  description:
    "`server` is an agent (legs: customer <-> server) or `{host}` with `via`, a neutral agent " +
    "(legs: customer <-> via, via -> host). The customer's public address is the address its join " +
    "request comes from.",
  middleware: requireJson,
  request: { body: jsonBody(Request) },
  responses: {
    201: jsonResponse(Created, "Session created; `command` and `joinUrl` carry the join token"),
    400: errorResponse("Invalid body, unknown agent, a via that is not neutral, or a refused host"),
    403: errorResponse("The server host is in an opted-out network"),
    409: errorResponse("The server or via agent is offline"),
    415: errorResponse("The body is not JSON"),
    429: errorResponse("The client's rate limit; `Retry-After` says when to retry"),
  },
});

export const getReverseSession = createRoute({
  method: "get",
  path: "/api/v1/reverse-sessions/{id}",
  tags,
  summary: "A reverse session: status, the customer's public address, and its legs (path tests)",
  request: { params: SessionId },
  responses: {
    200: jsonResponse(ReverseSession, "The session"),
    404: noSession,
  },
});

export const joinReverseSession = createRoute({
  method: "post",
  path: "/api/v1/reverse-sessions/{id}/join",
  tags,
  summary: "The join agent registers (Authorization: Bearer <token> or ?token=)",
  request: { params: SessionId, query: TokenQuery },
  responses: {
    200: jsonResponse(Grant, "Where and how to connect: NATS over WebSocket on this port"),
    400: errorResponse("The coordinator cannot tell the caller's address (`no_client_address`)"),
    401: invalidToken,
    404: noSession,
    409: errorResponse("Already joined from another address"),
    410: gone,
  },
});

export const joinScriptRoute = createRoute({
  method: "get",
  path: "/api/v1/reverse-sessions/{id}/join.sh",
  tags,
  summary: "The join script: checks Node 20+ and mtr-packet, downloads the join agent and runs it",
  request: { params: SessionId, query: TokenQuery },
  responses: {
    200: { description: "POSIX sh script", content: { "text/x-shellscript": { schema: z.string() } } },
    401: invalidToken,
    404: noSession,
    410: gone,
  },
});

export const joinBundleRoute = createRoute({
  method: "get",
  path: "/api/v1/reverse-sessions/{id}/lg-join.mjs",
  tags,
  summary: "The join agent, one bundled file (node lg-join.mjs <joinUrl>)",
  request: { params: SessionId, query: TokenQuery },
  responses: {
    200: { description: "JavaScript module", content: { "text/javascript": { schema: z.string() } } },
    401: invalidToken,
    404: noSession,
    410: gone,
    503: errorResponse("The database does not answer, or the bundle is not built on this coordinator"),
  },
});

export const joinNatsRoute = createRoute({
  method: "get",
  path: "/api/v1/reverse-sessions/{id}/nats",
  tags,
  summary: "NATS over WebSocket for the session's join agent (upgrade)",
  description:
    "The NATS CONNECT must carry the session token; the agent may use only its own subjects. The " +
    "connection is cut when the session expires. The upgrade is answered by the join bridge on the " +
    "server's upgrade event; its refusals have no body.",
  request: { params: SessionId },
  responses: {
    101: { description: "Switching protocols" },
    410: { description: "No such session, or it expired or ended" },
    426: errorResponse("A plain GET, not a WebSocket upgrade"),
    503: { description: "The database does not answer, or join connections are off (no signing key)" },
  },
});
