import { JobReply, RESULTS_CONSUMER, RESULTS_STREAM, subjects } from "@lg/protocol";
import { presenceOf } from "@lg/protocol/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentProcess,
  type Stack,
  startAgent,
  startStack,
  waitFor,
  waitForAgents,
  waitForMeasurementDone,
} from "../harness";

/**
 * Garbage published on a real nats-server to every subject the coordinator and the agent
 * listen on. Afterwards both processes are up and do their work: the agent answers each
 * garbage job with a readable refusal, and a real measurement still completes.
 */
export const RUNS = { job: 300, cancel: 300, presence: 300, final: 300, progress: 300, live: 300 };

const encoder = new TextEncoder();
const messageLike = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.anything()),
    traceId: fc.oneof(fc.string({ maxLength: 30 }), fc.anything()),
    measurementId: fc.string({ maxLength: 30 }),
    agentId: fc.constantFrom("fz-a", "other", "", "fz-a.x"),
    agent: fc.anything(),
    kind: fc.constantFrom("announce", "heartbeat", "leave", "x"),
    target: fc.constantFrom("127.0.0.1", "10.0.0.1", "-x", ""),
    options: fc.anything(),
    status: fc.constantFrom("done", "failed", "running", 7),
    hops: fc.array(fc.anything(), { maxLength: 3 }),
    running: fc.oneof(fc.integer(), fc.anything()),
  },
  { requiredKeys: [] },
);
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string().map((s) => encoder.encode(s)),
  fc.jsonValue().map((v) => encoder.encode(JSON.stringify(v))),
  messageLike.map((v) => encoder.encode(JSON.stringify(v) ?? "null")),
);

describe("NATS messages under random payloads", () => {
  let stack: Stack;
  let agent: AgentProcess;
  let nc: NatsConnection;

  beforeAll(async () => {
    stack = await startStack("pglite");
    agent = startAgent({ id: "fz-a", natsUrl: stack.nats.url });
    await waitForAgents(stack.coordinator.url, ["fz-a"]);
    nc = await connect({ servers: stack.nats.url, name: "fuzzer" });
  }, 60_000);
  afterAll(async () => {
    await nc?.drain();
    await agent?.stop();
    await stack?.stop();
  });

  it("every garbage job request gets a readable refusal from the agent", async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(payload, async (data) => {
        const msg = await nc.request(subjects.job("fz-a"), data, { timeout: 5_000 });
        const reply = JobReply.parse(msg.json());
        expect(reply.accepted).toBe(false);
        refused++;
      }),
      { numRuns: RUNS.job },
    );
    expect(refused).toBe(RUNS.job);
  }, 120_000);

  it("garbage on cancel, presence, final-result, progress and live subjects crashes nothing", async () => {
    const targets: [string, number][] = [
      [subjects.cancel("fz-a"), RUNS.cancel],
      [subjects.presence("fz-a"), RUNS.presence / 2],
      [subjects.presence("ghost"), RUNS.presence / 2],
      [subjects.final("fz-a", "t1"), RUNS.final],
      [subjects.progress("fz-a", "t1"), RUNS.progress],
      [subjects.traceUpdated("t1"), RUNS.live],
    ];
    for (const [subject, runs] of targets) {
      await fc.assert(
        fc.asyncProperty(payload, async (data) => {
          nc.publish(subject, data);
        }),
        { numRuns: runs },
      );
      await nc.flush();
    }
    // Wait until both processes have taken in all of it. NATS delivers one connection's messages in
    // order, so a message each listener answers, sent last, comes through after the garbage: the
    // agent refuses one more job (after its cancels), the coordinator lists an agent announced last
    // (after its presence messages), and the results consumer has nothing left once a final result
    // acknowledged by the stream after the garbage is gone from it (a garbage result is terminated).
    await nc.request(subjects.job("fz-a"), encoder.encode("{}"), { timeout: 5_000 });
    nc.publish(subjects.presence("fz-last"), JSON.stringify(presenceOf("fz-last", {}, { kind: "announce" })));
    await waitForAgents(stack.coordinator.url, ["fz-last"]);
    await jetstream(nc).publish(subjects.final("fz-a", "last"), "{}");
    const jsm = await jetstreamManager(nc);
    await waitFor("the results consumer to take in every result", async () => {
      const consumer = await jsm.consumers.info(RESULTS_STREAM, RESULTS_CONSUMER);
      return consumer.num_pending === 0 && consumer.num_ack_pending === 0;
    });
    expect(agent.child.exitCode).toBeNull();
    expect(agent.child.signalCode).toBeNull();
    const health = await fetch(`${stack.coordinator.url}/healthz`);
    expect(health.status).toBe(200);
  }, 120_000);

  it("afterwards the agent is online and a real measurement completes", async () => {
    await waitForAgents(stack.coordinator.url, ["fz-a"]);
    const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", count: 1, from: ["fz-a"] }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const m = await waitForMeasurementDone(stack.coordinator.url, id);
    expect(m.traces[0]?.status).toBe("done");
    expect(m.traces[0]?.hops.length).toBeGreaterThan(0);
    expect(agent.output()).not.toMatch(/uncaught|unhandled/i);
  }, 60_000);
});
