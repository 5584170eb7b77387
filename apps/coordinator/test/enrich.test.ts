import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRepository } from "@lg/db";
import { type FinalResultMessage, type Hop, subjects, TraceOptions } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack, waitFor } from "./harness";

const hop = (ttl: number, host: string | null): Hop => hopOf(ttl, host, 2);

/** Stored hops carry their origin AS: the operator's prefix table first, the public table for the rest. */
describe("origin AS enrichment at ingest", () => {
  let stack: Stack;
  let agentSide: NatsConnection;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-asn-"));
    const prefixFile = join(dir, "prefixes.csv");
    await writeFile(
      prefixFile,
      "198.18.0.0/15,64512,Lab Internet\n198.18.5.0/24,AS64510,Lab Backbone, Core\n",
    );
    stack = await startStack("pglite", { env: { LG_ASN_PREFIXES: prefixFile } });
    agentSide = await connect({ servers: stack.nats.url });
  }, 60_000);
  afterAll(async () => {
    await agentSide?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("fills asn and owner from the longest operator prefix and from the public table, and skips silent hops", async () => {
    const repo = createRepository(stack.coordinator.db.db);
    const measurementId = `m${Date.now().toString(36)}`;
    const traceId = `t${Date.now().toString(36)}`;
    await repo.createMeasurement({
      id: measurementId,
      target: "198.18.9.1",
      options: TraceOptions.parse({}),
      traces: [{ id: traceId, agentId: "fra", status: "queued" }],
    });
    const now = new Date().toISOString();
    const result: FinalResultMessage = {
      v: 1,
      traceId,
      measurementId,
      agentId: "fra",
      status: "done",
      target: "198.18.9.1",
      address: "198.18.9.1",
      // 8.8.8.8 is only looked up in the offline table here; nothing is sent to it.
      hops: [hop(1, "198.18.1.2"), hop(2, "198.18.5.1"), hop(3, null), hop(4, "8.8.8.8")],
      stoppedBy: "destination",
      startedAt: now,
      finishedAt: now,
    };
    await jetstream(agentSide).publish(subjects.final("fra", traceId), JSON.stringify(result), {
      msgID: traceId,
    });
    const trace = await waitFor("trace stored", async () => {
      const t = await repo.getTrace(traceId);
      return t?.status === "done" ? t : undefined;
    });
    const [h1, h2, h3, h4] = trace.hops;
    expect(h1).toMatchObject({ asn: 64512, owner: "Lab Internet" });
    expect(h2).toMatchObject({ asn: 64510, owner: "Lab Backbone, Core" });
    expect(h3?.asn).toBeUndefined();
    expect(h4?.asn).toBe(15169);
    expect(h4?.owner).toMatch(/google/i);
  }, 60_000);
});
