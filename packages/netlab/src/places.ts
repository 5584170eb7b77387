import type { LabPlan } from "./plan";

/** A place for the lab: decimal degrees, a city and its two-letter country code. */
export interface LabPlace {
  lat: number;
  lon: number;
  city: string;
  country: string;
}

/** A host prefix of the reference lab and where it is (a line of an operator's place table). */
export interface LabPlacedPrefix extends LabPlace {
  cidr: string;
}

const FRANKFURT: LabPlace = { lat: 50.1109, lon: 8.6821, city: "Frankfurt", country: "DE" };
const LISBON: LabPlace = { lat: 38.7223, lon: -9.1393, city: "Lisbon", country: "PT" };
const SYDNEY: LabPlace = { lat: -33.8688, lon: 151.2093, city: "Sydney", country: "AU" };

/**
 * The one place of the lab that is deliberately wrong, as IP databases often are for router
 * interfaces: core2's address on link 3 (the one fra's traces to tclean see at hop 3) "is in Sydney",
 * though fra reaches it in microseconds. The check must catch it.
 */
export const LAB_WRONG_PLACE = { address: "198.18.3.2", node: "core2", place: SYDNEY } as const;

/**
 * Where the reference lab is, as far as light can tell. Every lab link is a veth pair on one
 * machine, so every node answers every other in microseconds: all of them sit in one metro area
 * (Frankfurt), PoPs included, whatever their names. Only the delay wire (dla ~ dlb, 25 ms each way)
 * puts distance in: dlb and tdelay behind it are 50 ms from everything, which allows up to 5,000 km;
 * they are placed in Lisbon (~1,900 km).
 */
export function labPlaceOf(node: string): LabPlace {
  return node === "dlb" || node === "tdelay" ? LISBON : FRANKFURT;
}

/** Where a lab PoP's agent says it is (`LG_LOCATION`, `LG_CITY`). */
export function labPopLocation(node: string): { location: string; city: string } {
  const p = labPlaceOf(node);
  return { location: `${p.lat},${p.lon}`, city: p.city };
}

/**
 * One entry per interface and loopback address of the lab: its node's place, except
 * {@link LAB_WRONG_PLACE}. Lines for a place-table file (`LG_GEO_PREFIXES`):
 * `${cidr},${lat},${lon},${city},${country}`.
 */
export function labPlaces(plan: LabPlan): LabPlacedPrefix[] {
  const out: LabPlacedPrefix[] = [];
  const add = (address: string, family: 4 | 6, node: string) => {
    const place = address === LAB_WRONG_PLACE.address ? LAB_WRONG_PLACE.place : labPlaceOf(node);
    out.push({ cidr: `${address}/${family === 4 ? 32 : 128}`, ...place });
  };
  for (const node of plan.nodes.values()) {
    for (const iface of node.interfaces) {
      if (iface.peer === "host") continue;
      if (iface.v4) add(iface.v4.split("/")[0] as string, 4, node.name);
      if (iface.v6) add(iface.v6.split("/")[0] as string, 6, node.name);
    }
    for (const lo of node.loopback) add(lo.split("/")[0] as string, lo.includes(":") ? 6 : 4, node.name);
  }
  return out;
}

/** The lab's places as the lines of a place-table file. */
export function labPlaceTable(plan: LabPlan): string[] {
  return labPlaces(plan).map((p) => `${p.cidr},${p.lat},${p.lon},${p.city},${p.country}`);
}
