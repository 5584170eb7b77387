import type { Hop } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ProgressSnapshot, ProgressThrottle } from "./progress";

const hop = (ttl: number, sent: number): Hop => hopOf(ttl, `198.18.0.${ttl}`, sent);

describe("ProgressThrottle", () => {
  let sent: ProgressSnapshot[];
  let throttle: ProgressThrottle;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    throttle = new ProgressThrottle(
      (s) => sent.push(s),
      500,
      () => Date.now(),
    );
  });
  afterEach(() => vi.useRealTimers());

  it("publishes the first update at once and coalesces the rest into one snapshot per 500 ms", () => {
    throttle.hop(hop(1, 1));
    expect(sent).toHaveLength(1);
    for (let i = 0; i < 50; i++) throttle.hop(hop(2 + (i % 3), i));
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(499);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4]);
    expect(sent[1]?.hops[1]?.sent).toBe(48);
    expect(sent.map((s) => s.seq)).toEqual([0, 1]);
  });

  it("publishes a completed cycle at once when the last snapshot is old enough", () => {
    throttle.hop(hop(1, 1));
    vi.advanceTimersByTime(800);
    throttle.cycleDone(1, [hop(1, 1), hop(2, 1)]);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ cycle: 1, seq: 1 });
  });

  it("never publishes more than twice a second even when cycles complete faster", () => {
    const times: number[] = [];
    const fast = new ProgressThrottle(
      (s) => {
        times.push(Date.now());
        sent.push(s);
      },
      500,
      () => Date.now(),
    );
    for (let c = 1; c <= 20; c++) {
      fast.cycleDone(c, [hop(1, c)]);
      vi.advanceTimersByTime(100);
    }
    vi.advanceTimersByTime(1_000);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps.every((g) => g >= 500)).toBe(true);
    expect(sent.length).toBe(5);
    // The last cycle's table is published, late rather than lost.
    expect(sent.at(-1)?.cycle).toBe(20);
  });

  it("waits out the interval when its timer fires before the clock says the interval has passed", () => {
    // Node runs timers on the event loop's cached clock: a 500 ms timer may fire when the
    // throttle's clock has advanced only 499 ms.
    let clock = 10_000;
    const early = new ProgressThrottle(
      (s) => sent.push(s),
      500,
      () => clock,
    );
    early.hop(hop(1, 1));
    early.hop(hop(1, 2));
    expect(sent).toHaveLength(1);
    clock += 499;
    vi.advanceTimersByTime(500);
    expect(sent).toHaveLength(1);
    clock += 1;
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(2);
    expect((sent[1]?.at as number) - (sent[0]?.at as number)).toBe(500);
    expect(sent[1]?.hops[0]?.sent).toBe(2);
  });

  it("publishes a pending snapshot when the clock steps backwards rather than waiting for it to catch up", () => {
    let clock = 10_000;
    const stepped = new ProgressThrottle(
      (s) => sent.push(s),
      500,
      () => clock,
    );
    stepped.hop(hop(1, 1));
    stepped.hop(hop(1, 2));
    clock -= 60_000;
    vi.advanceTimersByTime(500);
    expect(sent.map((s) => s.at)).toEqual([10_000, -50_000]);
  });

  it("publishes nothing after close", () => {
    throttle.hop(hop(1, 1));
    throttle.hop(hop(1, 2));
    throttle.close();
    vi.advanceTimersByTime(2_000);
    expect(sent).toHaveLength(1);
  });
});
