import { describe, expect, it } from "vitest";
import { modelTrace } from "./pathmodel";
import { planLab } from "./plan";
import { referenceTopology } from "./reference-topology";
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
