import { compare, routerIdsByTtl } from "@lg/analysis";
import { routeBackLab as lab, path } from "@lg/analysis/testing";
import type { Hop, MonitorRules } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { evaluateRun, type Observation, type RulesState } from "./rules";

function hop(ttl: number, host: string | null, lossPct = 0, avg = 10, asn?: number): Hop {
  return {
    ttl,
    host,
    lossPct,
    sent: 10,
    recv: host ? Math.round(10 * (1 - lossPct / 100)) : 0,
    drop: 0,
    last: avg,
    avg,
    best: avg,
    worst: avg,
    stdev: 0,
    jitter: 0,
    jitterAvg: 0,
    jitterMax: 0,
    responders: host ? [{ address: host, count: 10 }] : [],
    ...(asn !== undefined ? { asn } : {}),
  } as Hop;
}

const obs = (hops: Hop[], extra: Partial<Observation> = {}): Observation => ({
  subject: "fra",
  traceId: "t",
  status: "done",
  hops,
  diagnosis: null,
  address: "198.18.0.9",
  ...extra,
});

function runAll(rules: MonitorRules, runs: Observation[][], pops: { id: string; online: boolean }[][] = []) {
  const state: RulesState = {};
  return runs.map((o, i) => evaluateRun(rules, state, o, pops[i] ?? []).map((t) => `${t.rule}:${t.event}`));
}

describe("monitor alert rules", () => {
  const clean = [hop(1, "198.18.0.1"), hop(2, "198.18.0.9")];
  const lossy = [hop(1, "198.18.0.1"), hop(2, "198.18.0.9", 30)];

  it("destination loss above the threshold fires only after N consecutive runs and resolves after N clean runs", () => {
    const rules: MonitorRules = { loss: { pct: 10, runs: 2 } };
    const seq = [clean, lossy, clean, lossy, lossy, lossy, clean, clean].map((h) => [obs(h)]);
    expect(runAll(rules, seq)).toEqual([[], [], [], [], ["loss:fire"], [], [], ["loss:resolve"]]);
  });

  it("a real-loss finding at an inner hop above the threshold counts as loss even when the destination is below it", () => {
    const hops = [hop(1, "198.18.0.1"), hop(2, "198.18.0.2", 40), hop(3, "198.18.0.9", 5)];
    const diagnosis = {
      verdict: "problem" as const,
      findings: [
        {
          code: "real-loss" as const,
          severity: "problem" as const,
          hops: [2, 3],
          region: "B" as const,
          evidence: "40 %",
          advice: "",
        },
      ],
    };
    const state: RulesState = {};
    const [t] = evaluateRun({ loss: { pct: 20, runs: 1 } }, state, [obs(hops, { diagnosis })], []);
    expect(t).toMatchObject({
      rule: "loss",
      event: "fire",
      evidence: { lossPct: 40, where: "hop 2 (real loss)" },
    });
  });

  it("a failed trace neither fires nor resolves, and does not break a streak", () => {
    const failed = obs([], { status: "failed" });
    const seq = [[obs(lossy)], [failed], [obs(lossy)]];
    expect(runAll({ loss: { pct: 10, runs: 2 } }, seq)).toEqual([[], [], ["loss:fire"]]);
  });

  it("a latency step over the baseline fires after N runs, and the baseline does not follow the step", () => {
    const at = (ms: number) => [obs([hop(1, "198.18.0.1"), hop(2, "198.18.0.9", 0, ms)])];
    const seq = [at(10), at(11), at(60), at(61), at(62), at(10), at(11)];
    expect(runAll({ latency: { ms: 30, runs: 2 } }, seq)).toEqual([
      [],
      [],
      [],
      ["latency:fire"],
      [],
      [],
      ["latency:resolve"],
    ]);
  });

  it("a new path fires at once; it resolves when the old path returns, or when the new one held for N runs", () => {
    const a = [obs([hop(1, "198.18.0.1", 0, 1, 64500), hop(2, "198.18.0.9", 0, 1, 64501)])];
    const b = [obs([hop(1, "198.18.0.5", 0, 1, 64502), hop(2, "198.18.0.9", 0, 1, 64501)])];
    expect(runAll({ pathChange: { runs: 3 } }, [a, b, a])).toEqual([
      [],
      ["pathChange:fire"],
      ["pathChange:resolve"],
    ]);
    expect(runAll({ pathChange: { runs: 3 } }, [a, b, b, b, b, a])).toEqual([
      [],
      ["pathChange:fire"],
      [],
      ["pathChange:resolve"],
      [],
      ["pathChange:fire"],
    ]);
  });

  it("an ECMP hop answering from another of its known responders is no change; a responder never seen is", () => {
    const ecmp = (...responders: string[]) => ({
      ...hop(2, responders[0] as string),
      responders: responders.map((address) => ({ address, count: 5 })),
    });
    const run = (middle: Hop) => [
      obs([hop(1, "198.18.0.1"), middle, hop(3, "198.18.0.7"), hop(4, "198.18.0.9")]),
    ];
    const seq = [
      run(ecmp("198.18.70.2", "198.18.71.2")),
      run(ecmp("198.18.71.2")),
      run(ecmp("198.18.70.2")),
      run(ecmp("198.18.71.2", "198.18.70.2")),
      run(ecmp("198.18.99.2")),
    ];
    expect(runAll({ pathChange: { runs: 3 } }, seq)).toEqual([[], [], [], [], ["pathChange:fire"]]);
  });

  it("a branch first seen alone is learnt once a run shows it beside the known one", () => {
    const ecmp = (...responders: string[]) => ({
      ...hop(2, responders[0] as string),
      responders: responders.map((address) => ({ address, count: 5 })),
    });
    const run = (middle: Hop) => [obs([hop(1, "198.18.0.1"), middle, hop(3, "198.18.0.9")])];
    const seq = [run(ecmp("198.18.70.2")), run(ecmp("198.18.70.2", "198.18.71.2")), run(ecmp("198.18.71.2"))];
    expect(runAll({ pathChange: { runs: 3 } }, seq)).toEqual([[], [], []]);
  });

  it("a silent hop is no change, and without any answering router the AS path decides", () => {
    const a = [obs([hop(1, "198.18.0.1"), hop(2, "198.18.0.2"), hop(3, "198.18.0.9")])];
    const silent = [obs([hop(1, "198.18.0.1"), hop(2, null), hop(3, "198.18.0.9")])];
    expect(runAll({ pathChange: { runs: 2 } }, [a, silent, a])).toEqual([[], [], []]);
    const onlyEnd = (asn: number) => [obs([hop(1, null), hop(2, "198.18.0.9", 0, 1, asn)])];
    expect(runAll({ pathChange: { runs: 3 } }, [onlyEnd(64500), onlyEnd(64500), onlyEnd(64501)])).toEqual([
      [],
      [],
      ["pathChange:fire"],
    ]);
  });
  it("a PoP going offline fires at once and resolves when it is back", () => {
    const pops = [
      [{ id: "fra", online: true }],
      [{ id: "fra", online: false }],
      [{ id: "fra", online: false }],
      [{ id: "fra", online: true }],
    ];
    expect(runAll({ popOffline: {} }, [[], [], [], []], pops)).toEqual([
      [],
      ["popOffline:fire"],
      [],
      ["popOffline:resolve"],
    ]);
  });
});

/**
 * A path-test monitor on the reference pair fra <-> sin (`@lg/analysis/testing`): fra -> sin crosses
 * efra core1 core2 esin, sin -> fra esin core3 efra, routers answering from the interface of their
 * route back (Linux). Each run's observations are the two traces with the router ids and the router
 * identity of their real comparison, as the runner gives them.
 */
function pathTestRun(forward: string[], reverse: string[]): Observation[] {
  const f = path(forward);
  const r = path(reverse);
  const comparison = compare(f, r, { forward: { destination: lab.b }, reverse: { destination: lab.a } });
  const ids = routerIdsByTtl(comparison);
  const identity = new Map(comparison.routers.map((x) => [x.id, x.addresses]));
  const withIds = (hops: Hop[], byTtl: Map<number, string>) =>
    hops.map((h) => (byTtl.has(h.ttl) ? { ...h, routerId: byTtl.get(h.ttl) as string } : h));
  return [
    obs(withIds(f, ids.forward), { subject: "forward", direction: "forward", identity, address: lab.b }),
    obs(withIds(r, ids.reverse), { subject: "reverse", direction: "reverse", identity, address: lab.a }),
  ];
}

/** efra sends sin's traffic over core3 instead of core1: fra -> sin changes, sin -> fra keeps its routers. */
const forwardOverCore3 = {
  // core3 answers fra from its end of link 6 (198.18.6.1; efra holds 198.18.6.2).
  forward: ["198.18.1.2", "198.18.6.1", "198.18.5.1", lab.b],
  // efra's route back to sin now leaves over link 6: it answers sin from 198.18.6.2, not 198.18.2.1.
  reverse: ["198.18.7.1", "198.18.5.2", "198.18.6.2", lab.a],
};

describe("pathChange of a path-test monitor, per direction", () => {
  it("a forward-only route change fires for forward only, with the segment that changed, and resolves when the route is back", () => {
    const state: RulesState = {};
    const rules: MonitorRules = { pathChange: { runs: 10 } };
    const normal = () => pathTestRun(lab.forward, lab.reverse);
    const changed = () => pathTestRun(forwardOverCore3.forward, forwardOverCore3.reverse);
    expect(evaluateRun(rules, state, normal(), [])).toEqual([]);
    expect(evaluateRun(rules, state, normal(), [])).toEqual([]);
    const fired = evaluateRun(rules, state, changed(), []);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({
      rule: "pathChange",
      subject: "forward",
      event: "fire",
      evidence: {
        direction: "forward",
        segment: {
          after: { ttl: 1, addresses: expect.arrayContaining(["198.18.1.2"]) },
          before: [
            { ttl: 2, addresses: ["198.18.2.2"] },
            { ttl: 3, addresses: ["198.18.3.2"] },
          ],
          now: [{ ttl: 2, addresses: expect.arrayContaining(["198.18.6.1"]) }],
          until: { ttl: 3, addresses: expect.arrayContaining(["198.18.5.1"]) },
        },
      },
    });
    expect((fired[0]?.evidence.segment as { words?: string } | undefined)?.words).toMatch(
      /^after 1:198\.18\.1\.2.*, hops 2-3 2:198\.18\.2\.2, 3:198\.18\.3\.2 became hop 2 2:198\.18\.6\.1/,
    );
    expect(evaluateRun(rules, state, changed(), [])).toEqual([]);
    const back = evaluateRun(rules, state, normal(), []);
    expect(back).toEqual([
      expect.objectContaining({
        rule: "pathChange",
        subject: "forward",
        event: "resolve",
        evidence: expect.objectContaining({ direction: "forward", back: true }),
      }),
    ]);
  });

  it("without the router identity, efra's new address on the way back would read as a reverse change", () => {
    const state: RulesState = {};
    const rules: MonitorRules = { pathChange: { runs: 10 } };
    const noIdentity = (run: Observation[]) => run.map(({ identity: _i, ...o }) => o);
    evaluateRun(rules, state, noIdentity(pathTestRun(lab.forward, lab.reverse)), []);
    const fired = evaluateRun(
      rules,
      state,
      noIdentity(pathTestRun(forwardOverCore3.forward, forwardOverCore3.reverse)),
      [],
    );
    expect(fired.map((t) => t.subject).sort()).toEqual(["forward", "reverse"]);
  });
});
