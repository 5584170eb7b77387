import type { PathTestFollowUpRow, TraceRow } from "@lg/db";
import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { aliasTraceOptions, readFollowUps, roundOf, unrecordedRound, withRetraces } from "./follow-ups";

const row = (over: Partial<PathTestFollowUpRow>): PathTestFollowUpRow => ({
  from: "a",
  target: "198.18.5.2",
  seenAt: 2,
  purpose: "is it on a's path?",
  measurementId: "m",
  traceId: "t1",
  failure: null,
  ...over,
});

/** A finished alias trace reaching 198.18.5.2 at hop 2, its answers `recv` of `sent`. */
const trace = (id: string, sent: number, recv: number): TraceRow =>
  ({
    id,
    status: "done",
    hops: [
      hopOf(1, "198.18.1.2", sent),
      hopOf(2, "198.18.5.2", sent, {
        recv,
        drop: sent - recv,
        responders: [{ address: "198.18.5.2", count: recv }],
      }),
    ],
  }) as unknown as TraceRow;

describe("a path test's alias-trace rounds", () => {
  it("a second round to the same router adds its probes to the first's in what the comparison reads", () => {
    const rows = [row({ traceId: "t1" }), row({ traceId: "t2", round: 2 })];
    const traces = new Map([
      ["t1", trace("t1", 40, 30)],
      ["t2", trace("t2", 80, 60)],
    ]);
    const { observations, records } = readFollowUps(rows, traces);
    expect(observations).toEqual([
      {
        from: "a",
        target: "198.18.5.2",
        path: ["198.18.1.2", "198.18.5.2"],
        reachedAt: 2,
        sent: 120,
        recv: 90,
      },
    ]);
    expect(records.a).toHaveLength(2);
    expect(roundOf(rows)).toBe(2);
  });

  it("a round claimed but never recorded as sent is noticed, so the comparison does not wait for it forever", () => {
    expect(unrecordedRound([row({}), row({ round: 2, traceId: null })])).toBe(true);
    expect(unrecordedRound([row({}), row({ round: 2, traceId: null, failure: "refused" })])).toBe(false);
  });

  it("a second round sends twice the probes, within the measurement API's largest count", () => {
    const base = { count: 10, interval: 1 } as Parameters<typeof aliasTraceOptions>[0];
    expect(aliasTraceOptions({ ...base, count: 10 }).count).toBe(40);
    expect(aliasTraceOptions({ ...base, count: 10 }, 2).count).toBe(80);
    expect(aliasTraceOptions({ ...base, count: 200 }, 2).count).toBe(300);
  });

  it("alias traces keep the path test's pace when it is fast, and go at 0.5 s when it is slower", () => {
    const base = { count: 10 } as Parameters<typeof aliasTraceOptions>[0];
    expect(aliasTraceOptions({ ...base, interval: 0.1 }).interval).toBe(0.1);
    expect(aliasTraceOptions({ ...base, interval: 1 }).interval).toBe(0.5);
  });
});

describe("retraces in the second round", () => {
  it("add their counts to the trace's own where the same address answered the same TTL, and leave other hops alone", () => {
    const own = [hopOf(1, "198.18.1.2", 40), hopOf(2, "198.18.2.2", 40, { recv: 30, drop: 10, lossPct: 25 })];
    const again = [hopOf(1, "198.18.1.2", 80), hopOf(2, "198.18.9.9", 80)];
    const merged = withRetraces(own, [again]);
    expect(merged[0]).toMatchObject({ sent: 120, recv: 120, lossPct: 0, lossCi: [0, 3.1] });
    expect(merged[1]).toBe(own[1]);
  });

  it("are listed as follow-ups of their end and are not alias observations", () => {
    const rows = [
      row({ traceId: "t1" }),
      row({ kind: "retrace", traceId: "r1", round: 2, target: "198.18.7.2" }),
    ];
    const traces = new Map([
      ["t1", trace("t1", 40, 30)],
      ["r1", trace("r1", 80, 80)],
    ]);
    const read = readFollowUps(rows, traces);
    expect(read.observations).toHaveLength(1);
    expect(read.retraced.a).toHaveLength(1);
    expect(read.records.a.map((f) => f.kind)).toEqual(["alias-trace", "retrace"]);
  });
});
