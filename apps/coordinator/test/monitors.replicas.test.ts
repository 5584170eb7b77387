import type { MonitorView } from "@lg/protocol";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { type RunningCoordinator, startCoordinator } from "../src/coordinator";
import { rowsOf } from "../src/monitors/store";
import { createApiKey, createSecurityStore } from "../src/security";
import { type AgentProcess, type Stack, startAgent, startStack, waitFor, waitForAgents } from "./harness";

/** Two coordinator replicas on one NATS and one PostgreSQL, both running the monitor scheduler. */
describe("monitor scheduler with two replicas (PostgreSQL lease)", () => {
  let stack: Stack;
  let second: RunningCoordinator;
  let agent: AgentProcess;
  let key: string;

  beforeAll(async () => {
    stack = await startStack("postgres", { monitorTickMs: 100 });
    second = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: stack.nats.url,
        DATABASE_URL: stack.databaseUrl,
        LG_DATA_DIR: stack.dir,
        LG_ALLOW_TARGETS: "127.0.0.0/8",
      }),
      { logger: pino({ level: "silent" }), monitorTickMs: 100 },
    );
    key = (await createApiKey(createSecurityStore(second.db.db), ["admin"], "test")).key;
    agent = startAgent({ id: "rep1", natsUrl: stack.nats.url });
    await waitForAgents(second.url, ["rep1"]);
  });
  afterAll(async () => {
    await agent?.stop();
    await second?.stop();
    await stack?.stop();
  });

  it("runs each due monitor once per period although both replicas poll every 100 ms", async () => {
    const res = await fetch(`${second.url}/api/v1/monitors`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        kind: "trace",
        every: 5,
        measurement: { target: "127.0.0.1", from: ["rep1"], count: 2, interval: 0.2 },
      }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as MonitorView;
    const monitor = await waitFor(
      "three runs",
      async () => {
        const m = (await (
          await fetch(`${stack.coordinator.url}/api/v1/monitors/${id}`, {
            headers: { authorization: `Bearer ${key}` },
          })
        ).json()) as MonitorView;
        return m.runs >= 3 ? m : undefined;
      },
      40_000,
    );
    const rows = rowsOf(
      await second.db.db.execute(
        sql`select created from measurements where client = ${`monitor:${id}`} order by created`,
      ),
    );
    // One measurement per run (a run in flight may have started one more), never two at once.
    expect(rows.length).toBeGreaterThanOrEqual(monitor.runs);
    expect(rows.length).toBeLessThanOrEqual(monitor.runs + 1);
    const times = rows.map((r) => new Date(r.created as string).getTime());
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThan(4_000);
  });
});
