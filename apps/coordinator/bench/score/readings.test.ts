import { describeReferenceLab } from "@lg/netlab";
import type { Diagnosis, Finding, FollowUp, Hop } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import type { PairGrade } from "./grade";
import {
  followUpProbes,
  gradeTrace,
  pairOutcome,
  type TraceReading,
  traceExpectation,
  traceRequest,
} from "./readings";

// The reference lab's ground truth, computed from its plan without building it.
const { scenarios, pairs } = describeReferenceLab("lgtest");

const hop = (ttl: number, sent = 20, recv = sent): Hop => ({
  ttl,
  host: recv > 0 ? `198.18.${ttl}.2` : null,
  lossPct: sent > 0 ? ((sent - recv) * 100) / sent : 0,
  sent,
  recv,
  drop: sent - recv,
  last: 1,
  avg: 1,
  best: 1,
  worst: 1,
  stdev: 0,
  jitter: 0,
  jitterAvg: 0,
  jitterMax: 0,
  responders: [],
});

const finding = (code: Finding["code"], hops: number[], more: Partial<Finding> = {}): Finding => ({
  code,
  severity: code === "icmp-throttling" ? "info" : "problem",
  hops,
  region: "B",
  evidence: "",
  advice: "",
  ...more,
});

const reading = (diagnosis: Diagnosis, followUps: FollowUp[] = [], hops = 5): TraceReading => ({
  status: "done",
  failure: null,
  hops: Array.from({ length: hops }, (_, i) => hop(i + 1)),
  diagnosis,
  followUps,
});

const tcpProof = (port: number, answered = true): FollowUp => ({
  kind: "tcp-syn",
  target: scenarios.filtered.target,
  port,
  ttl: 64,
  answered,
  sent: 3,
  recv: answered ? 3 : 0,
  purpose: "is the destination there?",
});

describe("single-trace grading against the reference lab's ground truth", () => {
  const loss = traceExpectation("loss", scenarios.loss);
  const from = scenarios.loss.lossFromTtl as number;

  it("real loss confirmed from the lab's first lossy hop is right", () => {
    const g = gradeTrace(
      reading({ verdict: "problem", findings: [finding("real-loss", [from, from + 1, from + 2])] }),
      loss,
    );
    expect(g.outcome).toBe("right");
    expect(g.read).toBe(`problem real-loss@${from}-${from + 2}`);
  });

  it("real loss that starts one hop late is wrong", () => {
    const g = gradeTrace(
      reading({ verdict: "problem", findings: [finding("real-loss", [from + 1, from + 2])] }),
      loss,
    );
    expect(g.outcome).toBe("wrong");
    expect(g.why).toContain(`wanted problem with real-loss@${from}`);
  });

  it("an inconclusive real-loss finding is undecided, not wrong, and keeps its reason", () => {
    const g = gradeTrace(
      reading({
        verdict: "inconclusive",
        reason: "the loss from hop 3 on cannot be told from noise yet",
        findings: [finding("real-loss", [from, from + 1], { status: "inconclusive", probesNeeded: 30 })],
      }),
      loss,
    );
    expect(g.outcome).toBe("inconclusive");
    expect(g.why).toBe("the loss from hop 3 on cannot be told from noise yet");
    expect(g.read).toContain("(inconclusive, +30 probes)");
  });

  it("a loss path read clean is wrong", () => {
    expect(gradeTrace(reading({ verdict: "clean", findings: [] }), loss).outcome).toBe("wrong");
  });

  it("throttling is right as an info note at the throttling hop on a clean verdict", () => {
    const e = traceExpectation("throttle", scenarios.throttle);
    const at = scenarios.throttle.throttleTtl as number;
    expect(
      gradeTrace(reading({ verdict: "clean", findings: [finding("icmp-throttling", [at])] }), e).outcome,
    ).toBe("right");
    // The same note at another hop, or none at all, is not the lab's reading.
    expect(
      gradeTrace(reading({ verdict: "clean", findings: [finding("icmp-throttling", [at + 1])] }), e).outcome,
    ).toBe("wrong");
    expect(gradeTrace(reading({ verdict: "clean", findings: [] }), e).outcome).toBe("wrong");
  });

  it("a throttling router read as confirmed real loss is wrong, even beside an inconclusive finding", () => {
    const e = traceExpectation("throttle", scenarios.throttle);
    const at = scenarios.throttle.throttleTtl as number;
    const g = gradeTrace(
      reading({
        verdict: "inconclusive",
        findings: [
          finding("real-loss", [at], { status: "confirmed" }),
          finding("latency-step", [at], { status: "inconclusive" }),
        ],
      }),
      e,
    );
    expect(g.outcome).toBe("wrong");
    expect(g.why).toContain(`called real-loss@${at}`);
  });

  it("a clean path is right with an info note beside its clean verdict, wrong when read as a problem", () => {
    const e = traceExpectation("clean", scenarios.clean);
    expect(
      gradeTrace(reading({ verdict: "clean", findings: [finding("icmp-throttling", [2])] }), e).outcome,
    ).toBe("right");
    expect(
      gradeTrace(reading({ verdict: "problem", findings: [finding("latency-step", [3])] }), e).outcome,
    ).toBe("wrong");
  });

  it("the filtered destination is right only with an answered TCP SYN to its service port", () => {
    const e = traceExpectation("filtered", scenarios.filtered);
    const last = scenarios.filtered.expectedHops.length;
    const port = scenarios.filtered.tcpPort as number;
    const d: Diagnosis = { verdict: "problem", findings: [finding("destination-filters-icmp", [last])] };
    expect(gradeTrace(reading(d, [tcpProof(port)]), e).outcome).toBe("right");
    const noProof = gradeTrace(reading(d, [tcpProof(port, false), tcpProof(443)]), e);
    expect(noProof.outcome).toBe("wrong");
    expect(noProof.why).toBe(`no answered TCP SYN follow-up to port ${port}`);
  });

  it("a filtered destination read as a dead node is wrong", () => {
    const e = traceExpectation("filtered", scenarios.filtered);
    const last = scenarios.filtered.expectedHops.length;
    const g = gradeTrace(
      reading({ verdict: "problem", findings: [finding("node-interruption", [last - 1, last])] }),
      e,
    );
    expect(g.outcome).toBe("wrong");
  });

  it("a black hole is right as an interruption between the last answering hop and the first silent one", () => {
    const e = traceExpectation("blackhole", scenarios.blackhole);
    const after = scenarios.blackhole.blackholeAfterTtl as number;
    const at = (hops: number[]) =>
      gradeTrace(reading({ verdict: "problem", findings: [finding("node-interruption", hops)] }), e).outcome;
    expect(at([after, after + 1])).toBe("right");
    expect(at([after - 1, after])).toBe("wrong");
  });

  it("a routing loop is right only with the lab's two looping hops", () => {
    const e = traceExpectation("loop", scenarios.loop);
    const [x, y] = scenarios.loop.loopTtls as [number, number];
    const at = (hops: number[]) =>
      gradeTrace(reading({ verdict: "problem", findings: [finding("routing-loop", hops)] }), e).outcome;
    expect(at([x, y])).toBe("right");
    expect(at([x, y, y + 1])).toBe("wrong");
  });

  it("a failed trace is wrong and says who failed", () => {
    const g = gradeTrace(
      {
        status: "failed",
        failure: { source: "agent", message: "agent went offline mid-trace" },
        hops: [],
        diagnosis: null,
        followUps: [],
      },
      traceExpectation("clean", scenarios.clean),
    );
    expect(g).toMatchObject({ outcome: "wrong", why: "trace failed: agent went offline mid-trace" });
  });

  it("probes spent count every hop's probes and each follow-up's, an alias trace's on every TTL it crossed", () => {
    const alias: FollowUp = {
      kind: "alias-trace",
      target: "198.18.5.1",
      ttl: 4,
      answered: true,
      sent: 10,
      purpose: "",
    };
    expect(followUpProbes([alias, tcpProof(8080)])).toBe(10 * 4 + 3);
    const g = gradeTrace(reading({ verdict: "clean", findings: [] }, [tcpProof(8080)], 4), {
      verdict: "clean",
    });
    expect(g.probes).toBe(4 * 20 + 3);
  });
});

describe("the measurement each scenario is read with", () => {
  const probes = { count: 20, interval: 0.1, adaptive: false };

  it("asks the filtered destination's service port, the loop's max TTL, UDP for ECMP and IPv6 for clean6", () => {
    expect(traceRequest("filtered", scenarios.filtered, probes)).toMatchObject({
      servicePort: scenarios.filtered.tcpPort,
    });
    expect(traceRequest("loop", scenarios.loop, probes)).toMatchObject({ maxTtl: scenarios.loop.maxTtl });
    expect(traceRequest("ecmp", scenarios.ecmp, probes)).toMatchObject({ protocol: "udp" });
    expect(traceRequest("clean6", scenarios.clean6, probes)).toMatchObject({ ipVersion: 6 });
    expect(traceRequest("clean", scenarios.clean, probes)).toEqual({
      target: scenarios.clean.target,
      from: ["fra"],
      count: 20,
      interval: 0.1,
    });
  });

  it("until-sure is the API's adaptive flag", () => {
    expect(traceRequest("loss", scenarios.loss, { ...probes, adaptive: true })).toMatchObject({
      adaptive: true,
    });
  });
});

describe("pair grading: decided, undecided or wrong", () => {
  const s = pairs.retloss;
  const grade = (
    read: Partial<PairGrade["read"]>,
    routersRight: boolean,
    faultRight: boolean,
  ): PairGrade => ({
    routersRight,
    faultRight,
    probes: 0,
    read: {
      shared: [...s.shared],
      forwardOwn: [...s.forwardOnly],
      reverseOwn: [...s.reverseOnly],
      unknown: [],
      mispaired: [],
      faultDirection: s.faultDirection,
      stretches: [],
      ...read,
    },
  });

  it("the lab's routers on each side and its fault direction are right", () => {
    expect(pairOutcome(grade({}, true, true), s)).toEqual({ outcome: "right", why: "" });
  });

  it("a router left unknown, with nothing decided wrong, is undecided", () => {
    const own = s.forwardOnly[0] as string;
    const g = grade({ forwardOwn: s.forwardOnly.slice(1), unknown: [own] }, false, true);
    expect(pairOutcome(g, s)).toEqual({ outcome: "inconclusive", why: `unidentified: ${own}` });
  });

  it("a router a direction crosses alone, read as shared, is wrong", () => {
    const own = s.forwardOnly[0] as string;
    const g = grade({ shared: [...s.shared, own], forwardOwn: s.forwardOnly.slice(1) }, false, true);
    expect(pairOutcome(g, s)).toMatchObject({ outcome: "wrong", why: `${own} read as shared` });
  });

  it("a router left out without a word is wrong", () => {
    const g = grade({ reverseOwn: [] }, false, true);
    expect(pairOutcome(g, s).outcome).toBe("wrong");
  });

  it("a return-path fault blamed on both directions is wrong; an undetermined direction is undecided", () => {
    expect(pairOutcome(grade({ faultDirection: "both" }, true, false), s).outcome).toBe("wrong");
    expect(pairOutcome(grade({ faultDirection: "undetermined" }, true, false), s)).toEqual({
      outcome: "inconclusive",
      why: "fault direction undetermined",
    });
  });

  it("the conventions pair is graded on its routers only", () => {
    const c = pairs.conventions;
    expect(c.checks).toEqual(["routers"]);
    const g: PairGrade = {
      ...grade({}, true, false),
      read: { ...grade({}, true, false).read, faultDirection: "undetermined" },
    };
    expect(pairOutcome(g, c).outcome).toBe("right");
  });
});
