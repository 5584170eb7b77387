import type { Hop, PathTestView, TraceView } from "@lg/protocol";
import { TraceOptions } from "@lg/protocol";
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
  diagnosis: { verdict: "clean", findings: [] },
  stoppedBy: "destination",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:00:05.000Z",
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
  comparison: {
    verdict: "asymmetric",
    faultDirection: "none",
    segments: [
      {
        kind: "diverged",
        forward: {
          ttls: { from: 2, to: 2 },
          hops: [{ ttl: 2, address: "198.18.3.2", lossPct: 0, avg: 2 }],
          addedLossPct: 0,
          addedLatencyMs: 1,
        },
        reverse: {
          ttls: { from: 2, to: 2 },
          hops: [{ ttl: 2, address: "198.18.5.2", lossPct: 0, avg: 2 }],
          addedLossPct: 0,
          addedLatencyMs: 0,
        },
      },
    ],
    shared: [],
    summary: "The directions take different paths. The forward path is clean; the reverse path is clean.",
  },
  note: null,
};

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
    expect(text).toMatch(/diverged\s+2:198\.18\.3\.2 \(\+1\.0 ms\)\s+2:198\.18\.5\.2/);
    expect(text).toContain("summary: The directions take different paths.");
    expect(lines.at(-2)).toBe("verdict: asymmetric, both directions clean");
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
