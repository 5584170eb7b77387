import type { FeasibleDisc, Hop, HopGeo } from "@lg/protocol";
import { checkPlace, discOf, type MeasuringPop } from "./light";
import type { Place, PlaceOf } from "./place";

/**
 * Whether a hop's best round-trip time belongs to its `host`: it answered, and no other address
 * answered at the same TTL (with several responders the best time may be another router's, which
 * would bound the host too tightly).
 */
export function boundsItsHost(hop: Hop): boolean {
  return hop.host !== null && hop.recv > 0 && hop.responders.every((r) => r.address === hop.host);
}

function geoOf(place: Place, discs: FeasibleDisc[]): HopGeo {
  return { ...place, ...checkPlace(place, discs), ...(discs.length > 0 ? { feasible: discs } : {}) };
}

/**
 * Returns the hops with `geo` set where `placeOf` knows the hop's address, each place checked against
 * the measuring PoP's best round-trip time when the PoP's location is known. Silent and unknown hops
 * come back unchanged; the input is not modified.
 *
 * @example
 * const placed = await placeHops(trace.hops, placeOf, { id: "fra", location: { lat: 50.11, lon: 8.68 } });
 */
export async function placeHops(hops: Hop[], placeOf: PlaceOf, pop?: MeasuringPop): Promise<Hop[]> {
  const places = new Map<string, Promise<Place | undefined>>();
  return Promise.all(
    hops.map(async (hop) => {
      if (hop.host === null) return hop;
      let place = places.get(hop.host);
      if (!place) {
        place = placeOf(hop.host);
        places.set(hop.host, place);
      }
      const found = await place;
      if (!found) return hop;
      const discs = pop && boundsItsHost(hop) ? [discOf(pop, hop.best)] : [];
      return { ...hop, geo: geoOf(found, discs) };
    }),
  );
}

/**
 * Checks every placed hop against every PoP that measured its address: the discs the traces carry
 * (one per PoP, the tightest when a PoP saw the address twice) are pooled by address, and each
 * place is judged against all of them. Used where several traces are shown together (a measurement
 * from many PoPs, both directions of a path test). Returns new hop lists in the same shape.
 */
export function recheckPlaces(traces: Hop[][]): Hop[][] {
  const discsByHost = new Map<string, Map<string, FeasibleDisc>>();
  for (const hops of traces)
    for (const hop of hops) {
      if (!hop.host || !hop.geo?.feasible) continue;
      let byPop = discsByHost.get(hop.host);
      if (!byPop) {
        byPop = new Map();
        discsByHost.set(hop.host, byPop);
      }
      for (const disc of hop.geo.feasible) {
        const known = byPop.get(disc.pop);
        if (!known || disc.radiusKm < known.radiusKm) byPop.set(disc.pop, disc);
      }
    }
  return traces.map((hops) =>
    hops.map((hop) => {
      if (!hop.host || !hop.geo) return hop;
      const { plausible: _p, reason: _r, feasible: _f, ...place } = hop.geo;
      return { ...hop, geo: geoOf(place, [...(discsByHost.get(hop.host)?.values() ?? [])]) };
    }),
  );
}
