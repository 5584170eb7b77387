import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAsnLookup, sharedAsnLookup } from "./lookup";

describe("loading the lookup", () => {
  let dir: string;
  let prefixFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-lookup-"));
    prefixFile = join(dir, "prefixes.csv");
    await writeFile(prefixFile, "198.18.0.0/15,64512,Lab Internet\n");
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("combines the operator's file with prefixes given directly, the more specific winning", async () => {
    const lookup = await loadAsnLookup({
      prefixFile,
      prefixes: [{ cidr: "198.18.7.0/24", asn: 64507, owner: "Lab Seven" }],
      withoutDatabase: true,
    });
    expect(lookup("198.18.1.1")).toEqual({ asn: 64512, owner: "Lab Internet" });
    expect(lookup("198.18.7.1")).toEqual({ asn: 64507, owner: "Lab Seven" });
    expect(lookup("1.1.1.1")).toBeUndefined();
  });

  it("looks public addresses up in the public table after the operator's", async () => {
    const lookup = await loadAsnLookup({ prefixFile });
    expect(lookup("198.18.1.1")?.asn).toBe(64512);
    expect(lookup("1.1.1.1")?.asn).toBe(13335);
  }, 60_000);

  it("does not keep a failed shared load, and keeps a good one for every later caller", async () => {
    await expect(
      sharedAsnLookup({ prefixFile: join(dir, "missing.csv"), withoutDatabase: true }),
    ).rejects.toThrow("missing.csv");
    const first = sharedAsnLookup({ prefixFile, withoutDatabase: true });
    expect(sharedAsnLookup({ withoutDatabase: true })).toBe(first);
    expect((await first)("198.18.0.1")?.asn).toBe(64512);
  });
});
