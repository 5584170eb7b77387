import { lineError, MTR_COLUMNS, traceFrom } from "./line-formats";
import { type HopColumns, numberIn, quoted, type UploadedTrace } from "./types";

const WHAT = "mtr's CSV";

/** mtr's CSV titles and the hop field each fills (`Ip` is the responder, `Hop` the TTL). */
const FIELDS = Object.entries({ Hop: "ttl", ...MTR_COLUMNS }).filter(
  (entry): entry is [string, keyof HopColumns] => entry[1] !== null,
);

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
    if (index(needed) < 0) throw lineError(WHAT, 1, `no ${needed} column`);
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
      throw lineError(WHAT, at, `${quoted(line)} does not start with mtr's version (MTR.…)`);
    const cell = (title: string) => cells[index(title)]?.trim();
    const start = numberIn(cell("Start_Time"));
    if (start === undefined)
      throw lineError(WHAT, at, `Start_Time ${quoted(cell("Start_Time") ?? "")} is not Unix seconds`);
    startedAt ??= new Date(start * 1000);
    const host = cell("Host") ?? "";
    if (destination !== undefined && host !== destination)
      throw lineError(
        WHAT,
        at,
        `traces ${quoted(host)}, the lines above ${quoted(destination)}; upload one trace`,
      );
    destination = host;
    const row: Partial<HopColumns> = { host: cell("Ip") ?? "" };
    for (const [title, field] of FIELDS) {
      if (index(title) < 0) continue;
      const value = numberIn(cell(title));
      if (value === undefined)
        throw lineError(WHAT, at, `${title} ${quoted(cell(title) ?? "")} is not a number`);
      (row as Record<string, number>)[field] = value;
    }
    rows.push(row as HopColumns);
  }
  return traceFrom("mtr-csv", WHAT, rows, { startedAt, destination });
}
