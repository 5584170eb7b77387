import type { Hop } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { alignByHop } from "./align";

const hop = (ttl: number, host: string | null): Hop => hopOf(ttl, host);

const hostsOf = (rows: (Hop | undefined)[][]) => rows.map((r) => r.map((h) => h?.host ?? "-"));

describe("alignByHop", () => {
  it("puts a router two PoPs cross on one row when one reaches it a hop later", () => {
    const fra = [hop(1, "a1"), hop(2, "a2"), hop(3, "core"), hop(4, "dst")];
    const sin = [hop(1, "b1"), hop(2, "b2"), hop(3, "b3"), hop(4, "core"), hop(5, "dst")];
    expect(hostsOf(alignByHop([fra, sin]))).toEqual([
      ["-", "b1"],
      ["a1", "b2"],
      ["a2", "b3"],
      ["core", "core"],
      ["dst", "dst"],
    ]);
  });

  it("keeps each trace's own TTLs when the traces share no router", () => {
    const rows = alignByHop([[hop(1, "a"), hop(2, "b")], [hop(1, "c")]]);
    expect(hostsOf(rows)).toEqual([
      ["a", "c"],
      ["b", "-"],
    ]);
  });

  it("places a third trace through a router it shares with the second only", () => {
    const one = [hop(1, "x"), hop(2, "y"), hop(3, "z")];
    const two = [hop(1, "p"), hop(2, "y")];
    const three = [hop(1, "p")];
    expect(hostsOf(alignByHop([one, two, three]))).toEqual([
      ["x", "p", "p"],
      ["y", "y", "-"],
      ["z", "-", "-"],
    ]);
  });

  it("gives no rows for no hops", () => {
    expect(alignByHop([[], []])).toEqual([]);
  });
});
