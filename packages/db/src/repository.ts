import type {
  Diagnosis,
  FinalResultMessage,
  PresenceMessage,
  TraceFailure,
  TraceOptions,
} from "@lg/protocol";
import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "./client";
import { pathTestQueries } from "./path-tests";
import { type AgentRow, agents, type MeasurementRow, measurements, type TraceRow, traces } from "./schema";

export interface NewTrace {
  id: string;
  agentId: string;
  status: "queued" | "failed";
  failure?: TraceFailure;
}

export interface NewMeasurement {
  id: string;
  target: string;
  options: TraceOptions;
  client?: string | null;
  traces: NewTrace[];
}

export interface MeasurementWithTraces {
  measurement: MeasurementRow;
  traces: TraceRow[];
}

const ACTIVE = ["queued", "running"] as const;

/**
 * The queries the coordinator needs, over either driver. Every write that a redelivered NATS
 * message can repeat is guarded so that repeating it changes nothing.
 */
export function createRepository(db: Database) {
  /** Sets a measurement `done` once none of its traces is queued or running. */
  async function refreshMeasurementStatus(measurementIds: string[]): Promise<void> {
    if (measurementIds.length === 0) return;
    await db
      .update(measurements)
      .set({ status: "done" })
      .where(
        and(
          inArray(measurements.id, [...new Set(measurementIds)]),
          eq(measurements.status, "running"),
          sql`not exists (select 1 from ${traces} where ${traces.measurementId} = ${measurements.id} and ${traces.status} in ('queued', 'running'))`,
        ),
      );
  }

  // Hot reads are prepared once per database: drizzle builds their SQL a single time.
  const prepared: {
    measurement?: ReturnType<typeof buildMeasurementQuery>;
    traceIds?: ReturnType<typeof buildTraceIdsQuery>;
  } = {};
  function buildMeasurementQuery() {
    return db
      .select({ measurement: measurements, trace: traces })
      .from(measurements)
      .leftJoin(traces, eq(traces.measurementId, measurements.id))
      .where(eq(measurements.id, sql.placeholder("id")))
      .orderBy(asc(traces.created), asc(traces.agentId))
      .prepare("lg_measurement_with_traces");
  }
  function buildTraceIdsQuery() {
    return db
      .select({ id: traces.id })
      .from(traces)
      .where(eq(traces.measurementId, sql.placeholder("measurementId")))
      .prepare("lg_trace_ids_of_measurement");
  }
  const measurementQuery = () => (prepared.measurement ??= buildMeasurementQuery());
  const traceIdsQuery = () => (prepared.traceIds ??= buildTraceIdsQuery());

  /** Several agents accepted their jobs: one statement for all of them. */
  async function markTracesRunning(traceIds: string[]): Promise<TraceRow[]> {
    if (traceIds.length === 0) return [];
    return db
      .update(traces)
      .set({ status: "running", startedAt: new Date() })
      .where(and(inArray(traces.id, traceIds), eq(traces.status, "queued")))
      .returning();
  }

  return {
    ...pathTestQueries(db),

    /** Records an announcement or heartbeat; `leaving` marks the agent offline at once. */
    async upsertAgent(presence: PresenceMessage, seenAt: Date): Promise<void> {
      const a = presence.agent;
      const row = {
        region: a.region,
        role: a.role,
        version: a.version,
        addresses: a.addresses,
        capabilities: a.capabilities,
        location: a.location ?? null,
        counters: presence.counters,
        running: presence.running,
        lastSeen: seenAt,
        online: presence.kind !== "leaving",
      };
      await db
        .insert(agents)
        .values({ id: a.id, ...row })
        .onConflictDoUpdate({ target: agents.id, set: row });
    },

    async listAgents(): Promise<AgentRow[]> {
      return db.select().from(agents).orderBy(asc(agents.region), asc(agents.id));
    },

    /** Marks agents silent since before `cutoff` offline; returns their ids. */
    async markSilentAgentsOffline(cutoff: Date): Promise<string[]> {
      const rows = await db
        .update(agents)
        .set({ online: false })
        .where(and(eq(agents.online, true), lt(agents.lastSeen, cutoff)))
        .returning({ id: agents.id });
      return rows.map((r) => r.id);
    },

    /**
     * Fails every unfinished trace whose agent has been silent since before `cutoff` (crashed,
     * cut off, or left without finishing); returns the traces it changed.
     */
    async failTracesOfSilentAgents(cutoff: Date, failure: TraceFailure): Promise<TraceRow[]> {
      const silent = db.select({ id: agents.id }).from(agents).where(lt(agents.lastSeen, cutoff));
      const rows = await db
        .update(traces)
        .set({ status: "failed", failure, finishedAt: new Date() })
        .where(
          and(inArray(traces.status, [...ACTIVE]), isNull(traces.resultAt), inArray(traces.agentId, silent)),
        )
        .returning();
      return rows;
    },

    /**
     * An agent announced a fresh start: traces it accepted before `startedBefore` died with the
     * previous process and will never report.
     */
    async failTracesOfRestartedAgent(
      agentId: string,
      startedBefore: Date,
      failure: TraceFailure,
    ): Promise<TraceRow[]> {
      const rows = await db
        .update(traces)
        .set({ status: "failed", failure, finishedAt: new Date() })
        .where(
          and(
            eq(traces.agentId, agentId),
            eq(traces.status, "running"),
            isNull(traces.resultAt),
            lt(traces.startedAt, startedBefore),
          ),
        )
        .returning();
      return rows;
    },

    /** Fails every unfinished trace of these agents; returns the traces it changed. */
    async failActiveTracesOfAgents(agentIds: string[], failure: TraceFailure): Promise<TraceRow[]> {
      if (agentIds.length === 0) return [];
      const rows = await db
        .update(traces)
        .set({ status: "failed", failure, finishedAt: new Date() })
        .where(
          and(
            inArray(traces.agentId, agentIds),
            inArray(traces.status, [...ACTIVE]),
            isNull(traces.resultAt),
          ),
        )
        .returning();
      return rows;
    },

    /**
     * Stores a new measurement and its traces in one statement (a data-modifying CTE): atomic
     * like a transaction, but one round trip instead of four on the submit path.
     */
    async createMeasurement(m: NewMeasurement): Promise<void> {
      if (m.traces.length === 0) throw new Error("a measurement needs at least one trace");
      const done = m.traces.every((t) => t.status === "failed");
      const now = new Date().toISOString();
      const rows = m.traces.map(
        (t) =>
          sql`(${t.id}, ${m.id}, ${t.agentId}, ${m.target}, ${t.status}, ${t.failure ? JSON.stringify(t.failure) : null}::jsonb, ${t.status === "failed" ? now : null}::timestamptz)`,
      );
      await db.execute(sql`
        with m as (
          insert into ${measurements} (id, target, options, status, client)
          values (${m.id}, ${m.target}, ${JSON.stringify(m.options)}::jsonb, ${done ? "done" : "running"}, ${m.client ?? null})
          returning id
        )
        insert into ${traces} (id, measurement_id, agent_id, target, status, failure, finished_at)
        values ${sql.join(rows, sql`, `)}`);
    },

    /** The agent accepted the job. A result that already arrived is not overwritten. */
    async markTraceRunning(traceId: string): Promise<TraceRow | undefined> {
      const [row] = await markTracesRunning([traceId]);
      return row;
    },

    markTracesRunning,

    /** Fails a trace that has no result yet (job rejected, unanswered, or the agent vanished). */
    async failTrace(traceId: string, failure: TraceFailure): Promise<TraceRow | undefined> {
      const [row] = await db
        .update(traces)
        .set({ status: "failed", failure, finishedAt: new Date() })
        .where(and(eq(traces.id, traceId), inArray(traces.status, [...ACTIVE]), isNull(traces.resultAt)))
        .returning();
      return row;
    },

    /**
     * Stores an agent's final result once: the write applies only while the trace has no result,
     * so a redelivery (or a second replica seeing the same message) writes nothing. A result that
     * arrives after the offline sweep failed the trace still lands, because real data beats a
     * guess. Returns the stored row, or undefined when nothing was written.
     */
    async storeFinalResult(
      result: FinalResultMessage,
      diagnosis: Diagnosis | null,
    ): Promise<TraceRow | undefined> {
      const [row] = await db
        .update(traces)
        .set({
          status: result.status,
          failure: result.failure ?? null,
          address: result.address ?? null,
          hops: result.hops,
          stoppedBy: result.stoppedBy ?? null,
          diagnosis,
          followUps: result.followUps ?? null,
          adaptive: result.adaptive ?? null,
          nat: result.nat ?? null,
          recordRoute: result.recordRoute ?? null,
          startedAt: new Date(result.startedAt),
          finishedAt: new Date(result.finishedAt),
          resultAt: new Date(),
        })
        .where(
          and(
            eq(traces.id, result.traceId),
            eq(traces.agentId, result.agentId),
            eq(traces.measurementId, result.measurementId),
            isNull(traces.resultAt),
          ),
        )
        .returning();
      return row;
    },

    async getTrace(traceId: string): Promise<TraceRow | undefined> {
      const [row] = await db.select().from(traces).where(eq(traces.id, traceId));
      return row;
    },

    /**
     * A measurement and its traces, in one query. Its status is derived from the traces (done
     * once none is queued or running) and written back the first time it is read that way, which
     * keeps that write off the result path.
     */
    async getMeasurement(id: string): Promise<MeasurementWithTraces | undefined> {
      const rows = await measurementQuery().execute({ id });
      const first = rows[0];
      if (!first) return undefined;
      const found = {
        measurement: first.measurement,
        traces: rows.flatMap((r) => (r.trace ? [r.trace] : [])),
      };
      const finished = found.traces.every((t) => !(ACTIVE as readonly string[]).includes(t.status));
      if (finished && found.measurement.status !== "done") {
        found.measurement = { ...found.measurement, status: "done" };
        await refreshMeasurementStatus([id]);
      }
      return found;
    },

    /** The ids of a measurement's traces (empty when the measurement does not exist). */
    async traceIdsOf(measurementId: string): Promise<string[]> {
      const rows = await traceIdsQuery().execute({ measurementId });
      return rows.map((r) => r.id);
    },

    /** Number of traces of these measurements per status (benchmarks and operators' checks). */
    async traceStatusCounts(measurementIds: string[]): Promise<Record<string, number>> {
      const counts: Record<string, number> = {};
      for (let i = 0; i < measurementIds.length; i += 1_000) {
        const rows = await db
          .select({ status: traces.status, n: sql<number>`count(*)::int` })
          .from(traces)
          .where(inArray(traces.measurementId, measurementIds.slice(i, i + 1_000)))
          .groupBy(traces.status);
        for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + Number(r.n);
      }
      return counts;
    },

    /** Checks the database answers (for /healthz). */
    async ping(): Promise<void> {
      await db.execute(sql`select 1`);
    },
  };
}

export type Repository = ReturnType<typeof createRepository>;
