import type { Hop, MonitorRules } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { evaluateRun, type Observation, pathSignature, type RulesState } from "./rules";

function hop(ttl: number, host: string | null, lossPct = 0, avg = 10, asn?: number): Hop {
  return {
    ttl,
    host,
    lossPct,
    sent: 10,
    recv: host ? Math.round(10 * (1 - lossPct / 100)) : 0,
    drop: 0,
    last: avg,
    avg,
    best: avg,
    worst: avg,
    stdev: 0,
    jitter: 0,
    jitterAvg: 0,
    jitterMax: 0,
    responders: host ? [{ address: host, count: 10 }] : [],
    ...(asn !== undefined ? { asn } : {}),
  } as Hop;
}

const obs = (hops: Hop[], extra: Partial<Observation> = {}): Observation => ({
  subject: "fra",
  traceId: "t",
  status: "done",
  hops,
  diagnosis: null,
  address: "198.18.0.9",
  ...extra,
});

function runAll(rules: MonitorRules, runs: Observation[][], pops: { id: string; online: boolean }[][] = []) {
  const state: RulesState = {};
  return runs.map((o, i) => evaluateRun(rules, state, o, pops[i] ?? []).map((t) => `${t.rule}:${t.event}`));
}

describe("monitor alert rules", () => {
  const clean = [hop(1, "198.18.0.1"), hop(2, "198.18.0.9")];
  const lossy = [hop(1, "198.18.0.1"), hop(2, "198.18.0.9", 30)];

  it("destination loss above the threshold fires only after N consecutive runs and resolves after N clean runs", () => {
    const rules: MonitorRules = { loss: { pct: 10, runs: 2 } };
    const seq = [clean, lossy, clean, lossy, lossy, lossy, clean, clean].map((h) => [obs(h)]);
    expect(runAll(rules, seq)).toEqual([[], [], [], [], ["loss:fire"], [], [], ["loss:resolve"]]);
  });

  it("a real-loss finding at an inner hop above the threshold counts as loss even when the destination is below it", () => {
    const hops = [hop(1, "198.18.0.1"), hop(2, "198.18.0.2", 40), hop(3, "198.18.0.9", 5)];
    const diagnosis = {
      verdict: "problem" as const,
      findings: [
        {
          code: "real-loss" as const,
          severity: "problem" as const,
          hops: [2, 3],
          region: "B" as const,
          evidence: "40 %",
          advice: "",
        },
      ],
    };
    const state: RulesState = {};
    const [t] = evaluateRun({ loss: { pct: 20, runs: 1 } }, state, [obs(hops, { diagnosis })], []);
    expect(t).toMatchObject({
      rule: "loss",
      event: "fire",
      evidence: { lossPct: 40, where: "hop 2 (real loss)" },
    });
  });

  it("a failed trace neither fires nor resolves, and does not break a streak", () => {
    const failed = obs([], { status: "failed" });
    const seq = [[obs(lossy)], [failed], [obs(lossy)]];
    expect(runAll({ loss: { pct: 10, runs: 2 } }, seq)).toEqual([[], [], ["loss:fire"]]);
  });

  it("a latency step over the baseline fires after N runs, and the baseline does not follow the step", () => {
    const at = (ms: number) => [obs([hop(1, "198.18.0.1"), hop(2, "198.18.0.9", 0, ms)])];
    const seq = [at(10), at(11), at(60), at(61), at(62), at(10), at(11)];
    expect(runAll({ latency: { ms: 30, runs: 2 } }, seq)).toEqual([
      [],
      [],
      [],
      ["latency:fire"],
      [],
      [],
      ["latency:resolve"],
    ]);
  });

  it("a new path fires at once; it resolves when the old path returns, or when the new one held for N runs", () => {
    const a = [obs([hop(1, "198.18.0.1", 0, 1, 64500), hop(2, "198.18.0.9", 0, 1, 64501)])];
    const b = [obs([hop(1, "198.18.0.5", 0, 1, 64502), hop(2, "198.18.0.9", 0, 1, 64501)])];
    expect(runAll({ pathChange: { runs: 3 } }, [a, b, a])).toEqual([
      [],
      ["pathChange:fire"],
      ["pathChange:resolve"],
    ]);
    expect(runAll({ pathChange: { runs: 3 } }, [a, b, b, b, b, a])).toEqual([
      [],
      ["pathChange:fire"],
      [],
      ["pathChange:resolve"],
      [],
      ["pathChange:fire"],
    ]);
  });

  it("the path signature leaves silent hops out and collapses repeated ASes", () => {
    const sig = pathSignature([
      hop(1, "198.18.0.1", 0, 1, 1),
      hop(2, null),
      hop(3, "198.18.0.3", 0, 1, 1),
      hop(4, "198.18.0.9", 0, 1, 2),
    ]);
    expect(sig.hosts).toEqual(["198.18.0.1", "198.18.0.3", "198.18.0.9"]);
    expect(sig.asPath).toEqual([1, 2]);
  });

  it("a PoP going offline fires at once and resolves when it is back", () => {
    const pops = [
      [{ id: "fra", online: true }],
      [{ id: "fra", online: false }],
      [{ id: "fra", online: false }],
      [{ id: "fra", online: true }],
    ];
    expect(runAll({ popOffline: {} }, [[], [], [], []], pops)).toEqual([
      [],
      ["popOffline:fire"],
      [],
      ["popOffline:resolve"],
    ]);
  });
});
