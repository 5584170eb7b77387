import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, PermissionViolationError } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDeployment, monitor, startLocalDeployment, waitFor } from "./infra-cluster";
import { type FailoverResult, RESULTS_CONSUMER, RESULTS_STREAM, runFailoverTrial } from "./infra-failover";

/** Resolves with the first permission error the server reports on `nc`. */
async function nextPermissionError(nc: NatsConnection): Promise<PermissionViolationError> {
  for await (const status of nc.status()) {
    if (status.type === "error" && status.error instanceof PermissionViolationError) return status.error;
  }
  throw new Error("connection closed without a permission error");
}

// The checked-in infra/nats/cluster and infra/nats/leaf configs, moved to free ports.
describe("the 3-node core cluster and a regional leaf (infra/nats)", () => {
  let deployment: LocalDeployment;
  let failover: FailoverResult;

  beforeAll(async () => {
    deployment = await startLocalDeployment();
  }, 60_000);
  afterAll(async () => {
    await deployment?.stop();
  }, 30_000);

  it("forms a cluster: every node routes to the two others and JetStream has a meta leader", async () => {
    for (const node of deployment.nodes) {
      const routez = await monitor<{ num_routes: number }>(node, "/routez");
      expect(routez?.num_routes, node.name).toBe(2);
      const jsz = await monitor<{ meta_cluster?: { leader?: string; cluster_size?: number } }>(node, "/jsz");
      expect(jsz?.meta_cluster?.cluster_size).toBe(3);
      expect(deployment.nodes.map((n) => n.name)).toContain(jsz?.meta_cluster?.leader);
    }
  });

  it("keeps taking and delivering results when the stream's leader node is killed with SIGKILL: none lost, none stored twice", async () => {
    failover = await runFailoverTrial(deployment, { total: 1_000, killAfter: 300, kill: "stream-leader" });
    console.table({ ...failover, missing: failover.missing.length });
    expect(failover.streamLeaderBefore).toBe(failover.killedNode);
    expect(deployment.nodes.map((n) => n.name)).toContain(failover.streamLeaderAfter);
    expect(failover.streamLeaderAfter).not.toBe(failover.killedNode);
    expect(failover.killedNodeBehind).toBe(true);
    expect(failover.stored).toBe(1_000);
    expect(failover.missing).toEqual([]);
    expect(failover.consumed).toBe(1_000);
    // At-least-once: what was in flight at the kill may come again (flagged or not, see
    // FailoverResult.unflaggedRepeats), never more than one fetch batch of it.
    expect(failover.redeliveries + failover.unflaggedRepeats).toBeLessThanOrEqual(200);
    // Publishing did stop (the kill was real) and did resume; how long it took is the benchmark's business.
    expect(failover.failedAttempts).toBeGreaterThan(0);
    expect(Number.isFinite(failover.publishResumeMs)).toBe(true);
  }, 120_000);

  it("brings the killed node back and it catches up as a current replica of the stream", async () => {
    const killed = deployment.nodes.find((n) => n.name === failover.killedNode);
    if (!killed) throw new Error("no killed node");
    await deployment.restartNode(killed);
    const nc = await deployment.connectAs(
      "coordinator",
      deployment.nodes.map((n) => n.clientUrl),
    );
    try {
      const jsm = await jetstreamManager(nc);
      const info = await waitFor(
        "all three replicas to be current",
        async () => {
          const i = await jsm.streams.info(RESULTS_STREAM);
          const peers = i.cluster?.replicas ?? [];
          return peers.length === 2 && peers.every((p) => p.current && !p.offline) ? i : undefined;
        },
        30_000,
      );
      expect(info.state.messages).toBe(1_000);
      expect([info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((p) => p.name)].sort()).toEqual(
        deployment.nodes.map((n) => n.name).sort(),
      );
    } finally {
      await nc.close();
    }
  }, 60_000);

  describe("through the regional leaf", () => {
    let coordinator: NatsConnection;
    let sin: NatsConnection;
    beforeAll(async () => {
      const leaf = await deployment.startLeaf();
      coordinator = await deployment.connectAs(
        "coordinator",
        deployment.nodes.map((n) => n.clientUrl),
      );
      sin = await deployment.connectAs("agent", [leaf.clientUrl], "sin-1");
    }, 60_000);
    afterAll(async () => {
      await sin?.close();
      await coordinator?.close();
    });

    it("an agent on the leaf publishes a final result into the core's stream and the shared consumer delivers it", async () => {
      const ack = await jetstream(sin).publish("lg.result.sin-1.final.leaf-1", "done", { msgID: "leaf-1" });
      expect(ack.stream).toBe(RESULTS_STREAM);
      expect(ack.duplicate).toBe(false);
      const again = await jetstream(sin).publish("lg.result.sin-1.final.leaf-1", "done", { msgID: "leaf-1" });
      expect(again.duplicate).toBe(true);

      const consumer = await jetstream(coordinator).consumers.get(RESULTS_STREAM, RESULTS_CONSUMER);
      // A late redelivery from the failover run may come first; it is acknowledged and skipped.
      const msg = await waitFor("the leaf agent's result", async () => {
        const m = await consumer.next({ expires: 1_000 });
        m?.ack();
        return m?.subject === "lg.result.sin-1.final.leaf-1" ? m : undefined;
      });
      expect(msg.string()).toBe("done");
    });

    it("a coordinator's job request reaches the agent on the leaf and the agent's answer comes back", async () => {
      const jobs = sin.subscribe("lg.agent.sin-1.job", { max: 1 });
      void (async () => {
        for await (const m of jobs) m.respond(`accepted ${m.string()}`);
      })();
      await sin.flush();
      // Subscription interest crosses the leaf asynchronously; retry until it has arrived.
      const reply = await waitFor("the agent's answer", async () => {
        try {
          return (await coordinator.request("lg.agent.sin-1.job", "job-1", { timeout: 1_000 })).string();
        } catch {
          return undefined;
        }
      });
      expect(reply).toBe("accepted job-1");
    });

    it("an agent on the leaf is refused reading another agent's jobs", async () => {
      const refused = nextPermissionError(sin);
      const sub = sin.subscribe("lg.agent.fra-1.job");
      const err = await refused;
      expect(err.operation).toBe("subscription");
      expect(err.subject).toBe("lg.agent.fra-1.job");
      expect(await sub.closed).toBeInstanceOf(PermissionViolationError);
    });

    it("an agent on the leaf is refused publishing a result as another agent, and nothing reaches the core", {
      timeout: 30_000,
    }, async () => {
      const seen: string[] = [];
      const watch = coordinator.subscribe("lg.result.fra-1.>", {
        callback: (_e, m) => {
          seen.push(m.subject);
        },
      });
      await coordinator.flush();
      const refused = nextPermissionError(sin);
      sin.publish("lg.result.fra-1.final.forged", "forged");
      const err = await refused;
      expect(err.operation).toBe("publish");
      expect(err.subject).toBe("lg.result.fra-1.final.forged");
      // Its own subject still passes over the same connection, and arrives after the refused one would have.
      const own = coordinator.subscribe("lg.result.sin-1.progress.p1", { max: 1 });
      await coordinator.flush();
      await waitFor("interest to cross the leaf", async () => {
        sin.publish("lg.result.sin-1.progress.p1", "ok");
        await sin.flush();
        return own.getReceived() > 0 ? true : undefined;
      });
      watch.unsubscribe();
      expect(seen).toEqual([]);
    });

    it("an agent on a core node is refused reading the leaf agent's jobs", async () => {
      const fra = await deployment.connectAs("agent", [deployment.nodes[0]?.clientUrl as string], "fra-1");
      try {
        const refused = nextPermissionError(fra);
        fra.subscribe("lg.agent.sin-1.>");
        const err = await refused;
        expect(err.operation).toBe("subscription");
        expect(err.subject).toBe("lg.agent.sin-1.>");
      } finally {
        await fra.close();
      }
    });
  });
});
