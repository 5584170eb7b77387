import type { AsnOf } from "@lg/analysis";
import type { Hop } from "@lg/protocol";
import { AsnDatabase } from "./asn-database";
import { enrichHops } from "./enrich-hops";
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
let publicTable: Promise<AsnDatabase> | undefined;
function loadPublicTable(): Promise<AsnDatabase> {
  publicTable ??= AsnDatabase.load().catch((err: unknown) => {
    publicTable = undefined;
    throw err;
  });
  return publicTable;
}

/**
 * Starts loading the lookup in the background (the public table takes about a second) and returns
 * the enrichment step for result ingest. A table that cannot be loaded is reported once through
 * `onError` and left out; enrichment never holds a result back for good.
 */
export function startAsnEnrichment(settings: AsnSettings, onError: (err: unknown) => void): EnrichHops {
  const lookup: Promise<AsnOf> = (async () => {
    const prefixes = settings.prefixFile
      ? await loadPrefixTable(settings.prefixFile).catch((err: unknown) => {
          onError(err);
          return new PrefixTable([]);
        })
      : new PrefixTable([]);
    const database = settings.database
      ? await loadPublicTable().catch((err: unknown) => {
          onError(err);
          return undefined;
        })
      : undefined;
    return createAsnLookup({ prefixes, ...(database ? { database } : {}) });
  })();
  return async (hops) => enrichHops(hops, await lookup);
}
