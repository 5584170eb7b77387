import {
  createPlaceLookup,
  GeoDatabase,
  loadPlaceTable,
  type PlaceDatabaseLike,
  PlaceTable,
  PlaceTableError,
  placeHops,
  placeLabel,
} from "@lg/geo";
import type { Hop, PopLocation } from "@lg/protocol";
import { CliError } from "./errors";
import { USAGE } from "./options";

/** What `lg trace --geo` places a local trace with (`LG_GEO_PREFIXES`, `LG_GEO_DATABASE`, `LG_LOCATION`). */
export interface LocalGeoSettings {
  prefixFile: string | undefined;
  database: boolean;
  /** Where this machine is: its round-trip times then bound where each hop can be. */
  location: PopLocation | undefined;
}

/**
 * Places a local trace's hops from the operator's table and the offline database, each checked
 * against this machine's round-trip times when `LG_LOCATION` says where it is. A bad table is a
 * usage error naming file and line; a database that cannot be read leaves hops without its places.
 */
export async function placeLocalHops(hops: Hop[], settings: LocalGeoSettings, self: string): Promise<Hop[]> {
  let table = new PlaceTable([]);
  if (settings.prefixFile) {
    try {
      table = await loadPlaceTable(settings.prefixFile);
    } catch (err) {
      if (err instanceof PlaceTableError) throw new CliError(`LG_GEO_PREFIXES: ${err.message}`, USAGE);
      throw new CliError(
        `LG_GEO_PREFIXES: cannot read ${settings.prefixFile}: ${(err as Error).message}`,
        USAGE,
      );
    }
  }
  let database: PlaceDatabaseLike | undefined;
  if (settings.database) {
    const opened = await GeoDatabase.open().catch((err: unknown) => {
      process.stderr.write(`lg: no places from the IP database: ${(err as Error).message}\n`);
      return undefined;
    });
    if (opened) database = opened;
  }
  const placeOf = createPlaceLookup({ table, ...(database ? { database } : {}) });
  return placeHops(hops, placeOf, settings.location ? { id: self, location: settings.location } : undefined);
}

/**
 * The places of a trace's hops, one line per hop like mtr -y adds a field per hop: hop, address,
 * city and country, who says so, and what the round-trip times make of it.
 *
 * @example
 *   Places (--geo; a best RTT of r ms allows at most r/2 x 200 km):
 *     1. 198.18.1.2   Frankfurt, DE   table      possible (within 3 km of fra)
 *     3. 198.18.3.2   Sydney, AU      table      RULED OUT: 0.043 ms from fra (Frankfurt) allows at most 4.3 km; the table says Sydney
 */
export function formatPlaces(hops: Hop[], indent = ""): string {
  const rows = hops
    .filter((h) => h.host !== null)
    .map((h) => {
      const geo = h.geo;
      const check = !geo
        ? ""
        : !geo.plausible
          ? `RULED OUT: ${geo.reason ?? ""}`
          : geo.feasible?.length
            ? `possible (within ${geo.feasible.map((d) => `${Math.round(d.radiusKm).toLocaleString("en-US")} km of ${d.pop}`).join(", ")})`
            : "";
      return [`${h.ttl}.`, h.host ?? "", geo ? placeLabel(geo) : "-", geo?.source ?? "", check];
    });
  if (rows.length === 0) return "";
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const lines = rows.map((r) =>
    `${indent}  ${(r[0] as string).padStart(widths[0] as number)} ${r
      .slice(1, 4)
      .map((c, i) => c.padEnd(widths[i + 1] as number))
      .join("  ")}  ${r[4]}`.trimEnd(),
  );
  return `${indent}Places (--geo; a best RTT of r ms allows at most r/2 x 200 km):\n${lines.join("\n")}\n`;
}
