import { compare, type DiagnoseOptions, diagnose, samePointToPointLink } from "@lg/analysis";
import type { AgentRow, PathTestWithTraces, Repository } from "@lg/db";
import {
  type Comparison,
  type Diagnosis,
  type Hop,
  joinAgentId,
  type PathTestAccepted,
  type PathTestRequest,
  type PathTestView,
  type TraceView,
} from "@lg/protocol";
import { nanoid } from "nanoid";
import { ApiError, DependencyError, notFound } from "../errors";
import type { Logger } from "../logger";
import type { MeasurementService, PreparedMeasurement } from "../measurements/service";
import { traceView } from "../views";

export interface PathTestServiceDeps {
  repo: Repository;
  measurements: MeasurementService;
  logger: Logger;
}

/** Where a path test comes from besides the HTTP API: a leg of a reverse session. */
export interface PathTestContext {
  /** Address to trace back to instead of a's own (a customer's public, NAT, address). */
  aAddress?: string;
  sessionId?: string;
}

const isFinal = (t: TraceView | null) => !t || t.status === "done" || t.status === "failed";

/** Database calls whose failure is the database's, reported as 503. */
async function db<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new DependencyError("database_unavailable", `the database did not answer (${what})`, {
      cause: err,
    });
  }
}

/** The agent's address of the wanted family (the first one when no family is asked). */
export function addressOf(agent: AgentRow, family: 4 | 6 | undefined): string | undefined {
  const wanted = (a: string) => family === undefined || (family === 6) === a.includes(":");
  return agent.addresses.find(wanted);
}

function requireAgent(all: AgentRow[], id: string, field: "a" | "b"): AgentRow {
  const agent = all.find((x) => x.id === id);
  if (!agent) throw new ApiError(400, "unknown_agent", `there is no agent '${id}'`, field);
  if (!agent.online) throw new ApiError(409, "agent_offline", `agent '${id}' is offline`, field);
  return agent;
}

/** The measurement service names its target field `target`; in a path test it is a or b. */
async function asField<T>(field: "a" | "b", fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.field && !(err instanceof DependencyError)) {
      throw new ApiError(err.status, err.code, err.message, field, { cause: err });
    }
    throw err;
  }
}

/** Diagnosis options of one direction, from what its trace recorded. */
function diagnoseOptions(t: TraceView, destination: string): DiagnoseOptions {
  return {
    destination: t.address ?? destination,
    ...(t.stoppedBy === "destination" ? { reachedDestination: true } : {}),
  };
}

/**
 * A customer behind NAT (the join agent of a reverse session) is traced back to its NAT's public
 * address, so the reverse direction ends there, while the forward direction first crosses the
 * customer's own network. The forward hops before the one at the NAT (the same address, or the
 * other end of the NAT's uplink) are left out of the comparison, or they would read as a diverged
 * stretch that is only the NAT. Returns the hops to compare and a note, or undefined.
 */
export function customerSideOfNat(
  forward: Hop[],
  natAddress: string,
): { hops: Hop[]; note: string } | undefined {
  const i = forward.findIndex(
    (h) => h.host !== null && (h.host === natAddress || samePointToPointLink(h.host, natAddress)),
  );
  if (i <= 0) return undefined;
  const inside = forward.slice(0, i);
  const addresses = inside.map((h) => h.host ?? "???").join(", ");
  const ttls = inside.length === 1 ? `hop ${inside[0]?.ttl}` : `hops ${inside[0]?.ttl}-${inside.at(-1)?.ttl}`;
  return {
    hops: forward.slice(i),
    note: `forward ${ttls} (${addresses}) are the customer's network behind its NAT; the reverse direction ends at the NAT's public address ${natAddress}, so the comparison starts after them`,
  };
}

const behindNat = (p: PathTestWithTraces["pathTest"]) =>
  !!p.sessionId && p.a === joinAgentId(p.sessionId) && !!p.aAddress;

/** A finished trace keeps the diagnosis stored with it; one stored without (older rows) gets one now. */
function withDiagnosis(t: TraceView, destination: string): TraceView {
  if (t.diagnosis || t.status !== "done") return t;
  const diagnosis: Diagnosis = diagnose(t.hops, diagnoseOptions(t, destination));
  return { ...t, diagnosis };
}

/**
 * Path tests: the forward trace (a -> b) and the reverse trace (b -> a's address) start together
 * with the same options, through the measurement service's dispatch (one single-agent measurement
 * per direction). Each trace is diagnosed when it is stored; the comparison is made once both are
 * done, and stored.
 */
export function createPathTestService(deps: PathTestServiceDeps) {
  const log = deps.logger.child({ module: "path-tests" });

  function view(found: PathTestWithTraces, comparison: Comparison | null): PathTestView {
    const p = found.pathTest;
    if (!found.forward) throw new Error(`path test ${p.id} lost its forward trace`);
    const aAddress = p.aAddress ?? "";
    const bAddress = p.bAddress ?? "";
    const forward = withDiagnosis(traceView(found.forward), bAddress);
    const reverse = found.reverse ? withDiagnosis(traceView(found.reverse), aAddress) : null;
    let note = p.note;
    const nat = behindNat(p) && reverse ? customerSideOfNat(forward.hops, aAddress) : undefined;
    if (nat) note = [note, nat.note].filter(Boolean).join("; ");
    if (isFinal(forward) && isFinal(reverse) && !comparison && reverse) {
      const failed = [forward, reverse].filter((t) => t.status === "failed");
      const why = failed.map((t) => `${t.agentId}: ${t.failure?.message ?? "failed"}`).join("; ");
      note = [note, `no comparison: a direction failed (${why})`].filter(Boolean).join("; ");
    }
    return {
      id: p.id,
      status: isFinal(forward) && isFinal(reverse) ? "done" : "running",
      a: p.a ?? found.forward.agentId,
      b: p.b ?? bAddress,
      aAddress,
      bAddress,
      options: p.options,
      created: p.created.toISOString(),
      forward,
      reverse,
      comparison,
      note: note ?? null,
    };
  }

  /** The view of a stored path test; once both traces are done, the comparison is made and stored once. */
  async function viewOf(found: PathTestWithTraces): Promise<PathTestView> {
    const stored = (found.pathTest.comparison as Comparison | null) ?? null;
    const first = view(found, stored);
    if (first.status !== "done" || found.pathTest.status === "done") return first;
    let comparison: Comparison | null = null;
    const { forward, reverse } = first;
    if (reverse && forward.status === "done" && reverse.status === "done") {
      const nat = behindNat(found.pathTest) ? customerSideOfNat(forward.hops, first.aAddress) : undefined;
      comparison = compare(nat?.hops ?? forward.hops, reverse.hops, {
        forward: diagnoseOptions(forward, first.bAddress),
        reverse: diagnoseOptions(reverse, first.aAddress),
        ...(forward.diagnosis ? { forwardDiagnosis: forward.diagnosis } : {}),
        ...(reverse.diagnosis ? { reverseDiagnosis: reverse.diagnosis } : {}),
      });
    }
    await db("store comparison", () =>
      deps.repo.finishPathTest(found.pathTest.id, comparison as Record<string, unknown> | null),
    );
    return { ...first, comparison };
  }

  return {
    /**
     * Starts a path test. Both directions are checked (agents online, targets allowed) before
     * either is sent, so a refused request leaves nothing behind.
     */
    async create(
      request: PathTestRequest,
      client: string | null,
      context: PathTestContext = {},
    ): Promise<PathTestAccepted> {
      const { a, b, ...options } = request;
      const all = await db("list agents", () => deps.repo.listAgents());
      const agentA = requireAgent(all, a, "a");
      const agentB = typeof b === "string" ? requireAgent(all, b, "b") : undefined;
      if (agentB && agentB.id === agentA.id)
        throw new ApiError(400, "invalid_field", "a and b are the same agent; give two endpoints", "b");

      let bTarget: string;
      if (agentB) {
        const found = addressOf(agentB, options.ipVersion);
        if (!found) {
          const family = options.ipVersion ? `IPv${options.ipVersion} ` : "";
          throw new ApiError(409, "no_address", `agent '${agentB.id}' announces no ${family}address`, "b");
        }
        bTarget = found;
      } else {
        bTarget = (b as { host: string }).host;
      }
      const forward: PreparedMeasurement = await asField("b", () =>
        deps.measurements.prepare({ ...options, target: bTarget, from: [agentA.id] }),
      );
      // Trace back over the same family the forward direction uses.
      const family: 4 | 6 = forward.target.includes(":") ? 6 : 4;
      let reverse: PreparedMeasurement | undefined;
      let aAddress = context.aAddress;
      if (agentB) {
        aAddress ??= addressOf(agentA, family);
        if (!aAddress)
          throw new ApiError(
            409,
            "no_address",
            `agent '${agentA.id}' announces no IPv${family} address`,
            "a",
          );
        const target = aAddress;
        reverse = await asField("a", () =>
          deps.measurements.prepare({ ...options, target, from: [agentB.id] }),
        );
      }
      aAddress ??= addressOf(agentA, family) ?? "";

      // Both directions go out together, so they describe the same minutes.
      const [fwd, rev] = await Promise.all([
        deps.measurements.start(forward, client),
        reverse ? deps.measurements.start(reverse, client) : Promise.resolve(undefined),
      ]);
      const forwardTraceId = fwd.traces[0]?.id;
      if (!forwardTraceId) throw new Error("the forward measurement has no trace");
      const id = nanoid();
      const note = agentB
        ? null
        : `only the forward direction (${agentA.id} -> ${forward.target}) ran: ${bTarget} has no agent, so nothing can trace back from it; run a reverse session from it (lg join) to see the way back`;
      await db("create path test", () =>
        deps.repo.createPathTest({
          id,
          options: forward.options,
          a: agentA.id,
          b: agentB ? agentB.id : { host: bTarget },
          aAddress: aAddress as string,
          bAddress: forward.target,
          forwardTraceId,
          reverseTraceId: rev?.traces[0]?.id ?? null,
          note,
          sessionId: context.sessionId ?? null,
        }),
      );
      log.info(
        { pathTestId: id, a: agentA.id, b: agentB?.id ?? bTarget, reverse: !!rev },
        "path test started",
      );
      return { id };
    },

    /** The path test with both traces and, once both are done, their comparison. */
    async get(id: string): Promise<PathTestView> {
      const found = await db("read path test", () => deps.repo.getPathTest(id));
      if (!found) throw notFound("path test", id);
      return viewOf(found);
    },

    viewOf,
  };
}

export type PathTestService = ReturnType<typeof createPathTestService>;
