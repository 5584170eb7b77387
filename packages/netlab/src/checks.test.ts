import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  binomialRange,
  checkBlackhole,
  checkEcmp,
  checkForwardLoss,
  checkLatencyStep,
  checkLoop,
  checkLossRates,
  checkNoLoss,
  checkThrottle,
} from "./checks";
import { type MtrHop, type MtrRun, parseMtrJson, parseMtrReport } from "./mtr";
import { describeReferenceLab } from "./reference";

// Scenarios as the reference lab defines them (pure: nothing is built), read against saved
// real mtr output (fixtures/) and against hand-made readings of a broken lab.
const { scenarios } = describeReferenceLab("lgtest");
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

function reading(hops: [string | null, number][], sent = 20): MtrRun {
  return {
    source: "test",
    hops: hops.map(
      ([host, lossPct], i): MtrHop => ({
        ttl: i + 1,
        host,
        responders: host ? [host] : [],
        lossPct,
        sent,
        last: 0.1,
        avg: 0.1,
        best: 0.1,
        worst: 0.1,
        stdev: 0,
      }),
    ),
  };
}

describe("scenario checks", () => {
  it("accept the saved readings of the lab", () => {
    expect(checkEcmp(scenarios.ecmp, parseMtrReport(fixture("report-ecmp-udp.txt")))).toEqual([]);
    expect(checkLatencyStep(scenarios.delay, parseMtrJson(fixture("json-delay.json")))).toEqual([]);
    expect(checkForwardLoss(scenarios.loss, parseMtrJson(fixture("json-loss.json")))).toEqual([]);
    expect(checkBlackhole(scenarios.blackhole, parseMtrJson(fixture("json-blackhole.json")))).toEqual([]);
    expect(checkNoLoss(parseMtrJson(fixture("json-clean6.json")))).toEqual([]);
  });

  it("a loss run that stops before the last hop is throttling, not forwarding loss", () => {
    const hops = scenarios.loss.expectedHops as string[];
    const run = reading(hops.map((h, i) => [h, i === 2 ? 25 : 0]));
    expect(checkForwardLoss(scenarios.loss, run)).toEqual([
      "hop 4: expected about 25% loss, got 0%",
      "hop 5: expected about 25% loss, got 0%",
    ]);
  });

  it("loss that persists past the throttling hop is not throttling", () => {
    const hops = scenarios.throttle.expectedHops as string[];
    const run = reading(hops.map((h, i) => [h, i >= 2 ? 50 : 0]));
    expect(checkThrottle(scenarios.throttle, run)).toEqual([
      "hop 4: expected no loss (only hop 3 throttles), got 50%",
    ]);
  });

  it("one ECMP responder is not enough when probes vary their ports", () => {
    const run = parseMtrReport(fixture("report-ecmp-udp.txt"));
    const hop = run.hops[2];
    if (hop) hop.responders = [hop.responders[0] ?? ""];
    expect(checkEcmp(scenarios.ecmp, run)).toHaveLength(1);
  });

  it("a path without the wire's delay has no latency step", () => {
    const run = parseMtrJson(fixture("json-delay.json"));
    for (const hop of run.hops) hop.avg = 0.1;
    expect(checkLatencyStep(scenarios.delay, run)).toEqual([
      "hop 4: expected avg in [50, 90) ms behind the wire, got 0.1 ms",
      "hop 5: expected avg in [50, 90) ms behind the wire, got 0.1 ms",
    ]);
  });

  it("a path that reaches its destination is not a loop, and a silent hop is not a black hole's end", () => {
    const clean = reading((scenarios.clean.expectedHops as string[]).map((h) => [h, 0]));
    expect(checkLoop(scenarios.loop, clean).length).toBeGreaterThan(0);
    const answered = reading(
      [...(scenarios.blackhole.expectedHops.slice(0, 3) as string[]), "198.18.60.2"].map((h) => [h, 0]),
    );
    expect(checkBlackhole(scenarios.blackhole, answered)).toEqual([
      "hop 4: expected silence, got 198.18.60.2",
    ]);
  });
});

describe("loss-rate checks", () => {
  it("binomialRange: exact tails, wide enough for chance, narrow enough to tell 25% from none", () => {
    const [lo, hi] = binomialRange(100, 0.25);
    expect(lo).toBeGreaterThan(0);
    expect(lo).toBeLessThan(25);
    expect(hi).toBeGreaterThan(25);
    expect(hi).toBeLessThan(100);
    expect(binomialRange(100, 0)).toEqual([0, 0]);
    expect(binomialRange(40, 1)).toEqual([40, 40]);
    // A looser tail gives a narrower range.
    const [lo2, hi2] = binomialRange(100, 0.25, 1e-2);
    expect(lo2).toBeGreaterThan(lo);
    expect(hi2).toBeLessThan(hi);
  });

  it("checkLossRates passes random loss of the expected size and rejects loss on a clean hop, none on a lossy one, or too much", () => {
    const hops = (lost: number[]) => lost.map((n, i) => ({ ttl: i + 1, sent: 100, lossPct: n }));
    const expected = [0, 0, 0.25, 0.25];
    expect(checkLossRates(expected, hops([0, 0, 22, 29]))).toEqual([]);
    expect(checkLossRates(expected, hops([0, 3, 22, 29]))).toEqual([
      "hop 2: lost 3 of 100 probes, expected 0-0 (0% loss)",
    ]);
    expect(checkLossRates(expected, hops([0, 3, 22, 29]), { noise: 3 })).toEqual([]);
    expect(checkLossRates(expected, hops([0, 0, 0, 25]))[0]).toMatch(/^hop 3: lost 0 of 100/);
    expect(checkLossRates(expected, hops([0, 0, 25, 70]))[0]).toMatch(/^hop 4: lost 70 of 100/);
    expect(checkLossRates(expected, hops([0, 0, 25]))).toEqual(["hop 4 is missing"]);
  });
});
