import type { Diagnosis, Hop, TraceFailure, TraceOptions, TraceUpload } from "@lg/protocol";
import { and, asc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type { Database } from "./client";
import {
  measurements,
  type PathTestFollowUpRow,
  type PathTestRow,
  pathTests,
  type ReverseSessionRow,
  reverseSessions,
  type TraceRow,
  traces,
} from "./schema";

export interface NewPathTest {
  id: string;
  options: TraceOptions;
  a: string;
  b: string | { host: string };
  aAddress: string;
  bAddress: string;
  forwardTraceId: string;
  reverseTraceId: string | null;
  note?: string | null;
  sessionId?: string | null;
}

export interface PathTestWithTraces {
  pathTest: PathTestRow;
  forward: TraceRow | undefined;
  reverse: TraceRow | undefined;
  /** The traces of its follow-ups (alias traces), by trace id. */
  followUps: Map<string, TraceRow>;
}

export type NewReverseSession = Pick<
  ReverseSessionRow,
  "id" | "tokenHash" | "server" | "via" | "options" | "expiresAt"
>;

type SessionStatus = ReverseSessionRow["status"];

/**
 * A reverse session customer's trace, uploaded (`done`, with its hops) or awaited (`queued`: the
 * reverse leg started first). It is stored as a trace of its own one-trace measurement, with no
 * agent, so it reads, exports and ages like any other trace.
 */
export interface NewUploadTrace {
  measurementId: string;
  traceId: string;
  target: string;
  address: string;
  options: TraceOptions;
  client: string | null;
  status: "queued" | "done";
  hops?: Hop[];
  diagnosis?: Diagnosis | null;
  upload?: TraceUpload;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

/** The hops and reading of an uploaded trace, filled into the one awaited. */
export interface UploadedTraceFill {
  target: string;
  hops: Hop[];
  diagnosis: Diagnosis | null;
  upload: TraceUpload;
  startedAt: Date;
  finishedAt: Date;
}

/** Queries of path tests and reverse sessions (spread into the repository). */
export function pathTestQueries(db: Database) {
  async function withTraces(rows: PathTestRow[]): Promise<PathTestWithTraces[]> {
    const followUpIds = (r: PathTestRow) =>
      (r.followUps ?? []).map((x) => x.traceId).filter((x): x is string => !!x);
    const ids = rows
      .flatMap((r) => [r.forwardTraceId, r.reverseTraceId, ...followUpIds(r)])
      .filter((x): x is string => !!x);
    const found = ids.length > 0 ? await db.select().from(traces).where(inArray(traces.id, ids)) : [];
    const byId = new Map(found.map((t) => [t.id, t]));
    return rows.map((pathTest) => ({
      pathTest,
      forward: pathTest.forwardTraceId ? byId.get(pathTest.forwardTraceId) : undefined,
      reverse: pathTest.reverseTraceId ? byId.get(pathTest.reverseTraceId) : undefined,
      followUps: new Map(
        followUpIds(pathTest).flatMap((id) => {
          const t = byId.get(id);
          return t ? [[id, t] as const] : [];
        }),
      ),
    }));
  }

  /**
   * Changes a session still waiting for its customer with no join agent registered; only the first
   * caller of any replica gets the row (undefined: it started, or a join agent registered).
   */
  async function updateWaitingSession(
    id: string,
    set: Partial<Omit<ReverseSessionRow, "id" | "tokenHash" | "created">>,
  ): Promise<ReverseSessionRow | undefined> {
    const [row] = await db
      .update(reverseSessions)
      .set(set)
      .where(
        and(
          eq(reverseSessions.id, id),
          eq(reverseSessions.status, "waiting"),
          isNull(reverseSessions.customerAgentId),
        ),
      )
      .returning();
    return row;
  }

  /** Ends an awaited upload trace once, and its measurement with it (undefined: not awaited, or ended already). */
  async function endUploadTrace(traceId: string, set: Partial<TraceRow>): Promise<TraceRow | undefined> {
    const [row] = await db
      .update(traces)
      .set({ ...set, resultAt: new Date() })
      .where(and(eq(traces.id, traceId), eq(traces.origin, "upload"), eq(traces.status, "queued")))
      .returning();
    if (row)
      await db.update(measurements).set({ status: "done" }).where(eq(measurements.id, row.measurementId));
    return row;
  }

  return {
    async createPathTest(p: NewPathTest): Promise<void> {
      await db.insert(pathTests).values({
        id: p.id,
        status: "running",
        options: p.options,
        a: p.a,
        b: p.b,
        aAddress: p.aAddress,
        bAddress: p.bAddress,
        forwardTraceId: p.forwardTraceId,
        reverseTraceId: p.reverseTraceId,
        note: p.note ?? null,
        sessionId: p.sessionId ?? null,
      });
    },

    async getPathTest(id: string): Promise<PathTestWithTraces | undefined> {
      const rows = await db.select().from(pathTests).where(eq(pathTests.id, id));
      return (await withTraces(rows))[0];
    },

    async listPathTestsOfSession(sessionId: string): Promise<PathTestWithTraces[]> {
      const rows = await db
        .select()
        .from(pathTests)
        .where(eq(pathTests.sessionId, sessionId))
        .orderBy(asc(pathTests.created), asc(pathTests.id));
      return withTraces(rows);
    },

    /** Stores the comparison of a finished path test once; later calls change nothing. */
    async finishPathTest(id: string, comparison: Record<string, unknown> | null): Promise<void> {
      await db
        .update(pathTests)
        .set({ status: "done", comparison })
        .where(and(eq(pathTests.id, id), inArray(pathTests.status, ["running", "following-up"])));
    },

    /**
     * Claims a path test whose two traces are done for its follow-ups: only one caller (of any
     * replica) gets `true` and sends them.
     */
    async claimPathTestFollowUps(id: string, followUps: PathTestFollowUpRow[]): Promise<boolean> {
      const rows = await db
        .update(pathTests)
        .set({ status: "following-up", followUps })
        .where(and(eq(pathTests.id, id), eq(pathTests.status, "running"), isNull(pathTests.followUps)))
        .returning({ id: pathTests.id });
      return rows.length > 0;
    },

    /**
     * Claims a further round of follow-ups: only the caller that finds exactly `known` rows stored
     * (of any replica) gets `true` and stores `followUps` (the old rows and the new round) in their place.
     */
    async claimMorePathTestFollowUps(
      id: string,
      known: number,
      followUps: PathTestFollowUpRow[],
    ): Promise<boolean> {
      const rows = await db
        .update(pathTests)
        .set({ followUps })
        .where(
          and(
            eq(pathTests.id, id),
            eq(pathTests.status, "following-up"),
            sql`jsonb_array_length(${pathTests.followUps}) = ${known}`,
          ),
        )
        .returning({ id: pathTests.id });
      return rows.length > 0;
    },

    /** Records the measurements the claimed follow-ups went out as. */
    async setPathTestFollowUps(id: string, followUps: PathTestFollowUpRow[]): Promise<void> {
      await db
        .update(pathTests)
        .set({ followUps })
        .where(and(eq(pathTests.id, id), eq(pathTests.status, "following-up")));
    },

    /** Path tests created after `since` that are not done yet (the coordinator's loop moves them on). */
    async listUnfinishedPathTests(since: Date, limit = 200): Promise<PathTestWithTraces[]> {
      const rows = await db
        .select()
        .from(pathTests)
        .where(and(inArray(pathTests.status, ["running", "following-up"]), gt(pathTests.created, since)))
        .orderBy(asc(pathTests.created))
        .limit(limit);
      return withTraces(rows);
    },

    async createReverseSession(s: NewReverseSession): Promise<void> {
      await db.insert(reverseSessions).values({ ...s, status: "waiting" });
    },

    async getReverseSession(id: string): Promise<ReverseSessionRow | undefined> {
      const [row] = await db.select().from(reverseSessions).where(eq(reverseSessions.id, id));
      return row;
    },

    /** Sessions not yet done or expired (the coordinator's session loop walks them). */
    async listActiveReverseSessions(): Promise<ReverseSessionRow[]> {
      return db
        .select()
        .from(reverseSessions)
        .where(inArray(reverseSessions.status, ["waiting", "joined", "running"]))
        .orderBy(asc(reverseSessions.created));
    },

    /**
     * Moves a session on only from one of the `from` states, so two replicas (or a retried join)
     * cannot both make the same step. Returns the changed row, or undefined when nothing changed.
     */
    async advanceReverseSession(
      id: string,
      from: SessionStatus[],
      set: Partial<Omit<ReverseSessionRow, "id" | "tokenHash" | "created">>,
    ): Promise<ReverseSessionRow | undefined> {
      const [row] = await db
        .update(reverseSessions)
        .set(set)
        .where(and(eq(reverseSessions.id, id), inArray(reverseSessions.status, from)))
        .returning();
      return row;
    },

    /**
     * The customer opened its link: records the address it came from (the last opening before the
     * session starts wins; a join agent's registration replaces it). Returns the row, or undefined
     * once the session started or a join agent registered.
     */
    async openCustomerLink(id: string, address: string, at: Date): Promise<ReverseSessionRow | undefined> {
      return updateWaitingSession(id, { customerAddress: address, linkOpenedAt: at });
    },

    /**
     * The customer pressed start on its link: the session runs from `address` (the start request's),
     * once; only the first caller of any replica gets the row.
     */
    async startFromCustomerLink(
      id: string,
      address: string,
      at: Date,
    ): Promise<ReverseSessionRow | undefined> {
      return updateWaitingSession(id, { status: "running", customerAddress: address, linkOpenedAt: at });
    },

    /** Stores a customer's uploaded (or awaited) trace and its one-trace measurement together. */
    async insertUploadTrace(t: NewUploadTrace): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.insert(measurements).values({
          id: t.measurementId,
          target: t.target,
          options: t.options,
          status: t.status === "done" ? "done" : "running",
          client: t.client,
        });
        await tx.insert(traces).values({
          id: t.traceId,
          measurementId: t.measurementId,
          agentId: null,
          origin: "upload",
          target: t.target,
          address: t.address,
          status: t.status,
          hops: t.hops ?? [],
          diagnosis: t.diagnosis ?? null,
          upload: t.upload ?? null,
          startedAt: t.startedAt ?? null,
          finishedAt: t.finishedAt ?? null,
          resultAt: t.status === "done" ? new Date() : null,
        });
      });
    },

    /** Removes a measurement and its traces (an upload trace that lost the race to be the session's). */
    async deleteMeasurement(id: string): Promise<void> {
      await db.delete(measurements).where(eq(measurements.id, id));
    },

    /** Makes `traceId` the session's uploaded trace, once: false when it already has one. */
    async claimSessionUpload(id: string, traceId: string): Promise<boolean> {
      const rows = await db
        .update(reverseSessions)
        .set({ uploadTraceId: traceId })
        .where(and(eq(reverseSessions.id, id), isNull(reverseSessions.uploadTraceId)))
        .returning({ id: reverseSessions.id });
      return rows.length > 0;
    },

    async getTrace(id: string): Promise<TraceRow | undefined> {
      const [row] = await db.select().from(traces).where(eq(traces.id, id));
      return row;
    },

    /** Fills the awaited upload trace once (undefined: it was filled already, or is not awaited). */
    async fillUploadTrace(traceId: string, fill: UploadedTraceFill): Promise<TraceRow | undefined> {
      return endUploadTrace(traceId, { ...fill, status: "done" });
    },

    /** Ends an awaited upload trace that never came (its session ended first). */
    async failUploadTrace(traceId: string, failure: TraceFailure): Promise<TraceRow | undefined> {
      return endUploadTrace(traceId, { status: "failed", failure, finishedAt: new Date() });
    },

    /** Records the customer's join once (the first join wins). */
    async joinReverseSession(
      id: string,
      customer: { address: string; agentId: string; at: Date },
    ): Promise<ReverseSessionRow | undefined> {
      // An address the customer's link recorded is replaced: the join agent's request is the one
      // whose address its traces leave from.
      return updateWaitingSession(id, {
        status: "joined",
        customerAddress: customer.address,
        customerAgentId: customer.agentId,
        joinedAt: customer.at,
      });
    },
  };
}
