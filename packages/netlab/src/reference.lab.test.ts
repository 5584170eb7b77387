import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkAsymmetry,
  checkBlackhole,
  checkEcmp,
  checkFilteredIcmp,
  checkForwardLoss,
  checkLatencyStep,
  checkLoop,
  checkLossRates,
  checkNoLoss,
  checkResponders,
  checkThrottle,
} from "./checks";
import { modelTrace } from "./pathmodel";
import { ownerOf } from "./plan";
import {
  describeReferenceLab,
  type PairName,
  type PairScenario,
  type ReferenceLab,
  startReferenceLab,
} from "./reference";
import { DEFAULT_LOSSES, FORWARD_LOSS } from "./reference-topology";
import { runMtr } from "./run-mtr";

const PAIRS = Object.keys(describeReferenceLab("lgtest").pairs) as PairName[];
/** Probes per direction for loss rates: enough that 25% loss and none are far apart (binomialRange). */
const LOSS_PROBES = 100;
/**
 * Probes per direction when reading a pair's responders: a hop that loses 44% of them (both
 * stretches lossy) still answers at least once except with probability 0.4375^20 < 1e-7.
 */
const RESPONDER_PROBES = 20;

// Builds the reference lab (packages/netlab/README.md) once and reads every scenario with the
// real mtr. mtr runs one after another: the throttle and loss counters must not be shared.
describe("the reference lab, read with the real mtr", { timeout: 60_000 }, () => {
  let lab: ReferenceLab;
  const nodeOf = (address: string) => ownerOf(lab.plan, address)?.name;

  beforeAll(async () => {
    lab = await startReferenceLab();
  }, 60_000);

  afterAll(async () => {
    await lab?.down();
  });

  it("the clean path: every hop answers as modelled and none loses a probe", async () => {
    const s = lab.scenarios.clean;
    expect(
      checkResponders(s.expectedHops, await runMtr(lab, s.from, { target: s.target, format: "report" })),
    ).toEqual([]);
    expect(checkNoLoss(await runMtr(lab, s.from, { target: s.target, format: "json" }))).toEqual([]);
  });

  it("clean6: the same path answers over IPv6", async () => {
    const s = lab.scenarios.clean6;
    expect(s.target).toContain(":");
    const report = await runMtr(lab, s.from, { target: s.target, family: 6, format: "report" });
    expect(checkResponders(s.expectedHops, report)).toEqual([]);
    expect(checkNoLoss(await runMtr(lab, s.from, { target: s.target, family: 6, format: "json" }))).toEqual(
      [],
    );
  });

  it("throttle: loss shows only at the throttling hop, not after it", async () => {
    const s = lab.scenarios.throttle;
    expect(
      checkResponders(s.expectedHops, await runMtr(lab, s.from, { target: s.target, format: "report" })),
    ).toEqual([]);
    const run = await runMtr(lab, s.from, { target: s.target, format: "json", count: 20 });
    expect(checkThrottle(s, run)).toEqual([]);
    expect(run.hops.find((h) => h.ttl === s.throttleTtl)?.lossPct).toBeGreaterThan(0);
  });

  it("loss: forwarding loss starts at the lossy router and persists to the destination", async () => {
    const s = lab.scenarios.loss;
    expect(
      checkResponders(s.expectedHops, await runMtr(lab, s.from, { target: s.target, format: "report" })),
    ).toEqual([]);
    const run = await runMtr(lab, s.from, { target: s.target, format: "json", count: 20 });
    expect(checkForwardLoss(s, run)).toEqual([]);
    expect(run.hops.at(-1)?.host).toBe(s.target);
  });

  it("filtered: the destination ignores ICMP echo but answers TCP SYNs on its port", async () => {
    const s = lab.scenarios.filtered;
    expect(checkFilteredIcmp(s, await runMtr(lab, s.from, { target: s.target, format: "report" }))).toEqual(
      [],
    );
    const tcp = await runMtr(lab, s.from, {
      target: s.target,
      format: "report",
      protocol: "tcp",
      port: s.tcpPort,
    });
    expect(checkResponders(s.expectedTcpHops ?? [], tcp)).toEqual([]);
    expect(tcp.hops.at(-1)?.host).toBe(s.target);
  });

  it("loop: two routers answer in turn up to the maximum TTL", async () => {
    const s = lab.scenarios.loop;
    const run = await runMtr(lab, s.from, { target: s.target, format: "report", maxTtl: s.maxTtl });
    expect(checkLoop(s, run)).toEqual([]);
    expect(checkResponders(s.expectedHops, run)).toEqual([]);
  });

  it("blackhole: nothing answers after the last router before the black-holed node", async () => {
    const s = lab.scenarios.blackhole;
    expect(checkBlackhole(s, await runMtr(lab, s.from, { target: s.target, format: "report" }))).toEqual([]);
  });

  it("delay: hops behind the wire are slower by the added round-trip delay", async () => {
    const s = lab.scenarios.delay;
    expect(
      checkResponders(s.expectedHops, await runMtr(lab, s.from, { target: s.target, format: "report" })),
    ).toEqual([]);
    expect(checkLatencyStep(s, await runMtr(lab, s.from, { target: s.target, format: "json" }))).toEqual([]);
  });

  it("ecmp: UDP probes with varying ports meet both routers of the pair at the ECMP hop", async () => {
    const s = lab.scenarios.ecmp;
    const run = await runMtr(lab, s.from, { target: s.target, format: "report", protocol: "udp", count: 20 });
    expect(checkEcmp(s, run)).toEqual([]);
    expect(run.hops.find((h) => h.ttl === s.ecmpTtl)?.responders).toHaveLength(2);
  });

  it("asym: the return path from sin to fra crosses other routers than the forward path", async () => {
    const s = lab.scenarios.asym;
    const forward = await runMtr(lab, s.from, { target: s.target, format: "report" });
    const reverse = await runMtr(lab, s.reverse?.from ?? "", {
      target: s.reverse?.target ?? "",
      format: "report",
    });
    expect(checkResponders(s.expectedHops, forward)).toEqual([]);
    expect(checkResponders(s.reverse?.expectedHops ?? [], reverse)).toEqual([]);
    expect(checkAsymmetry(s, forward, reverse, nodeOf)).toEqual([]);
  });

  it("a lab with a re-pointed return route fails the asymmetry check, and passes again once restored", async () => {
    const s = lab.scenarios.asym;
    // esin normally returns traffic for fra's LAN via core3; send it back the forward way.
    const fraLan = "198.18.1.0/24";
    const hostPart = (cidr?: string) => cidr?.split("/")[0] ?? "";
    const viaCore2 = hostPart(lab.plan.nodes.get("core2")?.interfaces.find((i) => i.peer === "esin")?.v4);
    const route = lab.plan.nodes.get("esin")?.routes.find((r) => r.to === fraLan);
    const original = typeof route?.via === "string" ? route.via : "";
    expect(viaCore2).toBe("198.18.4.1");
    expect(original).toBe("198.18.5.2");
    const trace = async () => [
      await runMtr(lab, s.from, { target: s.target, format: "report", count: 3 }),
      await runMtr(lab, "sin", { target: s.reverse?.target ?? "", format: "report", count: 3 }),
    ];
    expect((await lab.exec("esin", ["ip", "route", "replace", fraLan, "via", viaCore2])).code).toBe(0);
    try {
      const [forward, reverse] = await trace();
      const problems = checkAsymmetry(
        s,
        forward ?? { source: "", hops: [] },
        reverse ?? { source: "", hops: [] },
        nodeOf,
      );
      expect(problems).toContain("the paths are symmetric: both cross core1, core2, efra, esin");
    } finally {
      expect((await lab.exec("esin", ["ip", "route", "replace", fraLan, "via", original])).code).toBe(0);
    }
    const [forward, reverse] = await trace();
    expect(
      checkAsymmetry(s, forward ?? { source: "", hops: [] }, reverse ?? { source: "", hops: [] }, nodeOf),
    ).toEqual([]);
  });

  it("comes up with reta dropping 25% towards eams and no other directed loss", async () => {
    expect(lab.linkLosses()).toEqual(DEFAULT_LOSSES);
    expect((await lab.exec("reta", ["iptables", "-S"])).stdout).toContain("-j lg-loss-eams");
    expect((await lab.exec("reta", ["ip6tables", "-S"])).stdout).toContain("-j lg-loss-eams");
    expect((await lab.exec("fwdb", ["iptables", "-S"])).stdout).not.toContain("lg-loss");
  });

  for (const name of PAIRS) {
    it(`pair ${name}: both directions answer hop by hop as the path model says`, async () => {
      const s = lab.pairs[name];
      await lab.setLosses(s.losses);
      try {
        const [forward, reverse] = await Promise.all(
          [s.forward, s.reverse].map((d) =>
            runMtr(lab, d.from, {
              target: d.target,
              family: s.family,
              format: "report",
              count: RESPONDER_PROBES,
            }),
          ),
        );
        expect(checkResponders(s.forward.expectedHops, forward ?? { source: "", hops: [] })).toEqual([]);
        expect(checkResponders(s.reverse.expectedHops, reverse ?? { source: "", hops: [] })).toEqual([]);
        const nodes = (run: typeof forward) => run?.hops.map((h) => (h.host ? nodeOf(h.host) : null));
        expect(nodes(forward)).toEqual(s.forward.expectedNodes);
        expect(nodes(reverse)).toEqual(s.reverse.expectedNodes);
      } finally {
        await lab.setLosses(DEFAULT_LOSSES);
      }
    });
  }

  it("ams <-> nyc over IPv6: loopbacks, incoming interfaces and the Linux way, as modelled", async () => {
    for (const [from, to] of [
      ["ams", "nyc"],
      ["nyc", "ams"],
    ] as const) {
      const target = lab.addr(to, 6);
      const want = modelTrace(lab.plan, from, target).map((h) => h.responders.join("|"));
      expect(want[0]).toBe(from === "ams" ? "2001:2:0:110::1" : "2001:2:0:104::1");
      const run = await runMtr(lab, from, { target, family: 6, format: "report", count: 5 });
      expect(checkResponders(want, run)).toEqual([]);
    }
  });

  /** Both directions of a pair at once, LOSS_PROBES each, against the scenario's expected loss per hop. */
  async function lossRates(s: PairScenario): Promise<string[]> {
    const runs = await Promise.all(
      [s.forward, s.reverse].map((d) =>
        runMtr(lab, d.from, { target: d.target, family: s.family, format: "json", count: LOSS_PROBES }),
      ),
    );
    return [
      ...checkLossRates(s.forward.expectedLoss, runs[0]?.hops ?? []).map((p) => `${s.a} -> ${s.b} ${p}`),
      ...checkLossRates(s.reverse.expectedLoss, runs[1]?.hops ?? []).map((p) => `${s.b} -> ${s.a} ${p}`),
    ];
  }

  it("retloss: ams -> nyc loses only from the hop whose answers cross reta -> eams; nyc -> ams loses from eams on", async () => {
    const s = lab.pairs.retloss;
    expect(s.losses).toEqual(DEFAULT_LOSSES);
    await lab.setLosses(s.losses);
    expect(s.forward.lossFromTtl).toBe(4);
    expect(s.reverse.lossFromTtl).toBe(3);
    expect(await lossRates(s)).toEqual([]);
  }, 60_000);

  it("bothloss: with fwdb -> enyc switched on, each direction loses where its own probes and its answers cross", async () => {
    const s = lab.pairs.bothloss;
    expect(s.losses).toContainEqual(FORWARD_LOSS);
    await lab.setLosses(s.losses);
    try {
      expect(lab.linkLosses()).toHaveLength(2);
      expect(await lossRates(s)).toEqual([]);
    } finally {
      await lab.setLosses(DEFAULT_LOSSES);
    }
    expect(lab.linkLosses()).toEqual(DEFAULT_LOSSES);
  }, 60_000);

  it("nodeOf names the node behind any lab address, loopbacks included", () => {
    expect(lab.nodeOf("198.18.110.1")).toBe("eams");
    expect(lab.nodeOf("2001:2:0:110::2")).toBe("reta");
    expect(lab.nodeOf(lab.addr("nyc"))).toBe("nyc");
    expect(lab.nodeOf(lab.hostAddress.v4)).toBe("host");
    expect(lab.nodeOf("198.18.250.1")).toBeUndefined();
  });

  it("the customer behind nat reaches the vm with the NAT's outside address as its source", async () => {
    const port = "7000";
    const server = lab.spawn("vm", [
      "python3",
      "-c",
      `import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("0.0.0.0",${port}))\ns.listen(1)\nprint("ready",flush=True)\nc,a=s.accept()\nprint(a[0],flush=True)`,
    ]);
    let out = "";
    server.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await expect.poll(() => out, { timeout: 5000 }).toContain("ready");
    const client = await lab.exec("cust", [
      "python3",
      "-c",
      `import socket\nsocket.create_connection(("${lab.addr("vm")}",${port}),timeout=3).close()`,
    ]);
    expect(client.code).toBe(0);
    expect(await server.exited).toBe(0);
    const outside = lab.plan.nodes
      .get("nat")
      ?.interfaces.find((i) => i.peer === "core3")
      ?.v4?.split("/")[0];
    expect(outside).toBe("198.18.10.2");
    expect(out.split("\n")[1]).toBe(outside);
    expect(out).not.toContain("198.19.11.2");
  });

  it("every lab node reaches the host address, and the root namespace reaches the lab from it", async () => {
    for (const node of ["fra", "sin", "vm", "cust", "tclean", "ams", "nyc"])
      await lab.waitFor(node, lab.hostAddress.v4, { timeoutMs: 3000 });
    if (lab.hostAddress.v6) {
      for (const node of ["fra", "ams", "nyc"])
        await lab.waitFor(node, lab.hostAddress.v6, { timeoutMs: 3000 });
    }
    // From the root namespace, bound to the host address: its rule picks this lab's routing
    // table even when another lab holds the main table's routes to the lab ranges.
    const server = lab.spawn("fra", [
      "python3",
      "-c",
      'import socket\ns=socket.socket()\ns.bind(("0.0.0.0",7001))\ns.listen(1)\nprint("ready",flush=True)\nc,a=s.accept()\nprint(a[0],flush=True)',
    ]);
    let out = "";
    server.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await expect.poll(() => out, { timeout: 5000 }).toContain("ready");
    const { connect } = await import("node:net");
    await new Promise<void>((resolve, reject) => {
      const sock = connect({ host: lab.addr("fra"), port: 7001, localAddress: lab.hostAddress.v4 }, () => {
        sock.end();
        resolve();
      });
      sock.on("error", reject);
    });
    expect(await server.exited).toBe(0);
    expect(out.split("\n")[1]).toBe(lab.hostAddress.v4);
  });
});
