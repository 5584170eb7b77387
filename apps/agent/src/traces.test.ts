import { describe, expect, it } from "vitest";
import { TraceRegistry } from "./traces";

/** A run that ends when the test says so, and shows the signal it was given. */
function controllable() {
  let end: () => void = () => {};
  let fail: (err: Error) => void = () => {};
  let signal: AbortSignal | undefined;
  const run = (s: AbortSignal) => {
    signal = s;
    return new Promise<void>((resolve, reject) => {
      end = resolve;
      fail = reject;
      s.addEventListener("abort", () => resolve(), { once: true });
    });
  };
  return { run, end: () => end(), fail: (e: Error) => fail(e), signal: () => signal };
}

describe("TraceRegistry", () => {
  it("counts a trace as running until its run ends, then remembers it as finished", async () => {
    const traces = new TraceRegistry();
    const t = controllable();
    const done = traces.start("t1", t.run);
    expect(traces.ids()).toEqual(["t1"]);
    expect(traces.running).toBe(1);
    expect(traces.has("t1")).toBe(true);
    t.end();
    await done;
    expect(traces.ids()).toEqual([]);
    expect(traces.has("t1")).toBe(true);
    expect(traces.has("t2")).toBe(false);
  });

  it("forgets the oldest finished trace beyond its limit", async () => {
    const traces = new TraceRegistry(2);
    for (const id of ["a", "b", "c"]) await traces.start(id, async () => {});
    expect(["a", "b", "c"].map((id) => traces.has(id))).toEqual([false, true, true]);
  });

  it("a job being checked holds a slot until released", () => {
    const traces = new TraceRegistry();
    traces.start("running", controllable().run);
    traces.hold("checked");
    expect(traces.inFlight).toBe(2);
    expect(traces.isChecking("checked")).toBe(true);
    expect(traces.has("checked")).toBe(false);
    traces.release("checked");
    expect(traces.inFlight).toBe(1);
    expect(traces.isChecking("checked")).toBe(false);
  });

  it("cancels a running trace through its signal, and says when there is none to cancel", async () => {
    const traces = new TraceRegistry();
    const t = controllable();
    const done = traces.start("t1", t.run);
    expect(traces.cancel("nope")).toBe(false);
    expect(t.signal()?.aborted).toBe(false);
    expect(traces.cancel("t1")).toBe(true);
    expect(t.signal()?.aborted).toBe(true);
    await done;
    expect(traces.running).toBe(0);
  });

  it("cancels every running trace at once", async () => {
    const traces = new TraceRegistry();
    const runs = [controllable(), controllable()];
    for (const [i, t] of runs.entries()) traces.start(`t${i}`, t.run);
    traces.cancelAll();
    expect(runs.map((t) => t.signal()?.aborted)).toEqual([true, true]);
  });

  it("settles when every running trace is over, or says it timed out", async () => {
    const traces = new TraceRegistry();
    const t = controllable();
    traces.start("t1", t.run);
    expect(await traces.settled(10)).toBe("timeout");
    t.end();
    expect(await traces.settled(1_000)).toBe("settled");
  });

  it("a run that fails is over too: not running, remembered, and its failure returned to the caller", async () => {
    const traces = new TraceRegistry();
    const t = controllable();
    const done = traces.start("t1", t.run);
    t.fail(new Error("bookkeeping"));
    await expect(done).rejects.toThrow("bookkeeping");
    expect(traces.running).toBe(0);
    expect(traces.has("t1")).toBe(true);
    expect(await traces.settled(1_000)).toBe("settled");
  });

  it("stops taking jobs once told", () => {
    const traces = new TraceRegistry();
    expect(traces.draining).toBe(false);
    traces.stopTaking();
    expect(traces.draining).toBe(true);
  });
});
