import type { MeasurementAccepted, MeasurementView, TraceView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  type DbKind,
  readEvents,
  type Stack,
  startAgent,
  startAgentsOnline,
  startStack,
  waitForAgents,
  waitForMeasurementDone,
} from "./harness";
import { runLg } from "./kit/process";

/** Real nats-server, real database, real agent processes (`bin/lg agent`) tracing loopback. */
describe.each<DbKind>(["postgres", "pglite"])("measurement flow with real agents (%s)", (db) => {
  let stack: Stack;
  const agents: AgentProcess[] = [];
  let url: string;

  beforeAll(async () => {
    stack = await startStack(db);
    url = stack.coordinator.url;
    await startAgentsOnline(stack, agents, [
      { id: "loop1", region: "here" },
      { id: "strict", region: "there", allow: "198.18.0.0/15" },
    ]);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await stack?.stop();
  });

  const submit = async (body: unknown) => {
    const res = await fetch(`${url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as MeasurementAccepted };
  };

  it("lists agents with region, role, online state, last seen and capabilities", async () => {
    const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as Array<Record<string, unknown>>;
    const loop1 = list.find((a) => a.id === "loop1");
    expect(loop1).toMatchObject({ region: "here", role: "pop", online: true, addresses: ["127.0.0.1"] });
    expect(Date.parse(String(loop1?.lastSeen))).toBeGreaterThan(Date.now() - 30_000);
    expect(loop1?.capabilities).toMatchObject({ protocols: expect.arrayContaining(["icmp"]) });
  });

  it("mda over TCP is taken by the API and traced by an agent with lg-probe (flowControl all)", async () => {
    const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as Array<Record<string, unknown>>;
    expect(list.find((a) => a.id === "loop1")?.capabilities).toMatchObject({ flowControl: "all" });
    const { status, body } = await submit({
      target: "127.0.0.1",
      from: ["loop1"],
      protocol: "tcp",
      port: 9,
      mda: true,
      count: 2,
      interval: 0.1,
    });
    expect(status).toBe(202);
    const done = await waitForMeasurementDone(url, body.id);
    expect(done.options).toMatchObject({ protocol: "tcp", mda: true });
    const trace = done.traces[0] as TraceView;
    expect(trace.status).toBe("done");
    // The closed port answers each SYN with a RST: the destination, every probe answered.
    expect(trace.hops.map((h) => h.host)).toEqual(["127.0.0.1"]);
    expect(trace.hops[0]?.lossPct).toBe(0);
    // The 95% rule asks 6 probes of a hop with one responder: cycles were added after the 2 asked.
    expect(trace.hops[0]?.sent).toBeGreaterThanOrEqual(6);
  });

  it("a measurement is accepted with 202, streams snapshot, hops and done in that order, and is stored", async () => {
    const { status, body } = await submit({ target: "127.0.0.1", from: ["loop1"], count: 4, interval: 0.7 });
    expect(status).toBe(202);
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(body.traces).toEqual([{ id: expect.any(String), agentId: "loop1", status: "running" }]);

    const events = await readEvents(`${url}/api/v1/measurements/${body.id}/events`);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("snapshot");
    expect(names.at(-1)).toBe("done");
    expect(names.filter((n) => n === "done")).toHaveLength(1);
    const firstHop = names.indexOf("hop");
    expect(firstHop).toBeGreaterThan(0);
    const finalTrace = events.find((e) => e.event === "trace" && (e.data as TraceView).status === "done");
    expect(finalTrace).toBeDefined();
    expect(names.lastIndexOf("hop")).toBeLessThan(events.indexOf(finalTrace as (typeof events)[number]));

    const stored = (await (await fetch(`${url}/api/v1/measurements/${body.id}`)).json()) as MeasurementView;
    expect(stored.status).toBe("done");
    expect(stored.traces).toHaveLength(1);
    const trace = stored.traces[0] as TraceView;
    expect(trace.status).toBe("done");
    expect(trace.address).toBe("127.0.0.1");
    expect(trace.hops.map((h) => h.host)).toEqual(["127.0.0.1"]);
    expect(trace.hops[0]).toMatchObject({ sent: 4, recv: 4, lossPct: 0 });
    expect((finalTrace?.data as TraceView | undefined)?.hops).toEqual(trace.hops);
    // Each finished trace is stored with the analysis guide's diagnosis.
    expect(["clean", "problem", "inconclusive"]).toContain(trace.diagnosis?.verdict);
  });

  it("an agent whose own policy refuses the target gives a failed trace blaming the target", async () => {
    const { status, body } = await submit({
      target: "127.0.0.1",
      from: ["strict", "loop1"],
      count: 1,
      interval: 0.1,
    });
    expect(status).toBe(202);
    const strict = body.traces.find((t) => t.agentId === "strict");
    expect(strict).toMatchObject({ status: "failed", failure: { source: "target" } });
    expect(strict?.failure?.message).toMatch(/strict/);
    expect(body.traces.find((t) => t.agentId === "loop1")?.status).toBe("running");
    const done = await waitForMeasurementDone(url, body.id);
    expect(done.traces.find((t) => t.agentId === "strict")?.failure?.source).toBe("target");
  });

  it("a job nobody answers becomes a failed trace that names the agent", async () => {
    const gone = startAgent({ id: "gone", natsUrl: stack.nats.url });
    await waitForAgents(url, ["gone"]);
    await gone.stop("SIGKILL");
    // Still listed online (heartbeats stop only now), so the job is sent and nobody answers.
    const { status, body } = await submit({ target: "127.0.0.1", from: ["gone"], count: 1 });
    expect(status).toBe(202);
    expect(body.traces[0]).toMatchObject({ agentId: "gone", status: "failed", failure: { source: "agent" } });
    expect(body.traces[0]?.failure?.message).toMatch(/gone/);
    const stored = (await (await fetch(`${url}/api/v1/measurements/${body.id}`)).json()) as MeasurementView;
    expect(stored.status).toBe("done");
  });

  it("lg measure prints each PoP's mtr-style report, and --json the stored measurement", async () => {
    const run = (args: string[]) => runLg(["measure", ...args], { env: { ...process.env, LG_API_URL: url } });
    const text = await run(["--from", "loop1", "-c", "2", "-i", "0.2", "127.0.0.1"]);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/── loop1 → 127\.0\.0\.1 · done/);
    expect(text.stdout).toMatch(/HOST: loop1\s+Loss%\s+Snt/);
    expect(text.stdout).toMatch(/ 1\.\|-- \S+\s+0\.0%\s+2 /);

    const json = await run(["--json", "--from", "loop1", "-c", "2", "-i", "0.2", "127.0.0.1"]);
    expect(json.code).toBe(0);
    const m = JSON.parse(json.stdout) as MeasurementView;
    expect(m.status).toBe("done");
    expect(m.traces[0]?.hops[0]?.sent).toBe(2);

    const refused = await run(["--from", "nosuch", "127.0.0.1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toEqual([
      "lg: there is no agent 'nosuch' (unknown_agent, field from)",
    ]);
  });

  it("a region selector picks the region's online agents, and no selection picks every online PoP", async () => {
    const byRegion = await submit({ target: "127.0.0.1", from: ["region:here"], count: 1, interval: 0.1 });
    expect(byRegion.body.traces.map((t) => t.agentId)).toEqual(["loop1"]);
    const all = await submit({ target: "127.0.0.1", count: 1, interval: 0.1 });
    expect(all.body.traces.map((t) => t.agentId).sort()).toEqual(expect.arrayContaining(["loop1", "strict"]));
    await waitForMeasurementDone(url, all.body.id);
  });
});
