/** A line of an operator prefix table that cannot be read; says which file and line. */
export class PrefixTableError extends Error {
  override name = "PrefixTableError";
  constructor(
    message: string,
    readonly source: string,
    readonly line: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}:${line}: ${message}`, options);
  }
}

/** The ASN data files could not be found or read. */
export class AsnDatabaseError extends Error {
  override name = "AsnDatabaseError";
}
