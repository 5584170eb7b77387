import type { Hop } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { customerSideOfNat } from "./service";

const hop = (ttl: number, host: string | null): Hop => hopOf(ttl, host);

describe("the customer's side of its NAT", () => {
  it("hops before the other end of the NAT's uplink are the customer's network", () => {
    const forward = [
      hop(1, "192.168.1.1"),
      hop(2, "10.0.0.1"),
      hop(3, "203.0.113.1"),
      hop(4, "198.51.100.9"),
    ];
    const nat = customerSideOfNat(forward, "203.0.113.2");
    expect(nat?.hops.map((h) => h.ttl)).toEqual([3, 4]);
    expect(nat?.note).toMatch(/^forward hops 1-2 \(192\.168\.1\.1, 10\.0\.0\.1\) are the customer's network/);
  });

  it("the NAT answering with its public address itself counts too", () => {
    const nat = customerSideOfNat(
      [hop(1, "192.168.1.1"), hop(2, "203.0.113.2"), hop(3, "198.51.100.9")],
      "203.0.113.2",
    );
    expect(nat?.hops.map((h) => h.ttl)).toEqual([2, 3]);
    expect(nat?.note).toMatch(/^forward hop 1 \(192\.168\.1\.1\)/);
  });

  it("nothing is left out when the NAT is not on the path, or is the first hop", () => {
    expect(customerSideOfNat([hop(1, "192.168.1.1"), hop(2, "198.51.100.9")], "203.0.113.2")).toBeUndefined();
    expect(customerSideOfNat([hop(1, "203.0.113.1"), hop(2, "198.51.100.9")], "203.0.113.2")).toBeUndefined();
  });
});
