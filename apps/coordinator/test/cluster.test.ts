import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MeasurementAccepted, MeasurementView } from "@lg/protocol";
import { RESULTS_STREAM } from "@lg/protocol";
import { type LocalDeployment, type NatsNode, startLocalDeployment } from "@lg/services";
import { jetstreamManager } from "@nats-io/jetstream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { type RunningCoordinator, startCoordinator } from "../src/coordinator";
import { type AgentProcess, startAgent, waitFor, waitForAgents, waitForMeasurementDone } from "./harness";

/**
 * The checked-in 3-node core cluster (infra/nats/cluster, operator-mode credentials) on local
 * ports. The coordinator dials node 3, agent c1 node 1 and agent c2 node 2; each learns the
 * other nodes from the cluster. The results stream is scaled to three replicas as docs/deploy.md
 * says. Then the node leading the results stream is killed with SIGKILL.
 */
describe("a coordinator and agents on the 3-node NATS cluster keep working when a node is killed", () => {
  let deployment: LocalDeployment;
  let coordinator: RunningCoordinator;
  const agents: AgentProcess[] = [];
  let url: string;

  const submit = async (from: string[], count = 3): Promise<MeasurementAccepted> => {
    const res = await fetch(`${url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", from, count, interval: 0.2 }),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as MeasurementAccepted;
  };
  const allDone = (m: MeasurementView) =>
    m.traces.map((t) => [t.agentId, t.status, t.hops.at(-1)?.host ?? t.failure?.message ?? null]);

  beforeAll(async () => {
    deployment = await startLocalDeployment();
    const [n1, n2, n3] = deployment.nodes as [NatsNode, NatsNode, NatsNode];
    const creds = async (name: string, template: "coordinator" | "agent", agentId?: string) => {
      const file = join(deployment.dir, `${name}.creds`);
      await writeFile(file, await deployment.keys.mintUser(template, agentId), { mode: 0o600 });
      return file;
    };
    coordinator = await startCoordinator(
      loadConfig({
        PORT: "0",
        NATS_URL: n3.clientUrl,
        NATS_CREDS: await creds("coordinator", "coordinator"),
        LG_DATA_DIR: deployment.dir,
        LG_ALLOW_TARGETS: "127.0.0.0/8",
      }),
      { logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }) },
    );
    url = coordinator.url;
    // As docs/deploy.md: the coordinator creates the stream with one replica; make it three.
    const jsm = await jetstreamManager(coordinator.nc);
    const info = await jsm.streams.info(RESULTS_STREAM);
    await jsm.streams.update(RESULTS_STREAM, { ...info.config, num_replicas: 3 });
    await waitFor("three current replicas of the results stream", async () => {
      const i = await jsm.streams.info(RESULTS_STREAM);
      const peers = i.cluster?.replicas ?? [];
      return peers.length === 2 && peers.every((p) => p.current);
    });
    for (const [id, node] of [
      ["c1", n1],
      ["c2", n2],
    ] as const) {
      agents.push(
        startAgent({ id, natsUrl: node.clientUrl, env: { NATS_CREDS: await creds(id, "agent", id) } }),
      );
    }
    await waitForAgents(url, ["c1", "c2"], 40_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await coordinator?.stop();
    await deployment?.stop();
  }, 30_000);

  it("measurements from agents on different nodes complete before and after the results stream's leader node is killed; none is lost", async () => {
    const first = await submit(["c1", "c2"]);
    const before = await waitForMeasurementDone(url, first.id, 30_000);
    expect(allDone(before)).toEqual([
      ["c1", "done", "127.0.0.1"],
      ["c2", "done", "127.0.0.1"],
    ]);

    const jsm = await jetstreamManager(coordinator.nc);
    const leader = (await jsm.streams.info(RESULTS_STREAM)).cluster?.leader;
    const victim = deployment.nodes.find((n) => n.name === leader);
    if (!victim) throw new Error(`no node leads the results stream (leader: ${leader})`);
    // A measurement is in flight while the node dies: its results must still be stored.
    const inFlight = await submit(["c1", "c2"], 8);
    await victim.process.stop("SIGKILL");

    const killedAt = Date.now();
    // Until an agent on the killed node has reconnected, its jobs find no listener: a refused
    // job is reported at once as failed. Submit until both agents accept.
    const next = await waitFor(
      "both agents to accept a job after the kill",
      async () => {
        const m = await submit(["c1", "c2"]).catch(() => undefined);
        return m?.traces.every((t) => t.status === "running") ? m : undefined;
      },
      30_000,
    );
    const acceptedAfterMs = Date.now() - killedAt;
    const after = await Promise.all([inFlight, next].map((m) => waitForMeasurementDone(url, m.id, 45_000)));
    console.info(
      `jobs accepted again ${acceptedAfterMs} ms after the kill; both measurements stored ${Date.now() - killedAt} ms after it`,
    );
    for (const m of after) {
      expect(allDone(m)).toEqual([
        ["c1", "done", "127.0.0.1"],
        ["c2", "done", "127.0.0.1"],
      ]);
    }
    const newLeader = (await jsm.streams.info(RESULTS_STREAM)).cluster?.leader;
    expect(newLeader).toBeDefined();
    expect(newLeader).not.toBe(leader);
    // The coordinator's health is whole again on the remaining nodes.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  }, 60_000);
});
