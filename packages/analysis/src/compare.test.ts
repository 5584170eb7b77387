import { Comparison, type Hop } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { compare, routerIdsByTtl } from "./compare";
import { trace } from "./fixtures/paths";
import { inboundLab, loopbackLab, path, routeBackAliases, routeBackLab } from "./fixtures/two-way";
import { samePointToPointLink } from "./links";

const lab = routeBackLab;
const options = (extra: Parameters<typeof compare>[2] = {}) => ({
  forward: { destination: lab.b },
  reverse: { destination: lab.a },
  labels: { a: "fra", b: "sin" },
  ...extra,
});

/** The lab node behind each router of a comparison, per direction (for readable assertions). */
function nodesOf(c: Comparison) {
  const node = (direction: "forward" | "reverse", ttl: number | null) =>
    ttl === null ? null : (direction === "forward" ? lab.forwardNodes : lab.reverseNodes)[ttl - 1];
  return {
    shared: c.routers
      .filter((r) => r.identity === "shared")
      .map((r) => [node("forward", r.forwardTtl), node("reverse", r.reverseTtl)]),
    own: c.routers
      .filter((r) => r.identity === "own")
      .map((r) => node(r.forwardTtl ? "forward" : "reverse", r.forwardTtl ?? r.reverseTtl)),
    unknown: c.routers
      .filter((r) => r.identity === "unknown")
      .map((r) => node(r.forwardTtl ? "forward" : "reverse", r.forwardTtl ?? r.reverseTtl)),
  };
}

describe("point-to-point links", () => {
  it("the two ends of a /31 or of a /30 are one link", () => {
    expect(samePointToPointLink("198.18.0.0", "198.18.0.1")).toBe(true);
    expect(samePointToPointLink("198.18.0.1", "198.18.0.2")).toBe(true);
  });
  it("two neighbouring /31 links inside one /30 are not one link", () => {
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

describe("routers answering from their route back (Linux), on an asymmetric pair", () => {
  const forward = path(lab.forward);
  const reverse = path(lab.reverse);

  it("identifies efra and esin in both directions, though each answers the two ends from different addresses", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    expect(nodesOf(c).shared).toEqual([
      ["efra", "efra"],
      ["esin", "esin"],
    ]);
    expect(c.shared.map((s) => [s.forwardAddress, s.reverseAddress])).toEqual([
      ["198.18.1.2", "198.18.2.1"],
      ["198.18.5.1", "198.18.7.1"],
    ]);
  });

  it("never pairs the two ends of a link as one router: core1 is not efra, core3 is not esin", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    const pairs = nodesOf(c).shared.map(([x, y]) => `${x}=${y}`);
    expect(pairs).not.toContain("core1=efra");
    expect(pairs).not.toContain("esin=core3");
    expect(pairs.every((p) => p.split("=")[0] === p.split("=")[1])).toBe(true);
  });

  it("with both ends' alias traces, core1 and core2 are fra's own and core3 is sin's own", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    expect(nodesOf(c).own).toEqual(["core1", "core2", "core3"]);
    expect(nodesOf(c).unknown).toEqual([]);
    const core3 = c.routers.find((r) => r.addresses.includes("198.18.5.2"));
    expect(core3?.evidence.some((e) => e.test === "alias-trace" && !e.agrees)).toBe(true);
  });

  it("one end's alias trace alone does not identify: fra reaches core3 where core1 is, sin's trace refutes it", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    const core1 = c.routers.find((r) => r.addresses.includes("198.18.2.2"));
    expect(core1?.identity).toBe("own");
    expect(core1?.evidence.map((e) => e.agrees)).toContain(false);
  });

  it("without follow-ups, two independent link-mate pairs still identify efra and esin, and the rest stay unknown", () => {
    const c = compare(forward, reverse, options());
    expect(nodesOf(c).shared).toEqual([
      ["efra", "efra"],
      ["esin", "esin"],
    ]);
    expect(nodesOf(c).unknown).toEqual(["core1", "core2", "core3"]);
    expect(c.shared.every((s) => s.match === "link-mate" && s.evidence.length >= 2)).toBe(true);
    expect(c.summary).toContain("not identified on the other path");
  });

  it("reads each shared router's answering convention: route-back, from the link towards the other trace's next hop", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    expect(c.routers.filter((r) => r.identity === "shared").map((r) => r.answers)).toEqual([
      "route-back",
      "route-back",
    ]);
  });

  it("cuts one diverged segment whose sides list each direction's own routers", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    expect(c.verdict).toBe("asymmetric");
    expect(c.segments.map((s) => s.kind)).toEqual(["shared", "diverged", "shared"]);
    const diverged = c.segments[1];
    expect(diverged?.forward.routerIds).toEqual(["r:198.18.2.2", "r:198.18.3.2"]);
    expect(diverged?.reverse.routerIds).toEqual(["r:198.18.5.2"]);
    expect(diverged?.forward.hops.every((h) => h.identity === "own")).toBe(true);
    expect(c.summary).toContain("fra → sin crosses hops 2–3: 198.18.2.2, 198.18.3.2, not on the other path");
    expect(c.summary).toContain("sin → fra crosses hop 2: 198.18.5.2, not on the other path");
  });

  it("gives every hop a router id that is the same on the next run, and the same id to a router in both directions", () => {
    const first = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    const again = compare(
      path(lab.forward, { sent: 30 }),
      path(lab.reverse, { sent: 30 }),
      options({ aliases: routeBackAliases() }),
    );
    expect(routerIdsByTtl(again)).toEqual(routerIdsByTtl(first));
    const ids = routerIdsByTtl(first);
    expect(ids.forward.get(1)).toBe(ids.reverse.get(3));
    expect(ids.forward.get(4)).toBe(ids.reverse.get(1));
    expect(ids.forward.get(5)).toBeUndefined();
  });

  it("produces a comparison the protocol schema accepts", () => {
    const c = compare(forward, reverse, options({ aliases: routeBackAliases() }));
    expect(Comparison.safeParse(c).success).toBe(true);
  });
});

describe("routers answering from the incoming interface, or from a loopback", () => {
  it("identifies every router of a symmetric path answering from its incoming interface by link-mates", () => {
    const c = compare(path(inboundLab.forward), path(inboundLab.reverse), {
      forward: { destination: inboundLab.b },
      reverse: { destination: inboundLab.a },
    });
    expect(c.shared.map((s) => [s.forwardAddress, s.reverseAddress])).toEqual([
      ["198.18.31.2", "198.18.32.1"],
      ["198.18.32.2", "198.18.33.1"],
      ["198.18.33.2", "198.18.34.1"],
    ]);
    expect(c.shared.every((s) => s.match === "link-mate")).toBe(true);
    expect(c.verdict).toBe("symmetric");
  });

  it("identifies routers answering from a loopback by the same address, and says they answer from one address", () => {
    const c = compare(path(loopbackLab.forward), path(loopbackLab.reverse), {
      forward: { destination: loopbackLab.b },
      reverse: { destination: loopbackLab.a },
    });
    expect(c.shared.map((s) => [s.match, s.forwardTtl, s.reverseTtl])).toEqual([
      ["address", 1, 3],
      ["address", 2, 2],
      ["address", 3, 1],
    ]);
    expect(c.routers.every((r) => r.answers === "one-address")).toBe(true);
    expect(c.shared.every((s) => s.confidence >= 0.99)).toBe(true);
  });

  it("different addresses with the same reverse-DNS name are one router", () => {
    const named = (address: string, name: string): [string, { name: string }] => [address, { name }];
    const c = compare(
      trace([named("198.18.10.1", "r1.lab.example"), named("198.18.11.1", "r2.lab.example"), "198.18.200.2"]),
      trace([named("198.18.12.1", "r2.lab.example"), named("198.18.13.1", "r1.lab.example"), "198.18.100.2"]),
    );
    expect(c.shared.map((s) => [s.match, s.forwardTtl, s.reverseTtl])).toEqual([
      ["name", 1, 2],
      ["name", 2, 1],
    ]);
  });

  it("routers of one origin AS are one network, not one router: they stay unidentified", () => {
    const inAs = (address: string): [string, { asn: number }] => [address, { asn: 64501 }];
    const c = compare(
      trace([inAs("198.18.40.1"), inAs("198.18.41.1"), "198.18.200.2"]),
      trace([inAs("198.18.42.1"), inAs("198.18.43.1"), "198.18.100.2"]),
    );
    expect(c.shared).toEqual([]);
    expect(c.routers.every((r) => r.identity === "unknown")).toBe(true);
    expect(c.verdict).toBe("asymmetric");
  });

  it("one link-mate pair alone is a hint, not an identification", () => {
    // R answers A from 198.18.60.2; the other end of that link, 198.18.60.1, shows in B's trace.
    const c = compare(
      trace(["198.18.50.1", "198.18.60.2", "198.18.200.2"]),
      trace(["198.18.60.1", "198.18.100.2"]),
    );
    expect(c.shared).toEqual([]);
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

  it("a router only one direction crosses makes the path asymmetric, and the other side has no router there", () => {
    const c = compare(
      trace(["198.18.9.1", "198.18.9.2", "198.18.9.3", "198.18.200.2"]),
      trace(["198.18.9.3", "198.18.9.1", "198.18.100.2"]),
    );
    expect(c.verdict).toBe("asymmetric");
    const diverged = c.segments.find((s) => s.kind === "diverged");
    expect(diverged?.forward.ttls).toEqual({ from: 2, to: 2 });
    expect(diverged?.reverse.ttls).toBeNull();
    expect(c.summary).toContain("B → A crosses no router of its own there");
  });
});

/** The reference pair with 20 probes a hop; `lost` per TTL for each trace. */
function lossyPair(forwardLost: Record<number, number>, reverseLost: Record<number, number>) {
  return [path(lab.forward, { lost: forwardLost }), path(lab.reverse, { lost: reverseLost })] as const;
}

describe("the direction of a loss, from both traces and the follow-ups together", () => {
  // core3 drops 25% of what it sends towards efra: fra's replies from esin and sin come back that way
  // (fra sees loss from hop 4), sin's probes to efra and fra go that way (sin sees it from hop 3).
  const returnOnly = () => lossyPair({ 4: 5, 5: 5 }, { 3: 5, 4: 5 });

  it("puts a return-path-only loss on the reverse direction, where it leaves core3, and clears the forward", () => {
    const [forward, reverse] = returnOnly();
    // fra's probes to esin and core3 answer over core3 -> efra; sin's probes to efra go out over it.
    const aliases = routeBackAliases({
      fromA: { "198.18.7.1": 10, "198.18.5.2": 10 },
      fromB: { "198.18.1.2": 10 },
    });
    const c = compare(forward, reverse, options({ aliases }));
    expect(c.faultDirection).toBe("reverse");
    expect(c.loss?.reading).toBe("reverse");
    expect(c.loss?.stretches).toEqual([
      expect.objectContaining({
        direction: "reverse",
        fromTtl: 2,
        toTtl: 3,
        fromAddress: "198.18.5.2",
        lossPct: 25,
      }),
    ]);
    expect(c.summary).toContain(
      "Fra → sin is clean; its loss from hop 4 (198.18.5.1) on is its replies' way back over sin → fra, which loses 25% between hop 2 (198.18.5.2) and hop 3 (198.18.2.1)",
    );
    expect(c.summary).toContain("Sin → fra loses 25% between hop 2 (198.18.5.2) and hop 3 (198.18.2.1)");
  });

  it("puts a forward-path-only loss on the forward direction, where it enters esin", () => {
    // core2 drops 25% towards esin: fra sees it from hop 4; sin's efra and fra answer over it.
    const [forward, reverse] = lossyPair({ 4: 5, 5: 5 }, { 3: 5, 4: 5 });
    // fra's probes to esin go out over core2 -> esin; sin's probes to efra, core1, core2 answer over it.
    const aliases = routeBackAliases({
      fromA: { "198.18.7.1": 10 },
      fromB: { "198.18.1.2": 10, "198.18.2.2": 10, "198.18.3.2": 10 },
    });
    const c = compare(forward, reverse, options({ aliases }));
    expect(c.faultDirection).toBe("forward");
    expect(c.loss?.stretches.map((s) => [s.direction, s.fromTtl, s.toTtl])).toEqual([["forward", 3, 4]]);
    expect(c.summary).toContain(
      "Sin → fra is clean; its loss from hop 3 (198.18.2.1) on is its replies' way back over fra → sin",
    );
  });

  it("says both when each direction loses on its own stretch", () => {
    const [forward, reverse] = lossyPair({ 4: 9, 5: 9 }, { 3: 9, 4: 9 });
    const aliases = routeBackAliases({
      fromA: { "198.18.7.1": 18, "198.18.5.2": 10 },
      fromB: { "198.18.1.2": 18, "198.18.2.2": 10, "198.18.3.2": 10 },
    });
    const c = compare(forward, reverse, options({ aliases }));
    expect(c.faultDirection).toBe("both");
    expect(c.loss?.stretches.map((s) => s.direction)).toEqual(["forward", "reverse"]);
  });

  it("is undetermined, not both, when the two traces alone cannot tell which direction loses", () => {
    const [forward, reverse] = returnOnly();
    const c = compare(forward, reverse, options());
    expect(c.faultDirection).toBe("undetermined");
    expect(c.loss?.evidence).toContain("alias traces from each end");
    expect(c.summary).toContain("may be its own or its replies' way back");
    expect(c.summary).not.toContain("is clean;");
  });

  it("a loss the follow-ups cannot separate either stays undetermined", () => {
    const [forward, reverse] = returnOnly();
    const aliases = routeBackAliases({}, 1);
    const c = compare(forward, reverse, options({ aliases }));
    expect(c.faultDirection).toBe("undetermined");
  });

  it("is none, with no loss reading, when both directions are clean", () => {
    const c = compare(path(lab.forward), path(lab.reverse), options({ aliases: routeBackAliases() }));
    expect(c.faultDirection).toBe("none");
    expect(c.loss).toBeNull();
    expect(c.summary).toContain("Fra → sin is clean. Sin → fra is clean.");
  });

  it("a loss one trace shows alone, with the other clean to its end, is not blamed on either without follow-ups", () => {
    // The two destinations' answers make the same round trip, so this reading is inconsistent; with
    // nothing else to go on, neither direction is named.
    const c = compare(path(lab.forward, { lost: { 3: 6, 4: 6, 5: 6 } }), path(lab.reverse), options());
    expect(c.faultDirection).toBe("undetermined");
  });

  it("an inconclusive direction is not a fault, and the summary says why", () => {
    const silent = trace([null, null, null]);
    const c = compare(path(lab.forward), silent, options());
    expect(c.faultDirection).toBe("none");
    expect(c.summary).toContain("Sin → fra is inconclusive (No hop answered any probe)");
    expect(c.summary).toContain("The paths cannot be aligned: no hop of the reverse trace answered.");
    expect(c.segments.some((s) => s.kind === "diverged")).toBe(false);
  });

  it("a problem other than loss stays with the trace that shows it", () => {
    const c = compare(path(lab.forward), path(lab.reverse), {
      ...options(),
      forwardDiagnosis: { verdict: "problem", findings: [] },
    });
    expect(c.faultDirection).toBe("forward");
  });
});

describe("loss and latency each direction adds per segment", () => {
  const lossy = (hops: Hop[], fromTtl: number, lost = 6) =>
    hops.map((h) =>
      h.ttl >= fromTtl ? { ...h, recv: h.sent - lost, drop: lost, lossPct: (lost / h.sent) * 100 } : h,
    );

  it("puts the reverse path's persistent loss in the segment where it starts, and none on the forward side", () => {
    const c = compare(
      path(lab.forward),
      lossy(path(lab.reverse), 2),
      options({ aliases: routeBackAliases() }),
    );
    const diverged = c.segments.find((s) => s.kind === "diverged");
    expect(diverged?.reverse.addedLossPct).toBe(30);
    expect(diverged?.forward.addedLossPct).toBe(0);
  });

  it("does not count a throttling router's loss as loss a segment adds", () => {
    const forward = path(lab.forward).map((h) =>
      h.ttl === 2 ? { ...h, recv: 10, drop: 10, lossPct: 50 } : h,
    );
    const c = compare(forward, path(lab.reverse), options());
    expect(c.segments.every((s) => s.forward.addedLossPct === 0)).toBe(true);
  });

  it("adds up to the destination's latency along the forward side", () => {
    const c = compare(path(lab.forward), path(lab.reverse), options());
    const total = c.segments.reduce((sum, s) => sum + s.forward.addedLatencyMs, 0);
    expect(total).toBe(9);
  });
});

describe("a trace read from a later hop on (behind a NAT)", () => {
  it("alias traces still place an address by distance when the hop before it is not part of the reading", () => {
    // Customer behind a NAT (hop 1, left out) -> core3 -> esin -> vm; back vm -> esin -> core3 -> the NAT.
    const forward = path(["198.18.10.1", "198.18.5.1", "198.18.8.2"]).map((h) => ({ ...h, ttl: h.ttl + 1 }));
    const reverse = path(["198.18.8.1", "198.18.5.2", "198.18.10.2"]);
    const c = compare(forward, reverse, {
      forward: { destination: "198.18.8.2" },
      reverse: { destination: "198.18.10.2" },
      aliases: [
        {
          from: "a",
          target: "198.18.5.2",
          path: ["198.19.11.1", "198.18.5.2"],
          reachedAt: 2,
          sent: 20,
          recv: 20,
        },
        {
          from: "b",
          target: "198.18.10.1",
          path: ["198.18.8.1", "198.18.10.1"],
          reachedAt: 2,
          sent: 20,
          recv: 20,
        },
      ],
    });
    const core3 = c.routers.find((r) => r.addresses.includes("198.18.10.1"));
    expect(core3?.identity).toBe("shared");
    expect(core3?.evidence.filter((e) => e.test === "alias-trace").every((e) => e.agrees)).toBe(true);
  });
});
