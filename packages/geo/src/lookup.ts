import { addressRange } from "@lg/protocol";
import type { Place, PlaceOf } from "./place";

/** Anything that knows the place of some addresses (a {@link PlaceTable}). */
export interface PlaceTableLike {
  lookup(address: string): Place | undefined;
}

/** Anything that knows the place of public addresses, maybe after reading a file (a {@link GeoDatabase}). */
export interface PlaceDatabaseLike {
  lookup(address: string): Promise<Place | undefined>;
}

/** Where places come from, in order of precedence. */
export interface PlaceSources {
  /** The operator's table (`LG_GEO_PREFIXES`): consulted first, for any address. */
  table?: PlaceTableLike;
  /** The offline public database: only for ordinary public (unicast) addresses. */
  database?: PlaceDatabaseLike;
}

/**
 * One lookup over the operator's table and the public database: the table wins, and private,
 * reserved, benchmarking, documentation and other special addresses never reach the database (they
 * mean nothing outside one site, and a database place for them would be noise).
 *
 * @example
 * const placeOf = createPlaceLookup({ table: await loadPlaceTable(file), database: await GeoDatabase.open() });
 * await placeOf("198.18.1.2"); // from the table; 8.8.8.8 from the database
 */
export function createPlaceLookup(sources: PlaceSources): PlaceOf {
  return async (address) => {
    const own = sources.table?.lookup(address);
    if (own) return own;
    if (!sources.database || !isPublicAddress(address)) return undefined;
    return sources.database.lookup(address);
  };
}

/** True for ordinary public unicast addresses: the only ones a public database may be asked about. */
export function isPublicAddress(address: string): boolean {
  try {
    return addressRange(address) === "unicast";
  } catch {
    return false;
  }
}
