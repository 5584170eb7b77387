import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkResponders } from "./checks";
import { buildLab, type LabHandle } from "./lab";
import { modelTrace } from "./pathmodel";
import type { ExpectedHop } from "./reference";
import { existingNamespaces } from "./registry";
import { runMtr } from "./run-mtr";
import { conventionsTopology } from "./test-topologies";
import { TopologyError } from "./topology";

// Routers answering ICMP errors their three ways (route, inbound, loopback), read with the real mtr
// against the path model; and directed loss switched on and off on the running lab.
describe("answering conventions and directed loss, on the real kernel", { timeout: 60_000 }, () => {
  let lab: LabHandle;

  beforeAll(async () => {
    lab = await buildLab(conventionsTopology());
  }, 60_000);

  afterAll(async () => {
    await lab?.down();
  });

  const expected = (from: string, target: string): ExpectedHop[] =>
    modelTrace(lab.plan, from, target).map((h) =>
      h.responders.length === 1 ? (h.responders[0] as string) : h.responders,
    );

  const read = (from: string, target: string, count = 3) =>
    runMtr(lab, from, { target, family: target.includes(":") ? 6 : 4, format: "report", count });

  it("IPv4: the model's answering addresses are the real ones (route back, incoming interface, loopback)", async () => {
    const want = expected("p", "198.18.5.2");
    // The three conventions give three different kinds of address on this path.
    expect(want).toEqual(["198.18.1.2", "198.18.6.1", "198.18.3.2", "198.18.99.1", "198.18.5.2"]);
    expect(checkResponders(want, await read("p", "198.18.5.2"))).toEqual([]);
  });

  it("IPv6: the incoming interface unless the route back names a src, as the model says", async () => {
    const want = expected("p", "2001:2:0:5::2");
    expect(want).toEqual([
      "2001:2:0:1::2",
      "2001:2:0:2::2",
      "2001:2:0:3::2",
      "2001:2:0:99::1",
      "2001:2:0:5::2",
    ]);
    expect(checkResponders(want, await read("p", "2001:2:0:5::2"))).toEqual([]);
  });

  it("a loopback router answers a prober on its own link from the loopback, in both families", async () => {
    for (const target of ["198.18.1.1", "2001:2:0:1::1"]) {
      const want = expected("t", target);
      expect(want[0]).toBe(target.includes(":") ? "2001:2:0:99::1" : "198.18.99.1");
      expect(checkResponders(want, await read("t", target))).toEqual([]);
    }
    // The kernel's connected route was replaced, not doubled.
    const routes = await lab.exec("xl", ["ip", "route", "show", "198.18.5.0/24"]);
    expect(routes.stdout.trim().split("\n")).toEqual([expect.stringContaining("src 198.18.99.1")]);
  });

  it("setLinkLoss drops only what the node sends towards that neighbour, both families, until cleared", async () => {
    await lab.setLinkLoss("xl", "t", 1);
    expect(lab.linkLosses()).toEqual([{ from: "xl", to: "t", probability: 1 }]);
    for (const [towardsT, back] of [
      ["198.18.5.2", "198.18.1.1"],
      ["2001:2:0:5::2", "2001:2:0:1::1"],
    ] as const) {
      // p -> t: xl still answers p (its answers go to b), but forwards nothing to t.
      const out = await read("p", towardsT, 2);
      expect(out.hops.find((h) => h.ttl === 4)?.lossPct).toBe(0);
      expect(out.hops.some((h) => h.responders.includes(towardsT))).toBe(false);
      // t -> p: t's probes reach xl and beyond, but every answer comes back through xl -> t, so
      // nothing answers (mtr then lists no hop at all).
      const rev = await read("t", back, 2);
      expect(rev.hops.flatMap((h) => h.responders)).toEqual([]);
    }
    await lab.clearLinkLoss("xl", "t");
    expect(lab.linkLosses()).toEqual([]);
    expect(checkResponders(expected("t", "198.18.1.1"), await read("t", "198.18.1.1"))).toEqual([]);
    expect(checkResponders(expected("p", "2001:2:0:5::2"), await read("p", "2001:2:0:5::2"))).toEqual([]);
    const rules = await lab.exec("xl", ["iptables", "-S"]);
    expect(rules.stdout).not.toContain("lg-loss");
  });

  it("setLosses puts exactly the given stretches in force", async () => {
    await lab.setLosses([{ from: "b", to: "a", probability: 0.5 }]);
    await lab.setLosses([{ from: "xl", to: "t", probability: 0.3 }]);
    expect(lab.linkLosses()).toEqual([{ from: "xl", to: "t", probability: 0.3 }]);
    expect((await lab.exec("b", ["iptables", "-S"])).stdout).not.toContain("lg-loss");
    const rule = /-o \S+ -m statistic --mode random --probability ([\d.]+) -j DROP/.exec(
      (await lab.exec("xl", ["ip6tables", "-S"])).stdout,
    );
    expect(Number(rule?.[1])).toBeCloseTo(0.3, 6); // stored as a 32-bit fraction: 0.29999999981
    await lab.setLosses([]);
    expect(lab.linkLosses()).toEqual([]);
  });

  it("refuses a stretch that is not a link, or a probability outside 0-1", async () => {
    await expect(lab.setLinkLoss("p", "t", 0.5)).rejects.toThrow(TopologyError);
    await expect(lab.setLinkLoss("xl", "t", 2)).rejects.toThrow(/from 0 to 1/);
    await expect(lab.setLinkLoss("nobody", "t", 0.5)).rejects.toThrow(/no node "nobody"/);
  });

  it("down removes the lab's namespaces, loss rules with them", async () => {
    const namespaces = [...lab.plan.nodes.values()].map((n) => n.ns);
    await lab.setLinkLoss("b", "a", 0.5);
    await lab.down();
    const left = new Set(existingNamespaces());
    expect(namespaces.filter((ns) => left.has(ns))).toEqual([]);
    await expect(lab.setLinkLoss("b", "a", 0.5)).rejects.toThrow(/is down/);
  });
});
