import { FinalResultMessage, type JobReply, PROTOCOL_VERSION } from "@lg/protocol";
import { startTestDns, type TestDnsServer } from "@lg/protocol/testing";
import { Tracer } from "@lg/tracer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, runAgent } from "./agent";
import { parseAgentConfig } from "./config";
import { createLogger } from "./logger";
import { job, sendJob, startTestNats, type TestNats, uniqueId, until, waitForFinal } from "./test-support";

/**
 * The agent's side of the target check, written as the attacks it closes: a real agent on a
 * real nats-server, resolving through a DNS server of the test's own on loopback (never the
 * machine's DNS), tracing loopback addresses with the real tracer.
 */
describe("an agent's target resolution and the address it probes", () => {
  let nats: TestNats;
  let dns: TestDnsServer;
  let id: string;
  let agent: RunningAgent;

  beforeAll(async () => {
    nats = await startTestNats();
    dns = await startTestDns(({ name }) => {
      if (name.endsWith(".slow.test")) return "silent";
      if (name === "multi.test") return ["127.0.0.7", "127.0.0.2"];
      if (name === "moved.test") return ["127.0.0.3"];
      if (name === "inside.test") return ["10.0.0.1"];
      return ["127.0.0.2"];
    });
    id = uniqueId("dns");
    agent = await runAgent(
      parseAgentConfig({
        NATS_URL: nats.server.url,
        LG_AGENT_ID: id,
        LG_REGION: "test",
        LG_ALLOW_TARGETS: "127.0.0.0/8",
        LG_DNS_SERVERS: dns.server,
      }),
      {
        tracer: new Tracer({ resolveNames: false }),
        logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent", { agent: id }),
      },
    );
  });
  afterAll(async () => {
    await agent?.shutdown();
    await nats?.close();
    await dns?.close();
  });

  const timed = async (p: Promise<JobReply>) => {
    const started = Date.now();
    const reply = await p;
    return { reply, ms: Date.now() - started };
  };

  it("names that never answer cost only their own jobs: another name resolves at once while eight hang", async () => {
    const hanging = Array.from({ length: 8 }, (_, i) =>
      timed(sendJob(nats.nc, id, job(uniqueId("hang"), `n${i}.slow.test`, { count: 1 }, "127.0.0.2"))),
    );
    // All eight are hanging at the name server before the other name is asked for.
    await until(
      () => new Set(dns.queries.filter((q) => q.name.endsWith(".slow.test")).map((q) => q.name)).size === 8,
      2_000,
      "the eight names at the name server",
    );
    const quick = await timed(
      sendJob(nats.nc, id, job(uniqueId("quick"), "quick.test", { count: 1, maxTtl: 2 }, "127.0.0.2")),
    );
    expect(quick.reply.accepted).toBe(true);
    expect(quick.ms).toBeLessThan(500);
    // Each hanging name is refused at the 2 s deadline, inside the coordinator's 3 s job timeout.
    for (const { reply, ms } of await Promise.all(hanging)) {
      expect(reply).toMatchObject({ accepted: false, reason: "target-refused" });
      expect(reply.accepted === false && reply.message).toMatch(/\.slow\.test did not resolve within 2 s$/);
      expect(ms).toBeLessThan(3_000);
    }
  });

  it("probes exactly the address the coordinator checked, even where the name has others first", async () => {
    const traceId = uniqueId("multi");
    const reply = await sendJob(
      nats.nc,
      id,
      job(traceId, "multi.test", { count: 1, maxTtl: 2 }, "127.0.0.2"),
    );
    expect(reply).toEqual({ v: PROTOCOL_VERSION, traceId, accepted: true });
    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 15_000)).json());
    expect(final).toMatchObject({ status: "done", target: "multi.test", address: "127.0.0.2" });
    expect(final.hops.at(-1)?.host).toBe("127.0.0.2");
  });

  it("refuses a job whose name resolves here to another address than the one checked (DNS rebinding)", async () => {
    const traceId = uniqueId("moved");
    const reply = await sendJob(nats.nc, id, job(traceId, "moved.test", { count: 1 }, "127.0.0.2"));
    expect(reply).toEqual({
      v: PROTOCOL_VERSION,
      traceId,
      accepted: false,
      reason: "target-refused",
      message: `${id} resolved moved.test to 127.0.0.3, the coordinator checked 127.0.0.2`,
    });
    expect(agent.running()).not.toContain(traceId);
  });

  it("checks the job's address against its own policy, whatever the name resolves to", async () => {
    const reply = await sendJob(nats.nc, id, job(uniqueId("in"), "inside.test", { count: 1 }, "10.0.0.1"));
    expect(reply).toMatchObject({ accepted: false, reason: "target-refused" });
    expect(reply.accepted === false && reply.message).toMatch(
      /inside\.test was checked as 10\.0\.0\.1, .*private/,
    );
  });

  it("asks no DNS for an IP literal, and refuses a job whose address is not the literal", async () => {
    const asked = dns.queries.length;
    const same = await sendJob(
      nats.nc,
      id,
      job(uniqueId("lit"), "127.0.0.5", { count: 1, maxTtl: 2 }, "127.0.0.5"),
    );
    expect(same.accepted).toBe(true);
    const other = await sendJob(nats.nc, id, job(uniqueId("lit"), "127.0.0.5", { count: 1 }, "127.0.0.6"));
    expect(other).toMatchObject({ accepted: false, reason: "invalid" });
    expect(other.accepted === false && other.message).toMatch(
      /address 127\.0\.0\.6 is not its target 127\.0\.0\.5/,
    );
    expect(dns.queries.length).toBe(asked);
  });

  it("refuses a job without the checked address as invalid", async () => {
    const { address: _dropped, ...withoutAddress } = job(uniqueId("noaddr"), "quick.test", {}, "127.0.0.2");
    const reply = await sendJob(nats.nc, id, withoutAddress);
    expect(reply).toMatchObject({ accepted: false, reason: "invalid" });
    expect(reply.accepted === false && reply.message).toMatch(/^address: /);
  });
});
