import { createRepository } from "@lg/db";
import {
  type FinalResultMessage,
  type Hop,
  RESULTS_CONSUMER,
  RESULTS_STREAM,
  subjects,
  TraceOptions,
} from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbKind, type Stack, startStack, waitFor } from "./harness";

const hop = (ttl: number, host: string): Hop => hopOf(ttl, host, 2);

const final = (
  traceId: string,
  measurementId: string,
  agentId: string,
  host: string,
): FinalResultMessage => ({
  v: 1,
  traceId,
  measurementId,
  agentId,
  status: "done",
  target: "198.18.9.1",
  address: "198.18.9.1",
  hops: [hop(1, host)],
  stoppedBy: "destination",
  startedAt: new Date().toISOString(),
  finishedAt: new Date().toISOString(),
});

let n = 0;
const uid = (p: string) => `${p}${Date.now().toString(36)}${n++}`;

/** Final results reach the database through JetStream exactly once, also across a coordinator restart. */
describe.each<DbKind>(["postgres", "pglite"])("result ingest (%s)", (db) => {
  let stack: Stack;
  let agentSide: NatsConnection;
  beforeAll(async () => {
    stack = await startStack(db);
    agentSide = await connect({ servers: stack.nats.url });
  });
  afterAll(async () => {
    await agentSide?.close();
    await stack?.stop();
  });

  const repo = () => createRepository(stack.coordinator.db.db);

  async function newTraces(agentId: string, count: number) {
    const measurementId = uid("m");
    const ids = Array.from({ length: count }, () => uid("t"));
    await repo().createMeasurement({
      id: measurementId,
      target: "198.18.9.1",
      options: TraceOptions.parse({}),
      traces: ids.map((id) => ({ id, agentId, status: "queued" as const })),
    });
    return { measurementId, ids };
  }

  async function consumerIdle() {
    const jsm = await jetstreamManager(agentSide);
    return waitFor("consumer idle", async () => {
      const info = await jsm.consumers.info(RESULTS_STREAM, RESULTS_CONSUMER);
      return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
    });
  }

  it("the same final result published twice is stored once, and the first one wins", async () => {
    const { measurementId, ids } = await newTraces("fra", 1);
    const traceId = ids[0] as string;
    const js = jetstream(agentSide);
    const subject = subjects.final("fra", traceId);
    // No message id on purpose: JetStream keeps both, so the database must be the one to refuse the second.
    await js.publish(subject, JSON.stringify(final(traceId, measurementId, "fra", "198.18.0.1")));
    await js.publish(subject, JSON.stringify(final(traceId, measurementId, "fra", "198.18.0.2")));
    // With the message id, JetStream itself drops the repeat.
    const again = await js.publish(
      subject,
      JSON.stringify(final(traceId, measurementId, "fra", "198.18.0.3")),
      {
        msgID: traceId,
      },
    );
    const dup = await js.publish(
      subject,
      JSON.stringify(final(traceId, measurementId, "fra", "198.18.0.4")),
      {
        msgID: traceId,
      },
    );
    expect(again.duplicate).toBe(false);
    expect(dup.duplicate).toBe(true);
    await consumerIdle();
    const m = await repo().getMeasurement(measurementId);
    expect(m?.traces).toHaveLength(1);
    expect(m?.traces[0]?.hops.map((h) => h.host)).toEqual(["198.18.0.1"]);
    expect(m?.measurement.status).toBe("done");
  });

  it("a silent end's follow-ups are stored with the trace and decide its diagnosis, with the proof", async () => {
    const { measurementId, ids } = await newTraces("fra", 2);
    const [answered, silent] = ids as [string, string];
    const silentEnd = [hopOf(1, "198.18.0.1", 10), hopOf(2, "198.18.0.2", 10), hopOf(3, null, 10)];
    const probe = (port: number, reply: boolean) => ({
      kind: "tcp-syn" as const,
      target: "198.18.9.1",
      port,
      ttl: 64,
      answered: reply,
      ...(reply ? { rtt: 0.2 } : {}),
      sent: 3,
      recv: reply ? 3 : 0,
      purpose:
        "the ICMP trace ends in silence after hop 2 (198.18.0.2): is 198.18.9.1 there, ignoring ICMP echo?",
    });
    const adaptive = { extraCycles: 0, extraProbes: 0, maxExtraCycles: 30, decided: true };
    const js = jetstream(agentSide);
    for (const [traceId, reply] of [
      [answered, true],
      [silent, false],
    ] as const) {
      const result: FinalResultMessage = {
        ...final(traceId, measurementId, "fra", "198.18.0.1"),
        hops: silentEnd,
        stoppedBy: "max-unknown",
        followUps: [probe(8080, reply)],
        adaptive,
      };
      await js.publish(subjects.final("fra", traceId), JSON.stringify(result));
    }
    await consumerIdle();
    const a = await repo().getTrace(answered);
    expect(a?.followUps).toEqual([probe(8080, true)]);
    expect(a?.adaptive).toEqual(adaptive);
    expect(a?.diagnosis?.findings.map((f) => f.code)).toContain("destination-filters-icmp");
    expect(a?.diagnosis?.findings.find((f) => f.code === "destination-filters-icmp")?.evidence).toContain(
      "Proof that it is there: TCP SYN to 8080 answered in 0.2 ms",
    );
    const s = await repo().getTrace(silent);
    const interruption = s?.diagnosis?.findings.find((f) => f.code === "node-interruption");
    expect(interruption?.evidence).toContain(
      "Follow-up probes to the destination: TCP SYN to 8080: no answer.",
    );
  });

  it("a result that does not parse is dropped without blocking the ones behind it", async () => {
    const { measurementId, ids } = await newTraces("fra", 1);
    const js = jetstream(agentSide);
    await js.publish(subjects.final("fra", "junk"), "{not json");
    await js.publish(subjects.final("fra", "junk2"), JSON.stringify({ v: 1, traceId: "junk2" }));
    await js.publish(
      subjects.final("fra", ids[0] as string),
      JSON.stringify(final(ids[0] as string, measurementId, "fra", "198.18.0.1")),
    );
    await consumerIdle();
    expect((await repo().getTrace(ids[0] as string))?.status).toBe("done");
  });

  it("a result published under another agent's subject is not stored", async () => {
    const { measurementId, ids } = await newTraces("fra", 1);
    const traceId = ids[0] as string;
    await jetstream(agentSide).publish(
      subjects.final("sin", traceId),
      JSON.stringify(final(traceId, measurementId, "fra", "198.18.0.1")),
    );
    await consumerIdle();
    expect((await repo().getTrace(traceId))?.status).toBe("queued");
  });

  it("results published while the coordinator is down are stored after it restarts, none twice", async () => {
    const { measurementId, ids } = await newTraces("sin", 20);
    await stack.coordinator.stop();
    const js = jetstream(agentSide);
    for (const [i, id] of ids.entries()) {
      await js.publish(
        subjects.final("sin", id),
        JSON.stringify(final(id, measurementId, "sin", `198.18.1.${i + 1}`)),
        {
          msgID: id,
        },
      );
    }
    // A retry by an agent that did not see its ack, while the coordinator is still down.
    const first = ids[0] as string;
    const retry = await js.publish(
      subjects.final("sin", first),
      JSON.stringify(final(first, measurementId, "sin", "198.18.1.200")),
      {
        msgID: first,
      },
    );
    expect(retry.duplicate).toBe(true);
    await stack.restart();
    const m = await waitFor("all 20 stored", async () => {
      const got = await repo().getMeasurement(measurementId);
      return got?.traces.every((t) => t.status === "done") ? got : undefined;
    });
    expect(m.measurement.status).toBe("done");
    const hosts = new Map(m.traces.map((t) => [t.id, t.hops[0]?.host]));
    ids.forEach((id, i) => {
      expect(hosts.get(id)).toBe(`198.18.1.${i + 1}`);
    });
    await consumerIdle();
  });
});
