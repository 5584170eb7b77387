import { describe, expect, it } from "vitest";
import { compare } from "./compare";
import { trace } from "./fixtures/paths";
import { routeBackLab as lab, path, routeBackAliases } from "./fixtures/two-way";
import { evidenceCounts, evidenceTally, segmentRows } from "./router-rows";

const options = (extra: Parameters<typeof compare>[2] = {}) => ({
  forward: { destination: lab.b },
  reverse: { destination: lab.a },
  labels: { a: "fra", b: "sin" },
  ...extra,
});

/** Each line as "place forwardTtl/reverseTtl" for readable assertions. */
const lines = (rows: ReturnType<typeof segmentRows>) =>
  rows.map((segment) => segment.map((r) => `${r.place} ${r.forward?.ttl ?? "-"}/${r.reverse?.ttl ?? "-"}`));

describe("a segment's lines for a side-by-side table", () => {
  it("puts a router both directions cross on one line, and each direction's own routers on lines of their own", () => {
    const c = compare(path(lab.forward), path(lab.reverse), options({ aliases: routeBackAliases() }));
    expect(lines(segmentRows(c))).toEqual([
      // fra itself (the reverse trace's destination) sits at A's end, before efra.
      ["endpoint -/4", "shared 1/3"],
      ["own 2/-", "own 3/-", "own -/2"],
      ["shared 4/1", "endpoint 5/-"],
    ]);
    const efra = segmentRows(c)[0]?.[1];
    expect(efra?.router?.addresses).toEqual(["198.18.1.2", "198.18.2.1"]);
  });

  it("keeps routers the evidence cannot place as unknown lines, never as one shared line", () => {
    const c = compare(path(lab.forward), path(lab.reverse), options());
    const diverged = segmentRows(c)[1] ?? [];
    expect(diverged.map((r) => r.place)).toEqual(["unknown", "unknown", "unknown"]);
    expect(diverged.every((r) => r.forward === null || r.reverse === null)).toBe(true);
  });

  it("marks hops that answered no probe as silent", () => {
    const c = compare(
      trace(["198.18.9.1", null, "198.18.9.3", "198.18.200.2"]),
      trace(["198.18.9.3", null, "198.18.9.1", "198.18.100.2"]),
    );
    const rows = segmentRows(c);
    expect(rows[1]?.map((r) => r.place)).toEqual(["silent", "silent"]);
  });

  it("counts the tests that spoke for and against a router", () => {
    const c = compare(path(lab.forward), path(lab.reverse), options({ aliases: routeBackAliases() }));
    const core1 = c.routers.find((r) => r.addresses.includes("198.18.2.2"));
    expect(evidenceCounts(core1?.evidence ?? [])).toEqual([{ test: "alias-trace", agree: 1, against: 2 }]);
    const efra = c.routers.find((r) => r.addresses.includes("198.18.1.2"));
    expect(evidenceCounts(efra?.evidence ?? [])).toEqual([
      { test: "link-mate", agree: 2, against: 0 },
      { test: "alias-trace", agree: 2, against: 0 },
    ]);
    expect(evidenceTally(efra?.evidence ?? [])).toBe("link-mate ×2, alias-trace ×2");
    expect(evidenceTally(core1?.evidence ?? [])).toBe("alias-trace (2 against)");
  });
});
