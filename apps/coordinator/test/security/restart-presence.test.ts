import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  type Stack,
  sleep,
  startAgent,
  startStack,
  waitForAgents,
  waitForMeasurementDone,
} from "../harness";

/**
 * A coordinator that was down missed the agents' heartbeats. After its restart it must not
 * take that silence for agents gone offline and fail their running traces.
 */
describe("a restarted coordinator and the agents' missed heartbeats", () => {
  let stack: Stack;
  let agent: AgentProcess;
  const offlineAfterMs = 6_000;

  beforeAll(async () => {
    stack = await startStack("pglite", { offlineAfterMs, sweepEveryMs: 200 });
    agent = startAgent({ id: "rp-a", natsUrl: stack.nats.url });
    await waitForAgents(stack.coordinator.url, ["rp-a"]);
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await stack?.stop();
  });

  it("a trace running across a coordinator outage longer than the offline timeout is not failed", async () => {
    const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", count: 24, interval: 0.5, from: ["rp-a"] }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await stack.coordinator.stop();
    await sleep(offlineAfterMs + 1_500);
    const coordinator = await stack.restart();

    const seen = new Set<string>();
    let agentOffline = false;
    const deadline = Date.now() + offlineAfterMs + 2_000;
    while (Date.now() < deadline) {
      const m = (await (await fetch(`${coordinator.url}/api/v1/measurements/${id}`)).json()) as {
        traces: { status: string }[];
      };
      for (const t of m.traces) seen.add(t.status);
      const agents = (await (await fetch(`${coordinator.url}/api/v1/agents`)).json()) as {
        id: string;
        online: boolean;
      }[];
      if (agents.find((a) => a.id === "rp-a")?.online === false) agentOffline = true;
      await sleep(200);
    }
    expect(seen.has("failed")).toBe(false);
    expect(agentOffline).toBe(false);
    const done = await waitForMeasurementDone(coordinator.url, id);
    expect(done.traces[0]?.status).toBe("done");
  }, 90_000);
});
