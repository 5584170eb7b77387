import type { MeasurementAccepted, MeasurementView } from "@lg/protocol";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { type RunningCoordinator, startCoordinator } from "../src/coordinator";
import { type AgentProcess, readEvents, type Stack, startAgent, startStack, waitForAgents } from "./harness";

/** Two coordinator replicas on one NATS and one PostgreSQL, like two instances behind a load balancer. */
describe("coordinator replicas", () => {
  let stack: Stack;
  let second: RunningCoordinator;
  let agent: AgentProcess;

  beforeAll(async () => {
    stack = await startStack("postgres");
    second = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: stack.nats.url,
        DATABASE_URL: stack.databaseUrl,
        LG_DATA_DIR: stack.dir,
        LG_ALLOW_TARGETS: "127.0.0.0/8",
      }),
      { logger: pino({ level: "silent" }) },
    );
    agent = startAgent({ id: "rep1", natsUrl: stack.nats.url });
    await waitForAgents(second.url, ["rep1"]);
  });
  afterAll(async () => {
    await agent?.stop();
    await second?.stop();
    await stack?.stop();
  });

  it("a measurement submitted to one replica streams live on the other, and is stored once", async () => {
    const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", from: ["rep1"], count: 4, interval: 0.6 }),
    });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as MeasurementAccepted;
    const events = await readEvents(`${second.url}/api/v1/measurements/${accepted.id}/events`);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("snapshot");
    expect(names).toContain("hop");
    expect(names.at(-1)).toBe("done");
    const fromFirst = (await (
      await fetch(`${stack.coordinator.url}/api/v1/measurements/${accepted.id}`)
    ).json()) as MeasurementView;
    const fromSecond = (await (
      await fetch(`${second.url}/api/v1/measurements/${accepted.id}`)
    ).json()) as MeasurementView;
    expect(fromFirst).toEqual(fromSecond);
    expect(fromFirst.traces[0]?.status).toBe("done");
  });
});
