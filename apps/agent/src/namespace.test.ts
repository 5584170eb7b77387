import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FinalResultMessage, PresenceMessage, subjects } from "@lg/protocol";
import { type NatsServer, startNatsServer } from "@lg/services";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createResultsStream, job, sendJob, uniqueId, until, waitForFinal } from "./test-support";

/**
 * Topology: the root namespace and one namespace NS joined by a veth pair on 198.19.250.0/30
 * (root side .1, NS side .2). nats-server listens on loopback plus 198.19.250.1; the agent runs
 * inside NS with `ip netns exec NS bin/lg agent`, the way the lab and `lg demo` start it.
 */
const lg = path.resolve(import.meta.dirname, "../../../bin/lg");
const tag = `lgag${process.pid % 100_000}`;
const ns = `${tag}-ns`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });

describe("agent inside a network namespace", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let dataDir: string;

  beforeAll(async () => {
    ip("netns", "add", ns);
    ip("link", "add", `${tag}a`, "type", "veth", "peer", "name", `${tag}b`);
    ip("link", "set", `${tag}b`, "netns", ns);
    ip("addr", "add", "198.19.250.1/30", "dev", `${tag}a`);
    ip("link", "set", `${tag}a`, "up");
    ip("-n", ns, "addr", "add", "198.19.250.2/30", "dev", `${tag}b`);
    ip("-n", ns, "link", "set", `${tag}b`, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-agent-ns-"));
    server = await startNatsServer({ dataDir, extraListen: ["198.19.250.1"] });
    nc = await connect({ servers: server.url });
    await createResultsStream(await jetstreamManager(nc));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
    try {
      ip("link", "del", `${tag}a`);
    } catch {}
    try {
      ip("netns", "del", ns);
    } catch {}
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("reaches NATS over the namespace's link, reports the namespace's address and traces from there", async () => {
    const id = uniqueId("ns");
    const presence: PresenceMessage[] = [];
    nc.subscribe(subjects.presence(id), {
      callback: (_err, msg) => {
        presence.push(PresenceMessage.parse(msg.json()));
      },
    });
    await nc.flush();
    const natsInLab = server.extraUrls[0] as string;
    const child = spawn(
      "ip",
      ["netns", "exec", ns, lg, "agent", "--id", id, "--allow-targets", "198.18.0.0/15"],
      {
        env: { ...process.env, NATS_URL: natsInLab, LOG_LEVEL: "warn" },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await until(() => presence.length > 0, 30_000, "the agent's announcement");
      expect(presence[0]?.agent.addresses).toEqual(["198.19.250.2"]);

      const traceId = uniqueId("trace");
      expect(
        (await sendJob(nc, id, job(traceId, "198.19.250.1", { count: 3, interval: 0.2 }))).accepted,
      ).toBe(true);
      const final = FinalResultMessage.parse(
        (await waitForFinal(await jetstreamManager(nc), id, traceId)).json(),
      );
      expect(final.hops).toHaveLength(1);
      expect(final.hops[0]).toMatchObject({ host: "198.19.250.1", sent: 3, recv: 3 });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
