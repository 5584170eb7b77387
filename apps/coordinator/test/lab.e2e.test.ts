import { join } from "node:path";
import { createRepository } from "@lg/db";
import { type LabProcess, type ReferenceLab, randomPrefix, runMtr, startReferenceLab } from "@lg/netlab";
import {
  HEARTBEAT_INTERVAL_MS,
  type MeasurementAccepted,
  type MeasurementView,
  OFFLINE_AFTER_MS,
  subjects,
  type TraceView,
} from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEvents, repoRoot, type Stack, startStack, waitFor, waitForAgents } from "./harness";

const tsxLoader = `file://${join(repoRoot, "node_modules/tsx/dist/loader.mjs")}`;

/**
 * The reference lab (packages/netlab: two PoPs fra and sin, routers, targets), built with a
 * per-run prefix. NATS and the coordinator listen only on the lab's host-side address; the agents
 * run inside the fra and sin namespaces and reach them over lab links, like remote PoPs.
 */
describe("lab end-to-end: agents inside two PoPs, coordinator over lab links", () => {
  let lab: ReferenceLab;
  let stack: Stack;
  let url: string;
  const agents = new Map<string, LabProcess>();
  const agentLogs = new Map<string, string>();

  function startLabAgent(node: string) {
    const proc = lab.spawn(
      node,
      [process.execPath, "--import", tsxLoader, join(repoRoot, "apps/cli/src/main.ts"), "agent"],
      {
        env: {
          NATS_URL: stack.nats.url,
          LG_AGENT_ID: node,
          LG_REGION: lab.nodes[node]?.region ?? node,
          LG_ROLE: "pop",
          LG_ALLOW_TARGETS: lab.labCidrs.join(","),
          LG_PUBLIC_ADDRS: lab.addr(node),
          LOG_LEVEL: "warn",
        },
        cwd: repoRoot,
      },
    );
    agentLogs.set(node, "");
    const keep = (d: Buffer) => agentLogs.set(node, `${agentLogs.get(node) ?? ""}${d}`.slice(-4000));
    proc.stdout.on("data", keep);
    proc.stderr.on("data", keep);
    agents.set(node, proc);
  }

  beforeAll(async () => {
    lab = await startReferenceLab({ prefix: randomPrefix() });
    expect(lab.hostAddress.v4).toMatch(/^198\.1[89]\./);
    stack = await startStack("postgres", {
      host: lab.hostAddress.v4,
      natsHost: lab.hostAddress.v4,
      allow: lab.labCidrs.join(","),
    });
    url = stack.coordinator.url;
    for (const node of ["fra", "sin"]) startLabAgent(node);
    await waitForAgents(url, ["fra", "sin"], 40_000);
  }, 180_000);

  afterAll(async () => {
    for (const [node, log] of agentLogs) if (log.trim()) process.stderr.write(`--- agent ${node}:\n${log}\n`);
    await Promise.all([...agents.values()].map((a) => a.stop("SIGKILL")));
    await stack?.stop();
    await lab?.down();
  }, 60_000);

  const submit = async (body: unknown) => {
    const res = await fetch(`${url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const accepted = (await res.json()) as MeasurementAccepted;
    expect(res.status, JSON.stringify(accepted)).toBe(202);
    return accepted;
  };

  it("the agents reached NATS over the lab and report their lab addresses", async () => {
    const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as Array<{
      id: string;
      addresses: string[];
    }>;
    expect(list.find((a) => a.id === "fra")?.addresses).toEqual([lab.addr("fra")]);
    expect(list.find((a) => a.id === "sin")?.addresses).toEqual([lab.addr("sin")]);
  });

  it("a measurement from fra and sin returns, per PoP, the hops real mtr sees from that namespace — in the database, in GET and on the stream", async () => {
    const target = lab.scenarios.clean.target;
    // A public client (not loopback): the public bounds apply, so an interval of 0.5 s.
    const accepted = await submit({ target, from: ["fra", "sin"], count: 10, interval: 0.5 });
    expect(accepted.traces.map((t) => [t.agentId, t.status]).sort()).toEqual([
      ["fra", "running"],
      ["sin", "running"],
    ]);
    const streamed = readEvents(`${url}/api/v1/measurements/${accepted.id}/events`, 90_000);
    const [fraMtr, sinMtr] = await Promise.all([
      runMtr(lab, "fra", { target, count: 10, interval: 0.5, format: "report" }),
      runMtr(lab, "sin", { target, count: 10, interval: 0.5, format: "report" }),
    ]);
    const events = await streamed;
    const m = (await (await fetch(`${url}/api/v1/measurements/${accepted.id}`)).json()) as MeasurementView;
    expect(m.status).toBe("done");
    const byAgent = new Map(m.traces.map((t) => [t.agentId, t]));
    const fra = byAgent.get("fra") as TraceView;
    const sin = byAgent.get("sin") as TraceView;

    // The same responders, hop by hop, as mtr from the same namespace.
    expect(fra.hops.map((h) => h.host)).toEqual(fraMtr.hops.map((h) => h.host));
    expect(sin.hops.map((h) => h.host)).toEqual(sinMtr.hops.map((h) => h.host));
    // And what the lab's routes predict for fra; sin takes another way in.
    expect(fra.hops.map((h) => h.host)).toEqual(lab.scenarios.clean.expectedHops);
    expect(sin.hops.map((h) => h.host)).not.toEqual(fra.hops.map((h) => h.host));
    for (const t of [fra, sin]) {
      expect(t.status).toBe("done");
      expect(t.address).toBe(target);
      expect(t.hops.at(-1)?.host).toBe(target);
      expect(t.hops.every((h) => h.sent === 10 && h.lossPct === 0)).toBe(true);
      expect(t.diagnosis?.verdict).toBe("clean");
    }

    // Stored in PostgreSQL exactly as served.
    const stored = await createRepository(stack.coordinator.db.db).getMeasurement(accepted.id);
    expect(stored?.traces.find((t) => t.agentId === "fra")?.hops).toEqual(fra.hops);
    expect(stored?.traces.find((t) => t.agentId === "sin")?.hops).toEqual(sin.hops);

    // On the stream: snapshot first, live hops from both PoPs, each final trace, done last.
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("snapshot");
    expect(names.at(-1)).toBe("done");
    const hopAgents = new Set(
      events.filter((e) => e.event === "hop").map((e) => (e.data as { agentId: string }).agentId),
    );
    expect([...hopAgents].sort()).toEqual(["fra", "sin"]);
    const finals = events.filter((e) => e.event === "trace" && (e.data as TraceView).status === "done");
    const finalHosts = new Map(
      finals.map((e) => [(e.data as TraceView).agentId, (e.data as TraceView).hops.map((h) => h.host)]),
    );
    expect(finalHosts.get("fra")).toEqual(fra.hops.map((h) => h.host));
    expect(finalHosts.get("sin")).toEqual(sin.hops.map((h) => h.host));
  }, 120_000);

  it("killing an agent mid-trace (kill -9) fails its trace with source agent within the heartbeat timeout", async () => {
    const target = lab.scenarios.clean.target;
    const accepted = await submit({ target, from: ["fra", "sin"], count: 60, interval: 0.5 });
    const fraTrace = accepted.traces.find((t) => t.agentId === "fra")?.id as string;
    // Wait until fra is really tracing (its trace is running and a hop of it came over NATS), then kill it.
    const progress = stack.coordinator.nc.subscribe(subjects.progressOfTrace(fraTrace), {
      max: 1,
      timeout: 20_000,
    });
    await waitFor(
      "fra's first hops",
      async () => {
        const r = await fetch(`${url}/api/v1/measurements/${accepted.id}`);
        const m = (await r.json()) as MeasurementView;
        return m.traces.find((t) => t.id === fraTrace)?.status === "running";
      },
      20_000,
    );
    for await (const _ of progress) break;
    const fraProc = agents.get("fra") as LabProcess;
    process.kill(fraProc.pid, "SIGKILL");
    const killedAt = Date.now();
    await fraProc.exited;

    const failed = await waitFor(
      "fra's trace failed",
      async () => {
        const m = (await (
          await fetch(`${url}/api/v1/measurements/${accepted.id}`)
        ).json()) as MeasurementView;
        const t = m.traces.find((x) => x.id === fraTrace);
        return t?.status === "failed" ? t : undefined;
      },
      OFFLINE_AFTER_MS + 10_000,
    );
    const elapsed = Date.now() - killedAt;
    expect(failed.failure).toEqual({ source: "agent", message: "agent went offline mid-trace" });
    // Offline after 15 s of silence; the last heartbeat was at most one interval before the kill.
    expect(elapsed).toBeLessThanOrEqual(OFFLINE_AFTER_MS + 1_500);
    expect(elapsed).toBeGreaterThanOrEqual(OFFLINE_AFTER_MS - HEARTBEAT_INTERVAL_MS - 1_000);
    const list = (await (await fetch(`${url}/api/v1/agents`)).json()) as Array<{
      id: string;
      online: boolean;
    }>;
    expect(list.find((a) => a.id === "fra")?.online).toBe(false);
    expect(list.find((a) => a.id === "sin")?.online).toBe(true);
    // sin's trace goes on unharmed: still running, not failed.
    const m = (await (await fetch(`${url}/api/v1/measurements/${accepted.id}`)).json()) as MeasurementView;
    expect(m.traces.find((t) => t.agentId === "sin")?.status).toBe("running");
  }, 90_000);
});
