import {
  type FinalResultMessage,
  type Hop,
  type ProgressMessage,
  type ResolvedTarget,
  zeroAgentCounters,
} from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { type TraceEvent, type TraceRequest, type TraceResult, TracerError } from "@lg/tracer";
import { linearPath, ManualClock, ScriptedPort } from "@lg/tracer/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createAgentTracer, type TraceEngine } from "./engine";
import { createLogger } from "./logger";
import { countFinal, runTrace, type TraceRunDeps } from "./run-trace";
import { job } from "./test-jobs";

const TARGET: ResolvedTarget = { target: "lab.test", address: "198.18.0.9", family: 4 };
const EPOCH = Date.parse("2025-01-01T00:00:00.000Z");
const hop = (ttl: number, sent: number): Hop => hopOf(ttl, `198.18.0.${ttl}`, sent);

/** What a fake engine saw and how it answers: `script` gets the request and the event callback. */
function fakeEngine(
  script: (req: TraceRequest, emit: (e: TraceEvent) => void) => Promise<Partial<TraceResult>>,
): TraceEngine & { requests: TraceRequest[] } {
  const requests: TraceRequest[] = [];
  return {
    requests,
    async run(req, onEvent) {
      requests.push(req);
      const result = await script(req, (e) => onEvent?.(e));
      return { hops: [], stoppedBy: "destination", ...result } as TraceResult;
    },
    close: async () => {},
  };
}

/** Rejects when the signal aborts, as the engine does when a trace is cancelled mid-cycle. */
const untilAborted = (signal: AbortSignal | undefined) =>
  new Promise<never>((_, reject) =>
    signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true }),
  );

describe("runTrace", () => {
  let progress: ProgressMessage[];
  let deps: (engine: TraceEngine) => TraceRunDeps;
  beforeEach(() => {
    vi.useFakeTimers({ now: EPOCH });
    progress = [];
    deps = (engine) => ({
      agentId: "fra",
      engine,
      publishProgress: (m) => progress.push(m),
      progressIntervalMs: 500,
      now: () => Date.now(),
      log: createLogger("silent"),
    });
  });
  afterEach(() => vi.useRealTimers());

  it("probes the checked address with the job's options in the target's family, never the name", async () => {
    const engine = fakeEngine(async () => ({ hops: [hop(1, 3)], stoppedBy: "destination" }));
    const signal = new AbortController().signal;
    await runTrace(job("r1", "lab.test", { count: 3 }, "198.18.0.9"), TARGET, signal, deps(engine));
    expect(engine.requests).toHaveLength(1);
    expect(engine.requests[0]).toMatchObject({
      target: "198.18.0.9",
      options: { count: 3, ipVersion: 4 },
      signal,
    });
  });

  it("ends in a done final result carrying the job, the address, the hops and the engine's stop reason", async () => {
    const engine = fakeEngine(async () => {
      vi.advanceTimersByTime(3_000);
      return { hops: [hop(1, 3), hop(2, 3)], stoppedBy: "destination" };
    });
    const final = await runTrace(
      job("r2", "lab.test", {}, "198.18.0.9"),
      TARGET,
      new AbortController().signal,
      deps(engine),
    );
    expect(final).toEqual({
      v: 1,
      traceId: "r2",
      measurementId: "m-r2",
      agentId: "fra",
      target: "lab.test",
      address: "198.18.0.9",
      status: "done",
      hops: [hop(1, 3), hop(2, 3)],
      stoppedBy: "destination",
      startedAt: "2025-01-01T00:00:00.000Z",
      finishedAt: "2025-01-01T00:00:03.000Z",
    } satisfies FinalResultMessage);
  });

  it("passes the engine's follow-ups and until-sure record on", async () => {
    const followUps = [
      { kind: "tcp-syn", target: "198.18.0.9", port: 443, answered: true, sent: 3, recv: 3 },
    ] as TraceResult["followUps"];
    const adaptive = { extraCycles: 5, extraProbes: 15, maxExtraCycles: 30, decided: true };
    const engine = fakeEngine(async () => ({ hops: [hop(1, 3)], followUps, adaptive }));
    const final = await runTrace(job("r3", "198.18.0.9"), TARGET, new AbortController().signal, deps(engine));
    expect(final).toMatchObject({ followUps, adaptive });
  });

  it("passes the NAT reading and the Record Route hints on", async () => {
    const nat = {
      afterTtl: 2,
      beforeTtl: 3,
      rewrote: ["source"],
      quotes: { asSent: 6, rewritten: 3 },
    } as const;
    const recordRoute = {
      status: "ok",
      forward: ["198.18.170.1"],
      back: ["198.18.173.1"],
      sent: 3,
      answered: 3,
      plainSent: 3,
      plainAnswered: 3,
    } as const;
    const engine = fakeEngine(async () => ({
      hops: [hop(1, 3)],
      nat: { ...nat, rewrote: [...nat.rewrote] },
      recordRoute: { ...recordRoute, forward: [...recordRoute.forward], back: [...recordRoute.back] },
    }));
    const final = await runTrace(job("r4", "198.18.0.9"), TARGET, new AbortController().signal, deps(engine));
    expect(final).toMatchObject({ nat, recordRoute });
  });

  it("publishes the first hop update at once, then at most one snapshot per interval, stamped by the clock", async () => {
    let emit: (e: TraceEvent) => void = () => {};
    let finish: (r: Partial<TraceResult>) => void = () => {};
    const engine = fakeEngine(
      (_req, e) =>
        new Promise((resolve) => {
          emit = e;
          finish = resolve;
        }),
    );
    const running = runTrace(job("r4", "198.18.0.9"), TARGET, new AbortController().signal, deps(engine));
    emit({ type: "hop", hop: hop(1, 1) });
    expect(progress).toHaveLength(1);
    emit({ type: "hop", hop: hop(2, 1) });
    emit({ type: "cycle", cycle: 1, hops: [hop(1, 1), hop(2, 1)] });
    vi.advanceTimersByTime(499);
    expect(progress).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(progress).toHaveLength(2);
    expect(progress).toEqual([
      {
        v: 1,
        traceId: "r4",
        agentId: "fra",
        seq: 0,
        cycle: 0,
        address: "198.18.0.9",
        hops: [hop(1, 1)],
        sentAt: "2025-01-01T00:00:00.000Z",
      },
      {
        v: 1,
        traceId: "r4",
        agentId: "fra",
        seq: 1,
        cycle: 1,
        address: "198.18.0.9",
        hops: [hop(1, 1), hop(2, 1)],
        sentAt: "2025-01-01T00:00:00.500Z",
      },
    ] satisfies ProgressMessage[]);
    // An update still waiting for its interval is superseded by the final result.
    emit({ type: "hop", hop: hop(1, 2) });
    finish({ hops: [hop(1, 2), hop(2, 1)] });
    await running;
    vi.advanceTimersByTime(2_000);
    expect(progress).toHaveLength(2);
  });

  it("a cancelled trace is done, stopped by cancel, with the hops measured so far", async () => {
    const controller = new AbortController();
    const engine = fakeEngine(async (req, emit) => {
      emit({ type: "hop", hop: hop(1, 4) });
      emit({ type: "hop", hop: hop(2, 3) });
      return untilAborted(req.signal);
    });
    const running = runTrace(job("r5", "198.18.0.9"), TARGET, controller.signal, deps(engine));
    controller.abort();
    expect(await running).toMatchObject({
      status: "done",
      stoppedBy: "cancelled",
      hops: [hop(1, 4), hop(2, 3)],
    });
  });

  it("a trace the engine ends normally after a cancel still says it was cancelled", async () => {
    const controller = new AbortController();
    const engine = fakeEngine(async () => {
      controller.abort();
      return { hops: [hop(1, 2)], stoppedBy: "destination" };
    });
    const final = await runTrace(job("r6", "198.18.0.9"), TARGET, controller.signal, deps(engine));
    expect(final).toMatchObject({ status: "done", stoppedBy: "cancelled", hops: [hop(1, 2)] });
  });

  it("a trace whose packet helper fails is failed by the agent, with the hops measured so far", async () => {
    const engine = fakeEngine(async (_req, emit) => {
      emit({ type: "hop", hop: hop(1, 2) });
      throw new TracerError("packet-helper", "mtr-packet exited with code 1");
    });
    const final = await runTrace(job("r7", "198.18.0.9"), TARGET, new AbortController().signal, deps(engine));
    expect(final).toMatchObject({
      status: "failed",
      failure: { source: "agent", message: "packet-helper: mtr-packet exited with code 1" },
      hops: [hop(1, 2)],
    });
    expect(final.stoppedBy).toBeUndefined();
  });

  it("a bug in the engine is an internal failure", async () => {
    const engine = fakeEngine(async () => {
      throw new TypeError("x is undefined");
    });
    const final = await runTrace(job("r8", "198.18.0.9"), TARGET, new AbortController().signal, deps(engine));
    expect(final.failure).toEqual({ source: "internal", message: "x is undefined" });
  });
});

describe("runTrace with the production engine over a scripted network", () => {
  it("measures every hop exactly: hop 2 answering 2 of 4 probes is 50% loss", async () => {
    const clock = new ManualClock();
    const path = linearPath(["198.18.0.1", "198.18.0.2", "198.18.0.9"]);
    const port = new ScriptedPort(clock, (p, n) =>
      p.ttl === 2 && n % 2 === 1 ? { kind: "silent" } : path(p, n),
    );
    const engine = createAgentTracer({ port, clock, resolveNames: false });
    const progress: ProgressMessage[] = [];
    const final = await clock.runUntil(
      runTrace(
        job("s1", "198.18.0.9", { count: 4, interval: 0.1, timeout: 1 }),
        TARGET,
        new AbortController().signal,
        {
          agentId: "fra",
          engine,
          publishProgress: (m) => progress.push(m),
          progressIntervalMs: 500,
          now: () => EPOCH + clock.now(),
          log: createLogger("silent"),
        },
      ),
    );
    expect(final.status).toBe("done");
    expect(final.stoppedBy).toBe("destination");
    expect(final.hops.map((h) => [h.host, h.sent, h.recv, h.lossPct])).toEqual([
      ["198.18.0.1", 4, 4, 0],
      ["198.18.0.2", 4, 2, 50],
      ["198.18.0.9", 4, 4, 0],
    ]);
    expect(progress[0]).toMatchObject({ traceId: "s1", seq: 0, address: "198.18.0.9" });
  });
});

describe("countFinal", () => {
  it("counts a done trace and every probe of its hops and follow-ups", () => {
    const counters = zeroAgentCounters();
    const final = {
      status: "done",
      hops: [hop(1, 4), hopOf(2, null, 4)],
      followUps: [{ sent: 3, recv: 1 }, {}],
    } as unknown as FinalResultMessage;
    countFinal(counters, final);
    expect(counters).toMatchObject({ tracesDone: 1, tracesFailed: 0, probesSent: 11, probesAnswered: 5 });
  });

  it("counts the Record Route probes, with the option and plain", () => {
    const counters = zeroAgentCounters();
    const final = {
      status: "done",
      hops: [hop(1, 4)],
      recordRoute: {
        status: "refused",
        forward: [],
        back: [],
        sent: 3,
        answered: 0,
        plainSent: 3,
        plainAnswered: 3,
      },
    } as unknown as FinalResultMessage;
    countFinal(counters, final);
    expect(counters).toMatchObject({ probesSent: 10, probesAnswered: 7 });
  });

  it("counts a failed trace as failed", () => {
    const counters = zeroAgentCounters();
    countFinal(counters, { status: "failed", hops: [] } as unknown as FinalResultMessage);
    expect(counters).toMatchObject({ tracesDone: 0, tracesFailed: 1, probesSent: 0 });
  });
});
