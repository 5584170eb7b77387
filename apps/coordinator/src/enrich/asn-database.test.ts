import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AsnDatabase } from "./asn-database";
import { AsnDatabaseError } from "./errors";

describe("AsnDatabase on a small table", () => {
  let dir: string;
  let db: AsnDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-asn-"));
    // 198.18.0.0-198.18.0.255, 198.18.2.0-198.18.3.255; 2001:2::/64 and 2001:2:0:1::/64.
    await writeFile(
      join(dir, "asn-ipv4-num.csv"),
      '3323068416,3323068671,64500,Alpha\n3323068928,3323069439,64501,"Beta, ""the"" carrier"\n',
    );
    const v6a = (0x20010002n << 96n).toString();
    const v6aEnd = ((0x20010002n << 96n) | ((1n << 64n) - 1n)).toString();
    const v6b = ((0x20010002n << 96n) | (1n << 64n)).toString();
    const v6bEnd = ((0x20010002n << 96n) | (1n << 64n) | ((1n << 64n) - 1n)).toString();
    await writeFile(
      join(dir, "asn-ipv6-num.csv"),
      `${v6a},${v6aEnd},64510,Gamma\r\n${v6b},${v6bEnd},64511,Delta\r\n`,
    );
    db = await AsnDatabase.load(dir);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("finds the range holding an IPv4 address, including its first and last address", () => {
    expect(db.lookup("198.18.0.0")).toEqual({ asn: 64500, owner: "Alpha" });
    expect(db.lookup("198.18.0.255")?.asn).toBe(64500);
    expect(db.lookup("198.18.3.255")).toEqual({ asn: 64501, owner: 'Beta, "the" carrier' });
  });

  it("finds nothing in the gaps between ranges and outside them", () => {
    expect(db.lookup("198.18.1.0")).toBeUndefined();
    expect(db.lookup("198.18.4.0")).toBeUndefined();
    expect(db.lookup("1.1.1.1")).toBeUndefined();
    expect(db.lookup("255.255.255.255")).toBeUndefined();
  });

  it("finds IPv6 ranges by both 64-bit halves", () => {
    expect(db.lookup("2001:2::1")?.asn).toBe(64510);
    expect(db.lookup("2001:2:0:1::1")?.asn).toBe(64511);
    expect(db.lookup("2001:2:0:1:ffff:ffff:ffff:ffff")?.asn).toBe(64511);
    expect(db.lookup("2001:2:0:2::1")).toBeUndefined();
    expect(db.lookup("2001:1::1")).toBeUndefined();
  });

  it("counts the ranges it loaded", () => {
    expect(db.counts).toEqual({ v4: 2, v6: 2 });
  });

  it("says which directory it could not read", async () => {
    await expect(AsnDatabase.load(join(dir, "missing"))).rejects.toBeInstanceOf(AsnDatabaseError);
  });
});

describe("AsnDatabase on the installed @ip-location-db/asn data", () => {
  let db: AsnDatabase;
  beforeAll(async () => {
    db = await AsnDatabase.load();
  }, 60_000);

  it("loads hundreds of thousands of IPv4 and tens of thousands of IPv6 ranges", () => {
    expect(db.counts.v4).toBeGreaterThan(300_000);
    expect(db.counts.v6).toBeGreaterThan(50_000);
  });

  it("knows well-known anycast resolvers by their origin AS", () => {
    expect(db.lookup("1.1.1.1")?.asn).toBe(13335);
    expect(db.lookup("8.8.8.8")?.asn).toBe(15169);
    expect(db.lookup("2001:4860:4860::8888")?.asn).toBe(15169);
    expect(db.lookup("2606:4700:4700::1111")?.asn).toBe(13335);
  });

  it("has no origin AS for private or benchmarking ranges", () => {
    expect(db.lookup("10.0.0.1")).toBeUndefined();
    expect(db.lookup("198.18.0.1")).toBeUndefined();
  });
});
