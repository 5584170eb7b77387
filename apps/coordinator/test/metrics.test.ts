import type { MeasurementAccepted } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  type Stack,
  startAgent,
  startStack,
  waitFor,
  waitForAgents,
  waitForMeasurementDone,
} from "./harness";

/** The value of one sample in Prometheus text, by metric name and exact label set (`{a="b"}`), or undefined. */
function sample(text: string, name: string, labels = ""): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}${labels} `)) return Number(line.slice(name.length + labels.length + 1));
  }
  return undefined;
}

describe("Prometheus /metrics (real NATS, PGlite, a real agent)", () => {
  let stack: Stack;
  let agent: AgentProcess;
  const scrape = async () => {
    const res = await fetch(`${stack.coordinator.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return res.text();
  };

  beforeAll(async () => {
    stack = await startStack("pglite");
    agent = startAgent({ id: "met1", natsUrl: stack.nats.url, region: "lab-eu" });
    await waitForAgents(stack.coordinator.url, ["met1"]);
  });
  afterAll(async () => {
    await agent?.stop();
    await stack?.stop();
  });

  it("a scrape after a measurement shows the agent's heartbeat counters, the jobs, traces, NATS, database and queue", async () => {
    const before = await scrape();
    const sent0 = sample(before, "lg_agent_probes_sent_total", '{agent="met1",region="lab-eu"}') ?? 0;
    const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", from: ["met1"], count: 3, interval: 0.2 }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as MeasurementAccepted;
    await waitForMeasurementDone(stack.coordinator.url, id);

    // The counters travel in the next heartbeat (every 5 s).
    const text = await waitFor(
      "the agent's counters after the trace",
      async () => {
        const t = await scrape();
        const done = sample(t, "lg_agent_traces_done_total", '{agent="met1",region="lab-eu"}') ?? 0;
        return done >= 1 ? t : undefined;
      },
      20_000,
    );
    const agentLabels = '{agent="met1",region="lab-eu"}';
    expect(sample(text, "lg_agent_probes_sent_total", agentLabels)).toBeGreaterThanOrEqual(sent0 + 3);
    expect(sample(text, "lg_agent_probes_answered_total", agentLabels)).toBeGreaterThanOrEqual(3);
    expect(sample(text, "lg_agent_jobs_accepted_total", agentLabels)).toBeGreaterThanOrEqual(1);
    expect(sample(text, "lg_agent_up", agentLabels)).toBe(1);
    expect(sample(text, "lg_agents", '{state="online"}')).toBe(1);
    expect(sample(text, "lg_jobs_total", '{outcome="accepted"}')).toBe(1);
    expect(sample(text, "lg_traces", '{status="done"}')).toBe(1);
    expect(sample(text, "lg_traces", '{status="running"}')).toBe(0);
    expect(sample(text, "lg_nats_connected")).toBe(1);
    expect(sample(text, "lg_results_queue", '{state="pending"}')).toBe(0);
    expect(sample(text, "lg_db_latency_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "lg_dispatch_seconds_count")).toBe(1);
  });

  it("counts an open live stream as an SSE client until it is closed", async () => {
    const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", from: ["met1"], count: 6, interval: 0.5 }),
    });
    const { id } = (await res.json()) as MeasurementAccepted;
    const abort = new AbortController();
    const stream = await fetch(`${stack.coordinator.url}/api/v1/measurements/${id}/events`, {
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    const reader = stream.body?.getReader();
    await reader?.read();
    expect(sample(await scrape(), "lg_sse_clients")).toBe(1);
    abort.abort();
    await waitFor(
      "the stream to be counted closed",
      async () => sample(await scrape(), "lg_sse_clients") === 0,
      10_000,
    );
  });
});
