import type { AsnOf } from "@lg/analysis";
import type { Hop } from "@lg/protocol";
import { AsnDatabase } from "./asn-database";
import { enrichHops } from "./enrich-hops";
import { loadIfAsked, sharedUntilFailure } from "./loading";
import { createAsnLookup } from "./lookup";
import { loadPrefixTable, PrefixTable } from "./prefix-table";

/** The coordinator's ASN settings (`LG_ASN_PREFIXES`, `LG_ASN_DATABASE`). */
export interface AsnSettings {
  /** The operator's prefix table file; unset: none. */
  prefixFile: string | undefined;
  /** Whether to load the public table (`@ip-location-db/asn`). */
  database: boolean;
}

/** Fills `asn`/`owner` on a finished trace's hops before it is diagnosed and stored. */
export type EnrichHops = (hops: Hop[]) => Promise<Hop[]>;

// The public table is the same for every coordinator in a process: read it once.
const loadPublicTable = sharedUntilFailure(() => AsnDatabase.load());

/**
 * Starts loading the lookup in the background (the public table takes about a second) and returns
 * the enrichment step for result ingest. A table that cannot be loaded is reported once through
 * `onError` and left out; enrichment never holds a result back for good.
 */
export function startAsnEnrichment(settings: AsnSettings, onError: (err: unknown) => void): EnrichHops {
  const lookup: Promise<AsnOf> = (async () => {
    const prefixes =
      (await loadIfAsked(settings.prefixFile, loadPrefixTable, onError)) ?? new PrefixTable([]);
    const database = await loadIfAsked(settings.database, loadPublicTable, onError);
    return createAsnLookup({ prefixes, ...(database ? { database } : {}) });
  })();
  return async (hops) => enrichHops(hops, await lookup);
}
