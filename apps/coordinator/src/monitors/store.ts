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

    /**
     * The series aggregated per subject and interval of `bucketSeconds` since `since`, at one hop
     * (`ttl`) or, with `ttl` null, at each run's last hop (the far end when it answered): runs, probes
     * sent and lost, the median of the runs' average RTTs, the 25th percentile of avg − stdev and the
     * 75th of avg + stdev, the lowest Best and highest Wrst. Runs whose hop answered nothing count
     * for loss only. One SQL statement (PostgreSQL and PGlite alike), so a month of runs is not read
     * row by row.
     */
    async history(monitorId: string, since: Date, bucketSeconds: number, ttl: number | null) {
      const picked =
        ttl === null
          ? sql`select distinct on (subject, trace_id) * from ${monitorSamples}
              where monitor_id = ${monitorId} and at >= ${since}
              order by subject, trace_id, ttl desc`
          : sql`select * from ${monitorSamples}
              where monitor_id = ${monitorId} and at >= ${since} and ttl = ${ttl}`;
      const result = await db.execute(sql`
        with picked as (${picked})
        select subject,
          floor(extract(epoch from at) / ${bucketSeconds}::int)::bigint as bucket,
          count(*)::int as runs,
          sum(sent)::int as sent,
          sum(sent * loss_pct / 100.0)::float8 as lost,
          (percentile_cont(0.5) within group (order by avg) filter (where loss_pct < 100))::float8 as median,
          (percentile_cont(0.25) within group (order by avg - coalesce(stdev, 0)) filter (where loss_pct < 100))::float8 as low,
          (percentile_cont(0.75) within group (order by avg + coalesce(stdev, 0)) filter (where loss_pct < 100))::float8 as high,
          (min(best) filter (where loss_pct < 100))::float8 as best,
          (max(worst) filter (where loss_pct < 100))::float8 as worst
        from picked
        group by subject, bucket
        order by subject, bucket`);
      const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      return rowsOf(result).map((r) => ({
        subject: String(r.subject),
        bucket: Number(r.bucket),
        runs: Number(r.runs),
        sent: Number(r.sent),
        lost: Number(r.lost),
        median: num(r.median),
        low: num(r.low),
        high: num(r.high),
        best: num(r.best),
        worst: num(r.worst),
      }));
    },

    /** The hops (TTLs) each subject has samples of since `since`. */
    async historyHops(monitorId: string, since: Date): Promise<Map<string, number[]>> {
      const rows = await db
        .selectDistinct({ subject: monitorSamples.subject, ttl: monitorSamples.ttl })
        .from(monitorSamples)
        .where(and(eq(monitorSamples.monitorId, monitorId), gte(monitorSamples.at, since)))
        .orderBy(asc(monitorSamples.subject), asc(monitorSamples.ttl));
      const out = new Map<string, number[]>();
      for (const r of rows) out.set(r.subject, [...(out.get(r.subject) ?? []), r.ttl]);
      return out;
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
