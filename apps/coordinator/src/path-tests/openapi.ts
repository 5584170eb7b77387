import {
  AnsweringConvention,
  Comparison,
  ComparisonSegment,
  FaultDirection,
  FollowUp,
  Hop,
  IdentityEvidence,
  JoinGrant,
  LossReading,
  LossStretch,
  PathRouter,
  PathTestAccepted,
  PathTestRequest,
  PathTestView,
  ReverseSessionCreated,
  ReverseSessionRequest,
  ReverseSessionView,
  RouterIdentity,
  SegmentHop,
  SegmentSide,
  SharedHop,
  TraceView,
} from "@lg/protocol";
import { z } from "zod";

/**
 * Descriptions of the path-test fields people read the comparison by, attached to the protocol's
 * own schemas (so the document still follows them) without touching `@lg/protocol`.
 */
const descriptions = z.registry<{ description: string }>();
const describe = (s: z.ZodType, description: string) => descriptions.add(s, { description });

describe(
  Comparison,
  "The forward trace (a -> b) and the reverse trace (b -> a) read together: the routers both directions cross " +
    "(identified by evidence, never by address similarity alone), those each crosses alone, where each direction " +
    "loses packets, and a summary in words. Made once both traces are done; `v` is 2.",
);
describe(
  Comparison.shape.verdict,
  "`symmetric` when no segment is diverged (both directions cross the same routers), else `asymmetric`.",
);
describe(
  FaultDirection,
  "Which direction really has the problem, after each trace's loss is put on the direction that loses it: " +
    "`forward`, `reverse`, `both`, `none`, or `undetermined` (a direction loses packets and the evidence — the " +
    "two traces and the follow-ups — cannot tell which; the summary and `loss.evidence` say what would).",
);
describe(
  Comparison.shape.routers,
  "Every router of both traces, once: `shared` ones with both TTLs and both addresses, one-sided ones " +
    "`own` or `unknown`, each with the evidence and a confidence.",
);
describe(
  PathRouter,
  "A router of the path test. `identity`: `shared` (identified in both directions), `own` (crossed by one " +
    "direction and shown not to be on the other's path: the other end traced to it and reached it elsewhere), " +
    "`unknown` (crossed by one direction; whether the other crosses it too could not be told — never counted " +
    "as shared).",
);
describe(
  PathRouter.shape.id,
  "Stable across runs of the same path (monitors compare it): `r:` and the address the router answers the " +
    "forward trace from (the reverse trace's, for a router only the reverse trace shows).",
);
describe(PathRouter.shape.addresses, "The router's addresses as the two traces and the follow-ups saw them.");
describe(
  PathRouter.shape.forwardTtl,
  "Its TTL in the forward trace's numbering; null when the forward trace does not show it.",
);
describe(
  PathRouter.shape.reverseTtl,
  "Its TTL in the reverse trace's numbering; null when the reverse trace does not show it.",
);
describe(
  AnsweringConvention,
  "Which address the router answers ICMP errors from, as the two traces show it: `one-address` (the same " +
    "towards both ends: a loopback or a single interface), `inbound` (the interface the probe came in on), " +
    "`route-back` (the interface of its route back to the prober, Linux's default), `unknown`.",
);
describe(
  PathRouter.shape.evidence,
  "Every test that said something about the router, for (`agrees: true`) and against.",
);
describe(
  PathRouter.shape.confidence,
  "0-1. For a `shared` router, how sure the identification is (independent tests combined: 0.99 for the same " +
    "address, less for indirect tests). For `own` and `unknown`, how sure it is not on the other path (0: untested).",
);
describe(
  IdentityEvidence,
  "One test's result about a router, in words. `test`: `address` (the same address in both traces), `name` " +
    "(the same reverse-DNS name), `link-mate` (the two ends of one /31, /30, /127 or /126 link belong to two " +
    "adjacent routers; one such link is a hint, two agreeing identify), `alias-trace` (an end traced to an address " +
    "only the other end saw and reached it where one of its own hops is — same distance, same router before; both " +
    "ends agreeing identify, an end reaching it elsewhere is evidence against), `timestamp` (IP prespecified " +
    "timestamps).",
);
describe(
  ComparisonSegment,
  "A stretch of the path, in order from a: `shared` where both directions cross the same routers, `diverged` " +
    "where at least one direction crosses a router not identified on the other side, `unresolved` where the only " +
    "hops are silent ones.",
);
describe(
  SegmentSide.shape.routerIds,
  "The routers this direction crosses in the segment, in drawing order (ids of `routers`; silent hops and the " +
    "endpoints have none).",
);
describe(
  SegmentSide.shape.hops,
  "The hops in drawing order, from a to b (a reverse side lists its TTLs from high to low).",
);
describe(SegmentHop.shape.routerId, "The router behind the hop (null for a silent hop or an endpoint).");
describe(
  RouterIdentity,
  "`shared`, `own` (only this direction crosses it) or `unknown` (not identified on the other side).",
);
describe(
  SharedHop,
  "A forward hop and a reverse hop identified as one router. `match` is the strongest test that agreed; " +
    "`evidence` lists every test, `confidence` (0-1) how sure the pairing is.",
);
describe(
  Comparison.shape.loss,
  "How the two traces' losses were read together; present when either trace shows real loss. A trace's hop " +
    "answers over that hop's way back, which is the other direction's path, so a trace may show loss its own " +
    "direction does not have. Every probe series (each hop of both traces, each follow-up) is scored under " +
    '"forward loses", "reverse loses" and "both" (binomial likelihood); the best wins only by a clear margin.',
);
describe(
  LossReading.shape.reading,
  "`forward`, `reverse`, `both`, or `undetermined` (the readings fit about equally well: alias traces from each " +
    "end, whose replies come back over the other direction only, would tell).",
);
describe(
  LossStretch,
  "Where one direction loses packets: between hop `fromTtl` (null: its source) and hop `toTtl`, in that " +
    "direction's own numbering; `lossPct` is the one-way loss that best explains every probe series.",
);
describe(
  LossReading.shape.support,
  "Log-likelihood ratio of the reading over the best other one (0 when undetermined).",
);
describe(LossReading.shape.evidence, "The probe series that decided it, in words.");
describe(
  Hop.shape.routerId,
  "In a path test: the router behind the hop, the same id in both directions when identified (see " +
    "`comparison.routers`); stable across runs of the same path.",
);
describe(
  TraceView.shape.followUps,
  "Probes this trace's end sent on its own to decide what the two traces left open — in a path test, alias " +
    "traces to the router addresses only the other end saw (bounded per end and counted in the target budget).",
);
describe(
  FollowUp,
  "`kind`: `alias-trace` (a short trace to an address only the other end saw: is that router on this end's path, " +
    "and do its replies back to this end get lost?), `tcp-syn`, `udp`, `echo`. `result` and `purpose` are in words.",
);

const schema = (s: z.ZodType, io: "input" | "output" = "output") =>
  z.toJSONSchema(s, { target: "draft-2020-12", io, unrepresentable: "any", metadata: descriptions });

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
        description:
          "`comparison.routers` lists every router of both traces with its `identity` (`shared`, `own`, " +
          "`unknown`), addresses, TTL in each direction, answering convention, `evidence` and `confidence`; " +
          "each segment's `forward.routerIds` and `reverse.routerIds` name the routers each side crosses there, " +
          "and every hop carries its `routerId`. `comparison.loss` says which direction loses packets and where " +
          "(`stretches` with the one-way loss), with the probe series that decided it; `faultDirection` is " +
          "`undetermined` when the evidence cannot tell. Each trace's `followUps` lists the alias traces its end " +
          "ran.",
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
