import fs from "node:fs";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { startPostgres, testDatabaseUrl } from "./postgres";

describe("startPostgres", () => {
  it("runs a throwaway PostgreSQL 15 cluster that accepts queries and is gone after stop", async () => {
    const pg = await startPostgres();
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ v: string }[]>`select current_setting('server_version_num') as v`;
      expect(Number(row?.v)).toBeGreaterThanOrEqual(150000);
      await sql`create table t (id int primary key)`;
      await sql`insert into t values (1), (2)`;
      const [count] = await sql<{ n: number }[]>`select count(*)::int as n from t`;
      expect(count?.n).toBe(2);
    } finally {
      await sql.end();
      await pg.stop();
    }
    expect(fs.existsSync(pg.dir)).toBe(false);
    expect(() => process.kill(pg.pid, 0)).toThrow();
  }, 60_000);
});

describe("testDatabaseUrl", () => {
  it("prefers TEST_DATABASE_URL and leaves that server alone", async () => {
    const db = await testDatabaseUrl({ TEST_DATABASE_URL: "postgres://u@db.invalid:5432/x" });
    expect(db).toMatchObject({ url: "postgres://u@db.invalid:5432/x", external: true });
    await db.stop();
  });
});
