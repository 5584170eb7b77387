import type { AgentRow, Repository, TraceRow } from "@lg/db";
import {
  type AllowList,
  checkTarget,
  type JobReply,
  JobReply as JobReplySchema,
  type JobRequest,
  type MeasurementAccepted,
  type MeasurementRequest,
  type MeasurementView,
  type Resolver,
  subjects,
  TargetError,
  type TraceFailure,
  TraceOptions,
} from "@lg/protocol";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanoid } from "nanoid";
import { ApiError, DependencyError, notFound } from "../errors";
import { database } from "../http/kit";
import { publishTraceChange } from "../live/publish";
import type { Logger } from "../logger";
import { selectAgents } from "./select";
import { measurementView } from "./views";

export interface MeasurementServiceDeps {
  repo: Repository;
  nc: NatsConnection;
  allowList: AllowList;
  /** Target name resolution; default: the system's DNS servers, with @lg/protocol's deadline. */
  resolver?: Resolver;
  logger: Logger;
  /** How long an agent has to accept or reject a job. */
  jobTimeoutMs?: number;
  /**
   * How long the list of agents is reused between submissions. A stale entry costs little: a
   * job to an agent that just vanished fails as unanswered, one that just appeared waits a moment.
   */
  agentsCacheMs?: number;
}

/** A measurement whose target passed the policy and whose agents are chosen, not yet stored or sent. */
export interface PreparedMeasurement {
  target: string;
  /**
   * The address the target resolved to here, normalised: what the opt-out list, the budget and the
   * audit row key on, and what the job carries; agents probe exactly it (or refuse the job).
   */
  address: string;
  options: TraceOptions;
  agents: AgentRow[];
}

type Outcome =
  | { traceId: string; agentId: string; accepted: true }
  | { traceId: string; agentId: string; accepted: false; failure: TraceFailure };

/** Who failed, for each reason an agent gives when it rejects a job. */
function rejectionFailure(agentId: string, reply: Extract<JobReply, { accepted: false }>): TraceFailure {
  const source =
    reply.reason === "target-refused" ? "target" : reply.reason === "invalid" ? "internal" : "agent";
  return { source, message: `agent ${agentId} rejected the job (${reply.reason}): ${reply.message}` };
}

/**
 * Creates measurements and dispatches their jobs: the target is checked first, then one job per
 * agent goes out as a NATS request; each agent accepts or rejects at once, and an agent that does
 * not answer in time gets a failed trace that says so.
 */
export function createMeasurementService(deps: MeasurementServiceDeps) {
  const jobTimeoutMs = deps.jobTimeoutMs ?? 3_000;
  const log = deps.logger.child({ module: "dispatch" });
  const agentsCacheMs = deps.agentsCacheMs ?? 1_000;
  let agentsCache: { at: number; rows: Promise<AgentRow[]> } | undefined;
  const listAgents = (fresh = false): Promise<AgentRow[]> => {
    const now = Date.now();
    if (fresh || !agentsCache || now - agentsCache.at > agentsCacheMs) {
      const rows = deps.repo.listAgents();
      agentsCache = { at: now, rows };
      rows.catch(() => {
        agentsCache = undefined;
      });
    }
    return agentsCache.rows;
  };

  async function dispatch(job: JobRequest, agentId: string): Promise<Outcome> {
    const base = { traceId: job.traceId, agentId };
    try {
      const msg = await deps.nc.request(subjects.job(agentId), JSON.stringify(job), {
        timeout: jobTimeoutMs,
      });
      const parsed = JobReplySchema.safeParse(msg.json());
      if (!parsed.success) {
        log.warn({ agentId, traceId: job.traceId }, "agent answered a job with an unreadable reply");
        return {
          ...base,
          accepted: false,
          failure: { source: "agent", message: `agent ${agentId} sent an unreadable reply` },
        };
      }
      // A reply for another trace is not this job's answer (a forged or crossed reply): fail the trace.
      if (parsed.data.traceId !== job.traceId) {
        const named = JSON.stringify(parsed.data.traceId.slice(0, 64));
        log.warn({ agentId, traceId: job.traceId, replyTraceId: named }, "a job reply names another trace");
        return {
          ...base,
          accepted: false,
          failure: {
            source: "agent",
            message: `agent ${agentId} answered the job for trace ${job.traceId} with a reply for trace ${named}`,
          },
        };
      }
      if (parsed.data.accepted) return { ...base, accepted: true };
      return { ...base, accepted: false, failure: rejectionFailure(agentId, parsed.data) };
    } catch (err) {
      const text = String((err as Error).message ?? err);
      const message = /no responders/i.test(text)
        ? `agent ${agentId} is not listening for jobs`
        : /timeout/i.test(text)
          ? `agent ${agentId} did not answer the job within ${jobTimeoutMs / 1000} s`
          : `the job could not be sent to agent ${agentId}: ${text}`;
      return { ...base, accepted: false, failure: { source: "agent", message } };
    }
  }

  /** Checks the target and picks the agents; throws the API error a caller should see. */
  async function prepare(request: MeasurementRequest): Promise<PreparedMeasurement> {
    const { target, from, ...optionFields } = request;
    const options = TraceOptions.parse(optionFields);
    let resolved: { target: string; address: string };
    try {
      resolved = await checkTarget(target, {
        allow: deps.allowList,
        ipVersion: options.ipVersion,
        resolver: deps.resolver,
      });
    } catch (err) {
      if (err instanceof TargetError)
        throw new ApiError(400, err.code, err.message, "target", { cause: err });
      throw err;
    }
    let agents: AgentRow[];
    try {
      agents = selectAgents(await database("list agents", () => listAgents()), from);
    } catch (err) {
      // The cached list may predate an agent that just came online: ask again before refusing.
      if (!(err instanceof ApiError) || err instanceof DependencyError) throw err;
      agents = selectAgents(await database("list agents", () => listAgents(true)), from);
    }
    if (deps.nc.isClosed())
      throw new DependencyError("nats_unavailable", "the coordinator has no NATS connection");
    return { target: resolved.target, address: resolved.address, options, agents };
  }

  /** Stores a prepared measurement and sends its jobs; each agent accepts or rejects at once. */
  async function start(prepared: PreparedMeasurement, client: string | null): Promise<MeasurementAccepted> {
    const { options, agents } = prepared;
    const resolved = { target: prepared.target, address: prepared.address };
    const id = nanoid();
    const traces = agents.map((a) => ({ id: nanoid(), agentId: a.id, status: "queued" as const }));
    await database("create measurement", () =>
      deps.repo.createMeasurement({ id, target: resolved.target, options, client, traces }),
    );
    const issuedAt = new Date().toISOString();
    const outcomes = await Promise.all(
      traces.map((t) =>
        dispatch(
          {
            v: 1,
            traceId: t.id,
            measurementId: id,
            target: resolved.target,
            address: resolved.address,
            options,
            issuedAt,
          },
          t.agentId,
        ),
      ),
    );

    const accepted = outcomes.filter((o) => o.accepted).map((o) => o.traceId);
    const changed: TraceRow[] = await database("record job replies", async () => {
      const rows = await deps.repo.markTracesRunning(accepted);
      for (const o of outcomes) {
        if (o.accepted) continue;
        const row = await deps.repo.failTrace(o.traceId, o.failure);
        if (row) rows.push(row);
      }
      return rows;
    });
    for (const row of changed) publishTraceChange(deps.nc, row);
    const failed = outcomes.filter((o) => !o.accepted).length;
    log.info(
      { measurementId: id, target: resolved.target, agents: traces.length, failed },
      "measurement dispatched",
    );
    return {
      id,
      traces: outcomes.map((o) =>
        o.accepted
          ? { id: o.traceId, agentId: o.agentId, status: "running" as const }
          : { id: o.traceId, agentId: o.agentId, status: "failed" as const, failure: o.failure },
      ),
    };
  }

  return {
    prepare,
    start,

    /**
     * The target policy and the agents, reserving nothing: for work that starts later (a reverse
     * session's legs). Here the same as `prepare`; the security guard adds its own checks.
     */
    check: prepare,

    /** Counts the current request against its client's rate limit (the security guard's; none here). */
    async admit(): Promise<void> {},

    async submit(request: MeasurementRequest, client: string | null): Promise<MeasurementAccepted> {
      return start(await prepare(request), client);
    },

    /** The ids of a measurement's traces (empty for an unknown measurement). */
    async traceIds(id: string): Promise<string[]> {
      return database("read measurement", () => deps.repo.traceIdsOf(id));
    },

    async get(id: string): Promise<MeasurementView> {
      const found = await database("read measurement", () => deps.repo.getMeasurement(id));
      if (!found) throw notFound("measurement", id);
      return measurementView(found);
    },
  };
}

export type MeasurementService = ReturnType<typeof createMeasurementService>;
