import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PrefixTableError } from "./errors";
import { loadPrefixTable, PrefixTable, parsePrefixTable } from "./prefix-table";

const labTable = `# the reference lab
198.18.0.0/15,64512,Lab Internet
198.18.1.0/24,AS64500,Lab Access, Frankfurt
2001:2::/48,64501,Lab Transit
10.0.0.0/8,64999,Our own backbone
`;

describe("operator prefix table", () => {
  it("reads CIDR, ASN (with or without AS) and an owner that may hold commas, skipping comments", () => {
    expect(parsePrefixTable(labTable)).toEqual([
      { cidr: "198.18.0.0/15", asn: 64512, owner: "Lab Internet" },
      { cidr: "198.18.1.0/24", asn: 64500, owner: "Lab Access, Frankfurt" },
      { cidr: "2001:2::/48", asn: 64501, owner: "Lab Transit" },
      { cidr: "10.0.0.0/8", asn: 64999, owner: "Our own backbone" },
    ]);
  });

  it("takes the longest matching prefix", () => {
    const table = new PrefixTable(parsePrefixTable(labTable));
    expect(table.lookup("198.18.1.7")).toEqual({ asn: 64500, owner: "Lab Access, Frankfurt" });
    expect(table.lookup("198.19.3.3")).toEqual({ asn: 64512, owner: "Lab Internet" });
    expect(table.lookup("2001:2::5")).toEqual({ asn: 64501, owner: "Lab Transit" });
    expect(table.lookup("10.20.30.40")?.asn).toBe(64999);
  });

  it("knows nothing about addresses outside its prefixes, nor about text that is no address", () => {
    const table = new PrefixTable(parsePrefixTable(labTable));
    expect(table.lookup("192.0.2.1")).toBeUndefined();
    expect(table.lookup("2001:3::1")).toBeUndefined();
    expect(table.lookup("not-an-address")).toBeUndefined();
  });

  it("matches an IPv4-mapped IPv6 address as IPv4", () => {
    const table = new PrefixTable(parsePrefixTable(labTable));
    expect(table.lookup("::ffff:198.18.1.9")?.asn).toBe(64500);
  });

  it("names the file and line of a bad prefix or AS number", () => {
    expect(() => parsePrefixTable("198.18.0.0/24,64500,ok\n198.18.0.0/33,1,x", "lab.csv")).toThrow(
      new PrefixTableError('"198.18.0.0/33" is not a CIDR prefix (like 198.18.0.0/24)', "lab.csv", 2),
    );
    expect(() => parsePrefixTable("198.18.0.0/24,sixty", "lab.csv")).toThrow(
      'lab.csv:1: "sixty" is not an AS number',
    );
  });

  const dir = mkdtemp(join(tmpdir(), "lg-prefixes-"));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it("loads a table from a file", async () => {
    const path = join(await dir, "prefixes.csv");
    await writeFile(path, labTable);
    const table = await loadPrefixTable(path);
    expect(table.size).toBe(4);
    expect(table.lookup("198.18.1.1")?.owner).toBe("Lab Access, Frankfurt");
  });
});
