import { createRepository } from "@lg/db";
import { type FinalResultMessage, type Hop, subjects, TraceOptions } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack, waitFor } from "../harness";

/** A reverse-DNS name is whatever the owner of an address range writes into its PTR records. */
const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>'.evil`;

const hop = (ttl: number, host: string, name: string): Hop =>
  hopOf(ttl, host, 3, { name, responders: [{ address: host, name, count: 3 }] });

describe("a hostile reverse-DNS name stored through the real ingest path", () => {
  let stack: Stack;
  let nc: NatsConnection;
  const measurementId = `mh${Date.now().toString(36)}`;
  const traceId = `th${Date.now().toString(36)}`;

  beforeAll(async () => {
    stack = await startStack("pglite");
    nc = await connect({ servers: stack.nats.url });
    await createRepository(stack.coordinator.db.db).createMeasurement({
      id: measurementId,
      target: "198.18.9.1",
      options: TraceOptions.parse({ count: 3 }),
      traces: [{ id: traceId, agentId: "fra", status: "queued" }],
    });
    const result: FinalResultMessage = {
      v: 1,
      traceId,
      measurementId,
      agentId: "fra",
      status: "done",
      target: "198.18.9.1",
      address: "198.18.9.1",
      hops: [hop(1, "198.18.0.1", HOSTILE), hop(2, "198.18.9.1", `${HOSTILE}2`)],
      stoppedBy: "destination",
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    };
    await jetstream(nc).publish(subjects.final("fra", traceId), JSON.stringify(result));
    await waitFor("trace stored", async () => {
      const res = await fetch(`${stack.coordinator.url}/api/v1/measurements/${measurementId}`);
      const m = (await res.json()) as { traces: { status: string }[] };
      return m.traces[0]?.status === "done";
    });
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it.each(["/m/{id}", "/compare/{id}", "/m/{id}.html"])(
    "%s sends the name as text: no live markup, the escaped form is present",
    async (path) => {
      const res = await fetch(`${stack.coordinator.url}${path.replace("{id}", measurementId)}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).not.toContain("<script>alert");
      expect(html).not.toContain("<img src=x");
      expect(html).not.toMatch(/<[^>]*\sonerror=/i);
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).toMatch(/script-src 'self'|default-src 'none'/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    },
  );

  it("the plain-text and JSON exports carry the name unchanged (they are not HTML)", async () => {
    const txt = await fetch(`${stack.coordinator.url}/m/${measurementId}.txt`);
    expect(txt.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await txt.text()).toContain(HOSTILE);
    const json = await fetch(`${stack.coordinator.url}/m/${measurementId}.json`);
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(JSON.stringify(await json.json())).toContain(JSON.stringify(HOSTILE).slice(1, -1));
  });
});
