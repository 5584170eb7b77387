import { z } from "zod";

/**
 * Places: where a PoP is (announced by its agent) and where a hop is claimed to be (an operator's
 * table or an offline IP database), with the speed-of-light check of that claim. The lookups and
 * the check live in `@lg/geo`; these are only the shapes that cross process boundaries.
 */

export const Latitude = z.number().min(-90).max(90);
export const Longitude = z.number().min(-180).max(180);

/** Where a PoP is: `LG_LOCATION="lat,lon"` and the optional `LG_CITY` of its agent. */
export const PopLocation = z.object({
  lat: Latitude,
  lon: Longitude,
  city: z.string().min(1).max(100).optional(),
});
export type PopLocation = z.infer<typeof PopLocation>;

/**
 * One PoP's bound on a hop: the hop is at most `radiusKm` from (`lat`, `lon`), because the PoP's best
 * round-trip time to it was `rtt` ms and light in fibre covers about 200 km per ms one way.
 */
export const FeasibleDisc = z.object({
  lat: Latitude,
  lon: Longitude,
  radiusKm: z.number().nonnegative(),
  /** The PoP (agent id) whose round-trip time makes the disc. */
  pop: z.string(),
  /** That PoP's best round-trip time to the hop, ms. */
  rtt: z.number().nonnegative(),
  /** The PoP's city, when its agent announced one. */
  city: z.string().optional(),
});
export type FeasibleDisc = z.infer<typeof FeasibleDisc>;

/** Where a place came from: the operator's table (`LG_GEO_PREFIXES`) or the offline public database. */
export const PlaceSource = z.enum(["table", "database"]);
export type PlaceSource = z.infer<typeof PlaceSource>;

/**
 * A hop's place and whether the round-trip times allow it. `plausible: false` keeps the place but
 * says, in `reason`, which PoP's time rules it out; `feasible` lists every PoP's disc (their
 * intersection is where the hop can be).
 */
export const HopGeo = z
  .object({
    lat: Latitude,
    lon: Longitude,
    city: z.string().optional(),
    /** ISO 3166-1 alpha-2 country code. */
    country: z.string().optional(),
    source: PlaceSource,
    /** False when some PoP's best round-trip time puts the hop too close to it for this place. */
    plausible: z.boolean(),
    /** Why the place is impossible, in words (present when `plausible` is false). */
    reason: z.string().optional(),
    feasible: z.array(FeasibleDisc).optional(),
  })
  .describe(
    "Where the hop is claimed to be (source: the operator's table or the offline database) and whether the PoPs' best round-trip times allow it: a best RTT of r ms puts a hop within r/2 x 200 km of that PoP. feasible: each PoP's disc.",
  );
export type HopGeo = z.infer<typeof HopGeo>;

/** A location has a bad form; the message says what is wrong. */
export class LocationError extends Error {
  override name = "LocationError";
}

/**
 * Reads `"lat,lon"` (decimal degrees, e.g. `"50.11,8.68"`) as `LG_LOCATION` gives it.
 * Throws {@link LocationError} naming what is wrong.
 *
 * @example parseLatLon("50.11, 8.68") // { lat: 50.11, lon: 8.68 }
 */
export function parseLatLon(text: string): { lat: number; lon: number } {
  const parts = text.split(",").map((s) => s.trim());
  const [latText = "", lonText = ""] = parts;
  const number = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;
  if (parts.length !== 2 || !number.test(latText) || !number.test(lonText))
    throw new LocationError(`"${text}" is not "lat,lon" in decimal degrees (like 50.11,8.68)`);
  const lat = Number(latText);
  const lon = Number(lonText);
  if (!Latitude.safeParse(lat).success) throw new LocationError(`latitude ${latText} is not within -90..90`);
  if (!Longitude.safeParse(lon).success)
    throw new LocationError(`longitude ${lonText} is not within -180..180`);
  return { lat, lon };
}
