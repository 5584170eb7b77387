import { afterEach, describe, expect, it, vi } from "vitest";
import { createShutdown, type ShutdownParts } from "./shutdown";
import { TraceRegistry } from "./traces";

/**
 * The parts of an agent as fakes that write what happens to them into one list, so a test can
 * assert the order of the shutdown's steps.
 */
function agentParts(overrides: Partial<ShutdownParts> = {}) {
  const steps: string[] = [];
  const logged: { level: string; fields: unknown; message?: string }[] = [];
  const record =
    (level: string) =>
    (fields: unknown, message?: string): void => {
      logged.push({ level, fields, message });
    };
  const traces = new TraceRegistry();
  let unsent = 0;
  const parts: ShutdownParts = {
    traces,
    presence: {
      leaving: () => steps.push(`leaving(draining=${traces.draining}, running=${traces.running})`),
      stopHeartbeat: () => steps.push("stop heartbeat"),
    },
    outbox: {
      whenEmpty: async () => {
        steps.push("wait for acks");
        return unsent === 0;
      },
      stop: () => steps.push("stop outbox"),
      get size() {
        return unsent;
      },
    },
    connection: {
      flush: async () => void steps.push("flush"),
      drain: async () => void steps.push("drain"),
      close: async () => void steps.push("close"),
    },
    closeEngine: async () => void steps.push("close engine"),
    drainTimeoutMs: 1_000,
    cancelledTimeoutMs: 1_000,
    unsentKept: "in the unsent-results file",
    log: { info: record("info"), warn: record("warn"), error: record("error") } as ShutdownParts["log"],
    ...overrides,
  };
  /** A trace that ends when told, or when cancelled (as the engine does), and records which. */
  const trace = (id: string) => {
    let end: () => void = () => {};
    traces.start(
      id,
      (signal) =>
        new Promise<void>((resolve) => {
          end = () => {
            steps.push(`${id} done`);
            resolve();
          };
          signal.addEventListener("abort", () => {
            steps.push(`${id} cancelled`);
            resolve();
          });
        }),
    );
    return { end: () => end() };
  };
  const setUnsent = (n: number) => {
    unsent = n;
  };
  return { parts, steps, logged, traces, trace, setUnsent };
}

describe("the agent's shutdown", () => {
  afterEach(() => vi.useRealTimers());

  it("stops taking jobs, says leaving, lets running traces finish, waits for their acks, then disconnects", async () => {
    const a = agentParts();
    const t = a.trace("t1");
    const shutdown = createShutdown(a.parts);
    const done = shutdown.run();
    expect(a.traces.draining).toBe(true);
    await vi.waitFor(() => expect(a.steps).toContain("flush"));
    expect(a.steps).not.toContain("wait for acks");
    t.end();
    await done;
    expect(a.steps).toEqual([
      "leaving(draining=true, running=1)",
      "flush",
      "t1 done",
      "wait for acks",
      "stop outbox",
      "stop heartbeat",
      "leaving(draining=true, running=0)",
      "drain",
      "close engine",
    ]);
    expect(a.logged.map((l) => l.level)).toEqual(["info", "info"]);
  });

  it("cancels the traces still running after the drain timeout, and waits for their partial results", async () => {
    const a = agentParts({ drainTimeoutMs: 20 });
    a.trace("t1");
    a.trace("t2");
    await createShutdown(a.parts).run();
    expect(a.steps.slice(2, 5)).toEqual(["t1 cancelled", "t2 cancelled", "wait for acks"]);
    expect(a.logged).toContainEqual({
      level: "warn",
      fields: { running: 2 },
      message: "drain timeout: cancelling the traces still running",
    });
  });

  it("says how many results JetStream has not acknowledged, and where they stay", async () => {
    const a = agentParts();
    a.setUnsent(3);
    await createShutdown(a.parts).run();
    expect(a.logged).toContainEqual({
      level: "error",
      fields: { unsent: 3, kept: "in the unsent-results file" },
      message: "shutting down with final results JetStream has not acknowledged",
    });
    expect(a.steps.at(-1)).toBe("close engine");
  });

  it("closes the connection when draining it takes more than 5 s", async () => {
    vi.useFakeTimers();
    const a = agentParts();
    a.parts.connection.drain = () => new Promise(() => a.steps.push("drain (hangs)"));
    const done = createShutdown(a.parts).run();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(a.steps.at(-1)).toBe("drain (hangs)");
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(a.steps.slice(-3)).toEqual(["drain (hangs)", "close", "close engine"]);
  });

  it("runs once however often it is asked", async () => {
    const a = agentParts();
    const shutdown = createShutdown(a.parts);
    expect(shutdown.started).toBe(false);
    const first = shutdown.run();
    expect(shutdown.started).toBe(true);
    expect(shutdown.run()).toBe(first);
    await first;
    expect(a.steps.filter((s) => s === "close engine")).toHaveLength(1);
  });
});
