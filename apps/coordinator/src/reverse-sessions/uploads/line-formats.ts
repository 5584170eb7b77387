import {
  checkedHops,
  type HopColumns,
  hopFrom,
  type UploadedTrace,
  type UploadFormat,
  UploadParseError,
} from "./types";

/*
 * What the parsers share: mtr's column titles, the error that names a line of the upload, and the
 * trace built from the rows a parser read. `what` names the format in messages ("the mtr report",
 * "mtr's XML"), the same words in every error of one format.
 */

/**
 * mtr's column titles (the headings of its `-o` letters) and the hop field each fills; null: a
 * column the API's hop has no field for. The report and the CSV write these titles, the XML the
 * same without `%`.
 */
export const MTR_COLUMNS: Record<string, keyof HopColumns | null> = {
  "Loss%": "lossPct",
  Snt: "sent",
  Rcv: "recv",
  Drop: null,
  Last: "last",
  Avg: "avg",
  Best: "best",
  Wrst: "worst",
  StDev: "stdev",
  Gmean: null,
  Jttr: "jitter",
  Javg: "jitterAvg",
  Jmax: "jitterMax",
  Jint: null,
};

/** An error at line `at` (1-based) of the upload: `line 3 of mtr's XML: …`. */
export const lineError = (what: string, at: number, message: string) =>
  new UploadParseError(`line ${at} of ${what}: ${message}`, at);

/** What a format says about the run besides its hops; an absent or empty one is left out. */
type RunFacts = Partial<Pick<UploadedTrace, "startedAt" | "timeNote" | "source" | "destination">>;

/** The uploaded trace from the rows a parser read, its hops checked (at least one, rising, not too many). */
export function traceFrom(
  format: UploadFormat,
  what: string,
  rows: HopColumns[],
  facts: RunFacts = {},
): UploadedTrace {
  const known = Object.fromEntries(Object.entries(facts).filter(([, value]) => value)) as RunFacts;
  return { format, ...known, hops: checkedHops(rows.map(hopFrom), what) };
}
