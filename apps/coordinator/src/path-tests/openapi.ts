import { createRoute } from "@hono/zod-openapi";
import {
  AnsweringConvention,
  Comparison,
  ComparisonSegment,
  FaultDirection,
  FollowUp,
  Hop,
  IdentityEvidence,
  LossReading,
  LossStretch,
  PathRouter,
  PathTestAccepted,
  PathTestRequest,
  PathTestView,
  RouterIdentity,
  SegmentHop,
  SegmentSide,
  SharedHop,
} from "@lg/protocol";
import { z } from "zod";
import {
  errorResponse,
  eventStreamResponse,
  idParams,
  jsonBody,
  jsonResponse,
  named,
  requireJson,
} from "../http/kit";

/**
 * The path-test routes, each declared once (`createRoute`): the handlers in `./routes.ts` validate
 * with these schemas, and the coordinator's /openapi.json is generated from them.
 * The statuses any route may answer (`COMMON_RESPONSES`: 401, 413, 500, 503) are added to every
 * operation by `http/openapi.ts`; a route declares its own.
 *
 * Descriptions of the path-test fields people read the comparison by, attached to the protocol's
 * own schemas as zod metadata (what the OpenAPI generator reads), so the document follows the
 * schemas the routes answer with, without touching `@lg/protocol`.
 */
const describe = (s: z.ZodType, description: string) => {
  z.globalRegistry.add(s, { ...s.meta(), description });
};

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
  FollowUp,
  "`kind`: `alias-trace` (a short trace to an address only the other end saw: is that router on this end's path, " +
    "and do its replies back to this end get lost?), `tcp-syn`, `udp`, `echo`. `result` and `purpose` are in words.",
);

const tags = ["path-tests"];

/** The schemas as named in the document (`#/components/schemas/...`). */
const Request = named(PathTestRequest, "PathTestRequest");
const Accepted = named(PathTestAccepted, "PathTestAccepted");
const PathTest = named(PathTestView, "PathTest");

const PathTestId = idParams("Path test id (nanoid)");

export const createPathTest = createRoute({
  method: "post",
  path: "/api/v1/path-tests",
  tags,
  summary: "Trace a -> b and b -> a at the same time, and compare them",
  description:
    "`a` is an agent; `b` an agent or `{host}`. Both directions start together with the same " +
    "options. When `b` is a host without an agent only the forward direction runs: `reverse` and " +
    "`comparison` are null and `note` says why.",
  middleware: requireJson,
  request: { body: jsonBody(Request) },
  responses: {
    202: jsonResponse(Accepted, "Both directions dispatched"),
    400: errorResponse(
      "Invalid body, an unknown agent, a refused target (field a or b), or a request over the target's probe budget",
    ),
    403: errorResponse("The target is in an opted-out network"),
    409: errorResponse("An agent is offline or announces no address of the wanted family"),
    415: errorResponse("The body is not JSON"),
    429: errorResponse(
      "Rate limit, concurrency cap or the target's probe budget; `Retry-After` says when to retry",
    ),
    503: errorResponse("The database or NATS does not answer"),
  },
});

export const getPathTest = createRoute({
  method: "get",
  path: "/api/v1/path-tests/{id}",
  tags,
  summary: "A path test: both traces with their diagnoses, the comparison once both are done",
  description:
    "`comparison.routers` lists every router of both traces with its `identity` (`shared`, `own`, " +
    "`unknown`), addresses, TTL in each direction, answering convention, `evidence` and `confidence`; " +
    "each segment's `forward.routerIds` and `reverse.routerIds` name the routers each side crosses there, " +
    "and every hop carries its `routerId`. `comparison.loss` says which direction loses packets and where " +
    "(`stretches` with the one-way loss), with the probe series that decided it; `faultDirection` is " +
    "`undetermined` when the evidence cannot tell. Each trace's `followUps` lists the alias traces its end " +
    "ran.",
  request: { params: PathTestId },
  responses: {
    200: jsonResponse(PathTest, "The path test"),
    404: errorResponse("No such path test"),
  },
});

export const pathTestEvents = createRoute({
  method: "get",
  path: "/api/v1/path-tests/{id}/events",
  tags,
  summary: "Live events of a path test (Server-Sent Events)",
  description:
    "`snapshot` (PathTest) first; `hop` (HopEvent) and `trace` (Trace) of both directions; `done` " +
    "(PathTest, with the comparison) last. The stream ends after `done`.",
  request: { params: PathTestId },
  responses: {
    200: eventStreamResponse("text/event-stream"),
    404: errorResponse("No such path test"),
  },
});
