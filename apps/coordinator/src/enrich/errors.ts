import { TableLineError } from "@lg/geo";

/** A line of an operator prefix table that cannot be read; says which file and line. */
export class PrefixTableError extends TableLineError {
  override name = "PrefixTableError";
}

/** The ASN data files could not be found or read. */
export class AsnDatabaseError extends Error {
  override name = "AsnDatabaseError";
}
