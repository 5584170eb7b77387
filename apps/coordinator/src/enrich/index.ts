export { AsnDatabase } from "./asn-database";
export { type AsnSettings, type EnrichHops, startAsnEnrichment } from "./coordinator-lookup";
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
export { type GeoSettings, type PlaceTraceHops, startPlaceEnrichment } from "./places";
export { loadPrefixTable, type PrefixEntry, PrefixTable, parsePrefixTable } from "./prefix-table";
