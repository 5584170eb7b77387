import {
  JoinGrant,
  PathTestAccepted,
  PathTestRequest,
  PathTestView,
  ReverseSessionCreated,
  ReverseSessionRequest,
  ReverseSessionView,
} from "@lg/protocol";
import { z } from "zod";

const schema = (s: z.ZodType, io: "input" | "output" = "output") =>
  z.toJSONSchema(s, { target: "draft-2020-12", io, unrepresentable: "any" });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string) => ({
  description,
  content: { "application/json": { schema: ref(name) } },
});
const error = (description: string) => json("Error", description);
const idParam = (what: string) => ({
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: `${what} id (nanoid)`,
});
const tokenParam = {
  name: "token",
  in: "query",
  required: true,
  schema: { type: "string" },
  description: "The session's join token (from joinUrl / command)",
};

/** OpenAPI paths of path tests and reverse sessions (merged into the coordinator's document). */
export function pathTestPaths(): Record<string, unknown> {
  return {
    "/api/v1/path-tests": {
      post: {
        summary: "Trace a -> b and b -> a at the same time, and compare them",
        description:
          "`a` is an agent; `b` an agent or `{host}`. Both directions start together with the same " +
          "options. When `b` is a host without an agent only the forward direction runs: `reverse` and " +
          "`comparison` are null and `note` says why.",
        requestBody: { required: true, content: { "application/json": { schema: ref("PathTestRequest") } } },
        responses: {
          202: json("PathTestAccepted", "Both directions dispatched"),
          400: error("Invalid body, an unknown agent, or a refused target (field a or b)"),
          409: error("An agent is offline or announces no address of the wanted family"),
          413: error("The body is over `LG_MAX_BODY` (64 KiB by default)"),
          415: error("The body is not JSON"),
          503: error("The database or NATS does not answer"),
        },
      },
    },
    "/api/v1/path-tests/{id}": {
      get: {
        summary: "A path test: both traces with their diagnoses, the comparison once both are done",
        parameters: [idParam("Path test")],
        responses: { 200: json("PathTest", "The path test"), 404: error("No such path test") },
      },
    },
    "/api/v1/path-tests/{id}/events": {
      get: {
        summary: "Live events of a path test (Server-Sent Events)",
        description:
          "`snapshot` (PathTest) first; `hop` (HopEvent) and `trace` (Trace) of both directions; `done` " +
          "(PathTest, with the comparison) last. The stream ends after `done`.",
        parameters: [idParam("Path test")],
        responses: {
          200: {
            description: "text/event-stream",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          404: error("No such path test"),
        },
      },
    },
    "/api/v1/reverse-sessions": {
      post: {
        summary: "A reverse test for a customer behind NAT: returns the one command the customer runs",
        description:
          "`server` is an agent (legs: customer <-> server) or `{host}` with `via`, a neutral agent " +
          "(legs: customer <-> via, via -> host). The customer's public address is the address its join " +
          "request comes from.",
        requestBody: {
          required: true,
          content: { "application/json": { schema: ref("ReverseSessionRequest") } },
        },
        responses: {
          201: json("ReverseSessionCreated", "Session created; `command` and `joinUrl` carry the join token"),
          400: error("Invalid body, unknown agent, a via that is not neutral, or a refused host"),
          409: error("The server or via agent is offline"),
          413: error("The body is over `LG_MAX_BODY` (64 KiB by default)"),
          415: error("The body is not JSON"),
        },
      },
    },
    "/api/v1/reverse-sessions/{id}": {
      get: {
        summary: "A reverse session: status, the customer's public address, and its legs (path tests)",
        parameters: [idParam("Reverse session")],
        responses: { 200: json("ReverseSession", "The session"), 404: error("No such session") },
      },
    },
    "/api/v1/reverse-sessions/{id}/join.sh": {
      get: {
        summary: "The join script: checks Node 20+ and mtr-packet, downloads the join agent and runs it",
        parameters: [idParam("Reverse session"), tokenParam],
        responses: {
          200: {
            description: "POSIX sh script",
            content: { "text/x-shellscript": { schema: { type: "string" } } },
          },
          401: error("Missing or wrong token"),
          410: error("The session expired or ended"),
        },
      },
    },
    "/api/v1/reverse-sessions/{id}/lg-join.mjs": {
      get: {
        summary: "The join agent, one bundled file (node lg-join.mjs <joinUrl>)",
        parameters: [idParam("Reverse session"), tokenParam],
        responses: {
          200: {
            description: "JavaScript module",
            content: { "text/javascript": { schema: { type: "string" } } },
          },
          401: error("Missing or wrong token"),
          503: error("The bundle is not built on this coordinator"),
        },
      },
    },
    "/api/v1/reverse-sessions/{id}/join": {
      post: {
        summary: "The join agent registers (Authorization: Bearer <token> or ?token=)",
        parameters: [idParam("Reverse session")],
        responses: {
          200: json("JoinGrant", "Where and how to connect: NATS over WebSocket on this port"),
          401: error("Missing or wrong token"),
          409: error("Already joined from another address"),
          410: error("The session expired or ended"),
        },
      },
    },
    "/api/v1/reverse-sessions/{id}/nats": {
      get: {
        summary: "NATS over WebSocket for the session's join agent (upgrade)",
        description:
          "The NATS CONNECT must carry the session token; the agent may use only its own subjects. The " +
          "connection is cut when the session expires.",
        parameters: [idParam("Reverse session")],
        responses: {
          101: { description: "Switching protocols" },
          410: { description: "No such session, or it expired or ended" },
          426: error("A plain GET, not a WebSocket upgrade"),
        },
      },
    },
  };
}

/** Component schemas those paths refer to. */
export function pathTestSchemas(): Record<string, unknown> {
  return {
    PathTestRequest: schema(PathTestRequest, "input"),
    PathTestAccepted: schema(PathTestAccepted),
    PathTest: schema(PathTestView),
    ReverseSessionRequest: schema(ReverseSessionRequest, "input"),
    ReverseSessionCreated: schema(ReverseSessionCreated),
    ReverseSession: schema(ReverseSessionView),
    JoinGrant: schema(JoinGrant),
  };
}
