import { diagnose } from "@lg/analysis";
import type { TraceOptionsInput } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { TracerError } from "./errors";
import { ManualClock } from "./testing/manual-clock";
import { linearPath, type Script, ScriptedPort } from "./testing/scripted-port";
import { type TraceEvent, Tracer, type UntilSureDecider, untilSureFromDiagnosis } from "./tracer";

const TARGET = "198.18.0.9";
const PATH = ["198.18.0.1", "198.18.0.2", TARGET];
const base = linearPath(PATH);

/**
 * A real 25% loss from hop 2 on that 10 probes leave open: hop 2 loses its 4th, 8th, 12th, ...
 * probe (2 of the first 10), the destination only its 6th of the first 10, then every 4th from its
 * 11th. At 10 probes the destination's 1 lost of 10 is what 1% noise does one time in ten, and
 * hop 2's 2 of 10 do not stand out from it either: inconclusive.
 */
const twoHopLoss: Script = (p, n) => {
  if (p.ttl === 2 && n % 4 === 3) return { kind: "silent" };
  if (p.ttl >= 3 && (n === 5 || (n >= 10 && n % 4 === 2))) return { kind: "silent" };
  return base(p, n);
};

async function trace(script: Script, options: TraceOptionsInput, untilSure?: UntilSureDecider) {
  const clock = new ManualClock();
  const port = new ScriptedPort(clock, script);
  const tracer = new Tracer({ port, clock, resolveNames: false, ...(untilSure ? { untilSure } : {}) });
  const events: TraceEvent[] = [];
  const result = await clock.runUntil(tracer.run({ target: TARGET, options }, (e) => events.push(e)));
  return { result, port, events };
}

const fromRules = untilSureFromDiagnosis(diagnose);

describe("--until-sure (adaptive)", () => {
  it("at the requested count the two-hop loss is inconclusive, with how many probes would decide", async () => {
    const { result } = await trace(twoHopLoss, { count: 10, interval: 1, timeout: 1 });
    expect(result.hops.map((h) => h.sent - h.recv)).toEqual([0, 2, 1]);
    const diagnosis = diagnose(result.hops, { destination: TARGET, reachedDestination: true });
    expect(diagnosis.verdict).toBe("inconclusive");
    const open = diagnosis.findings.find((f) => f.status === "inconclusive");
    expect(open?.hops[0]).toBe(2);
    expect(open).toMatchObject({ code: "real-loss", probesNeeded: 5 });
    expect(result.adaptive).toBeUndefined();
  });

  it("keeps probing the whole path until the two-hop loss is decided as real loss, and says how many probes it took", async () => {
    const { result, port } = await trace(
      twoHopLoss,
      { count: 10, interval: 1, timeout: 1, adaptive: true },
      fromRules,
    );
    const diagnosis = diagnose(result.hops, { destination: TARGET, reachedDestination: true });
    expect(diagnosis.verdict).toBe("problem");
    expect(diagnosis.findings.find((f) => f.code === "real-loss")).toMatchObject({ hops: [2, 3] });
    expect(diagnosis.findings.some((f) => f.status === "inconclusive")).toBe(false);
    // the 5 more probes per hop the diagnosis asked for: the destination's 3 of 15 now stand out from noise
    expect(result.adaptive).toEqual({ extraCycles: 5, extraProbes: 15, maxExtraCycles: 30, decided: true });
    expect(result.hops.map((h) => `${h.sent - h.recv}/${h.sent}`)).toEqual(["0/15", "3/15", "3/15"]);
    // every hop got the extra cycles, not only the lossy one: persistence is read on the hops after it
    for (let ttl = 1; ttl <= 3; ttl++) expect(port.sentTo(ttl)).toHaveLength(15);
  });

  it("adds nothing when the requested probes already decide", async () => {
    const { result, port } = await trace(base, { count: 10, interval: 1, adaptive: true }, fromRules);
    expect(result.adaptive).toEqual({ extraCycles: 0, extraProbes: 0, maxExtraCycles: 30, decided: true });
    expect(port.sentTo(1)).toHaveLength(10);
  });

  it("stops at the budget (3 x count more cycles at most) and says it is still undecided", async () => {
    const asked: number[] = [];
    const never: UntilSureDecider = (hops) => {
      asked.push(hops[0]?.sent ?? 0);
      return { decided: false, probesNeeded: 7 };
    };
    const { result, port } = await trace(base, { count: 10, interval: 1, adaptive: true }, never);
    expect(result.adaptive).toEqual({ extraCycles: 30, extraProbes: 90, maxExtraCycles: 30, decided: false });
    expect(port.sentTo(1)).toHaveLength(40);
    // asked after 10, then after each round of 7 cycles, the last round cut to what the budget leaves
    expect(asked).toEqual([10, 17, 24, 31, 38, 40]);
  });

  it("adds at least 5 cycles a round, and a count's worth when the diagnosis names no number", async () => {
    const rounds: number[] = [];
    let calls = 0;
    const decider =
      (needed: number | undefined): UntilSureDecider =>
      (hops) => {
        rounds.push(hops[0]?.sent ?? 0);
        calls++;
        if (calls > 1) return { decided: true };
        return needed === undefined ? { decided: false } : { decided: false, probesNeeded: needed };
      };
    await trace(base, { count: 10, interval: 1, adaptive: true }, decider(1));
    expect(rounds).toEqual([10, 15]);
    rounds.length = 0;
    calls = 0;
    await trace(base, { count: 8, interval: 1, adaptive: true }, decider(undefined));
    expect(rounds).toEqual([8, 16]);
  });

  it("the extra cycles keep mtr's pace: one cycle per interval", async () => {
    const clock = new ManualClock();
    const port = new ScriptedPort(clock, base);
    let calls = 0;
    const tracer = new Tracer({
      port,
      clock,
      resolveNames: false,
      untilSure: () => ({ decided: calls++ > 0, probesNeeded: 5 }),
    });
    await clock.runUntil(tracer.run({ target: TARGET, options: { count: 10, interval: 1, adaptive: true } }));
    const firsts = port.sentTo(1).map((s) => s.at);
    const extraGaps = firsts.slice(10).map((t, i) => t - (firsts[9 + i] as number));
    // the first extra cycle starts once the last answers are in (3 ms after the 10th cycle's probes)
    expect(extraGaps.slice(1).every((g) => Math.abs(g - 1000) < 1e-6)).toBe(true);
  });

  it("is refused at once by an engine without a diagnosis", async () => {
    const clock = new ManualClock();
    const tracer = new Tracer({ port: new ScriptedPort(clock, base), clock, resolveNames: false });
    await expect(tracer.run({ target: TARGET, options: { adaptive: true } })).rejects.toThrow(TracerError);
  });

  it("reads a count below the rules' minimum as undecided and probes up to it", async () => {
    const { result } = await trace(base, { count: 2, interval: 1, adaptive: true }, fromRules);
    // 2 probes cannot tell throttling from loss; one round of 5 more reaches the 5 the rules ask for
    expect(result.adaptive).toMatchObject({ extraCycles: 5, decided: true, maxExtraCycles: 6 });
  });
});
