import {
  checkedHops,
  type HopColumns,
  hopFrom,
  numberIn,
  quoted,
  type UploadedTrace,
  UploadParseError,
} from "./types";

/** mtr's CSV titles and the hop field each fills (`Ip` is the responder, `Hop` the TTL). */
const FIELDS: Record<string, keyof HopColumns> = {
  Hop: "ttl",
  "Loss%": "lossPct",
  Snt: "sent",
  Rcv: "recv",
  Last: "last",
  Avg: "avg",
  Best: "best",
  Wrst: "worst",
  StDev: "stdev",
  Jttr: "jitter",
  Javg: "jitterAvg",
  Jmax: "jitterMax",
};

/** mtr 0.95's header with its default columns, for an export whose header line was cut off. */
const DEFAULT_HEADER = "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,";

/**
 * Reads `mtr -C` (CSV): a header line naming the columns, then one line per hop, each with the
 * run's `Start_Time` (Unix seconds) and the traced `Host`.
 */
export function parseMtrCsvText(text: string): UploadedTrace {
  const lines = text.split(/\r?\n/);
  const headed = /^Mtr_Version,/i.test(lines[0] ?? "");
  const titles = (headed ? (lines[0] as string) : DEFAULT_HEADER).split(",").map((t) => t.trim());
  const index = (title: string) => titles.indexOf(title);
  for (const needed of ["Start_Time", "Host", "Hop", "Ip", "Loss%", "Snt"]) {
    if (index(needed) < 0) throw new UploadParseError(`line 1 of mtr's CSV: no ${needed} column`, 1);
  }
  let startedAt: Date | undefined;
  let destination: string | undefined;
  const rows: HopColumns[] = [];
  for (let i = headed ? 1 : 0; i < lines.length; i++) {
    const at = i + 1;
    const line = (lines[i] as string).trim();
    if (!line) continue;
    const cells = line.split(",");
    if (!/^MTR\./i.test(cells[0] ?? ""))
      throw new UploadParseError(
        `line ${at} of mtr's CSV: ${quoted(line)} does not start with mtr's version (MTR.…)`,
        at,
      );
    const cell = (title: string) => cells[index(title)]?.trim();
    const start = numberIn(cell("Start_Time"));
    if (start === undefined)
      throw new UploadParseError(
        `line ${at} of mtr's CSV: Start_Time ${quoted(cell("Start_Time") ?? "")} is not Unix seconds`,
        at,
      );
    startedAt ??= new Date(start * 1000);
    const host = cell("Host") ?? "";
    if (destination !== undefined && host !== destination)
      throw new UploadParseError(
        `line ${at} of mtr's CSV: traces ${quoted(host)}, the lines above ${quoted(destination)}; upload one trace`,
        at,
      );
    destination = host;
    const row: Partial<HopColumns> = { host: cell("Ip") ?? "" };
    for (const [title, field] of Object.entries(FIELDS)) {
      if (index(title) < 0) continue;
      const value = numberIn(cell(title));
      if (value === undefined)
        throw new UploadParseError(
          `line ${at} of mtr's CSV: ${title} ${quoted(cell(title) ?? "")} is not a number`,
          at,
        );
      (row as Record<string, number>)[field] = value;
    }
    rows.push(row as HopColumns);
  }
  return {
    format: "mtr-csv",
    ...(startedAt ? { startedAt } : {}),
    ...(destination ? { destination } : {}),
    hops: checkedHops(rows.map(hopFrom), "mtr's CSV"),
  };
}
