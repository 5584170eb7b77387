import { describe, expect, it } from "vitest";
import { compare } from "./compare";
import { trace } from "./fixtures/paths";
import { path, routeBackLab } from "./fixtures/two-way";
import type { AddressAliasTest } from "./identity";

/** An alias test result as @lg/tracer's timestampAliasTest gives it (the fields identity reads). */
const timestamp = (a: string, b: string, verdict: AddressAliasTest["verdict"]): AddressAliasTest => ({
  a,
  b,
  verdict,
  test: "timestamp",
  evidence: `echoes to ${a} and ${b}, each naming both: ${verdict}`,
});

describe("alias tests of two addresses (prespecified timestamps) as identity evidence", () => {
  // Nothing else links forward hop 2 (198.18.60.2) and reverse hop 1 (198.18.70.1): no common
  // address, no name, not the two ends of one link.
  const forward = trace(["198.18.50.1", "198.18.60.2", "198.18.200.2"]);
  const reverse = trace(["198.18.70.1", "198.18.71.1", "198.18.100.2"]);

  it("a same-router result pairs a forward hop and a reverse hop no other test links, as timestamp evidence", () => {
    expect(compare(forward, reverse).shared).toEqual([]);
    const c = compare(forward, reverse, {
      addressAliases: [timestamp("198.18.60.2", "198.18.70.1", "same-router")],
    });
    expect(c.shared.map((s) => [s.match, s.forwardTtl, s.reverseTtl])).toEqual([["timestamp", 2, 1]]);
    expect(c.shared[0]?.evidence).toEqual([
      {
        test: "timestamp",
        agrees: true,
        detail:
          "forward hop 2 (198.18.60.2) and reverse hop 1 (198.18.70.1): echoes to 198.18.60.2 and 198.18.70.1, each naming both: same-router",
      },
    ]);
    expect(c.shared[0]?.confidence).toBe(0.95);
  });

  it("takes the two addresses in either order, and ignores an unknown result", () => {
    const swapped = compare(forward, reverse, {
      addressAliases: [timestamp("198.18.70.1", "198.18.60.2", "same-router")],
    });
    expect(swapped.shared).toHaveLength(1);
    const unknown = compare(forward, reverse, {
      addressAliases: [timestamp("198.18.60.2", "198.18.70.1", "unknown")],
    });
    expect(unknown.shared).toEqual([]);
  });

  it("a different-routers result overrules two agreeing link-mate pairs, and shows on the router as evidence against", () => {
    const forwardLab = path(routeBackLab.forward);
    const reverseLab = path(routeBackLab.reverse);
    const options = { forward: { destination: routeBackLab.b }, reverse: { destination: routeBackLab.a } };
    const linked = compare(forwardLab, reverseLab, options);
    const efra = linked.shared.find((s) => s.forwardAddress === "198.18.1.2");
    expect(efra?.reverseAddress).toBe("198.18.2.1");
    const apart = compare(forwardLab, reverseLab, {
      ...options,
      addressAliases: [timestamp("198.18.1.2", "198.18.2.1", "different")],
    });
    expect(apart.shared.find((s) => s.forwardAddress === "198.18.1.2")).toBeUndefined();
    const router = apart.routers.find((r) => r.addresses.includes("198.18.1.2"));
    expect(router?.identity).toBe("unknown");
    expect(router?.evidence).toContainEqual(expect.objectContaining({ test: "timestamp", agrees: false }));
  });
});
