import type { FeasibleDisc, PlaceSource, PopLocation } from "@lg/protocol";
import { type Place, placeName } from "./place";

/** Mean Earth radius (IUGG), km: the sphere the great-circle distance is measured on. */
export const EARTH_RADIUS_KM = 6371.0088;

/**
 * How far light gets in optical fibre per millisecond, one way: c / 1.5 (the glass's refractive
 * index) is about 200 km/ms. A best round-trip time of r ms is r/2 ms each way, so the hop is at most
 * r/2 x 200 = 100 r km from the PoP, along the fibre; the great circle is never longer than that.
 */
export const FIBRE_KM_PER_MS = 200;

/**
 * Slack added to every bound before a place is called impossible. A database or table place is a
 * city's point standing for a metro area, and a PoP's `LG_LOCATION` is one point of its site: two
 * places in the same metro can be tens of km apart though the hop is next door. Without it every
 * router a few km from a city's centre would be "ruled out" by a sub-millisecond RTT.
 */
export const PLACE_SLACK_KM = 50;

/** Great-circle distance between two points, km (haversine formula on a sphere of {@link EARTH_RADIUS_KM}). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The farthest a hop can be from a PoP whose best round-trip time to it is `rttMs`: r/2 x 200 km. */
export function reachKm(rttMs: number): number {
  return (Math.max(0, rttMs) / 2) * FIBRE_KM_PER_MS;
}

/** A PoP that measured a hop: its id and where it is. */
export interface MeasuringPop {
  id: string;
  location: PopLocation;
}

/** The disc a PoP's best round-trip time puts a hop in. */
export function discOf(pop: MeasuringPop, rttMs: number): FeasibleDisc {
  return {
    lat: pop.location.lat,
    lon: pop.location.lon,
    radiusKm: round(reachKm(rttMs), 3),
    pop: pop.id,
    rtt: round(rttMs, 3),
    ...(pop.location.city ? { city: pop.location.city } : {}),
  };
}

/** The verdict on a place: `reason` says which PoPs rule it out, in words. */
export interface PlaceCheck {
  plausible: boolean;
  reason?: string;
}

/**
 * Checks a place against every disc: it is plausible when it lies within each disc's radius (plus
 * {@link PLACE_SLACK_KM}). Otherwise the reason names each PoP that rules it out, e.g. "0.1 ms from fra
 * (Frankfurt) allows at most 10 km; the table says Sydney".
 */
export function checkPlace(place: Place, discs: readonly FeasibleDisc[]): PlaceCheck {
  const against = discs.filter((d) => distanceKm(place, d) > d.radiusKm + PLACE_SLACK_KM);
  if (against.length === 0) return { plausible: true };
  const bounds = against.map(
    (d) => `${msText(d.rtt)} ms from ${popText(d)} allows at most ${kmText(d.radiusKm)} km`,
  );
  return {
    plausible: false,
    reason: `${bounds.join(", ")}; ${SOURCE_WORDS[place.source]} says ${placeName(place)}`,
  };
}

const SOURCE_WORDS: Record<PlaceSource, string> = { table: "the table", database: "the database" };

/** "fra (Frankfurt)", or "fra" for a PoP without a city. */
function popText(d: Pick<FeasibleDisc, "pop" | "city">): string {
  return d.city ? `${d.pop} (${d.city})` : d.pop;
}

/** Round-trip times as precise as they are small: 50.1, 2.35, 0.043. */
export function msText(ms: number): string {
  const digits = ms >= 10 ? 1 : ms >= 1 ? 2 : 3;
  return String(Number(ms.toFixed(digits)));
}

/** Distances: 4.3, 10, 5,010. */
export function kmText(km: number): string {
  if (km < 10) return String(Number(km.toFixed(1)));
  return Math.round(km).toLocaleString("en-US");
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
