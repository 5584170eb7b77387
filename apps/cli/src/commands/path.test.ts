import { aliasFollowUp, aliasTargets, compare, diagnose } from "@lg/analysis";
import { routeBackLab as lab, path, routeBackAliases } from "@lg/analysis/testing";
import type { Hop, TraceView } from "@lg/protocol";
import { type PathTestView, TraceOptions } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { formatPathTest, sideBySide } from "./path";

const hop = (ttl: number, host: string, avg: number): Hop => ({
  ttl,
  host,
  lossPct: 0,
  sent: 10,
  recv: 10,
  drop: 0,
  last: avg,
  avg,
  best: avg,
  worst: avg,
  stdev: 0,
  jitter: 0,
  jitterAvg: 0,
  jitterMax: 0,
  responders: [{ address: host, count: 10 }],
});

const trace = (id: string, agentId: string, target: string, hops: Hop[]): TraceView => ({
  id,
  measurementId: `m-${id}`,
  agentId,
  target,
  address: target,
  status: "done",
  failure: null,
  hops,
  diagnosis: diagnose(hops, { destination: target }),
  stoppedBy: "destination",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:00:05.000Z",
  followUps: [],
});

const forward = trace("f", "fra", "198.18.7.2", [
  hop(1, "198.18.1.2", 1),
  hop(2, "198.18.3.2", 2),
  hop(3, "198.18.7.2", 3),
]);
const reverse = trace("r", "sin", "198.18.1.1", [
  hop(1, "198.18.7.1", 1),
  hop(2, "198.18.5.2", 2),
  hop(3, "198.18.1.1", 3),
]);

const view: PathTestView = {
  id: "pt1",
  status: "done",
  a: "fra",
  b: "sin",
  aAddress: "198.18.1.1",
  bAddress: "198.18.7.2",
  options: TraceOptions.parse({}),
  created: "2026-01-01T00:00:00.000Z",
  forward,
  reverse,
  comparison: compare(forward.hops, reverse.hops, {
    forward: { destination: "198.18.7.2" },
    reverse: { destination: "198.18.1.1" },
    labels: { a: "fra", b: "sin" },
  }),
  note: null,
};

/**
 * The reference lab's asymmetric pair (`@lg/analysis/testing`): fra -> sin crosses efra core1 core2
 * esin, sin -> fra crosses esin core3 efra; core3 drops 25% towards efra (a return-path fault).
 * With the alias traces each end ran, or without them.
 */
function labView(withAliases: boolean): PathTestView {
  const labels = { a: "fra", b: "sin" };
  const f = path(lab.forward, { lost: { 4: 5, 5: 5 } });
  const r = path(lab.reverse, { lost: { 3: 5, 4: 5 } });
  const aliases = withAliases
    ? routeBackAliases({ fromA: { "198.18.7.1": 10, "198.18.5.2": 10 }, fromB: { "198.18.1.2": 10 } })
    : [];
  const targets = withAliases ? aliasTargets(f, r, { aAddress: lab.a, bAddress: lab.b, labels }) : [];
  const followUps = (from: "a" | "b") =>
    targets
      .filter((t) => t.from === from)
      .map((t) => aliasFollowUp(t, aliases.find((o) => o.from === from && o.target === t.target) ?? null));
  return {
    ...view,
    aAddress: lab.a,
    bAddress: lab.b,
    forward: { ...trace("f", "fra", lab.b, f), followUps: followUps("a") },
    reverse: { ...trace("r", "sin", lab.a, r), followUps: followUps("b") },
    comparison: compare(f, r, {
      forward: { destination: lab.b },
      reverse: { destination: lab.a },
      labels,
      ...(withAliases ? { aliases } : {}),
    }),
  };
}

/** The router table's lines, cells split on runs of two or more spaces. */
function routerLines(text: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("routers per segment"));
  const out: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("  ")) break;
    out.push(line.trim().split(/ {2,}/));
  }
  return out;
}

describe("lg path output", () => {
  it("puts two blocks side by side, padding the left one to its widest line", () => {
    expect(sideBySide("ab\nabcd", "x\ny\nz")).toBe("ab   │ x\nabcd │ y\n     │ z\n");
  });

  it("shows both directions beside each other, each as an mtr report, then the comparison and verdict", () => {
    const text = formatPathTest(view);
    const lines = text.split("\n");
    expect(lines[0]).toBe("path test pt1: fra (198.18.1.1) ⇄ sin (198.18.7.2) · icmp, 10 probes per hop");
    const header = lines.find((l) => l.startsWith("forward fra → 198.18.7.2"));
    expect(header).toMatch(/│ reverse sin → 198\.18\.1\.1 · done$/);
    // Each hop of each direction appears on the same line as its counterpart.
    const row2 = lines.find((l) => l.includes("198.18.3.2") && l.includes("198.18.5.2"));
    expect(row2).toMatch(/^\s+2\.\|-- 198\.18\.3\.2 .*│\s+2\.\|-- 198\.18\.5\.2/);
    expect(text).toContain("diagnosis: clean");
    expect(text).toContain("comparison: asymmetric · problem in: neither direction");
    expect(text).toContain("loss: neither trace shows real loss");
    expect(text).toContain("follow-ups: none");
    expect(text).toContain(`summary: ${view.comparison?.summary}`);
    expect(lines.at(-2)).toBe("verdict: asymmetric, both directions clean");
  });

  it("prints each segment's routers: a router both directions cross on one line, each direction's own on lines of their own, with the evidence", () => {
    const v = labView(true);
    const c = v.comparison;
    const text = formatPathTest(v);
    const sure = (address: string) =>
      `${Math.round((c?.routers.find((r) => r.addresses.includes(address))?.confidence ?? -1) * 100)}%`;
    expect(routerLines(text)).toEqual([
      ["shared", "—", "4:198.18.1.1", "fra itself"],
      [
        "shared",
        "1:198.18.1.2",
        "3:198.18.2.1",
        "shared",
        "route-back",
        `link-mate ×2, alias-trace ×2 · ${sure("198.18.1.2")}`,
      ],
      ["diverged", "2:198.18.2.2", "—", "only fra → sin", `alias-trace (2 against) · ${sure("198.18.2.2")}`],
      ["diverged", "3:198.18.3.2", "—", "only fra → sin", `alias-trace (1 against) · ${sure("198.18.3.2")}`],
      [
        "diverged",
        "—",
        "2:198.18.5.2",
        "only sin → fra",
        `alias-trace ×2 (2 against) · ${sure("198.18.5.2")}`,
      ],
      [
        "shared",
        "4:198.18.5.1",
        "1:198.18.7.1",
        "shared",
        "route-back",
        `link-mate ×2, alias-trace ×2 · ${sure("198.18.5.1")}`,
      ],
      ["shared", "5:198.18.7.2", "—", "sin itself"],
    ]);
    expect(text).toContain("routers per segment (TTL:address in each direction's own numbering):");
    expect(text).toMatch(/^ {2}segment +fra → sin +sin → fra +router +answers +evidence$/m);
  });

  it("puts a return-path fault on the way back, with the one-way loss, the evidence and the follow-ups that decided it", () => {
    const v = labView(true);
    const text = formatPathTest(v);
    expect(text).toContain("comparison: asymmetric · problem in: the reverse direction");
    expect(text).toContain(
      "loss: sin → fra loses 25.0% one way between hop 2 (198.18.5.2) and hop 3 (198.18.2.1)",
    );
    expect(text).toContain(
      "loss: fra → sin loses nothing of its own; the loss its trace shows is its replies' way back",
    );
    expect(text).toContain(
      `  evidence (log-likelihood ratio ${v.comparison?.loss?.support.toFixed(1)}): ${v.comparison?.loss?.evidence}`,
    );
    expect(text).not.toContain("sin → fra loses nothing of its own");
    expect(text).toContain("follow-ups: 7 (fra 3, sin 4; alias-trace ×7)");
    expect(text.trimEnd().split("\n").at(-1)).toBe("verdict: asymmetric, fault: reverse");
  });

  it("says plainly when the evidence cannot tell which direction loses, and keeps unplaced routers unknown", () => {
    const v = labView(false);
    const text = formatPathTest(v);
    expect(text).toContain(
      "comparison: asymmetric · problem in: undetermined (a direction loses packets; the evidence cannot tell which)",
    );
    expect(text).toContain(
      "loss: undetermined: a direction loses packets, and the evidence cannot tell which",
    );
    expect(text).toContain(`  evidence: ${v.comparison?.loss?.evidence}`);
    const unknown = routerLines(text).filter((l) => l[3]?.startsWith("unknown"));
    expect(unknown.map((l) => l.slice(1, 4))).toEqual([
      ["2:198.18.2.2", "—", "unknown: only seen fra → sin"],
      ["3:198.18.3.2", "—", "unknown: only seen fra → sin"],
      ["—", "2:198.18.5.2", "unknown: only seen sin → fra"],
    ]);
    expect(unknown.every((l) => l[4] === "no test")).toBe(true);
    expect(text).toContain("verdict: asymmetric, fault: undetermined");
  });

  it("a host without an agent shows the forward report, the note and no comparison", () => {
    const text = formatPathTest({
      ...view,
      b: { host: "198.18.9.2" },
      reverse: null,
      comparison: null,
      note: "only the forward direction (fra -> 198.18.9.2) ran",
    });
    expect(text).not.toContain("│");
    expect(text).toContain("note: only the forward direction");
    expect(text).toContain("verdict: forward clean; no comparison (only one direction)");
  });
});
