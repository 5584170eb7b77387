import { createRepository, type Repository } from "@lg/db";
import {
  type JobReply,
  JobRequest,
  type MeasurementAccepted,
  type ProgressMessage,
  subjects,
  TraceOptions,
} from "@lg/protocol";
import { hopOf, presenceOf } from "@lg/protocol/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeasurementEvent, watchMeasurement } from "../../src/live/watch";
import { type SseEvent, type Stack, startStack, waitFor } from "../harness";

/** Reads a Server-Sent Events stream into `events` as they come, until aborted. */
async function follow(url: string, events: SseEvent[], signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { signal });
  if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const parser = createParser({
    onEvent: (e) => events.push({ event: e.event ?? "message", data: JSON.parse(e.data) }),
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
}

/**
 * Messages forged by a client on NATS (any agent, or a join agent through the bridge): progress
 * published under one agent's subject naming another agent's trace, and job replies that name
 * another trace. Real nats-server and PGlite; the "agents" are plain NATS connections.
 */
describe("forged messages on NATS", () => {
  let stack: Stack;
  let nc: NatsConnection;
  let repo: Repository;
  const stamp = Date.now().toString(36);

  beforeAll(async () => {
    stack = await startStack("pglite");
    nc = await connect({ servers: stack.nats.url, name: "forger" });
    repo = createRepository(stack.coordinator.db.db);
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  const progress = (agentId: string, traceId: string, host: string): ProgressMessage => ({
    v: 1,
    traceId,
    agentId,
    seq: 1,
    cycle: 1,
    hops: [hopOf(1, host, 1)],
    sentAt: new Date().toISOString(),
  });

  /** A measurement with one trace on fra and one on sin, both still queued (so progress is shown). */
  async function twoTraceMeasurement(tag: string) {
    const m = { id: `m${tag}${stamp}`, fra: `tf${tag}${stamp}`, sin: `ts${tag}${stamp}` };
    await repo.createMeasurement({
      id: m.id,
      target: "198.18.9.1",
      options: TraceOptions.parse({ count: 3 }),
      traces: [
        { id: m.fra, agentId: "fra", status: "queued" },
        { id: m.sin, agentId: "sin", status: "queued" },
      ],
    });
    return m;
  }

  /**
   * Publishes the forgeries, then one genuine message; once the genuine hop has reached the
   * watcher, everything published before it has been routed too (one connection, in order).
   */
  function publishForgedThenGenuine(m: { fra: string; sin: string }) {
    // sin, an agent of the same measurement, names fra's trace from its own subject.
    nc.publish(subjects.progress("sin", m.sin), JSON.stringify(progress("fra", m.fra, "198.18.66.1")));
    nc.publish(subjects.progress("sin", m.fra), JSON.stringify(progress("fra", m.fra, "198.18.66.2")));
    // An outsider does the same from its own subject.
    nc.publish(subjects.progress("evil", m.fra), JSON.stringify(progress("fra", m.fra, "198.18.66.3")));
    // The subject names fra's trace, the payload sin's trace.
    nc.publish(subjects.progress("fra", m.fra), JSON.stringify(progress("fra", m.sin, "198.18.66.4")));
    nc.publish(subjects.progress("fra", m.fra), JSON.stringify(progress("fra", m.fra, "198.18.0.1")));
  }

  const hopHosts = (events: { event: string; data: unknown }[]) =>
    events.filter((e) => e.event === "hop").map((e) => (e.data as { hop: { host: string | null } }).hop.host);

  it("the SSE stream shows progress only from the trace's own agent on its own subject", async () => {
    const m = await twoTraceMeasurement("a");
    const events: SseEvent[] = [];
    const abort = new AbortController();
    const reading = follow(
      `${stack.coordinator.url}/api/v1/measurements/${m.id}/events`,
      events,
      abort.signal,
    ).catch(() => undefined);
    await waitFor("the snapshot", async () => events.some((e) => e.event === "snapshot"));
    publishForgedThenGenuine(m);
    await waitFor("the genuine hop", async () => hopHosts(events).includes("198.18.0.1"));
    abort.abort();
    await reading;
    expect(hopHosts(events)).toEqual(["198.18.0.1"]);
  });

  it("a watcher without the shared hub (its own subscriptions) refuses the same forgeries", async () => {
    const m = await twoTraceMeasurement("b");
    const events: MeasurementEvent[] = [];
    const abort = new AbortController();
    const watching = (async () => {
      for await (const e of watchMeasurement({ nc: stack.coordinator.nc, repo }, m.id, abort.signal)) {
        events.push(e);
      }
    })();
    await waitFor("the snapshot", async () => events.some((e) => e.event === "snapshot"));
    publishForgedThenGenuine(m);
    await waitFor("the genuine hop", async () =>
      hopHosts(events as { event: string; data: unknown }[]).includes("198.18.0.1"),
    );
    abort.abort();
    await watching;
    expect(hopHosts(events as { event: string; data: unknown }[])).toEqual(["198.18.0.1"]);
  });

  describe("job replies", () => {
    const agentId = `fake-${stamp}`;
    let answer: (job: JobRequest) => JobReply;

    beforeAll(async () => {
      const presence = presenceOf(agentId, {}, { kind: "announce" });
      await repo.upsertAgent(presence, new Date());
      // The "agent" answers every job as the test says (a racer answering in its place would
      // reach the same inbox the same way).
      nc.subscribe(subjects.job(agentId), {
        callback: (_err, msg) => {
          msg.respond(JSON.stringify(answer(JobRequest.parse(msg.json()))));
        },
      });
      await nc.flush();
    });

    const submit = async () => {
      const res = await fetch(`${stack.coordinator.url}/api/v1/measurements`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "127.0.0.1", count: 1, from: [agentId] }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as MeasurementAccepted;
    };

    it("an accepting reply that names another trace fails the trace, source agent", async () => {
      answer = () => ({ v: 1, traceId: "some-other-trace", accepted: true });
      const accepted = await submit();
      expect(accepted.traces[0]).toMatchObject({ status: "failed", failure: { source: "agent" } });
      expect(accepted.traces[0]?.failure?.message).toContain('"some-other-trace"');
    });

    it("a refusing reply that names another trace fails it as the agent's fault, not the target's", async () => {
      answer = () => ({
        v: 1,
        traceId: "another",
        accepted: false,
        reason: "target-refused",
        message: "no",
      });
      const accepted = await submit();
      expect(accepted.traces[0]).toMatchObject({ status: "failed", failure: { source: "agent" } });
    });

    it("the reply for the job's own trace is taken", async () => {
      answer = (job) => ({ v: 1, traceId: job.traceId, accepted: true });
      const accepted = await submit();
      expect(accepted.traces[0]?.status).toBe("running");
    });
  });
});
