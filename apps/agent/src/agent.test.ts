import {
  type CancelMessage,
  FinalResultMessage,
  PROTOCOL_VERSION,
  PresenceMessage,
  ProgressMessage,
  subjects,
} from "@lg/protocol";
import { realClock, Tracer } from "@lg/tracer";
import { linearPath, type Script, ScriptedPort } from "@lg/tracer/testing";
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, runAgent } from "./agent";
import { parseAgentConfig } from "./config";
import { createAgentTracer } from "./engine";
import { createLogger } from "./logger";
import {
  countStored,
  job,
  sendJob,
  startTestNats,
  type TestNats,
  uniqueId,
  until,
  waitForFinal,
} from "./test-support";

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "silent";

describe("agent on a real nats-server", () => {
  let nats: TestNats;
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    await nats.close();
  });

  async function startAgent(env: Record<string, string> = {}, deps: Parameters<typeof runAgent>[1] = {}) {
    const id = env.LG_AGENT_ID ?? uniqueId("agent");
    const config = parseAgentConfig({
      NATS_URL: nats.server.url,
      LG_AGENT_ID: id,
      LG_REGION: "test",
      LG_ALLOW_TARGETS: "127.0.0.0/8",
      LG_DRAIN_TIMEOUT: "30",
      ...env,
    });
    const agent = await runAgent(config, {
      tracer: new Tracer({ resolveNames: false }),
      logger: createLogger(LOG_LEVEL, { agent: id }),
      ...deps,
    });
    agents.push(agent);
    return { id, agent };
  }

  it("announces itself with its capabilities and heartbeats", async () => {
    const id = uniqueId("presence");
    const seen: PresenceMessage[] = [];
    const sub = nats.nc.subscribe(subjects.presence(id), {
      callback: (_err, msg) => {
        seen.push(PresenceMessage.parse(msg.json()));
      },
    });
    await nats.nc.flush();
    await startAgent(
      { LG_AGENT_ID: id, LG_MAX_TRACES: "3", LG_PUBLIC_ADDRS: "198.18.0.10" },
      { heartbeatIntervalMs: 200 },
    );
    await until(() => seen.length >= 3, 5_000, "two heartbeats");
    sub.unsubscribe();
    expect(seen[0]).toMatchObject({
      v: PROTOCOL_VERSION,
      kind: "announce",
      running: 0,
      agent: {
        id,
        region: "test",
        role: "pop",
        addresses: ["198.18.0.10"],
        capabilities: { protocols: ["icmp", "udp", "tcp"], ipv4: true, pinFlow: true, maxTraces: 3 },
      },
      counters: { jobsAccepted: 0, jobsRejected: 0 },
    });
    expect(seen.slice(1).every((m) => m.kind === "heartbeat")).toBe(true);
  });

  it("accepts a job, streams bounded-rate progress and stores the final result under the trace id", async () => {
    const { id, agent } = await startAgent();
    const traceId = uniqueId("trace");
    const progress: { msg: ProgressMessage; at: number }[] = [];
    const sub = nats.nc.subscribe(subjects.progress(id, traceId), {
      callback: (_err, msg) => {
        progress.push({ msg: ProgressMessage.parse(msg.json()), at: Date.now() });
      },
    });
    await nats.nc.flush();

    const reply = await sendJob(nats.nc, id, job(traceId, "127.0.0.1", { count: 8, interval: 0.25 }));
    expect(reply).toEqual({ v: PROTOCOL_VERSION, traceId, accepted: true });

    const stored = await waitForFinal(nats.jsm, id, traceId);
    sub.unsubscribe();
    expect(stored.header.get("Nats-Msg-Id")).toBe(traceId);
    const final = FinalResultMessage.parse(stored.json());
    expect(final).toMatchObject({
      traceId,
      measurementId: `m-${traceId}`,
      agentId: id,
      status: "done",
      target: "127.0.0.1",
      address: "127.0.0.1",
      stoppedBy: "destination",
    });
    expect(final.hops).toHaveLength(1);
    expect(final.hops[0]).toMatchObject({ ttl: 1, host: "127.0.0.1", sent: 8, recv: 8, lossPct: 0 });

    // Progress: several snapshots, in order, never closer than 500 ms apart, each the table at its
    // time (so counts only grow, and never past the final's). How many cycles the last one shows
    // depends on scheduling: the final result supersedes a snapshot still waiting for its 500 ms.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const seqs = progress.map((p) => p.msg.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    const sentAt = progress.map((p) => Date.parse(p.msg.sentAt));
    for (let i = 1; i < sentAt.length; i++) {
      expect((sentAt[i] as number) - (sentAt[i - 1] as number)).toBeGreaterThanOrEqual(500);
    }
    expect(progress.every((p) => p.msg.address === "127.0.0.1" && p.msg.agentId === id)).toBe(true);
    const sent = progress.map((p) => p.msg.hops[0]?.sent ?? 0);
    expect(sent).toEqual([...sent].sort((x, y) => x - y));
    expect(sent.at(-1)).toBeGreaterThan(sent[0] as number);
    expect(sent.at(-1)).toBeLessThanOrEqual(8);
    expect(agent.counters()).toMatchObject({
      jobsAccepted: 1,
      tracesDone: 1,
      probesSent: 8,
      probesAnswered: 8,
    });
  });

  it("stores a final result once even when the job is repeated and the result published again", async () => {
    const { id, agent } = await startAgent();
    const traceId = uniqueId("dup");
    const request = job(traceId, "127.0.0.1", { count: 2, interval: 0.1 });
    expect((await sendJob(nats.nc, id, request)).accepted).toBe(true);
    // A retried request for the same trace is confirmed, not run a second time.
    expect((await sendJob(nats.nc, id, request)).accepted).toBe(true);
    const stored = await waitForFinal(nats.jsm, id, traceId);
    expect((await sendJob(nats.nc, id, request)).accepted).toBe(true);

    // The same final result published again with its message id (as a retry after a lost ack would).
    const ack = await jetstream(nats.nc).publish(subjects.final(id, traceId), stored.data, {
      msgID: traceId,
    });
    expect(ack.duplicate).toBe(true);
    expect(await countStored(nats.jsm, subjects.final(id, traceId))).toBe(1);
    expect(agent.counters().jobsAccepted).toBe(1);
  });

  it("rejects a job at once as busy when it runs its limit of traces", async () => {
    const { id, agent } = await startAgent({ LG_MAX_TRACES: "1" });
    const first = uniqueId("long");
    expect(
      (await sendJob(nats.nc, id, job(first, "127.0.0.1", { count: 200, interval: 0.1 }))).accepted,
    ).toBe(true);
    const reply = await sendJob(nats.nc, id, job(uniqueId("second"), "127.0.0.1", { count: 1 }));
    expect(reply).toMatchObject({ accepted: false, reason: "busy" });
    expect(reply.accepted === false && reply.message).toMatch(/limit of 1 traces/);
    agent.cancelAll();
    await waitForFinal(nats.jsm, id, first);
  });

  it("without lg-probe rejects flow pinning of TCP probes as unsupported, saying what to run", async () => {
    const { id, agent } = await startAgent({}, { flowControl: "udp4" });
    expect(agent.descriptor.capabilities.flowControl).toBe("udp4");
    const reply = await sendJob(
      nats.nc,
      id,
      job(uniqueId("pin"), "127.0.0.1", { protocol: "tcp", port: 80, pinFlow: true }),
    );
    expect(reply).toMatchObject({ accepted: false, reason: "unsupported" });
    expect(reply.accepted === false && reply.message).toMatch(
      /flow pinning of IPv4 TCP probes needs lg-probe.*run \.\/scripts\/setup/,
    );
  });

  it("rejects an IPv6 target as unsupported on an agent without IPv6", async () => {
    const v4Only = {
      lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
      eth0: [{ address: "198.18.7.2", family: "IPv4", internal: false }],
    } as unknown as NonNullable<Parameters<typeof runAgent>[1]>["interfaces"];
    const { id, agent } = await startAgent(
      { LG_PUBLIC_ADDRS: "198.18.7.2", LG_ALLOW_TARGETS: "127.0.0.0/8,::1/128" },
      { interfaces: v4Only },
    );
    expect(agent.descriptor.capabilities.ipv6).toBe(false);
    const reply = await sendJob(nats.nc, id, job(uniqueId("v6"), "::1"));
    expect(reply).toMatchObject({ accepted: false, reason: "unsupported" });
    expect(reply.accepted === false && reply.message).toMatch(/no IPv6 address/);
  });

  it("rejects a job that does not parse as invalid, naming the field, and keeps running", async () => {
    const { id } = await startAgent();
    expect(await sendJob(nats.nc, id, "this is not json")).toMatchObject({
      accepted: false,
      reason: "invalid",
      message: "the job is not JSON",
    });
    const bad = { ...job(uniqueId("bad"), "127.0.0.1"), options: { count: 0 } };
    const reply = await sendJob(nats.nc, id, bad);
    expect(reply).toMatchObject({ traceId: bad.traceId, accepted: false, reason: "invalid" });
    expect(reply.accepted === false && reply.message).toMatch(/^options\.count: /);
    const notATarget = await sendJob(nats.nc, id, job(uniqueId("nt"), "-rf /", {}, "127.0.0.1"));
    expect(notATarget).toMatchObject({ accepted: false, reason: "invalid" });
    // Still alive and answering.
    expect((await sendJob(nats.nc, id, job(uniqueId("ok"), "127.0.0.1", { count: 1 }))).accepted).toBe(true);
  });

  it("refuses targets its own policy forbids, and names that do not resolve here to the checked address", async () => {
    const { id } = await startAgent(
      {},
      {
        resolver: async (name) => {
          if (name === "slow.test") await new Promise(() => {}); // hangs: the resolve timeout answers
          return name === "rebound.test" ? [{ address: "10.1.2.3", family: 4 }] : [];
        },
        resolveTimeoutMs: 300,
      },
    );
    const privateTarget = await sendJob(nats.nc, id, job(uniqueId("priv"), "10.0.0.1"));
    expect(privateTarget).toMatchObject({ accepted: false, reason: "target-refused" });
    expect(privateTarget.accepted === false && privateTarget.message).toMatch(/private/);
    const rebound = await sendJob(nats.nc, id, job(uniqueId("dns"), "rebound.test", {}, "127.0.0.9"));
    expect(rebound).toMatchObject({ accepted: false, reason: "target-refused" });
    expect(rebound.accepted === false && rebound.message).toBe(
      `${id} resolved rebound.test to 10.1.2.3, the coordinator checked 127.0.0.9`,
    );
    const unresolvable = await sendJob(nats.nc, id, job(uniqueId("nx"), "nothing.test", {}, "127.0.0.9"));
    expect(unresolvable).toMatchObject({ accepted: false, reason: "target-refused" });
    expect(unresolvable.accepted === false && unresolvable.message).toMatch(
      /resolved nothing\.test to no IPv4 address, the coordinator checked 127\.0\.0\.9/,
    );
    // A resolver that hangs does not hold the answer: the job is refused within the resolve timeout.
    const slow = await sendJob(nats.nc, id, job(uniqueId("slow"), "slow.test", {}, "127.0.0.9"));
    expect(slow).toMatchObject({ accepted: false, reason: "target-refused" });
    expect(slow.accepted === false && slow.message).toMatch(/did not resolve within 0.3 s/);
  });

  it("reports a trace whose packet helper cannot run as failed by the agent", async () => {
    const { id, agent } = await startAgent(
      {},
      { tracer: new Tracer({ resolveNames: false, mtrPacketPath: "/nonexistent/mtr-packet" }) },
    );
    const traceId = uniqueId("broken");
    expect(
      (await sendJob(nats.nc, id, job(traceId, "127.0.0.1", { count: 2, interval: 0.1 }))).accepted,
    ).toBe(true);
    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 15_000)).json());
    expect(final.status).toBe("failed");
    expect(final.failure?.source).toBe("agent");
    expect(final.failure?.message).toMatch(/^packet-helper: /);
    expect(agent.counters().tracesFailed).toBe(1);
  });

  it("cancels a running trace on request and publishes what it measured so far", async () => {
    const { id, agent } = await startAgent();
    const traceId = uniqueId("cancel");
    let snapshots = 0;
    const sub = nats.nc.subscribe(subjects.progress(id, traceId), {
      callback: () => {
        snapshots++;
      },
    });
    await nats.nc.flush();
    expect(
      (await sendJob(nats.nc, id, job(traceId, "127.0.0.1", { count: 500, interval: 0.1 }))).accepted,
    ).toBe(true);
    await until(() => snapshots >= 2, 5_000, "progress");
    // Malformed cancels are dropped without harm.
    nats.nc.publish(subjects.cancel(id), "{nope");
    nats.nc.publish(subjects.cancel(id), JSON.stringify({ v: PROTOCOL_VERSION }));
    const cancel: CancelMessage = { v: PROTOCOL_VERSION, traceId };
    nats.nc.publish(subjects.cancel(id), JSON.stringify(cancel));
    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 5_000)).json());
    sub.unsubscribe();
    expect(final).toMatchObject({ status: "done", stoppedBy: "cancelled" });
    const sent = final.hops[0]?.sent ?? 0;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(500);
    expect(agent.running()).toEqual([]);
  });
});

describe("agent: follow-ups and --until-sure in the final result", () => {
  let nats: TestNats;
  const agents: RunningAgent[] = [];
  const TARGET = "198.18.0.9";

  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    await nats.close();
  });

  /** An agent whose engine (createAgentTracer, as in production) sends into a scripted network. */
  async function startScripted(script: Script, deps: Parameters<typeof runAgent>[1] = {}) {
    const id = uniqueId("scripted");
    const port = new ScriptedPort(realClock, script);
    const agent = await runAgent(
      parseAgentConfig({
        NATS_URL: nats.server.url,
        LG_AGENT_ID: id,
        LG_REGION: "test",
        LG_ALLOW_TARGETS: "198.18.0.0/15",
      }),
      {
        tracer: createAgentTracer({ port, resolveNames: false }),
        logger: createLogger(LOG_LEVEL, { agent: id }),
        ...deps,
      },
    );
    agents.push(agent);
    return { id, agent, port };
  }

  it("with lg-probe announces flowControl all and runs a pinned ICMP flow: one flow id on every probe", async () => {
    const { id, agent, port } = await startScripted(linearPath(["198.18.0.1", TARGET]), {
      flowControl: "all",
    });
    expect(agent.descriptor.capabilities.flowControl).toBe("all");
    const traceId = uniqueId("pin-icmp");
    const options = { count: 3, interval: 0.05, timeout: 1, pinFlow: true };
    expect(await sendJob(nats.nc, id, job(traceId, TARGET, options))).toMatchObject({ accepted: true });
    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 15_000)).json());
    expect(final.status).toBe("done");
    expect(new Set(port.sent.map((s) => s.probe.flowId))).toEqual(new Set([33433]));
  });

  it("a silent end answered over TCP is published with its follow-ups, counted in the agent's probes", async () => {
    const path = linearPath(["198.18.0.1", "198.18.0.2", null, null, null]);
    const { id, agent } = await startScripted((p, n) =>
      p.protocol === "icmp" ? path(p, n) : { kind: "reply", address: TARGET, rttMs: 0.2 },
    );
    const traceId = uniqueId("silent");
    const options = { count: 3, interval: 0.05, maxUnknown: 3, timeout: 1, servicePort: 8080 };
    expect((await sendJob(nats.nc, id, job(traceId, TARGET, options))).accepted).toBe(true);
    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 15_000)).json());
    expect(final.stoppedBy).toBe("max-unknown");
    expect(final.followUps?.map((f) => [f.kind, f.port, f.answered, f.sent, f.recv])).toEqual([
      ["tcp-syn", 8080, true, 3, 3],
      ["udp", 33434, true, 3, 3],
    ]);
    expect(final.adaptive).toBeUndefined();
    const hopProbes = final.hops.reduce((n, h) => n + h.sent, 0);
    const hopAnswers = final.hops.reduce((n, h) => n + h.recv, 0);
    expect(agent.counters()).toMatchObject({ probesSent: hopProbes + 6, probesAnswered: hopAnswers + 6 });
  });

  it("an adaptive job is probed until the diagnosis decides, and says how many probes that took", async () => {
    const path = linearPath(["198.18.0.1", "198.18.0.2", TARGET]);
    // 25% from hop 2 on, which 10 probes leave open: the destination loses 1 of its first 10.
    const { id } = await startScripted((p, n) => {
      if (p.ttl === 2 && n % 4 === 3) return { kind: "silent" };
      if (p.ttl >= 3 && (n === 5 || (n >= 10 && n % 4 === 2))) return { kind: "silent" };
      return path(p, n);
    });
    const traceId = uniqueId("adaptive");
    const options = { count: 10, interval: 0.05, timeout: 1, adaptive: true };
    expect((await sendJob(nats.nc, id, job(traceId, TARGET, options))).accepted).toBe(true);
    const final = FinalResultMessage.parse((await waitForFinal(nats.jsm, id, traceId, 15_000)).json());
    expect(final.adaptive).toEqual({ extraCycles: 5, extraProbes: 15, maxExtraCycles: 30, decided: true });
    expect(final.hops.map((h) => h.sent)).toEqual([15, 15, 15]);
    expect(final.hops.every((h) => Array.isArray(h.lossCi))).toBe(true);
  });
});
