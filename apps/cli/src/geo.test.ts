import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hop } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { CliError } from "./errors";
import { formatPlaces, placeLocalHops } from "./geo";

function hop(ttl: number, host: string | null, best: number): Hop {
  const h = hopOf(ttl, host, 3);
  return host ? { ...h, best, avg: best, last: best, worst: best } : h;
}

describe("lg --geo", () => {
  it("places a local trace from the table, checks it against LG_LOCATION, and prints city and country per hop", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-geo-cli-"));
    try {
      const file = join(dir, "places.csv");
      await writeFile(
        file,
        "198.18.0.0/15,50.1109,8.6821,Frankfurt,DE\n198.18.3.2/32,-33.8688,151.2093,Sydney,AU\n",
      );
      const hops = await placeLocalHops(
        [hop(1, "198.18.1.2", 0.031), hop(2, null, 0), hop(3, "198.18.3.2", 0.043), hop(4, "10.9.9.9", 1)],
        { prefixFile: file, database: false, location: { lat: 50.1109, lon: 8.6821, city: "Frankfurt" } },
        "here",
      );
      expect(formatPlaces(hops).split("\n")).toEqual([
        "Places (--geo; a best RTT of r ms allows at most r/2 x 200 km):",
        "  1. 198.18.1.2  Frankfurt, DE  table  possible (within 3 km of here)",
        "  3. 198.18.3.2  Sydney, AU     table  RULED OUT: 0.043 ms from here (Frankfurt) allows at most 4.3 km; the table says Sydney",
        "  4. 10.9.9.9    -",
        "",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a bad place table as a usage error naming the file and line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-geo-cli-"));
    try {
      const file = join(dir, "bad.csv");
      await writeFile(file, "# ok\n198.18.0.0/15,north,8,Frankfurt,DE\n");
      const placing = placeLocalHops(
        [hop(1, "198.18.1.2", 0.1)],
        { prefixFile: file, database: false, location: undefined },
        "here",
      );
      await expect(placing).rejects.toThrow(CliError);
      await expect(placing).rejects.toThrow(
        `LG_GEO_PREFIXES: ${file}:2: "north" is not a latitude (-90..90)`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
