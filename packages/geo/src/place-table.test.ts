import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PlaceTableError } from "./errors";
import { loadPlaceTable, PlaceTable, parsePlaceTable } from "./place-table";

describe("parsePlaceTable", () => {
  it("reads CIDR,lat,lon,city,country lines, skipping blank lines and # comments", () => {
    const text = [
      "# the lab, one metro",
      "",
      "198.18.0.0/15, 50.11, 8.68, Frankfurt, de",
      "198.18.3.2/32,-33.87,151.21,Sydney,AU",
      "2001:2::/48,50.11,8.68",
      "203.0.113.0/24,38.9,-77.04,Washington, D.C.,US",
      "192.0.2.0/24,1.29,103.85,,SG",
    ].join("\n");
    expect(parsePlaceTable(text, "places.csv")).toEqual([
      { cidr: "198.18.0.0/15", lat: 50.11, lon: 8.68, city: "Frankfurt", country: "DE" },
      { cidr: "198.18.3.2/32", lat: -33.87, lon: 151.21, city: "Sydney", country: "AU" },
      { cidr: "2001:2::/48", lat: 50.11, lon: 8.68 },
      { cidr: "203.0.113.0/24", lat: 38.9, lon: -77.04, city: "Washington, D.C.", country: "US" },
      { cidr: "192.0.2.0/24", lat: 1.29, lon: 103.85, country: "SG" },
    ]);
  });

  it("refuses a bad line naming the file and the line", () => {
    const bad = (line: string) => () =>
      parsePlaceTable(`# ok\n198.18.0.0/15,50,8,Frankfurt,DE\n${line}`, "places.csv");
    expect(bad("198.18.0.0/33,50,8,X,DE")).toThrow('places.csv:3: "198.18.0.0/33" is not a CIDR prefix');
    expect(bad("198.18.0.0/24,95,8,X,DE")).toThrow('places.csv:3: "95" is not a latitude (-90..90)');
    expect(bad("198.18.0.0/24,50,east,X,DE")).toThrow('places.csv:3: "east" is not a longitude (-180..180)');
    expect(bad("198.18.0.0/24,50,8,X,Germany")).toThrow(
      'places.csv:3: "Germany" is not a two-letter country code',
    );
    expect(bad("198.18.0.0/24,50")).toThrow("places.csv:3: expected CIDR,lat,lon,city,country");
    const thrown = (() => {
      try {
        bad("198.18.0.0/24,50")();
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(PlaceTableError);
    expect(thrown).toMatchObject({ source: "places.csv", line: 3 });
  });
});

describe("PlaceTable", () => {
  const table = new PlaceTable(
    parsePlaceTable(
      [
        "198.18.0.0/15,50.11,8.68,Frankfurt,DE",
        "198.18.3.0/24,48.86,2.35,Paris,FR",
        "198.18.3.2/32,-33.87,151.21,Sydney,AU",
        "2001:2::/48,50.11,8.68,Frankfurt,DE",
        "2001:2:0:3::/64,48.86,2.35,Paris,FR",
      ].join("\n"),
    ),
  );

  it("takes the longest matching prefix, whatever the order of the lines", () => {
    expect(table.lookup("198.18.3.2")?.city).toBe("Sydney");
    expect(table.lookup("198.18.3.1")?.city).toBe("Paris");
    expect(table.lookup("198.19.255.1")?.city).toBe("Frankfurt");
    expect(table.lookup("2001:2:0:3::2")?.city).toBe("Paris");
    expect(table.lookup("2001:2:0:4::2")).toMatchObject({ city: "Frankfurt", source: "table" });
  });

  it("knows nothing outside its prefixes, of the other family, or for text that is no address", () => {
    expect(table.lookup("198.20.0.1")).toBeUndefined();
    expect(table.lookup("2001:3::1")).toBeUndefined();
    expect(table.lookup("::ffff:198.18.3.2")?.city).toBe("Sydney");
    expect(table.lookup("not-an-address")).toBeUndefined();
  });

  it("loads a file, and a bad file names itself and the line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-geo-"));
    try {
      await writeFile(join(dir, "good.csv"), "198.18.0.0/15,50.11,8.68,Frankfurt,DE\n");
      await writeFile(
        join(dir, "bad.csv"),
        "198.18.0.0/15,50.11,8.68,Frankfurt,DE\n198.18.0.0/15,x,8,Y,DE\n",
      );
      expect((await loadPlaceTable(join(dir, "good.csv"))).lookup("198.18.1.1")?.city).toBe("Frankfurt");
      await expect(loadPlaceTable(join(dir, "bad.csv"))).rejects.toThrow(
        `${join(dir, "bad.csv")}:2: "x" is not a latitude`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
