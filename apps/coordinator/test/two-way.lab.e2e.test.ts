import { checkLossRates, type PairScenario } from "@lg/netlab";
import { type PathTestView, PathTestView as PathTestViewSchema } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { gradePathTest } from "../bench/score/grade";
import { waitFor } from "./harness";
import { labStackForSuite } from "./lab-suite";

/**
 * Probes per direction: enough that a hop losing 25% and a clean one are far apart in the exact
 * binomial range checkLossRates allows (100 probes at 25%: 6-48 lost; clean: none).
 */
const PROBES = 100;
/**
 * Probes a clean hop may lose: the agents' last probes can outlast their wait for answers on two
 * cores shared with other suites. The lab itself loses nothing there (netlab's self-test allows 0).
 */
const CLEAN_HOP_NOISE = 1;

/**
 * The reference lab's two-way block (packages/netlab README, "Pairs") with real agents in ams and
 * nyc: a path test ams <-> nyc through routers that answer from loopbacks and incoming interfaces,
 * with reta dropping 25% of what it sends towards eams (on from the start) and fwdb dropping 25%
 * towards enyc switched on for "both directions lose". Each test checks the lab side (each
 * direction's hops and loss per hop are what netlab's model says) and the reading: the routers each
 * direction crosses alone and together, and the direction (and stretch) that really loses.
 */
describe("lab end-to-end: a path test between the two-way block's PoPs", () => {
  const env = labStackForSuite({ twoWay: true });

  async function pathTest(s: PairScenario): Promise<PathTestView> {
    await env.lab.setLosses(s.losses);
    const res = await fetch(`${env.url}/api/v1/path-tests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: s.a, b: s.b, count: PROBES, interval: 0.1 }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const v = await waitFor(
      `path test ${id}`,
      async () => {
        const view = PathTestViewSchema.parse(
          await (await fetch(`${env.url}/api/v1/path-tests/${id}`)).json(),
        );
        return view.status === "done" ? view : undefined;
      },
      120_000,
    );
    expect(v.forward.status).toBe("done");
    expect(v.reverse?.status).toBe("done");
    return v;
  }

  /** The comparison names the lab's routers on each side and the lab's fault direction and stretch. */
  function expectReading(v: PathTestView, s: PairScenario) {
    const grade = gradePathTest(v, s);
    console.log(s.name, JSON.stringify(grade.read));
    expect(grade.read.shared.sort()).toEqual([...s.shared].sort());
    expect(grade.read.forwardOwn.sort()).toEqual([...s.forwardOnly].sort());
    expect(grade.read.reverseOwn.sort()).toEqual([...s.reverseOnly].sort());
    expect(grade.read.unknown).toEqual([]);
    expect(grade.read.mispaired).toEqual([]);
    expect(grade.routersRight).toBe(true);
    if (s.checks.includes("faultDirection")) {
      expect(v.comparison?.faultDirection).toBe(s.faultDirection);
      expect(grade.faultRight).toBe(true);
    }
  }

  /** A direction's hops as checkLossRates reads them (the agents count sent and received probes). */
  const samples = (hops: PathTestView["forward"]["hops"]) =>
    hops.map((h) => ({
      ttl: h.ttl,
      sent: h.sent,
      lossPct: h.sent > 0 ? ((h.sent - h.recv) * 100) / h.sent : 0,
    }));

  /** Each direction's loss per hop lies in the exact binomial range of the model's expected loss. */
  function expectModelledLoss(v: PathTestView, s: PairScenario) {
    expect(
      checkLossRates(s.forward.expectedLoss, samples(v.forward.hops), { noise: CLEAN_HOP_NOISE }),
    ).toEqual([]);
    expect(
      checkLossRates(s.reverse.expectedLoss, samples(v.reverse?.hops ?? []), { noise: CLEAN_HOP_NOISE }),
    ).toEqual([]);
  }

  it("ams -> nyc: each direction crosses the modelled routers; ams's loss from enyc on is its answers' way back, nyc's from eams on its own", async () => {
    const s = env.lab.pairs.retloss;
    const v = await pathTest(s);
    expect(v.aAddress).toBe(env.lab.addr("ams"));
    expect(v.bAddress).toBe(env.lab.addr("nyc"));
    // Responders per TTL: eams's loopback, fwda's incoming interface, fwdb the Linux way, enyc's
    // incoming interface; back: enyc's incoming interface, reta's and eams's loopbacks.
    expect(v.forward.hops.map((h) => h.host)).toEqual(s.forward.expectedHops);
    expect(v.reverse?.hops.map((h) => h.host)).toEqual(s.reverse.expectedHops);
    expect(v.forward.hops.map((h) => (h.host ? env.lab.nodeOf(h.host) : null))).toEqual(
      s.forward.expectedNodes,
    );
    // The forward trace is clean up to fwdb and loses ~25% from enyc on, where the answers start
    // coming back over reta -> eams; the reverse loses ~25% from eams on, its own probes' loss.
    expect(s.forward.expectedLoss).toEqual([0, 0, 0, 0.25, 0.25]);
    expect(s.reverse.expectedLoss).toEqual([0, 0, 0.25, 0.25]);
    expectModelledLoss(v, s);
    // The reading: a -> b is clean; b -> a loses where it leaves reta.
    expectReading(v, s);
    expect(v.comparison?.summary).toContain("its replies' way back");
  }, 180_000);

  it("nyc -> ams: the same loss is a forward-path-only fault, between reta and eams", async () => {
    const s = env.lab.pairs.fwdloss;
    const v = await pathTest(s);
    expect(v.forward.hops.map((h) => h.host)).toEqual(s.forward.expectedHops);
    expectReading(v, s);
  }, 180_000);

  it("without loss, the routers answering from loopbacks and incoming interfaces are named on their side", async () => {
    const s = env.lab.pairs.conventions;
    const v = await pathTest(s);
    expectReading(v, s);
    expect(v.comparison?.faultDirection).toBe("none");
  }, 180_000);

  it("with fwdb -> enyc switched on, both directions lose where their own probes and their answers cross", async () => {
    const s = env.lab.pairs.bothloss;
    try {
      const v = await pathTest(s);
      expect(v.forward.hops.map((h) => h.host)).toEqual(s.forward.expectedHops);
      expect(v.reverse?.hops.map((h) => h.host)).toEqual(s.reverse.expectedHops);
      expectModelledLoss(v, s);
      expectReading(v, s);
    } finally {
      await env.lab.setLosses(env.lab.pairs.retloss.losses);
    }
  }, 180_000);
});
