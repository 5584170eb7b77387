import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { enrichHops } from "./enrich-hops";
import { createAsnLookup } from "./lookup";
import { PrefixTable } from "./prefix-table";

/** A stand-in for the public table: one public range. */
const publicTable = new PrefixTable([{ cidr: "203.0.113.0/24", asn: 64496, owner: "Public Example" }]);

describe("enrichHops", () => {
  const lookup = createAsnLookup({
    prefixes: new PrefixTable([
      { cidr: "198.18.0.0/15", asn: 64512, owner: "Lab Internet" },
      { cidr: "10.1.0.0/16", asn: 64999, owner: "Our backbone" },
      { cidr: "203.0.113.128/25", asn: 64500, owner: "Operator override" },
    ]),
    database: publicTable,
  });

  it("fills asn and owner of every hop whose address a table knows", () => {
    const hops = enrichHops([hopOf(1, "10.1.2.3"), hopOf(2, "198.18.4.1"), hopOf(3, "203.0.113.9")], lookup);
    expect(hops.map((h) => [h.asn, h.owner])).toEqual([
      [64999, "Our backbone"],
      [64512, "Lab Internet"],
      [64496, "Public Example"],
    ]);
  });

  it("lets the operator's table take precedence over the public one", () => {
    expect(enrichHops([hopOf(1, "203.0.113.200")], lookup)[0]).toMatchObject({
      asn: 64500,
      owner: "Operator override",
    });
  });

  it("leaves silent hops and private addresses the operator did not list untouched", () => {
    const input = [hopOf(1, "192.168.1.1"), hopOf(2, null), hopOf(3, "100.64.0.1")];
    expect(enrichHops(input, lookup)).toEqual(input);
  });

  it("does not modify the hops it is given", () => {
    const input = [hopOf(1, "198.18.4.1")];
    enrichHops(input, lookup);
    expect(input[0]?.asn).toBeUndefined();
  });

  it("never asks the public table about a private address", () => {
    const asked: string[] = [];
    const spy = {
      lookup: (address: string) => {
        asked.push(address);
        return undefined;
      },
    };
    createAsnLookup({ database: spy })("192.168.1.1");
    createAsnLookup({ database: spy })("8.8.8.8");
    expect(asked).toEqual(["8.8.8.8"]);
  });
});
