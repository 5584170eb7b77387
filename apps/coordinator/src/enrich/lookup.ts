import type { AsnInfo, AsnOf } from "@lg/analysis";
import { isPrivateAddress } from "@lg/analysis";
import { AsnDatabase } from "./asn-database";
import { loadPrefixTable, type PrefixEntry, PrefixTable } from "./prefix-table";

/** Anything that knows the origin AS of some addresses (a {@link PrefixTable}, an {@link AsnDatabase}). */
export interface AsnTable {
  lookup(address: string): AsnInfo | undefined;
}

/** Where the origin AS of an address comes from, in order of precedence. */
export interface AsnSources {
  /** The operator's prefix table (private, lab and internal ranges); consulted first. */
  prefixes?: AsnTable;
  /** The public table; consulted for public addresses the operator's table does not cover. */
  database?: AsnTable;
}

/**
 * Combines the operator's table and the public table into one lookup: the operator's table wins, and
 * private addresses never reach the public table (they mean nothing outside one site).
 */
export function createAsnLookup(sources: AsnSources): AsnOf {
  return (address: string): AsnInfo | undefined => {
    const own = sources.prefixes?.lookup(address);
    if (own) return own;
    if (isPrivateAddress(address)) return undefined;
    return sources.database?.lookup(address);
  };
}

/** Options of {@link loadAsnLookup}. */
export interface AsnLookupOptions {
  /** Path of the operator's prefix table file (see README: `LG_ASN_PREFIXES`). */
  prefixFile?: string;
  /** Prefixes given directly (tests, the demo lab); combined with the file's. */
  prefixes?: PrefixEntry[];
  /** Skip the public table (e.g. a lab with only its own ranges). */
  withoutDatabase?: boolean;
  /** Directory of the public CSV files; default: the installed `@ip-location-db/asn`. */
  databaseDir?: string;
}

/**
 * Builds the lookup the coordinator uses: reads the operator's table and the public table once and
 * returns a synchronous {@link AsnOf}. Call it once at start-up (or through {@link sharedAsnLookup}).
 */
export async function loadAsnLookup(options: AsnLookupOptions = {}): Promise<AsnOf> {
  const fromFile = options.prefixFile ? await loadPrefixTable(options.prefixFile) : undefined;
  const prefixes = new PrefixTable([...(fromFile?.entries ?? []), ...(options.prefixes ?? [])]);
  const database = options.withoutDatabase ? undefined : await AsnDatabase.load(options.databaseDir);
  return createAsnLookup({ prefixes, ...(database ? { database } : {}) });
}

let shared: Promise<AsnOf> | undefined;

/**
 * The process-wide lookup, loaded on first use and reused afterwards (the public table costs about a
 * second and ~60 MB, so it is read once, and only when something needs it). A failed load is not
 * cached, so the next call tries again.
 */
export function sharedAsnLookup(options: AsnLookupOptions = {}): Promise<AsnOf> {
  if (!shared) {
    shared = loadAsnLookup(options).catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
  }
  return shared;
}
