import { Diagnosis, type Finding, type FindingCode } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { diagnose } from "./diagnose";
import { hop, labHop } from "./fixtures/build";
import {
  latencySpikeConfinedToHop4,
  latencySpikeFromHop6,
  lossFromHop6ToTheEnd,
  misconfiguredDestination,
  mixedLossRates,
  nodeInterruptionAfterHop4,
  routingLoopFromHop5,
  seedSampleOutput,
  throttlingAtDestination,
  unstableToTheEnd,
} from "./fixtures/seed";
import { buildTraceView } from "./trace-view";

function byCode(findings: Finding[], code: FindingCode): Finding[] {
  return findings.filter((f) => f.code === code);
}
function codes(findings: Finding[]): FindingCode[] {
  return [...new Set(findings.map((f) => f.code))].sort();
}

describe("the guide's sample output", () => {
  const d = diagnose(seedSampleOutput);

  it("is clean: loss at hops 2 and 6–9 does not persist, so it is ICMP throttling", () => {
    expect(d.verdict).toBe("clean");
    expect(byCode(d.findings, "real-loss")).toEqual([]);
    const throttled = byCode(d.findings, "icmp-throttling").flatMap((f) => f.hops);
    expect(throttled).toEqual(expect.arrayContaining([2, 6, 7, 8, 9]));
    expect(throttled).not.toContain(10);
    expect(throttled).not.toContain(15);
  });

  it("puts hop 2's throttling in region A and hops 6–9 in region B", () => {
    const t = byCode(d.findings, "icmp-throttling");
    expect(t.find((f) => f.hops.includes(2))?.region).toBe("A");
    expect(t.find((f) => f.hops.includes(6))).toMatchObject({ hops: [6, 7, 8, 9], region: "B" });
  });

  it("reads hop 9's 30.3% loss with its latency spike as throttling confined to hop 9", () => {
    const spike = byCode(d.findings, "latency-spike-confined");
    expect(spike.map((f) => f.hops)).toEqual([[9]]);
    expect(spike[0]?.severity).toBe("info");
    expect(byCode(d.findings, "icmp-throttling").find((f) => f.hops.includes(9))?.evidence).toContain(
      "30.3%",
    );
  });

  it("reads hop 4's elevated Wrst with a normal Avg as a brief fluctuation, not a problem", () => {
    const unstable = byCode(d.findings, "unstable-latency");
    expect(unstable).toHaveLength(1);
    expect(unstable[0]).toMatchObject({ hops: [4], severity: "info" });
    expect(unstable[0]?.evidence).toContain("Wrst 21.7 ms");
  });

  it("sees no latency step between 1.8 and 17.6 ms", () => {
    expect(byCode(d.findings, "latency-step")).toEqual([]);
  });

  it("produces a diagnosis that the protocol schema accepts", () => {
    expect(Diagnosis.safeParse(d).success).toBe(true);
  });
});

describe("real-loss", () => {
  it("loss on every hop from hop 6 to the end is real loss starting at hop 6", () => {
    const d = diagnose(lossFromHop6ToTheEnd);
    expect(d.verdict).toBe("problem");
    const loss = byCode(d.findings, "real-loss");
    expect(loss).toHaveLength(1);
    expect(loss[0]).toMatchObject({ hops: [6, 7, 8, 9, 10], region: "B", severity: "problem" });
    expect(loss[0]?.evidence).toContain("hop 6 (198.18.6.1)");
  });

  it("with mixed rates the last hop's loss is the reference, not the throttling hop's", () => {
    const loss = byCode(diagnose(mixedLossRates).findings, "real-loss")[0];
    expect(loss?.hops[0]).toBe(6);
    expect(loss?.evidence).toContain("the reference, hops 8 and 9, loses 35% (7 of 20; 95%: 18.1–56.7%)");
    expect(loss?.evidence).not.toMatch(/the reference, hops? 6/);
  });

  it("high loss on the last few hops up to the destination is real loss near the destination", () => {
    const d = diagnose(throttlingAtDestination);
    const loss = byCode(d.findings, "real-loss")[0];
    expect(loss?.hops).toEqual([5, 6, 7]);
    expect(loss?.evidence).toContain("the reference, hops 6 and 7, loses 65% (13 of 20");
    expect(d.verdict).toBe("problem");
  });

  it("a loss run that stops before the last hop is throttling", () => {
    const hops = [labHop(1), labHop(2, { lost: 5 }), labHop(3, { lost: 5 }), labHop(4), labHop(5)];
    const d = diagnose(hops);
    expect(codes(d.findings)).toEqual(["icmp-throttling"]);
    expect(byCode(d.findings, "icmp-throttling")[0]?.hops).toEqual([2, 3]);
    expect(d.verdict).toBe("clean");
  });

  it("1 lost probe of 10 at the destination is sampling noise and leaves the path clean", () => {
    const d = diagnose([labHop(1), labHop(2), labHop(3, { lost: 1 })]);
    expect(d.verdict).toBe("clean");
    expect(byCode(d.findings, "real-loss")).toEqual([]);
    expect(byCode(d.findings, "icmp-throttling")[0]?.evidence).toContain("sampling noise");
  });

  it("2 lost probes of 10 at the destination are real loss", () => {
    const d = diagnose([labHop(1), labHop(2), labHop(3, { lost: 2 })]);
    expect(d.verdict).toBe("problem");
    expect(byCode(d.findings, "real-loss")[0]?.hops).toEqual([3]);
  });

  it("a lab reading with 20% (2 of 10) from hop 3 to the destination is real loss from hop 3", () => {
    const hops = [
      hop(1, "198.18.1.2", { avg: 0.049 }),
      hop(2, "198.18.2.2", { avg: 0.05 }),
      hop(3, "198.18.30.2", { lost: 2, avg: 0.051 }),
      hop(4, "198.18.31.2", { lost: 2, avg: 0.047 }),
      hop(5, "198.18.32.2", { lost: 2, avg: 0.049 }),
    ];
    const d = diagnose(hops, { destination: "198.18.32.2" });
    expect(d.findings).toEqual([expect.objectContaining({ code: "real-loss", hops: [3, 4, 5] })]);
  });

  it("2 lost probes of 1,000 at the destination stay below the 1% rate and are noise", () => {
    const d = diagnose([labHop(1, { sent: 1000 }), labHop(2, { sent: 1000, lost: 2 })]);
    expect(d.verdict).toBe("clean");
  });
});

describe("icmp-throttling", () => {
  it("a router that answers no probe while later hops answer all is throttling", () => {
    const d = diagnose([labHop(1), hop(2, null), labHop(3), labHop(4)]);
    expect(d.verdict).toBe("clean");
    expect(byCode(d.findings, "icmp-throttling")[0]).toMatchObject({ hops: [2], severity: "info" });
    expect(byCode(d.findings, "icmp-throttling")[0]?.evidence).toContain(
      "hop 2 loses probes (no reply at all)",
    );
  });

  it("a throttling hop before a real loss run stays throttling", () => {
    const hops = [
      labHop(1),
      labHop(2, { lost: 5 }),
      labHop(3),
      labHop(4, { lost: 3 }),
      labHop(5, { lost: 3 }),
    ];
    const d = diagnose(hops);
    expect(byCode(d.findings, "icmp-throttling")[0]?.hops).toEqual([2]);
    expect(byCode(d.findings, "real-loss")[0]?.hops).toEqual([4, 5]);
  });
});

describe("latency", () => {
  it("a sharp increase at hop 6 that persists is a latency step at hop 6", () => {
    const d = diagnose(latencySpikeFromHop6);
    const step = byCode(d.findings, "latency-step");
    expect(step).toHaveLength(1);
    expect(step[0]).toMatchObject({ severity: "problem" });
    expect(step[0]?.hops[0]).toBe(6);
    expect(step[0]?.advice).toContain("reverse path test");
    expect(d.verdict).toBe("problem");
  });

  it("a step that Best makes as well is still a step; the evidence says every probe got slower", () => {
    const hops = [
      labHop(1, { avg: 2, best: 1.8 }),
      labHop(2, { avg: 4, best: 3.6 }),
      labHop(3, { avg: 84, best: 82 }),
    ];
    const d = diagnose([...hops, labHop(4, { avg: 85, best: 83 })]);
    const step = byCode(d.findings, "latency-step")[0];
    expect(step).toMatchObject({ severity: "problem", hops: [3, 4] });
    expect(step?.evidence).toContain("every probe takes longer");
    expect(step?.advice).toContain("unless this hop crosses a long distance");
    expect(d.verdict).toBe("problem");
  });

  it("a fixed delay wire like the lab's (+50 ms on every probe from hop 4) is a latency step at hop 4", () => {
    const hops = [
      labHop(1, { avg: 0.038, best: 0.011, worst: 0.091, stdev: 0.025 }),
      labHop(2, { avg: 0.044, best: 0.013, worst: 0.07, stdev: 0.02 }),
      labHop(3, { avg: 0.044, best: 0.026, worst: 0.068, stdev: 0.015 }),
      labHop(4, { avg: 50.38, best: 50.275, worst: 50.847, stdev: 0.175 }),
      labHop(5, { avg: 50.449, best: 50.306, worst: 50.89, stdev: 0.202 }),
    ];
    const d = diagnose(hops);
    expect(d.findings).toEqual([expect.objectContaining({ code: "latency-step", hops: [4, 5] })]);
    expect(d.verdict).toBe("problem");
  });

  it("an increase smaller than 10 ms is not a step", () => {
    const d = diagnose([labHop(1, { avg: 2 }), labHop(2, { avg: 9 }), labHop(3, { avg: 10 })]);
    expect(byCode(d.findings, "latency-step")).toEqual([]);
  });

  it("an increase of 10 ms on a 300 ms path is not sharp", () => {
    const d = diagnose([labHop(1, { avg: 300 }), labHop(2, { avg: 312 }), labHop(3, { avg: 313 })]);
    expect(byCode(d.findings, "latency-step")).toEqual([]);
  });

  it("high latency at one hop that drops back on the next is a confined spike, and the path is clean", () => {
    const d = diagnose(latencySpikeConfinedToHop4);
    expect(byCode(d.findings, "latency-spike-confined")).toEqual([
      expect.objectContaining({ hops: [4], severity: "info" }),
    ]);
    expect(byCode(d.findings, "latency-step")).toEqual([]);
    expect(byCode(d.findings, "unstable-latency")).toEqual([]);
    expect(d.verdict).toBe("clean");
  });

  it("a high StDev that lasts to the last hop is unstable latency and a problem; evidence quotes Best and Wrst", () => {
    const d = diagnose(unstableToTheEnd);
    const unstable = byCode(d.findings, "unstable-latency");
    expect(unstable).toHaveLength(1);
    expect(unstable[0]).toMatchObject({ hops: [4, 5], severity: "problem" });
    expect(unstable[0]?.evidence).toContain("Best 25 ms, Wrst 350 ms");
    expect(byCode(d.findings, "latency-step")).toEqual([]);
    expect(d.verdict).toBe("problem");
  });

  it("a StDev of 25 ms is high at an Avg of 30 ms but not at 325 ms", () => {
    const at30 = diagnose([
      labHop(1, { avg: 28, stdev: 1 }),
      labHop(2, { avg: 30, stdev: 25 }),
      labHop(3, { avg: 31, stdev: 25 }),
    ]);
    const at325 = diagnose([
      labHop(1, { avg: 320, stdev: 1 }),
      labHop(2, { avg: 325, stdev: 25 }),
      labHop(3, { avg: 326, stdev: 25 }),
    ]);
    expect(byCode(at30.findings, "unstable-latency")).toHaveLength(1);
    expect(byCode(at325.findings, "unstable-latency")).toEqual([]);
  });
});

describe("the destination and the end of the path", () => {
  it("a destination that alone answers nothing filters ICMP: region C, suggest TCP to the service port", () => {
    const d = diagnose(misconfiguredDestination, { servicePort: 443 });
    const f = byCode(d.findings, "destination-filters-icmp");
    expect(f).toEqual([expect.objectContaining({ hops: [6], region: "C" })]);
    expect(f[0]?.advice).toContain("--tcp --port 443");
    expect(byCode(d.findings, "node-interruption")).toEqual([]);
    expect(byCode(d.findings, "real-loss")).toEqual([]);
  });

  it("no answers after hop 4 over many silent hops is a node interruption at hop 4", () => {
    const d = diagnose(nodeInterruptionAfterHop4);
    expect(d.verdict).toBe("problem");
    expect(byCode(d.findings, "node-interruption")).toEqual([expect.objectContaining({ hops: [4, 5] })]);
    expect(byCode(d.findings, "destination-filters-icmp")).toEqual([]);
    expect(byCode(d.findings, "icmp-throttling")).toEqual([]);
  });

  it("a caller that knows the destination was reached turns trailing silence into ICMP filtering", () => {
    const d = diagnose(nodeInterruptionAfterHop4, { reachedDestination: true });
    expect(codes(d.findings)).toEqual(["destination-filters-icmp"]);
    expect(byCode(d.findings, "destination-filters-icmp")[0]?.hops).toEqual([5]);
  });

  it("a caller that knows the destination was not reached turns a lone silent last hop into an interruption", () => {
    const d = diagnose(misconfiguredDestination, { reachedDestination: false });
    expect(codes(d.findings)).toEqual(["node-interruption"]);
  });

  it("one unnamed silent hop after the last answer, as the tracer reports a black hole, is a node interruption", () => {
    const d = diagnose([labHop(1), labHop(2), labHop(3), hop(4, null)], { destination: "198.18.61.2" });
    expect(codes(d.findings)).toEqual(["node-interruption"]);
    expect(d.findings[0]?.hops).toEqual([3, 4]);
    expect(d.findings[0]?.advice).toContain("TCP trace to its service port");
  });

  it("the same reading is ICMP filtering once a TCP probe proved the destination is there", () => {
    const d = diagnose([labHop(1), labHop(2), labHop(3), hop(4, null)], {
      reachedDestination: true,
      servicePort: 8080,
    });
    expect(d.findings).toEqual([
      expect.objectContaining({ code: "destination-filters-icmp", hops: [4], region: "C" }),
    ]);
  });

  it("a silent last hop named with another address than the destination is not the destination", () => {
    const hops = [labHop(1), labHop(2), { ...hop(3, null), host: "198.18.9.9" }];
    expect(codes(diagnose(hops, { destination: "198.18.6.1" }).findings)).toEqual(["node-interruption"]);
  });

  it("a trace whose last answering hop is not the destination address was interrupted there", () => {
    const d = diagnose([labHop(1), labHop(2), labHop(3)], { destination: "198.18.99.1" });
    expect(byCode(d.findings, "node-interruption")).toEqual([expect.objectContaining({ hops: [3] })]);
  });

  it("a routing loop from hop 5 is reported at hop 5 with its cycle, and nothing else", () => {
    const d = diagnose(routingLoopFromHop5);
    expect(d.verdict).toBe("problem");
    expect(d.findings).toEqual([
      expect.objectContaining({ code: "routing-loop", hops: [5, 6], severity: "problem" }),
    ]);
    expect(d.findings[0]?.evidence).toContain("198.18.5.1, 198.18.6.2");
  });

  it("a lab loop where the first router answers from another interface starts at the first repeating hop", () => {
    // R4 answers from its upstream link at hop 4, then R5 and R4 bounce the packets on their shared link.
    const hops = [labHop(1), labHop(2), labHop(3), hop(4, "198.18.34.2")];
    for (let ttl = 5; ttl <= 30; ttl++) hops.push(hop(ttl, ttl % 2 === 1 ? "198.18.45.2" : "198.18.45.1"));
    const loop = diagnose(hops).findings.filter((f) => f.code === "routing-loop");
    expect(loop).toEqual([expect.objectContaining({ hops: [5, 6] })]);
  });

  it("a destination that answers at several TTLs in a row is reached at the first, not looping", () => {
    const hops = [
      labHop(1),
      labHop(2),
      hop(3, "198.18.200.2"),
      hop(4, "198.18.200.2"),
      hop(5, "198.18.200.2"),
    ];
    expect(diagnose(hops)).toEqual({ verdict: "clean", findings: [] });
    const view = buildTraceView(hops, { destination: "198.18.200.2" });
    expect(view.hops.map((h) => h.ttl)).toEqual([1, 2, 3]);
    expect(view.destinationIndex).toBe(2);
  });

  it("the same address at two hops without repetition is not a loop", () => {
    const hops = [labHop(1), hop(2, "198.18.50.1"), labHop(3), hop(4, "198.18.50.1"), labHop(5), labHop(6)];
    expect(byCode(diagnose(hops).findings, "routing-loop")).toEqual([]);
  });
});

describe("the verdict", () => {
  it("is inconclusive when no hop answered, and says why", () => {
    const d = diagnose([hop(1, null), hop(2, null)]);
    expect(d).toMatchObject({ verdict: "inconclusive", reason: "No hop answered any probe." });
  });

  it("is inconclusive with fewer than 5 probes per hop, even when loss reaches the end", () => {
    const d = diagnose([labHop(1, { sent: 3 }), labHop(2, { sent: 3, lost: 2 })]);
    expect(d.verdict).toBe("inconclusive");
    expect(d.reason).toContain("Only 3 probe(s)");
  });

  it("is a problem for a routing loop seen with a single probe per hop", () => {
    const loop = routingLoopFromHop5.map((h) => ({ ...h, sent: 1, recv: 1 }));
    expect(diagnose(loop).verdict).toBe("problem");
  });

  it("is clean for a path without loss", () => {
    expect(diagnose([labHop(1), labHop(2), labHop(3)])).toEqual({ verdict: "clean", findings: [] });
  });

  it("sorts hops by TTL before reading them", () => {
    const shuffled = [...lossFromHop6ToTheEnd].reverse();
    expect(diagnose(shuffled)).toEqual(diagnose(lossFromHop6ToTheEnd));
  });
});

describe("follow-up probes decide a silent end", () => {
  const silentEnd = [labHop(1), labHop(2), labHop(3), hop(4, null)];
  const destination = "198.18.4.1";

  it("a destination silent to ICMP that answers TCP SYN to 443 filters ICMP, with the proof in the evidence", () => {
    const d = diagnose(silentEnd, {
      destination,
      followUps: [
        { kind: "tcp-syn", target: destination, port: 443, answered: true, rtt: 0.21, purpose: "p" },
        { kind: "udp", target: destination, port: 33434, answered: false, purpose: "p" },
      ],
    });
    const f = byCode(d.findings, "destination-filters-icmp")[0];
    expect(f?.hops).toEqual([4]);
    expect(f?.evidence).toContain(
      "Proof that it is there: TCP SYN to 443 answered in 0.2 ms; UDP to 33434: no answer; ICMP echo: no answer.",
    );
    expect(byCode(d.findings, "node-interruption")).toEqual([]);
  });

  it("a destination that answers no follow-up either is a node interruption, and the evidence says what was tried", () => {
    const d = diagnose(silentEnd, {
      destination,
      followUps: [
        { kind: "tcp-syn", target: destination, port: 443, answered: false, purpose: "p" },
        { kind: "tcp-syn", target: destination, port: 80, answered: false, purpose: "p" },
      ],
    });
    const f = byCode(d.findings, "node-interruption")[0];
    expect(f?.evidence).toContain(
      "Follow-up probes to the destination: TCP SYN to 443: no answer; TCP SYN to 80: no answer.",
    );
    expect(f?.advice).not.toContain("a TCP trace to its service port tells them apart");
  });

  it("an echo answer from a router addressed directly does not prove the destination is there", () => {
    const d = diagnose(silentEnd, {
      destination,
      followUps: [{ kind: "echo", target: "198.18.3.1", answered: true, purpose: "p" }],
    });
    expect(byCode(d.findings, "node-interruption")).toHaveLength(1);
  });
});
