export { AsnDatabase } from "./asn-database";
export { enrichHops } from "./enrich-hops";
export { AsnDatabaseError, PrefixTableError } from "./errors";
export {
  type AsnLookupOptions,
  type AsnSources,
  type AsnTable,
  createAsnLookup,
  loadAsnLookup,
  sharedAsnLookup,
} from "./lookup";
export { loadPrefixTable, type PrefixEntry, PrefixTable, parsePrefixTable } from "./prefix-table";
