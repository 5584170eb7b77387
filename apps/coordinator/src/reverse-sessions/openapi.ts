import { createRoute, z } from "@hono/zod-openapi";
import {
  JoinGrant,
  ReverseSessionCreated,
  ReverseSessionRequest,
  ReverseSessionUploaded,
  ReverseSessionView,
} from "@lg/protocol";
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
    201: jsonResponse(
      Created,
      "Session created; `command`, `joinUrl`, `customerUrl` and `uploadUrl` carry the session token",
    ),
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
    409: errorResponse(
      "Already joined from another address (`already_joined`), or started from the customer's link (`started_from_link`)",
    ),
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

const Uploaded = named(ReverseSessionUploaded, "ReverseSessionUploaded");
const htmlPage = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });
const seeOther = { description: "From the page's own form: back to the customer's page (`Location`)" };

export const customerPageRoute = createRoute({
  method: "get",
  path: "/api/v1/reverse-sessions/{id}/customer",
  tags,
  summary: "The customer's page (customerUrl): records its public address; starts nothing",
  description:
    "Opening the link records the address the request comes from (the customer's NAT; after the " +
    "`LG_TRUSTED_PROXIES` rules) until the session starts, and shows the customer the start button, the one " +
    "command for its system (mtr, WinMTR, or `lg join`) aimed at the server (or the neutral agent) and a form " +
    "to paste or upload its output. A GET never starts probing: link previewers and mail scanners fetch links.",
  request: { params: SessionId, query: TokenQuery },
  responses: {
    200: htmlPage("The customer's page (an ended session's shows its results)"),
    401: invalidToken,
    404: noSession,
  },
});

export const customerStartRoute = createRoute({
  method: "post",
  path: "/api/v1/reverse-sessions/{id}/customer",
  tags,
  summary: "Start the reverse leg from the customer's link (its page's button, or a script)",
  description:
    "The server's PoP (or the neutral agent) traces to the address this request comes from, the " +
    "customer's public address. The customer's own direction is its upload (`uploadUrl`), before or " +
    "after. Starting again from the same address changes nothing. A browser form (`Accept: text/html`) is " +
    "answered with 303 to the page.",
  request: { params: SessionId, query: TokenQuery },
  responses: {
    202: jsonResponse(ReverseSession, "Started: the session, its reverse leg running"),
    303: seeOther,
    400: errorResponse(
      "The coordinator cannot tell the caller's address (`no_client_address`), or the policy refuses it as a target",
    ),
    401: invalidToken,
    403: errorResponse("The customer's address is in an opted-out network"),
    404: noSession,
    409: errorResponse(
      "Started from another address (`already_started`), run by a join agent (`joined_with_agent`), or the agent that traces back is offline (`agent_offline`)",
    ),
    410: gone,
    429: errorResponse("The client's rate limit, or the customer's address's probe budget"),
  },
});

export const customerUploadRoute = createRoute({
  method: "post",
  path: "/api/v1/reverse-sessions/{id}/upload",
  tags,
  summary: "The customer's own trace (uploadUrl): mtr's report, JSON, CSV or XML, or a WinMTR export",
  description:
    "The body is the tool's output as it wrote it (`curl --data-binary @mtr.txt`, any content type), a " +
    "form with the file in `file` or the text in `report` (the page's form), or `report=` URL-encoded. " +
    "Read: `mtr -r` / `-r -w` (any `-o` columns), `mtr --json`, `mtr -C`, `mtr --xml`, WinMTR's text and " +
    "HTML exports. It becomes the forward leg (origin `upload`, no agentId); its time is the format's " +
    "(`Start:`, `Start_Time`) or else the upload's, said in `upload.timeFrom`. Nothing in it is executed. " +
    "One upload per session. A browser form (`Accept: text/html`) is answered with 303 to the page, or " +
    "the page with the error.",
  request: {
    params: SessionId,
    query: TokenQuery,
    body: {
      required: true,
      content: {
        "text/plain": { schema: { type: "string" } },
        "application/json": { schema: { type: "object", description: "mtr --json's output" } },
        "multipart/form-data": {
          schema: {
            type: "object",
            properties: { file: { type: "string", format: "binary" }, report: { type: "string" } },
          },
        },
        "application/x-www-form-urlencoded": {
          schema: { type: "object", properties: { report: { type: "string" } } },
        },
      },
    },
  },
  responses: {
    201: jsonResponse(Uploaded, "Read and stored: the trace as read, and the session"),
    303: seeOther,
    401: invalidToken,
    404: noSession,
    409: errorResponse(
      "The session already has the customer's trace (`already_uploaded`) or runs with a join agent (`joined_with_agent`)",
    ),
    410: gone,
    422: errorResponse(
      "Not readable (`unreadable_upload`: what and on which line or JSON path), older than the session (`upload_too_old`), or to another address than the session's (`wrong_destination`)",
    ),
    429: errorResponse("The client's rate limit; `Retry-After` says when to retry"),
  },
});

export const joinBinaryRoute = createRoute({
  method: "get",
  path: "/api/v1/reverse-sessions/{id}/lg-join-linux-x64",
  tags,
  summary:
    "The join agent as one executable for linux-x64: no Node.js needed (the join script picks it when node is missing)",
  request: { params: SessionId, query: TokenQuery },
  responses: {
    200: {
      description: "ELF executable (Node.js with the join agent inside): `lg-join-linux-x64 <joinUrl>`",
      content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
    },
    401: invalidToken,
    404: noSession,
    410: gone,
    503: errorResponse(
      "The database does not answer, or the executable is not built on this coordinator (`join_binary_missing`: build it with `pnpm -F @lg/agent build` on linux-x64)",
    ),
  },
});
