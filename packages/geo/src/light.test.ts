import type { FeasibleDisc } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { checkPlace, discOf, distanceKm, kmText, msText, PLACE_SLACK_KM, reachKm } from "./light";
import type { Place } from "./place";

const FRANKFURT = { lat: 50.1109, lon: 8.6821 };
const SYDNEY: Place = { lat: -33.8688, lon: 151.2093, city: "Sydney", country: "AU", source: "table" };
const LISBON: Place = { lat: 38.7223, lon: -9.1393, city: "Lisbon", country: "PT", source: "database" };
const fra = { id: "fra", location: { ...FRANKFURT, city: "Frankfurt" } };

describe("distanceKm (haversine)", () => {
  it("measures great circles: Frankfurt-Sydney, Frankfurt-Lisbon, a quarter of the equator, zero", () => {
    expect(distanceKm(FRANKFURT, SYDNEY)).toBeCloseTo(16_480, -2);
    expect(distanceKm(FRANKFURT, LISBON)).toBeCloseTo(1_890, -1);
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 90 })).toBeCloseTo((Math.PI / 2) * 6371.0088, 6);
    expect(distanceKm(FRANKFURT, FRANKFURT)).toBe(0);
  });

  it("takes the short way across the antimeridian", () => {
    expect(distanceKm({ lat: 0, lon: 179 }, { lat: 0, lon: -179 })).toBeCloseTo(222.4, 1);
  });
});

describe("the bound a round-trip time sets", () => {
  it("is r/2 x 200 km: 0.1 ms allows 10 km, 50 ms allows 5,000 km", () => {
    expect(reachKm(0.1)).toBeCloseTo(10, 10);
    expect(reachKm(50)).toBe(5_000);
    expect(discOf(fra, 0.1)).toEqual({
      lat: 50.1109,
      lon: 8.6821,
      radiusKm: 10,
      pop: "fra",
      rtt: 0.1,
      city: "Frankfurt",
    });
  });
});

describe("checkPlace", () => {
  it("rules out Sydney for a hop 0.1 ms from Frankfurt, in the issue's words", () => {
    expect(checkPlace(SYDNEY, [discOf(fra, 0.1)])).toEqual({
      plausible: false,
      reason: "0.1 ms from fra (Frankfurt) allows at most 10 km; the table says Sydney",
    });
  });

  it("allows a place within the bound, or just past it within the metro-area slack", () => {
    const near: Place = { lat: 50.05, lon: 8.57, source: "table" }; // ~10 km from Frankfurt's centre
    expect(checkPlace(near, [discOf(fra, 0.02)])).toEqual({ plausible: true });
    const far: Place = { lat: 50.11, lon: 8.68 + (PLACE_SLACK_KM + 20) / 71.4, city: "Far", source: "table" };
    expect(checkPlace(far, [discOf(fra, 0.02)]).plausible).toBe(false);
  });

  it("allows Lisbon 50 ms from Frankfurt (up to 5,000 km) and says which database place it refuses", () => {
    expect(checkPlace(LISBON, [discOf(fra, 50.1)])).toEqual({ plausible: true });
    expect(checkPlace(LISBON, [discOf(fra, 2.5)])).toEqual({
      plausible: false,
      reason: "2.5 ms from fra (Frankfurt) allows at most 250 km; the database says Lisbon",
    });
  });

  it("names every PoP that rules a place out, and a PoP without a city by its id", () => {
    const sin: FeasibleDisc = { lat: 1.29, lon: 103.85, radiusKm: 20, pop: "sin", rtt: 0.2 };
    const reason = checkPlace(SYDNEY, [discOf(fra, 0.043), sin, discOf(fra, 200)]).reason;
    expect(reason).toBe(
      "0.043 ms from fra (Frankfurt) allows at most 4.3 km, 0.2 ms from sin allows at most 20 km; the table says Sydney",
    );
  });

  it("is plausible with no disc at all (no PoP location, or nothing that bounds the hop)", () => {
    expect(checkPlace(SYDNEY, [])).toEqual({ plausible: true });
  });

  it("names a place without a city by its country, else by its coordinates", () => {
    const { city: _c, ...country } = SYDNEY;
    expect(checkPlace(country, [discOf(fra, 1)]).reason).toMatch(/the table says AU$/);
    const { country: _k, ...bare } = country;
    expect(checkPlace(bare, [discOf(fra, 1)]).reason).toMatch(/the table says -33\.87, 151\.21$/);
  });
});

describe("numbers in words", () => {
  it("keeps small round-trip times precise and groups large distances", () => {
    expect([msText(0.0432), msText(2.345), msText(50.06)]).toEqual(["0.043", "2.35", "50.1"]);
    expect([kmText(4.32), kmText(10), kmText(5_006.2)]).toEqual(["4.3", "10", "5,006"]);
  });
});
