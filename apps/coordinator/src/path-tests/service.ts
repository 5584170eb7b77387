import {
  aliasTargets,
  compare,
  type DiagnoseOptions,
  diagnose,
  routerIdsByTtl,
  samePointToPointLink,
} from "@lg/analysis";
import type { AgentRow, PathTestWithTraces, Repository } from "@lg/db";
import {
  COMPARISON_VERSION,
  type Comparison,
  type Diagnosis,
  type FollowUp,
  type Hop,
  joinAgentId,
  type PathTestAccepted,
  type PathTestRequest,
  type PathTestView,
  type TraceView,
} from "@lg/protocol";
import { nanoid } from "nanoid";
import { ApiError, DependencyError, notFound } from "../errors";
import { database } from "../http/kit";
import type { Logger } from "../logger";
import type { MeasurementService, PreparedMeasurement } from "../measurements/service";
import { traceView, withPlacesRechecked } from "../measurements/views";
import {
  followUpDeadlineSeconds,
  pendingFollowUps,
  readFollowUps,
  roundOf,
  sendAliasTraces,
  unrecordedRound,
  withRetraces,
} from "./follow-ups";

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

/** Path tests older than this that are still unfinished are left to readers (their traces are long gone). */
const UNFINISHED_WINDOW_MS = 60 * 60_000;

const isFinal = (t: TraceView | null) => !t || t.status === "done" || t.status === "failed";

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
    ...(t.followUps.length > 0 ? { followUps: t.followUps } : {}),
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

  /** The name of an end in sentences: its agent id, or "customer" for a reverse session's join agent. */
  const labelOf = (id: string | null | undefined) => (!id ? "?" : id.startsWith("join-") ? "customer" : id);

  function view(
    found: PathTestWithTraces,
    comparison: Comparison | null,
    followUps: { a: FollowUp[]; b: FollowUp[] } = { a: [], b: [] },
    waiting = 0,
  ): PathTestView {
    const p = found.pathTest;
    if (!found.forward) throw new Error(`path test ${p.id} lost its forward trace`);
    const aAddress = p.aAddress ?? "";
    const bAddress = p.bAddress ?? "";
    const ids = comparison ? routerIdsByTtl(comparison) : undefined;
    const withRouters = (
      t: TraceView,
      byTtl: Map<number, string> | undefined,
      extra: FollowUp[],
    ): TraceView => ({
      ...t,
      hops: byTtl
        ? t.hops.map((h) => {
            const routerId = byTtl.get(h.ttl);
            return routerId ? { ...h, routerId } : h;
          })
        : t.hops,
      followUps: [...t.followUps, ...extra],
    });
    const [placedForward, reverse = null] = withPlacesRechecked(
      withRouters(withDiagnosis(traceView(found.forward), bAddress), ids?.forward, followUps.a),
      found.reverse
        ? withRouters(withDiagnosis(traceView(found.reverse), aAddress), ids?.reverse, followUps.b)
        : null,
    );
    // The forward trace is always there: withPlacesRechecked keeps every non-null trace.
    const forward = placedForward as TraceView;
    let note = p.note;
    const nat = behindNat(p) && reverse ? customerSideOfNat(forward.hops, aAddress) : undefined;
    if (nat) note = [note, nat.note].filter(Boolean).join("; ");
    if (isFinal(forward) && isFinal(reverse) && !comparison && reverse && waiting === 0) {
      const failed = [forward, reverse].filter((t) => t.status === "failed");
      if (failed.length > 0) {
        const why = failed
          .map((t) => `${t.agentId ?? "the customer's upload"}: ${t.failure?.message ?? "failed"}`)
          .join("; ");
        note = [note, `no comparison: a direction failed (${why})`].filter(Boolean).join("; ");
      }
    }
    if (waiting > 0)
      note = [
        note,
        `reading both directions together: ${waiting} alias trace${waiting === 1 ? "" : "s"} still probing`,
      ]
        .filter(Boolean)
        .join("; ");
    const done = isFinal(forward) && isFinal(reverse) && p.status === "done";
    return {
      id: p.id,
      status: done ? "done" : "running",
      a: p.a ?? found.forward.agentId ?? "",
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

  /** The two traces read together, with whatever follow-ups finished. */
  function comparisonOf(found: PathTestWithTraces, forward: TraceView, reverse: TraceView): Comparison {
    const p = found.pathTest;
    const aAddress = p.aAddress ?? "";
    const bAddress = p.bAddress ?? "";
    const nat = behindNat(p) ? customerSideOfNat(forward.hops, aAddress) : undefined;
    const { observations, retraced } = readFollowUps(p.followUps ?? [], found.followUps);
    // A second round's retraces add their counts to each trace's own; the diagnoses are then made
    // again from the added counts.
    const merged = retraced.a.length > 0 || retraced.b.length > 0;
    return compare(
      withRetraces(nat?.hops ?? forward.hops, retraced.a),
      withRetraces(reverse.hops, retraced.b),
      {
        forward: diagnoseOptions(forward, bAddress),
        reverse: diagnoseOptions(reverse, aAddress),
        ...(forward.diagnosis && !merged ? { forwardDiagnosis: forward.diagnosis } : {}),
        ...(reverse.diagnosis && !merged ? { reverseDiagnosis: reverse.diagnosis } : {}),
        aliases: observations,
        labels: { a: labelOf(p.a), b: labelOf(typeof p.b === "string" ? p.b : p.bAddress) },
      },
    );
  }

  /**
   * The view of a stored path test, moving it on: once both traces are done, its alias traces go out
   * (each end to the routers only the other end saw; claimed once across replicas), and once they are
   * done — or overdue — the comparison is made and stored once. Comparisons stored in an older shape
   * are made again from the stored traces.
   */
  async function viewOf(found: PathTestWithTraces): Promise<PathTestView> {
    const p = found.pathTest;
    const rows = p.followUps ?? [];
    const records = readFollowUps(rows, found.followUps).records;
    const stored = (p.comparison as Comparison | null) ?? null;
    if (p.status === "done") {
      const first = view(found, stored, records);
      if (!stored || stored.v === COMPARISON_VERSION || !first.reverse) return first;
      return view(found, comparisonOf(found, first.forward, first.reverse), records);
    }
    const first = view(found, null, records);
    const { forward, reverse } = first;
    if (!isFinal(forward) || !isFinal(reverse)) return first;
    const comparable = reverse && forward.status === "done" && reverse.status === "done";
    if (comparable && p.status === "running") {
      const nat = behindNat(p) ? customerSideOfNat(forward.hops, first.aAddress) : undefined;
      const targets = aliasTargets(nat?.hops ?? forward.hops, reverse.hops, {
        aAddress: first.aAddress,
        bAddress: first.bAddress,
        labels: { a: labelOf(p.a), b: labelOf(typeof p.b === "string" ? p.b : p.bAddress) },
      });
      if (targets.length > 0) {
        const claimed = targets.map((t) => ({ ...t, measurementId: null, traceId: null, failure: null }));
        if (await database("claim follow-ups", () => deps.repo.claimPathTestFollowUps(p.id, claimed))) {
          const sent = await sendAliasTraces(deps, p, targets);
          await database("record follow-ups", () => deps.repo.setPathTestFollowUps(p.id, sent));
          log.info(
            {
              pathTestId: p.id,
              aliasTraces: sent.filter((x) => x.traceId).length,
              refused: sent.filter((x) => x.failure).length,
            },
            "alias traces sent",
          );
        }
        const again = await database("read path test", () => deps.repo.getPathTest(p.id));
        return again ? viewOf(again) : first;
      }
    }
    if (comparable && p.status === "following-up" && reverse) {
      const round = roundOf(rows);
      const waiting = pendingFollowUps(rows, found.followUps);
      const ended = Math.max(
        ...[forward.finishedAt, reverse.finishedAt, ...rows.map((r) => r.sentAt)].map((x) =>
          x ? Date.parse(x) : 0,
        ),
      );
      const overdue = Date.now() - ended > followUpDeadlineSeconds(p.options, round) * 1000;
      if ((waiting > 0 || unrecordedRound(rows)) && !overdue)
        return view(found, null, records, Math.max(waiting, 1));
      // The first round left the direction of a loss undecided: one more round — the same routers
      // with twice the probes, and each end's own trace again — whose counts are added to the
      // first's before the comparison says so.
      const comparison = comparisonOf(found, forward, reverse);
      const again = rows.filter((r) => (r.round ?? 1) === 1 && r.traceId && !r.failure);
      if (round === 1 && !overdue && comparison.loss?.reading === "undetermined" && again.length > 0) {
        const aliases = again.map(({ from, target, seenAt, purpose }) => ({ from, target, seenAt, purpose }));
        const retraces = [
          {
            from: "a" as const,
            target: first.bAddress,
            seenAt: 0,
            purpose: `${labelOf(p.a)}'s trace again with more probes: the first round left the direction of a loss undecided`,
          },
          {
            from: "b" as const,
            target: first.aAddress,
            seenAt: 0,
            purpose: `${labelOf(typeof p.b === "string" ? p.b : p.bAddress)}'s trace again with more probes: the first round left the direction of a loss undecided`,
          },
        ];
        const targets = [...aliases, ...retraces];
        const claimed = [
          ...rows,
          ...aliases.map((t) => ({ ...t, measurementId: null, traceId: null, failure: null, round: 2 })),
          ...retraces.map((t) => ({
            ...t,
            measurementId: null,
            traceId: null,
            failure: null,
            round: 2,
            kind: "retrace" as const,
          })),
        ];
        if (
          await database("claim follow-ups", () =>
            deps.repo.claimMorePathTestFollowUps(p.id, rows.length, claimed),
          )
        ) {
          const sent = await sendAliasTraces(deps, p, targets, 2);
          const kinds = sent.map((r, i) => (i >= aliases.length ? { ...r, kind: "retrace" as const } : r));
          await database("record follow-ups", () =>
            deps.repo.setPathTestFollowUps(p.id, [...rows, ...kinds]),
          );
          log.info(
            { pathTestId: p.id, aliasTraces: sent.length },
            "loss direction undecided: second round of alias traces sent",
          );
        }
        const reread = await database("read path test", () => deps.repo.getPathTest(p.id));
        return reread ? viewOf(reread) : first;
      }
      await database("store comparison", () =>
        deps.repo.finishPathTest(p.id, comparison as unknown as Record<string, unknown>),
      );
      return view({ ...found, pathTest: { ...p, status: "done", comparison } }, comparison, records);
    }
    const comparison = comparable && reverse ? comparisonOf(found, forward, reverse) : null;
    await database("store comparison", () =>
      deps.repo.finishPathTest(p.id, comparison as Record<string, unknown> | null),
    );
    return view({ ...found, pathTest: { ...p, status: "done", comparison } }, comparison, records);
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
      const all = await database("list agents", () => deps.repo.listAgents());
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
      await database("create path test", () =>
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
      const found = await database("read path test", () => deps.repo.getPathTest(id));
      if (!found) throw notFound("path test", id);
      return viewOf(found);
    },

    viewOf,

    /**
     * One pass over the unfinished path tests of the last hour: each is moved on as a read would
     * (follow-ups sent, the comparison made), so nothing waits for a reader.
     */
    async tick(): Promise<void> {
      const since = new Date(Date.now() - UNFINISHED_WINDOW_MS);
      const open = await deps.repo.listUnfinishedPathTests(since);
      for (const found of open) {
        if (!found.forward) continue;
        await viewOf(found).catch((err) =>
          log.warn({ err, pathTestId: found.pathTest.id }, "path test pass failed"),
        );
      }
    },
  };
}

export type PathTestService = ReturnType<typeof createPathTestService>;
