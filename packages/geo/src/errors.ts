/** A line of an operator's place table that cannot be read; says which file and line. */
export class PlaceTableError extends Error {
  override name = "PlaceTableError";
  constructor(
    message: string,
    readonly source: string,
    readonly line: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}:${line}: ${message}`, options);
  }
}

/** The offline place database could not be found or read. */
export class GeoDatabaseError extends Error {
  override name = "GeoDatabaseError";
}
