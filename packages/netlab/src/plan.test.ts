import { describe, expect, it } from "vitest";
import { lossRestoreInput } from "./loss";
import { modelPath, modelTrace } from "./pathmodel";
import { nodeOfAddress, planLab } from "./plan";
import { describeReferenceLab } from "./reference";
import { FORWARD_LOSS, RETURN_LOSS, referenceTopology } from "./reference-topology";
import { conventionsTopology } from "./test-topologies";
import { type Topology, TopologyError } from "./topology";

const p2p = (n: number, a: string, b: string) => ({
  a,
  b,
  aAddr: { v4: `198.18.${n}.1/24` },
  bAddr: { v4: `198.18.${n}.2/24` },
});

// A ring of four routers r1-r2-r3-r4-r1 with a host on r1 and one on r3.
const ring: Topology = {
  autoRoutes: true,
  nodes: {
    h1: {},
    r1: { router: true },
    r2: { router: true },
    r3: { router: true },
    r4: { router: true },
    h3: {},
  },
  links: [
    p2p(1, "h1", "r1"),
    p2p(2, "r1", "r2"),
    p2p(3, "r2", "r3"),
    p2p(4, "r3", "r4"),
    p2p(5, "r4", "r1"),
    p2p(6, "r3", "h3"),
  ],
};

describe("planLab", () => {
  it("names interfaces after the peer with the prefix, within 15 characters", () => {
    const plan = planLab(ring, "lgab12");
    expect(plan.nodes.get("r1")?.interfaces.map((i) => i.name)).toEqual([
      "lgab12-h1",
      "lgab12-r2",
      "lgab12-r4",
    ]);
    expect(plan.nodes.get("r1")?.ns).toBe("lgab12-r1");
    const all = [...planLab(referenceTopology(0), "lgab12").nodes.values()].flatMap((n) => n.interfaces);
    expect(Math.max(...all.map((i) => i.name.length))).toBeLessThanOrEqual(15);
  });

  it("refuses names that would exceed the 15-character interface limit", () => {
    expect(() => planLab(ring, "lgabcdef")).not.toThrow();
    const long: Topology = { nodes: { abcdefgh: {}, b: {} }, links: [p2p(1, "abcdefgh", "b")] };
    expect(() => planLab(long, "lgabcdef")).toThrow(/exceeds 15 characters/);
  });

  it("refuses unknown nodes and bad node names before touching the kernel", () => {
    expect(() => planLab({ nodes: { a: {} }, links: [p2p(1, "a", "zz")] }, "lgx")).toThrow(TopologyError);
    expect(() => planLab({ nodes: { "Bad-Name": {} }, links: [] }, "lgx")).toThrow(/node name/);
    expect(() => planLab({ nodes: { host: {} }, links: [] }, "lgx")).toThrow(/node name/);
  });

  it("automatic routes follow the shortest path and explicit routes replace them", () => {
    const plan = planLab(ring, "lgx");
    const route = (node: string, to: string) => plan.nodes.get(node)?.routes.find((r) => r.to === to);
    expect(route("r1", "198.18.6.0/24")?.via).toBe("198.18.2.2"); // r1 -> r2 -> r3 (tie broken by link order)
    expect(route("h1", "198.18.6.0/24")?.via).toBe("198.18.1.2");
    expect(route("r1", "198.18.1.0/24")).toBeUndefined(); // connected
    const forced = planLab(
      {
        ...ring,
        nodes: { ...ring.nodes, r1: { router: true, routes: [{ to: "198.18.6.0/24", via: "198.18.5.1" }] } },
      },
      "lgx",
    );
    expect(forced.nodes.get("r1")?.routes.filter((r) => r.to === "198.18.6.0/24")).toEqual([
      { to: "198.18.6.0/24", via: "198.18.5.1", family: 4, auto: false },
    ]);
  });
});

describe("modelTrace", () => {
  it("predicts the responder of each hop as the address facing the probe's source", () => {
    const hops = modelTrace(planLab(ring, "lgx"), "h1", "198.18.6.2");
    expect(hops.map((h) => h.responders)).toEqual([
      ["198.18.1.2"],
      ["198.18.2.2"],
      ["198.18.3.2"],
      ["198.18.6.2"],
    ]);
    expect(hops.map((h) => h.nodes)).toEqual([["r1"], ["r2"], ["r3"], ["h3"]]);
  });

  it("follows every branch of a multipath route", () => {
    const plan = planLab(
      {
        ...ring,
        nodes: {
          ...ring.nodes,
          r1: { router: true, routes: [{ to: "198.18.6.0/24", via: ["198.18.2.2", "198.18.5.1"] }] },
        },
      },
      "lgx",
    );
    const hops = modelTrace(plan, "h1", "198.18.6.2");
    expect(hops.map((h) => h.nodes)).toEqual([["r1"], ["r2", "r4"], ["r3"], ["h3"]]);
    expect(hops[1]?.responders).toEqual(["198.18.2.2", "198.18.5.1"]);
  });

  it("keeps going round a routing loop up to the maximum TTL", () => {
    const plan = planLab(
      {
        ...ring,
        nodes: {
          ...ring.nodes,
          r2: { router: true, routes: [{ to: "198.18.99.0/24", via: "198.18.3.2" }] },
          r3: { router: true, routes: [{ to: "198.18.99.0/24", via: "198.18.3.1" }] },
          r1: { router: true, routes: [{ to: "198.18.99.0/24", via: "198.18.2.2" }] },
          h1: { routes: [{ to: "198.18.99.0/24", via: "198.18.1.2" }] },
        },
      },
      "lgx",
    );
    expect(modelTrace(plan, "h1", "198.18.99.1", 6).map((h) => h.nodes[0])).toEqual([
      "r1",
      "r2",
      "r3",
      "r2",
      "r3",
      "r2",
    ]);
  });
});

describe("modelTrace: which address a router answers from", () => {
  const plan = planLab(conventionsTopology(), "lgx");
  const hops = (from: string, to: string) => modelTrace(plan, from, to).map((h) => h.responders.join("|"));

  it("IPv4: the route back's interface (route), the incoming interface (inbound), the loopback (loopback)", () => {
    // xr routes p's LAN back over b (link 6), xi came in on link 3, xl has 198.18.99.1 on lo.
    expect(hops("p", "198.18.5.2")).toEqual([
      "198.18.1.2",
      "198.18.6.1",
      "198.18.3.2",
      "198.18.99.1",
      "198.18.5.2",
    ]);
  });

  it("IPv6: Linux answers from the incoming interface unless the route back names a src", () => {
    expect(hops("p", "2001:2:0:5::2")).toEqual([
      "2001:2:0:1::2",
      "2001:2:0:2::2", // xr, "route": still the incoming interface over IPv6
      "2001:2:0:3::2",
      "2001:2:0:99::1",
      "2001:2:0:5::2",
    ]);
  });

  it("a loopback router answers a prober on its own link from the loopback too (the connected route's src)", () => {
    expect(hops("t", "198.18.1.1")[0]).toBe("198.18.99.1");
    expect(hops("t", "2001:2:0:1::1")[0]).toBe("2001:2:0:99::1");
    const xl = plan.nodes.get("xl");
    expect(xl?.src).toEqual({ v4: "198.18.99.1", v6: "2001:2:0:99::1" });
    expect(xl?.routes.every((r) => r.src === (r.family === 4 ? "198.18.99.1" : "2001:2:0:99::1"))).toBe(true);
  });

  it("refuses a loopback router without a loopback address of each family it uses", () => {
    const t = conventionsTopology();
    t.nodes.xl = { router: true, answerFrom: "loopback", loopback: ["198.18.99.1/32"] };
    expect(() => planLab(t, "lgx")).toThrow(/no IPv6 loopback address/);
  });

  it("refuses egress loss towards a node that is not a neighbour, or outside 0-1", () => {
    const t = conventionsTopology();
    t.nodes.p = { egressLoss: { t: 0.5 } };
    expect(() => planLab(t, "lgx")).toThrow(/not its neighbour/);
    t.nodes.p = { egressLoss: { a: 1.5 } };
    expect(() => planLab(t, "lgx")).toThrow(/from 0 to 1/);
  });
});

describe("the reference lab's two-way block", () => {
  const lab = describeReferenceLab("lgtest", 0);
  const path = (from: string, to: string, family: 4 | 6 = 4) =>
    modelPath(lab.plan, from, lab.addr(to, family));

  it("ams -> nyc crosses eams, fwda, fwdb, enyc and nyc -> ams returns over enyc, reta, eams, in both families", () => {
    for (const family of [4, 6] as const) {
      expect(path("ams", "nyc", family)).toEqual(["ams", "eams", "fwda", "fwdb", "enyc", "nyc"]);
      expect(path("nyc", "ams", family)).toEqual(["nyc", "enyc", "reta", "eams", "ams"]);
    }
  });

  it("each router's answers go back the intended way: only enyc's and nyc's to ams cross reta -> eams", () => {
    expect(path("fwda", "ams")).toEqual(["fwda", "eams", "ams"]);
    expect(path("fwdb", "ams")).toEqual(["fwdb", "fwda", "eams", "ams"]);
    expect(path("enyc", "ams")).toEqual(["enyc", "reta", "eams", "ams"]);
    expect(path("reta", "nyc")).toEqual(["reta", "enyc", "nyc"]);
    expect(path("eams", "nyc")).toEqual(["eams", "fwda", "fwdb", "enyc", "nyc"]);
  });

  it("the agents in ams and nyc reach the host link and back without crossing a lossy stretch", () => {
    const lossy = [RETURN_LOSS, FORWARD_LOSS];
    const crosses = (p: string[]) => lossy.filter((l) => p.some((n, i) => n === l.from && p[i + 1] === l.to));
    for (const family of [4, 6] as const) {
      const host = family === 4 ? lab.hostAddress.v4 : (lab.hostAddress.v6 ?? "");
      expect(modelPath(lab.plan, "ams", host)).toEqual(["ams", "eams", "core1"]);
      expect(modelPath(lab.plan, "nyc", host)).toEqual(["nyc", "enyc", "core2", "core1"]);
      for (const node of ["ams", "nyc"]) {
        expect(crosses(modelPath(lab.plan, node, host))).toEqual([]);
        expect(crosses(path("core1", node, family))).toEqual([]);
      }
    }
  });

  it("the block adds no shortcut between the older nodes: fra <-> sin and the impairment paths keep their routers", () => {
    expect(lab.scenarios.asym.forwardRouters).toEqual(["efra", "core1", "core2", "esin"]);
    expect(lab.scenarios.asym.reverseRouters).toEqual(["esin", "core3", "efra"]);
    expect(lab.scenarios.clean.expectedNodes).toEqual(["efra", "core1", "core2", "tclean"]);
    expect(path("vm", "fra")).toEqual(["vm", "core2", "core1", "efra", "fra"]);
  });

  it("pair scenarios carry routers per side and the fault direction the directed losses imply", () => {
    const p = lab.pairs;
    expect(p.retloss).toMatchObject({
      a: "ams",
      b: "nyc",
      shared: ["eams", "enyc"],
      forwardOnly: ["fwda", "fwdb"],
      reverseOnly: ["reta"],
      faultDirection: "reverse",
      losses: [RETURN_LOSS],
    });
    expect(p.retloss.forward.expectedLoss).toEqual([0, 0, 0, 0.25, 0.25]);
    expect(p.retloss.forward.lossOnReplies).toEqual([RETURN_LOSS]);
    expect(p.retloss.reverse.expectedLoss).toEqual([0, 0, 0.25, 0.25]);
    expect(p.retloss.reverse.lossFromTtl).toBe(3);
    expect(p.fwdloss).toMatchObject({ a: "nyc", b: "ams", faultDirection: "forward" });
    expect(p.bothloss.faultDirection).toBe("both");
    expect(p.bothloss.forward.expectedLoss).toEqual([0, 0, 0, 0.4375, 0.4375]);
    expect(p.conventions).toMatchObject({ faultDirection: "none", losses: [], checks: ["routers"] });
    expect(p.conventions.answerFrom).toEqual({
      eams: "loopback",
      fwda: "inbound",
      fwdb: "route",
      enyc: "inbound",
      reta: "loopback",
    });
    expect(p.asym).toMatchObject({
      shared: ["efra", "esin"],
      forwardOnly: ["core1", "core2"],
      reverseOnly: ["core3"],
    });
    // IPv6 answers from the incoming interface: esin and efra show other addresses than over IPv4.
    expect(p.asym6.forward.expectedHops[3]).toBe("2001:2:0:4::2");
    expect(p.asym.forward.expectedHops[3]).toBe("198.18.5.1");
    expect(p.asym6.reverse.expectedHops[2]).toBe("2001:2:0:6::2");
  });

  it("maps lab addresses, loopbacks and the host link included, to their nodes", () => {
    const nodeOf = (a: string) => nodeOfAddress(lab.plan, a);
    expect(nodeOf("198.18.110.1")).toBe("eams");
    expect(nodeOf("2001:2:0:110::2")).toBe("reta");
    expect(nodeOf("2001:2:0:103:0:0:0:2")).toBe("enyc");
    expect(nodeOf("198.18.1.1")).toBe("fra");
    expect(nodeOf(lab.hostAddress.v4)).toBe("host");
    expect(nodeOf("198.18.200.1")).toBeUndefined();
    expect(nodeOf("not an address")).toBeUndefined();
  });
});

describe("lossRestoreInput", () => {
  it("drops a random share of what leaves towards the neighbour, from FORWARD and OUTPUT, sparing IPv6 neighbour discovery", () => {
    expect(lossRestoreInput(4, "lgx-eams", "eams", 0.25)).toBe(
      [
        "*filter",
        ":lg-loss-eams - [0:0]",
        "-A lg-loss-eams -o lgx-eams -m statistic --mode random --probability 0.25 -j DROP",
        "-I FORWARD 1 -j lg-loss-eams",
        "-I OUTPUT 1 -j lg-loss-eams",
        "COMMIT",
        "",
      ].join("\n"),
    );
    const v6 = lossRestoreInput(6, "lgx-eams", "eams", 0.25);
    expect(v6).toContain("-A lg-loss-eams -p ipv6-icmp --icmpv6-type neighbour-solicitation -j RETURN");
    expect(v6.indexOf("neighbour-advertisement")).toBeLessThan(v6.indexOf("-j DROP"));
  });
});

describe("the randloss single-trace scenario", () => {
  it("is the forward direction of the fwdloss pair (nyc -> ams over reta), losing from eams on", () => {
    const lab = describeReferenceLab("lgtest", 1);
    const s = lab.scenarios.randloss;
    const pair = lab.pairs.fwdloss;
    expect(s.from).toBe("nyc");
    expect(s.target).toBe(pair.forward.target);
    expect(s.expectedHops).toEqual(pair.forward.expectedHops);
    expect(s.lossFromTtl).toBe(pair.forward.lossFromTtl);
    expect(s.expectedNodes[(s.lossFromTtl as number) - 1]).toBe("eams");
  });
});
