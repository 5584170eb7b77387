import {
  type AlertRow,
  alerts,
  type Database,
  type MonitorRow,
  type MonitorSampleRow,
  monitorSamples,
  monitors,
} from "@lg/db";
import { and, asc, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";

export type NewMonitor = Pick<
  MonitorRow,
  "id" | "name" | "kind" | "spec" | "rules" | "everySeconds" | "webhook"
>;

/** The monitor tables' queries. */
export function createMonitorStore(db: Database) {
  return {
    async insert(m: NewMonitor): Promise<MonitorRow> {
      const [row] = await db
        .insert(monitors)
        .values({ ...m, nextRun: new Date() })
        .returning();
      return row as MonitorRow;
    },

    list(): Promise<MonitorRow[]> {
      return db.select().from(monitors).orderBy(asc(monitors.created));
    },

    async get(id: string): Promise<MonitorRow | undefined> {
      const [row] = await db.select().from(monitors).where(eq(monitors.id, id));
      return row;
    },

    /** Deletes a monitor with its series; its alert history stays. */
    async remove(id: string): Promise<boolean> {
      const rows = await db.delete(monitors).where(eq(monitors.id, id)).returning({ id: monitors.id });
      if (rows.length === 0) return false;
      await db.delete(monitorSamples).where(eq(monitorSamples.monitorId, id));
      return true;
    },

    /**
     * Takes up to `limit` due monitors for this replica: one statement moves `next_run` on and
     * sets the lease, so of several replicas polling at once exactly one gets each monitor.
     * `FOR UPDATE SKIP LOCKED` lets the others pass over rows being taken instead of waiting.
     */
    async claimDue(owner: string, leaseMs: number, limit: number): Promise<MonitorRow[]> {
      const result = await db.execute(sql`
        update ${monitors} set
          lease_owner = ${owner},
          lease_until = now() + (${leaseMs}::int * interval '1 millisecond'),
          next_run = greatest(next_run + every_seconds * interval '1 second', now())
        where id in (
          select id from ${monitors}
          where next_run <= now() and (lease_until is null or lease_until < now())
          order by next_run
          limit ${limit}::int
          for update skip locked
        )
        returning id`);
      const ids = rowsOf(result).map((r) => String(r.id));
      if (ids.length === 0) return [];
      return db.select().from(monitors).where(inArray(monitors.id, ids));
    },

    /** Saves what a run learned and gives the monitor back, if this replica still holds it. */
    async finishRun(
      id: string,
      owner: string,
      state: Record<string, unknown>,
      ranAt: Date,
    ): Promise<boolean> {
      const rows = await db
        .update(monitors)
        .set({
          state,
          lastRunAt: ranAt,
          runs: sql`${monitors.runs} + 1`,
          leaseOwner: null,
          leaseUntil: null,
        })
        .where(and(eq(monitors.id, id), eq(monitors.leaseOwner, owner)))
        .returning({ id: monitors.id });
      return rows.length > 0;
    },

    async releaseLease(id: string, owner: string): Promise<void> {
      await db
        .update(monitors)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(and(eq(monitors.id, id), eq(monitors.leaseOwner, owner)));
    },

    async insertSamples(rows: MonitorSampleRow[]): Promise<void> {
      if (rows.length > 0) await db.insert(monitorSamples).values(rows);
    },

    samples(monitorId: string, since: Date, limit: number): Promise<MonitorSampleRow[]> {
      return db
        .select()
        .from(monitorSamples)
        .where(and(eq(monitorSamples.monitorId, monitorId), gte(monitorSamples.at, since)))
        .orderBy(asc(monitorSamples.at), asc(monitorSamples.subject), asc(monitorSamples.ttl))
        .limit(limit);
    },

    /** Opens an alert; undefined when the same one is already firing (another run opened it). */
    async openAlert(
      row: Omit<AlertRow, "resolvedAt" | "resolveEvidence" | "resolveLink" | "delivery" | "status">,
    ) {
      const [created] = await db
        .insert(alerts)
        .values({ ...row, status: "firing" })
        .onConflictDoNothing()
        .returning();
      return created;
    },

    async resolveAlert(
      monitorId: string,
      rule: string,
      subject: string,
      evidence: Record<string, unknown>,
      link: string | null,
    ): Promise<AlertRow | undefined> {
      const [row] = await db
        .update(alerts)
        .set({ status: "resolved", resolvedAt: new Date(), resolveEvidence: evidence, resolveLink: link })
        .where(
          and(
            eq(alerts.monitorId, monitorId),
            eq(alerts.rule, rule),
            eq(alerts.subject, subject),
            eq(alerts.status, "firing"),
          ),
        )
        .returning();
      return row;
    },

    async setDelivery(id: string, delivery: string): Promise<void> {
      await db.update(alerts).set({ delivery }).where(eq(alerts.id, id));
    },

    listAlerts(q: { monitorId?: string; status?: "firing" | "resolved"; before?: Date; limit: number }) {
      const where = [
        q.monitorId ? eq(alerts.monitorId, q.monitorId) : undefined,
        q.status ? eq(alerts.status, q.status) : undefined,
        q.before ? lt(alerts.firedAt, q.before) : undefined,
      ].filter((w) => w !== undefined);
      return db
        .select()
        .from(alerts)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(alerts.firedAt))
        .limit(q.limit);
    },

    /** Firing alerts per monitor. */
    async firingCounts(): Promise<Map<string, number>> {
      const rows = await db
        .select({ monitorId: alerts.monitorId, n: sql<number>`count(*)::int` })
        .from(alerts)
        .where(eq(alerts.status, "firing"))
        .groupBy(alerts.monitorId);
      return new Map(rows.map((r) => [r.monitorId, Number(r.n)]));
    },
  };
}

/** Rows of a raw `execute`, whichever driver ran it (postgres.js: an array; PGlite: `.rows`). */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  return ((result as { rows?: Record<string, unknown>[] }).rows ?? []) as Record<string, unknown>[];
}

export type MonitorStore = ReturnType<typeof createMonitorStore>;
