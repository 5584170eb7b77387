/**
 * A line of an operator's table file (places here, AS numbers in the coordinator's) that cannot be
 * read; says which file and line.
 */
export class TableLineError extends Error {
  override name = "TableLineError";
  constructor(
    message: string,
    readonly source: string,
    readonly line: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}:${line}: ${message}`, options);
  }
}

/** A line of an operator's place table that cannot be read; says which file and line. */
export class PlaceTableError extends TableLineError {
  override name = "PlaceTableError";
}

/** The offline place database could not be found or read. */
export class GeoDatabaseError extends Error {
  override name = "GeoDatabaseError";
}
