import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, createRepository, type DbHandle } from "@lg/db";
import { testDatabaseUrl } from "@lg/services/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../monitors/store";
import { enforceRetention } from "./retention";
import { parseRetentionSettings } from "./settings";

const DAY = 86_400_000;

async function count(db: DbHandle, table: string): Promise<number> {
  const rows = rowsOf(await db.db.execute(sql.raw(`select count(*)::int as n from ${table}`)));
  return Number(rows[0]?.n);
}

/** `n` measurements (each with two traces), `n` series rows, resolved alerts and audit rows, `ageDays` old. */
async function seed(db: DbHandle, prefix: string, n: number, ageDays: number): Promise<void> {
  const repo = createRepository(db.db);
  const at = new Date(Date.now() - ageDays * DAY).toISOString();
  for (let i = 0; i < n; i++) {
    await repo.createMeasurement({
      id: `${prefix}m${i}`,
      target: "198.18.0.1",
      options: {} as never,
      traces: [
        { id: `${prefix}t${i}a`, agentId: "fra", status: "queued" },
        { id: `${prefix}t${i}b`, agentId: "sin", status: "queued" },
      ],
    });
  }
  await db.db.execute(
    sql`update measurements set created = ${at}::timestamptz where id like ${`${prefix}%`}`,
  );
  await db.db.execute(sql`update traces set created = ${at}::timestamptz where id like ${`${prefix}%`}`);
  await db.db.execute(sql`
    insert into monitor_samples (monitor_id, at, subject, trace_id, ttl, host, loss_pct, avg, best, worst, sent)
    select 'mon', ${at}::timestamptz, 'fra', ${prefix} || g, g, '198.18.0.1', 0, 1, 1, 1, 10 from generate_series(1, ${n}) g`);
  await db.db.execute(sql`
    insert into alerts (id, monitor_id, rule, subject, status, fired_at, resolved_at, evidence)
    select ${prefix} || 'a' || g, 'mon', 'loss', 'fra' || g, 'resolved', ${at}::timestamptz, ${at}::timestamptz, '{}'::jsonb from generate_series(1, ${n}) g`);
  await db.db.execute(sql`
    insert into audit_log (id, at, client_key, target, address, pops, probe_rate, ends_at)
    select ${prefix} || 'u' || g, ${at}::timestamptz, 'c', 't', '198.18.0.1', '[]'::jsonb, 1, ${at}::timestamptz from generate_series(1, ${n}) g`);
}

for (const kind of ["pglite", "postgres"] as const) {
  describe(`retention on ${kind === "pglite" ? "PGlite" : "real PostgreSQL"}`, () => {
    let db: DbHandle;
    let dir: string;
    let stopPg: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "lg-retention-"));
      let databaseUrl: string | undefined;
      if (kind === "postgres") {
        const pg = await testDatabaseUrl();
        databaseUrl = pg.url;
        stopPg = pg.stop;
      }
      db = await createDb({ databaseUrl, dataDir: dir });
    }, 60_000);
    afterAll(async () => {
      await db?.close();
      await stopPg?.();
      await rm(dir, { recursive: true, force: true });
    });

    it("deletes only back-dated rows past each kind's retention, in chunks of the batch size, traces with their measurement", async () => {
      await seed(db, "old", 250, 40);
      await seed(db, "mid", 20, 10);
      await seed(db, "new", 5, 0);
      const deleted = await enforceRetention(db.db, {
        tracesMs: 30 * DAY,
        seriesMs: 5 * DAY,
        auditMs: 90 * DAY,
        batch: 100,
      });
      // 250 old measurements go in three statements (100, 100, 50); series and alerts keep 5 days.
      expect(deleted).toEqual({ measurements: 250, path_tests: 0, series: 270, alerts: 270, audit: 0 });
      expect(await count(db, "measurements")).toBe(25);
      expect(await count(db, "traces")).toBe(50);
      expect(await count(db, "monitor_samples")).toBe(5);
      expect(await count(db, "alerts")).toBe(5);
      expect(await count(db, "audit_log")).toBe(275);

      // A second pass finds nothing more; a shorter audit retention then takes the old audit rows.
      const again = await enforceRetention(db.db, {
        tracesMs: 30 * DAY,
        seriesMs: 5 * DAY,
        auditMs: 30 * DAY,
        batch: 100,
      });
      expect(again).toEqual({ measurements: 0, path_tests: 0, series: 0, alerts: 0, audit: 250 });
    });

    it("keeps a kind forever when its retention is off (0)", async () => {
      await seed(db, "ancient", 3, 4000);
      const deleted = await enforceRetention(db.db, { tracesMs: 0, seriesMs: 0, auditMs: 0, batch: 100 });
      expect(Object.values(deleted).every((n) => n === 0)).toBe(true);
      expect(await count(db, "measurements")).toBe(28);
    });
  });
}

describe("retention settings", () => {
  it("reads durations, 'off', and names the variable in a wrong value", () => {
    expect(parseRetentionSettings({})).toEqual({
      tracesMs: 30 * DAY,
      seriesMs: 90 * DAY,
      batch: 5_000,
      everyMs: 600_000,
    });
    expect(parseRetentionSettings({ LG_RETENTION_TRACES: "off", LG_RETENTION_SERIES: "12h" })).toMatchObject({
      tracesMs: 0,
      seriesMs: 12 * 3_600_000,
    });
    expect(() => parseRetentionSettings({ LG_RETENTION_TRACES: "a week" })).toThrow(/^LG_RETENTION_TRACES: /);
    expect(() => parseRetentionSettings({ LG_RETENTION_BATCH: "5" })).toThrow(
      /LG_RETENTION_BATCH must be at least 100/,
    );
    expect(() => parseRetentionSettings({ LG_RETENTION_EVERY: "0" })).toThrow(/^LG_RETENTION_EVERY: /);
  });
});
