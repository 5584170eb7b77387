import type { Hop } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { boundsItsHost, placeHops, recheckPlaces } from "./hops";
import type { PlaceOf } from "./place";
import { PlaceTable } from "./place-table";

const table = new PlaceTable([
  { cidr: "198.18.0.0/15", lat: 50.1109, lon: 8.6821, city: "Frankfurt", country: "DE" },
  { cidr: "198.18.3.2/32", lat: -33.8688, lon: 151.2093, city: "Sydney", country: "AU" },
  { cidr: "198.18.82.0/24", lat: 38.7223, lon: -9.1393, city: "Lisbon", country: "PT" },
]);
const placeOf: PlaceOf = async (a) => table.lookup(a);
const fra = { id: "fra", location: { lat: 50.1109, lon: 8.6821, city: "Frankfurt" } };
const sin = { id: "sin", location: { lat: 50.1, lon: 8.7, city: "Frankfurt" } };

/** A hop answered by `host` alone, best round-trip time `best` ms. */
function hop(ttl: number, host: string | null, best = 0.05): Hop {
  const h = hopOf(ttl, host, 3);
  return host ? { ...h, best, avg: best, last: best, worst: best } : h;
}

describe("placeHops", () => {
  it("places each answering hop from the table and rules out the wrong one with its reason", async () => {
    const hops = [
      hop(1, "198.18.1.2", 0.031),
      hop(2, "198.18.3.2", 0.043),
      hop(3, null),
      hop(4, "198.20.0.1"),
    ];
    const placed = await placeHops(hops, placeOf, fra);
    expect(placed[0]?.geo).toEqual({
      lat: 50.1109,
      lon: 8.6821,
      city: "Frankfurt",
      country: "DE",
      source: "table",
      plausible: true,
      feasible: [{ lat: 50.1109, lon: 8.6821, radiusKm: 3.1, pop: "fra", rtt: 0.031, city: "Frankfurt" }],
    });
    expect(placed[1]?.geo).toMatchObject({
      city: "Sydney",
      plausible: false,
      reason: "0.043 ms from fra (Frankfurt) allows at most 4.3 km; the table says Sydney",
    });
    expect(placed[2]).toEqual(hops[2]);
    expect(placed[3]).toEqual(hops[3]);
    expect(hops[0]?.geo).toBeUndefined();
  });

  it("lets a delay wire put distance between PoP and hop: Lisbon 50 ms from Frankfurt is plausible", async () => {
    const [placed] = await placeHops([hop(5, "198.18.82.2", 50.2)], placeOf, fra);
    expect(placed?.geo).toMatchObject({ city: "Lisbon", plausible: true });
    expect(placed?.geo?.feasible?.[0]?.radiusKm).toBe(5_020);
  });

  it("places but does not bound hops without a PoP location, or whose best time may be another responder's", async () => {
    const ecmp: Hop = {
      ...hop(2, "198.18.3.2"),
      responders: [
        { address: "198.18.3.2", count: 2 },
        { address: "198.18.70.2", count: 1 },
      ],
    };
    expect(boundsItsHost(ecmp)).toBe(false);
    const [a, b] = await placeHops([hop(2, "198.18.3.2"), ecmp], placeOf);
    expect(a?.geo).toMatchObject({ city: "Sydney", plausible: true });
    expect(a?.geo?.feasible).toBeUndefined();
    const [c] = await placeHops([ecmp], placeOf, fra);
    expect(c?.geo).toMatchObject({ city: "Sydney", plausible: true });
    expect(b?.geo?.reason).toBeUndefined();
  });

  it("asks for each address once per trace", async () => {
    const asked: string[] = [];
    const counting: PlaceOf = async (a) => {
      asked.push(a);
      return table.lookup(a);
    };
    await placeHops([hop(3, "198.18.1.2"), hop(4, "198.18.1.2"), hop(5, "198.18.1.2")], counting, fra);
    expect(asked).toEqual(["198.18.1.2"]);
  });
});

describe("recheckPlaces", () => {
  it("judges each place against every PoP that measured the address, the tightest disc per PoP", async () => {
    const fromFra = await placeHops([hop(1, "198.18.3.2", 0.04), hop(2, "198.18.3.2", 0.09)], placeOf, fra);
    const fromSin = await placeHops([hop(3, "198.18.3.2", 0.06)], placeOf, sin);
    const [f, s] = recheckPlaces([fromFra, fromSin]);
    const expected = {
      plausible: false,
      reason:
        "0.04 ms from fra (Frankfurt) allows at most 4 km, 0.06 ms from sin (Frankfurt) allows at most 6 km; the table says Sydney",
    };
    expect(f?.[0]?.geo).toMatchObject(expected);
    expect(f?.[1]?.geo).toMatchObject(expected);
    expect(s?.[0]?.geo).toMatchObject(expected);
    expect(s?.[0]?.geo?.feasible?.map((d) => [d.pop, d.radiusKm])).toEqual([
      ["fra", 4],
      ["sin", 6],
    ]);
  });

  it("turns a place another PoP saw as possible into impossible, never the other way", async () => {
    const far = { id: "far", location: { lat: -33.87, lon: 151.21 } };
    const fromFar = await placeHops([hop(1, "198.18.3.2", 0.1)], placeOf, far);
    expect(fromFar[0]?.geo?.plausible).toBe(true);
    const fromFra = await placeHops([hop(1, "198.18.3.2", 0.1)], placeOf, fra);
    const [after] = recheckPlaces([fromFar, fromFra]);
    expect(after?.[0]?.geo?.plausible).toBe(false);
  });

  it("leaves hops without places, and traces stored before places, as they are", () => {
    const old = [hop(1, "198.18.1.2"), hop(2, null)];
    expect(recheckPlaces([old])).toEqual([old]);
  });
});
