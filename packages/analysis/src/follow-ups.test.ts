import { describe, expect, it } from "vitest";
import { routeBackLab as lab, path } from "./fixtures/two-way";
import { aliasFollowUp, aliasObservation, aliasTargets } from "./follow-ups";

describe("alias traces of a path test", () => {
  it("each end traces to the router addresses only the other end saw, nearest to itself first", () => {
    const targets = aliasTargets(path(lab.forward), path(lab.reverse), { aAddress: lab.a, bAddress: lab.b });
    expect(targets.filter((t) => t.from === "a").map((t) => t.target)).toEqual([
      "198.18.2.1",
      "198.18.5.2",
      "198.18.7.1",
    ]);
    expect(targets.filter((t) => t.from === "b").map((t) => t.target)).toEqual([
      "198.18.5.1",
      "198.18.3.2",
      "198.18.2.2",
      "198.18.1.2",
    ]);
  });

  it("never traces to an endpoint or to an address both traces show", () => {
    const targets = aliasTargets(
      path(["198.18.9.1", "198.18.9.2", lab.b]),
      path(["198.18.9.2", "198.18.9.1", lab.a]),
      {
        aAddress: lab.a,
        bAddress: lab.b,
      },
    );
    expect(targets).toEqual([]);
  });

  it("reads where an alias trace reached its target, after whom, and how many of the target's answers came back", () => {
    const hops = path(["198.18.1.2", "198.18.5.2"], { lost: { 2: 5 } });
    const seen = aliasObservation("a", "198.18.5.2", hops);
    expect(seen).toEqual({
      from: "a",
      target: "198.18.5.2",
      path: ["198.18.1.2", "198.18.5.2"],
      reachedAt: 2,
      sent: 20,
      recv: 15,
    });
    const record = aliasFollowUp({ from: "a", target: "198.18.5.2", seenAt: 2, purpose: "why" }, seen);
    expect(record).toMatchObject({ kind: "alias-trace", ttl: 2, answered: true, sent: 20, recv: 15 });
    expect(record.result).toBe("reached at hop 2 after 198.18.1.2; 15 of 20 answered");
  });

  it("an alias trace that never reached its target is recorded as unanswered", () => {
    const seen = aliasObservation("b", "198.18.5.2", path(["198.18.7.1", null, null]));
    expect(seen.reachedAt).toBeNull();
    expect(aliasFollowUp({ from: "b", target: "198.18.5.2", seenAt: 2, purpose: "why" }, seen).answered).toBe(
      false,
    );
  });
});
