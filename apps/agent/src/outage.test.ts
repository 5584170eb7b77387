import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FinalResultMessage, PresenceMessage, subjects } from "@lg/protocol";
import { startNatsServer } from "@lg/services";
import { Tracer } from "@lg/tracer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "./agent";
import { parseAgentConfig } from "./config";
import { createLogger } from "./logger";
import { job, sendJob, startTestNats, type TestNats, uniqueId, until, waitForFinal } from "./test-support";

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "silent";

describe("agent across NATS outages (real nats-server stopped and restarted)", () => {
  let nats: TestNats;
  let agentDataDir: string;

  beforeAll(async () => {
    nats = await startTestNats();
    agentDataDir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-agent-data-"));
  });
  afterAll(async () => {
    await nats.close();
    await fs.rm(agentDataDir, { recursive: true, force: true });
  });

  /** Stops nats-server, runs `whileDown`, and starts it again on the same port with the same JetStream folder. */
  async function outage(whileDown: () => Promise<void>): Promise<void> {
    await nats.server.stop();
    await whileDown();
    nats.server = await startNatsServer({ dataDir: nats.dataDir, port: nats.server.port });
  }

  const configFor = (id: string) =>
    parseAgentConfig({
      NATS_URL: nats.server.url,
      LG_AGENT_ID: id,
      LG_ALLOW_TARGETS: "127.0.0.0/8",
      LG_DATA_DIR: agentDataDir,
    });

  it("delivers a final result that finished while nats-server was down once it is back", async () => {
    const id = uniqueId("outage");
    const agent = await runAgent(configFor(id), {
      tracer: new Tracer({ resolveNames: false }),
      logger: createLogger(LOG_LEVEL),
      outboxRetry: { baseDelayMs: 200, maxDelayMs: 1_000 },
    });
    const kinds: string[] = [];
    nats.nc.subscribe(subjects.presence(id), {
      callback: (_err, msg) => {
        kinds.push(PresenceMessage.parse(msg.json()).kind);
      },
    });
    const traceId = uniqueId("trace");
    let snapshots = 0;
    nats.nc.subscribe(subjects.progress(id, traceId), {
      callback: () => {
        snapshots++;
      },
    });
    await nats.nc.flush();
    expect(
      (await sendJob(nats.nc, id, job(traceId, "127.0.0.1", { count: 10, interval: 0.25 }))).accepted,
    ).toBe(true);
    await until(() => snapshots >= 1, 5_000, "first progress snapshot");

    await outage(async () => {
      // The trace goes on without NATS; its result waits in the outbox.
      await until(() => agent.running().length === 0, 15_000, "the trace to finish");
      expect(agent.unsentResults()).toBe(1);
    });

    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 30_000)).json());
    expect(final).toMatchObject({ status: "done", stoppedBy: "destination" });
    expect(final.hops[0]).toMatchObject({ sent: 10, recv: 10 });
    await until(() => agent.unsentResults() === 0, 5_000, "the outbox to empty");
    // Back after the outage it says so with a heartbeat, never a second "announce" (which would
    // tell the coordinator that a fresh process lost its traces).
    await until(() => kinds.length > 0, 5_000, "presence after the outage");
    expect(kinds).not.toContain("announce");
    expect(kinds).toContain("heartbeat");
    await agent.shutdown();
  }, 60_000);

  it("keeps an unsent final result in its data folder across an agent restart", async () => {
    const id = uniqueId("restart");
    const first = await runAgent(configFor(id), {
      tracer: new Tracer({ resolveNames: false }),
      logger: createLogger(LOG_LEVEL),
      outboxFlushTimeoutMs: 500,
    });
    const traceId = uniqueId("trace");
    expect(
      (await sendJob(nats.nc, id, job(traceId, "127.0.0.1", { count: 6, interval: 0.25 }))).accepted,
    ).toBe(true);

    await outage(async () => {
      await until(() => first.running().length === 0, 15_000, "the trace to finish");
      // Shut down while NATS is unreachable: the result cannot be delivered, so it stays on disk.
      await first.shutdown();
      const file = path.join(agentDataDir, `agent-${id}-unsent-results.json`);
      const kept = JSON.parse(await fs.readFile(file, "utf8")) as unknown[];
      expect(kept.map((r) => FinalResultMessage.parse(r).traceId)).toEqual([traceId]);
    });

    const announcements: PresenceMessage[] = [];
    nats.nc.subscribe(subjects.presence(id), {
      callback: (_err, msg) => {
        const presence = PresenceMessage.parse(msg.json());
        if (presence.kind === "announce") announcements.push(presence);
      },
    });
    // The test's own client reconnects to the restarted server first.
    await until(
      () =>
        nats.nc.flush().then(
          () => true,
          () => false,
        ),
      10_000,
      "the test client to reconnect",
    );
    const second = await runAgent(configFor(id), {
      tracer: new Tracer({ resolveNames: false }),
      logger: createLogger(LOG_LEVEL),
    });
    const stored = await waitForFinal(nats.jsm, id, traceId, 30_000);
    const final = FinalResultMessage.parse(stored.json());
    expect(final.hops[0]).toMatchObject({ sent: 6 });
    // The old result was stored before the new process announced itself.
    await until(() => announcements.length === 1, 5_000, "the announcement");
    expect(stored.time.getTime()).toBeLessThanOrEqual(Date.parse(announcements[0]?.sentAt ?? ""));
    await second.shutdown();
  }, 60_000);
});
