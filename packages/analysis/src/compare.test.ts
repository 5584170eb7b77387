import { Comparison, type Hop } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { alignHops, samePointToPointLink } from "./align";
import { compare } from "./compare";
import { lab, trace } from "./fixtures/paths";
import { buildTraceView } from "./trace-view";

function lossy(hops: Hop[], fromTtl: number, lost = 3): Hop[] {
  return hops.map((h) =>
    h.ttl >= fromTtl ? { ...h, recv: h.sent - lost, drop: lost, lossPct: (lost / h.sent) * 100 } : h,
  );
}

describe("point-to-point links", () => {
  it("the two ends of a /31 or of a /30 are one link", () => {
    expect(samePointToPointLink("198.18.0.0", "198.18.0.1")).toBe(true);
    expect(samePointToPointLink("198.18.0.1", "198.18.0.2")).toBe(true);
  });
  it("two neighbouring /31 links inside one /30 are not one link", () => {
    expect(samePointToPointLink("198.18.0.1", "198.18.0.2")).toBe(true);
    expect(samePointToPointLink("198.18.0.0", "198.18.0.3")).toBe(false);
    expect(samePointToPointLink("198.18.0.1", "198.18.0.3")).toBe(false);
  });
  it("the two ends of a /127 or of a /126 are one link, in IPv6 too", () => {
    expect(samePointToPointLink("2001:2::10", "2001:2::11")).toBe(true);
    expect(samePointToPointLink("2001:2::1", "2001:2::2")).toBe(true);
    expect(samePointToPointLink("2001:2::1", "2001:2::5")).toBe(false);
  });
  it("an address is not a link to itself, and IPv4 never links to IPv6", () => {
    expect(samePointToPointLink("198.18.0.1", "198.18.0.1")).toBe(false);
    expect(samePointToPointLink("198.18.0.1", "2001:2::2")).toBe(false);
  });
});

describe("alignment strengths", () => {
  it("the same address in both directions is a shared router matched by address", () => {
    const c = compare(
      trace(["198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.200.2"]),
      trace(["198.18.9.3", "198.18.9.2", "198.18.9.1", "198.18.100.2"]),
    );
    expect(c.shared.map((s) => [s.match, s.forwardTtl, s.reverseTtl])).toEqual([
      ["address", 1, 3],
      ["address", 2, 2],
      ["address", 3, 1],
    ]);
    expect(c.verdict).toBe("symmetric");
    expect(c.segments.map((s) => s.kind)).toEqual(["shared"]);
  });

  it("routers answering from the two ends of each /30 link align by link and the path is symmetric", () => {
    const c = compare(trace(lab.forward), trace(lab.reverseSame));
    expect(c.shared.every((s) => s.match === "link")).toBe(true);
    expect(c.shared).toHaveLength(5);
    expect(c.verdict).toBe("symmetric");
  });

  it("different addresses with the same reverse-DNS name align by name", () => {
    const named = (address: string, name: string): [string, { name: string }] => [address, { name }];
    const c = compare(
      trace([named("198.18.10.1", "r1.lab.example"), named("198.18.11.1", "r2.lab.example"), "198.18.200.2"]),
      trace([named("198.18.21.1", "r2.lab.example"), named("198.18.20.1", "r1.lab.example"), "198.18.100.2"]),
    );
    expect(c.shared.map((s) => s.match)).toEqual(["name", "name"]);
    expect(c.shared[0]?.name).toBe("r1.lab.example");
    expect(c.verdict).toBe("symmetric");
  });

  it("different routers in the same origin AS align by ASN but the stretch stays diverged", () => {
    const inAs = (address: string): [string, { asn: number; owner: string }] => [
      address,
      { asn: 64501, owner: "Beta Transit" },
    ];
    const c = compare(
      trace(["198.18.100.1", inAs("198.18.30.1"), "198.18.200.2"]),
      trace(["198.18.200.1", inAs("198.18.40.1"), "198.18.100.2"]),
    );
    const asnPair = c.shared.find((s) => s.match === "asn");
    expect(asnPair).toMatchObject({ forwardTtl: 2, reverseTtl: 2, asn: 64501, owner: "Beta Transit" });
    expect(c.segments.find((s) => s.forward.hops.some((h) => h.ttl === 2))?.kind).toBe("diverged");
    expect(c.verdict).toBe("asymmetric");
  });

  it("an address match wins over a link match for the same hop", () => {
    const forward = buildTraceView(trace(["198.18.1.1", "198.18.200.2"]));
    // Reversed reverse: 198.18.1.2 (link to forward hop 1) then 198.18.1.1 (same address).
    const reverse = buildTraceView(trace(["198.18.1.1", "198.18.1.2"]));
    const pairs = alignHops(forward.hops, reverse.hops);
    expect(pairs).toContainEqual({ forward: 0, reverse: 0, match: "address" });
    expect(pairs.some((p) => p.forward === 0 && p.match === "link")).toBe(false);
  });

  it("one link match outweighs several ASN matches that contradict it", () => {
    const a = (address: string): [string, { asn: number }] => [address, { asn: 64500 }];
    const forward = buildTraceView(trace([a("198.18.50.1"), a("198.18.51.1"), a("198.18.52.1")]));
    const reverse = buildTraceView(trace([a("198.18.60.1"), a("198.18.61.1"), a("198.18.50.2")]));
    const pairs = alignHops(forward.hops, reverse.hops);
    expect(pairs.find((p) => p.match === "link")).toEqual({ forward: 0, reverse: 2, match: "link" });
  });
});

describe("segments of an asymmetric pair", () => {
  const c = compare(trace(lab.forward), trace(lab.reverseOther));

  it("is asymmetric with the forward routers R2, R3, R4 against the reverse routers R1, R6, R7", () => {
    expect(c.verdict).toBe("asymmetric");
    expect(c.segments.map((s) => s.kind)).toEqual(["shared", "diverged", "shared"]);
    const diverged = c.segments[1];
    expect(diverged?.forward.ttls).toEqual({ from: 2, to: 4 });
    expect(diverged?.forward.hops.map((h) => h.address)).toEqual(["198.18.1.2", "198.18.2.2", "198.18.3.2"]);
    expect(diverged?.reverse.ttls).toEqual({ from: 2, to: 4 });
    expect(diverged?.reverse.hops.map((h) => h.address)).toEqual(["198.18.5.2", "198.18.6.2", "198.18.7.2"]);
  });

  it("says where the directions diverge and re-converge", () => {
    expect(c.summary).toContain("they diverge after forward hop 1 and re-converge at forward hop 5");
  });

  it("draws the reverse side from the forward source's end: its TTLs run from high to low", () => {
    expect(c.segments[0]?.reverse.hops.map((h) => h.ttl)).toEqual([5]);
    expect(c.segments[2]?.reverse.hops.map((h) => h.ttl)).toEqual([1]);
  });

  it("produces a comparison that the protocol schema accepts", () => {
    expect(Comparison.safeParse(c).success).toBe(true);
  });
});

describe("silent stretches and endpoints", () => {
  it("silent hops on both sides between shared routers are unresolved, not a divergence", () => {
    const c = compare(
      trace(["198.18.9.1", null, "198.18.9.3", "198.18.200.2"]),
      trace(["198.18.9.3", null, "198.18.9.1", "198.18.100.2"]),
    );
    expect(c.segments.map((s) => s.kind)).toEqual(["shared", "unresolved", "shared"]);
    expect(c.verdict).toBe("symmetric");
  });

  it("each trace's destination joins the shared stretch next to it instead of counting as a divergence", () => {
    const c = compare(trace(["198.18.9.1", "198.18.200.2"]), trace(["198.18.9.1", "198.18.100.2"]));
    expect(c.segments).toHaveLength(1);
    expect(c.segments[0]?.forward.hops.map((h) => h.address)).toEqual(["198.18.9.1", "198.18.200.2"]);
    expect(c.segments[0]?.reverse.hops.map((h) => h.address)).toEqual(["198.18.100.2", "198.18.9.1"]);
    expect(c.verdict).toBe("symmetric");
  });

  it("a router only one direction crosses makes the path asymmetric", () => {
    const c = compare(
      trace(["198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.200.2"]),
      trace(["198.18.9.3", "198.18.9.1", "198.18.100.2"]),
    );
    expect(c.verdict).toBe("asymmetric");
    const diverged = c.segments.find((s) => s.kind === "diverged");
    expect(diverged?.forward.ttls).toEqual({ from: 2, to: 2 });
    expect(diverged?.reverse.ttls).toBeNull();
    expect(c.summary).toContain("reverse: no router of its own");
  });
});

describe("fault direction", () => {
  it("is none when both directions are clean", () => {
    const c = compare(trace(lab.forward), trace(lab.reverseSame));
    expect(c.faultDirection).toBe("none");
    expect(c.summary).toContain("The forward path is clean; the reverse path is clean.");
  });

  it("is reverse when only the reverse path loses, and the summary says the forward path is clean", () => {
    const reverse = lossy(trace(lab.reverseOther), 2);
    const c = compare(trace(lab.forward), reverse, {
      reverse: { asnOf: (a) => (a === "198.18.7.2" ? { asn: 64507, owner: "Seven Transit" } : undefined) },
    });
    expect(c.faultDirection).toBe("reverse");
    expect(c.summary).toContain(
      "The forward path is clean; the reverse path loses 30% from hop 2 (198.18.7.2) on (on a stretch the forward path does not cross); contact AS64507 (Seven Transit)",
    );
  });

  it("is forward when only the forward path loses", () => {
    const c = compare(lossy(trace(lab.forward), 3), trace(lab.reverseSame));
    expect(c.faultDirection).toBe("forward");
    expect(c.summary).toContain("The forward path loses 30% from hop 3 (198.18.2.2) on");
    expect(c.summary).toContain("the reverse path is clean.");
  });

  it("is both when both directions lose", () => {
    const c = compare(lossy(trace(lab.forward), 3), lossy(trace(lab.reverseSame), 4));
    expect(c.faultDirection).toBe("both");
  });

  it("an inconclusive direction is not a fault, and the summary says why", () => {
    const silent = trace([null, null, null]);
    const c = compare(trace(lab.forward), silent);
    expect(c.faultDirection).toBe("none");
    expect(c.summary).toContain("the reverse path is inconclusive (No hop answered any probe)");
    expect(c.summary).toContain("The paths cannot be aligned: no hop of the reverse trace answered.");
    expect(c.segments.some((s) => s.kind === "diverged")).toBe(false);
  });

  it("uses diagnoses given by the caller instead of computing them", () => {
    const c = compare(trace(lab.forward), trace(lab.reverseSame), {
      forwardDiagnosis: { verdict: "problem", findings: [] },
    });
    expect(c.faultDirection).toBe("forward");
  });
});

describe("loss and latency each direction adds per segment", () => {
  it("puts the reverse path's persistent loss in the segment where it starts, and none on the forward side", () => {
    const c = compare(trace(lab.forward), lossy(trace(lab.reverseOther), 3));
    const diverged = c.segments.find((s) => s.kind === "diverged");
    expect(diverged?.reverse.addedLossPct).toBe(30);
    expect(diverged?.forward.addedLossPct).toBe(0);
    expect(c.segments.filter((s) => s !== diverged).every((s) => s.reverse.addedLossPct === 0)).toBe(true);
  });

  it("does not count a throttling router's loss as loss a segment adds", () => {
    const forward = trace(lab.forward).map((h) =>
      h.ttl === 2 ? { ...h, recv: 5, drop: 5, lossPct: 50 } : h,
    );
    const c = compare(forward, trace(lab.reverseOther));
    expect(c.segments.every((s) => s.forward.addedLossPct === 0)).toBe(true);
  });

  it("adds up to the destination's latency along the forward side", () => {
    const c = compare(trace(lab.forward), trace(lab.reverseOther));
    const total = c.segments.reduce((sum, s) => sum + s.forward.addedLatencyMs, 0);
    expect(total).toBe(10);
  });
});
