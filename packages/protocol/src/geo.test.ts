import { describe, expect, it } from "vitest";
import { HopGeo, LocationError, parseLatLon } from "./geo";
import { Hop } from "./trace";

describe("parseLatLon", () => {
  it("reads decimal degrees with or without spaces and signs", () => {
    expect(parseLatLon("50.11,8.68")).toEqual({ lat: 50.11, lon: 8.68 });
    expect(parseLatLon(" -33.87 , +151.21 ")).toEqual({ lat: -33.87, lon: 151.21 });
  });

  it("refuses a missing part, words, and degrees out of range, saying which", () => {
    expect(() => parseLatLon("50.11")).toThrow(LocationError);
    expect(() => parseLatLon("north,8")).toThrow(/is not "lat,lon"/);
    expect(() => parseLatLon("91,8")).toThrow("latitude 91 is not within -90..90");
    expect(() => parseLatLon("50,181")).toThrow("longitude 181 is not within -180..180");
  });
});

describe("HopGeo", () => {
  it("rides on a hop, and a hop without it still parses (stored results before places)", () => {
    const base = { ttl: 1, host: "198.18.1.2", lossPct: 0, sent: 1, recv: 1, drop: 0 };
    const times = { last: 1, avg: 1, best: 1, worst: 1, stdev: 0, jitter: 0, jitterAvg: 0, jitterMax: 0 };
    const hop = { ...base, ...times, responders: [] };
    expect(Hop.parse(hop).geo).toBeUndefined();
    const geo = {
      lat: -33.87,
      lon: 151.21,
      city: "Sydney",
      country: "AU",
      source: "table",
      plausible: false,
      reason: "0.1 ms from fra (Frankfurt) allows at most 10 km; the table says Sydney",
      feasible: [{ lat: 50.11, lon: 8.68, radiusKm: 10, pop: "fra", rtt: 0.1, city: "Frankfurt" }],
    };
    expect(Hop.parse({ ...hop, geo }).geo).toEqual(geo);
    expect(HopGeo.safeParse({ ...geo, source: "guess" }).success).toBe(false);
  });
});
