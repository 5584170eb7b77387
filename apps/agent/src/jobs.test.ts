import { type JobRequest, type ResolvedTarget, zeroAgentCounters } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import type { TargetCheck } from "./admission";
import { createJobDesk, type JobDeskOptions } from "./jobs";
import { agentCapabilities } from "./support";
import { job } from "./test-jobs";
import { TraceRegistry } from "./traces";

const confirmed = (address: string): TargetCheck => ({ resolved: { target: address, address, family: 4 } });

/** A promise the test settles. */
function deferred<T>() {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A job desk over a real registry whose target checks confirm the job's address and whose traces
 * run until the test ends them (`finish(traceId)`).
 */
function desk(overrides: Partial<JobDeskOptions> = {}) {
  const traces = new TraceRegistry();
  const counters = zeroAgentCounters();
  const runs: { job: JobRequest; target: ResolvedTarget; signal: AbortSignal }[] = [];
  const endings = new Map<string, () => void>();
  const errors: unknown[] = [];
  const takeJob = createJobDesk({
    traces,
    counters,
    maxTraces: 2,
    capabilities: agentCapabilities({ maxTraces: 2, ipv6: false, mda: true }),
    isLocalAddress: () => false,
    isUnsent: () => false,
    checkTarget: async (j) => confirmed(j.address as string),
    run: (j, target, signal) => {
      runs.push({ job: j, target, signal });
      return new Promise<void>((resolve) => endings.set(j.traceId, resolve));
    },
    log: { info: () => {}, error: (fields: unknown) => void errors.push(fields) },
    ...overrides,
  });
  const send = (request: unknown) => takeJob(JSON.stringify(request));
  const finish = async (traceId: string) => {
    endings.get(traceId)?.();
    await traces.settled(1_000);
  };
  return { takeJob, send, traces, counters, runs, finish, errors };
}

describe("the job desk", () => {
  it("accepts a job, counts it, and runs it on the checked address until it ends", async () => {
    const d = desk();
    const request = job("j1", "198.18.0.9", { count: 3 });
    expect(await d.send(request)).toEqual({ v: 1, traceId: "j1", accepted: true });
    expect(d.counters.jobsAccepted).toBe(1);
    expect(d.runs).toHaveLength(1);
    expect(d.runs[0]).toMatchObject({ job: request, target: { address: "198.18.0.9", family: 4 } });
    expect(d.traces.ids()).toEqual(["j1"]);
    await d.finish("j1");
    expect(d.traces.ids()).toEqual([]);
  });

  it("answers a payload that is not a job invalid and counts the rejection", async () => {
    const d = desk();
    expect(await d.takeJob("{")).toEqual({
      v: 1,
      traceId: "",
      accepted: false,
      reason: "invalid",
      message: "the job is not JSON",
    });
    expect(d.counters.jobsRejected).toBe(1);
    expect(d.runs).toHaveLength(0);
  });

  it("confirms a repeated job while it runs, after it ends, and while its result is unsent, never running it twice", async () => {
    const d = desk({ isUnsent: (id) => id === "unsent" });
    const request = job("j2", "198.18.0.9");
    await d.send(request);
    expect(await d.send(request)).toEqual({ v: 1, traceId: "j2", accepted: true });
    await d.finish("j2");
    expect(await d.send(request)).toEqual({ v: 1, traceId: "j2", accepted: true });
    expect(await d.send(job("unsent", "198.18.0.9"))).toMatchObject({ accepted: true });
    expect(d.runs.map((r) => r.job.traceId)).toEqual(["j2"]);
    expect(d.counters).toMatchObject({ jobsAccepted: 1, jobsRejected: 0 });
  });

  it("a job whose target is being checked holds a slot: its repeat and one more job over the limit are busy", async () => {
    const slow = deferred<TargetCheck>();
    const d = desk({
      maxTraces: 2,
      checkTarget: async (j) => (j.traceId === "b" ? slow.promise : confirmed(j.address as string)),
    });
    expect(await d.send(job("a", "198.18.0.1"))).toMatchObject({ accepted: true });
    const first = d.send(job("b", "198.18.0.2"));
    expect(await d.send(job("b", "198.18.0.2"))).toMatchObject({
      accepted: false,
      reason: "busy",
      message: "this job is already being checked",
    });
    expect(await d.send(job("c", "198.18.0.3"))).toMatchObject({
      accepted: false,
      reason: "busy",
      message: "the agent is running its limit of 2 traces",
    });
    slow.resolve(confirmed("198.18.0.2"));
    expect(await first).toMatchObject({ accepted: true });
  });

  it("gives the slot back when the target is refused, answering with the check's reason", async () => {
    const d = desk({
      maxTraces: 1,
      checkTarget: async (j) =>
        j.traceId === "refused"
          ? { refused: { reason: "target-refused", message: "fra resolved a.test to 198.18.0.7" } }
          : confirmed(j.address as string),
    });
    expect(await d.send(job("refused", "a.test", {}, "198.18.0.9"))).toEqual({
      v: 1,
      traceId: "refused",
      accepted: false,
      reason: "target-refused",
      message: "fra resolved a.test to 198.18.0.7",
    });
    expect(d.traces.inFlight).toBe(0);
    expect(await d.send(job("next", "198.18.0.9"))).toMatchObject({ accepted: true });
    expect(d.counters).toMatchObject({ jobsAccepted: 1, jobsRejected: 1 });
  });

  it("refuses a job as draining when shutdown began while its target was checked", async () => {
    const check = deferred<TargetCheck>();
    const d = desk({ checkTarget: () => check.promise });
    const answer = d.send(job("late", "198.18.0.9"));
    d.traces.stopTaking();
    check.resolve(confirmed("198.18.0.9"));
    expect(await answer).toMatchObject({ accepted: false, reason: "draining" });
    expect(d.runs).toHaveLength(0);
  });

  it("logs a trace whose bookkeeping fails, and does not leave it running", async () => {
    const d = desk({ run: async () => Promise.reject(new Error("outbox file failed")) });
    expect(await d.send(job("j3", "198.18.0.9"))).toMatchObject({ accepted: true });
    await d.traces.settled(1_000);
    await new Promise((r) => setImmediate(r));
    expect(d.errors).toEqual([{ err: new Error("outbox file failed"), traceId: "j3" }]);
    expect(d.traces.running).toBe(0);
  });
});
