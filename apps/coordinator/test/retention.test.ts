import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRepository } from "@lg/db";
import { type NatsServer, startNatsServer } from "@lg/services";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { type RunningCoordinator, startCoordinator } from "../src/coordinator";
import { rowsOf } from "../src/monitors/store";
import { waitFor } from "./harness";

describe("retention runs by itself in a coordinator", () => {
  let dir: string;
  let nats: NatsServer;
  let coordinator: RunningCoordinator;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-retention-run-"));
    nats = await startNatsServer({ dataDir: join(dir, "nats") });
    coordinator = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: nats.url,
        LG_DATA_DIR: dir,
        LG_RETENTION_TRACES: "1d",
        LG_RETENTION_EVERY: "1s",
      }),
      { logger: pino({ level: "silent" }) },
    );
  });
  afterAll(async () => {
    await coordinator?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("a back-dated measurement is deleted on the next pass, a fresh one stays, and /metrics counts the deleted rows", async () => {
    const repo = createRepository(coordinator.db.db);
    for (const id of ["stale", "fresh"]) {
      await repo.createMeasurement({
        id,
        target: "127.0.0.1",
        options: {} as never,
        traces: [{ id: `${id}-t`, agentId: "x", status: "queued" }],
      });
    }
    const old = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await coordinator.db.db.execute(
      sql`update measurements set created = ${old}::timestamptz where id = 'stale'`,
    );
    await waitFor(
      "the stale measurement to be deleted",
      async () => (await repo.getMeasurement("stale")) === undefined,
      10_000,
    );
    expect(await repo.getMeasurement("fresh")).toBeDefined();
    const traces = rowsOf(await coordinator.db.db.execute(sql`select id from traces order by id`));
    expect(traces.map((r) => r.id)).toEqual(["fresh-t"]);
    const metrics = await (await fetch(`${coordinator.url}/metrics`)).text();
    expect(metrics).toMatch(/^lg_retention_deleted_rows_total\{kind="measurements"\} 1$/m);
  });
});
