import { lineError, MTR_COLUMNS, traceFrom } from "./line-formats";
import { type HopColumns, numberIn, quoted, type UploadedTrace, UploadParseError } from "./types";

const WHAT = "the mtr report";

const HEADER = /^HOST:\s+(\S+)\s+(.*)$/;
const HOP = /^\s*(\d+)\.(?:\|--|\|`-)?\s+(?:AS\S+\s+)?(.*?)\s*$/;
const START = /^Start:\s*(.*?)\s*$/;

/**
 * mtr's `Start:` line: ISO 8601 with a zone since mtr 0.93 (`2026-12-02T12:16:10+0000`). Older mtr
 * writes the local time without a zone (`Thu Nov 24 10:00:00 2016`), which cannot be placed.
 */
export function reportStart(text: string): { at?: Date; note?: string } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d\d):?(\d\d)$/.exec(text);
  if (m) {
    const at = new Date(`${m[1]}${m[2]}:${m[3]}`);
    if (!Number.isNaN(at.getTime())) return { at };
  }
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(text)) return { at: new Date(text) };
  return { note: `the report's Start: line (${quoted(text, 40)}) has no time zone` };
}

/**
 * Reads mtr's report (`mtr -r`, `mtr -r -w`, with any `-o` fields, `-b`, `-z`): the `HOST:` line
 * names the columns, each hop line ends with one number per column, and in a wide report the lines
 * under a hop that hold only an address are its further responders (ECMP).
 *
 * @example
 *   parseMtrReportText("Start: 2026-12-02T12:16:13+0000\nHOST: pc  Loss%   Snt ...\n  1.|-- 192.0.2.1  0.0%  10 ...");
 */
export function parseMtrReportText(text: string): UploadedTrace {
  const lines = text.split(/\r?\n/);
  let columns: (keyof HopColumns | null)[] | undefined;
  let source: string | undefined;
  let start: { at?: Date; note?: string } = {};
  const rows: HopColumns[] = [];
  lines.forEach((line, i) => {
    const at = i + 1;
    if (!line.trim()) return;
    const s = START.exec(line);
    if (s) {
      start = reportStart(s[1] as string);
      return;
    }
    const h = HEADER.exec(line);
    if (h) {
      source = h[1];
      columns = (h[2] as string)
        .trim()
        .split(/\s+/)
        .map((title) => {
          if (!(title in MTR_COLUMNS))
            throw lineError(WHAT, at, `${quoted(title)} is not a column mtr writes`);
          return MTR_COLUMNS[title] ?? null;
        });
      if (!columns.includes("lossPct") || !columns.includes("sent"))
        throw lineError(WHAT, at, "the columns must include Loss% and Snt");
      return;
    }
    const hop = HOP.exec(line);
    if (hop) {
      if (!columns) throw lineError(WHAT, at, "a hop line before the HOST: line");
      const tokens = (hop[2] as string).split(/\s+/);
      const values = tokens.slice(-columns.length);
      const host = tokens.slice(0, -columns.length).join(" ");
      if (values.length < columns.length || !host)
        throw lineError(
          WHAT,
          at,
          `expected a host and ${columns.length} numbers, found ${quoted(line.trim())}`,
        );
      const row: Partial<HopColumns> = { ttl: Number(hop[1]), host };
      columns.forEach((field, k) => {
        const value = numberIn(values[k]);
        if (value === undefined)
          throw lineError(
            WHAT,
            at,
            `${quoted(values[k] ?? "")} is not a number (column ${k + 1} of ${columns?.length})`,
          );
        if (field) (row as Record<string, number>)[field] = value;
      });
      rows.push(row as HopColumns);
      return;
    }
    const last = rows.at(-1);
    const more = line.trim();
    // A wide report's further responder: only an address or name, indented under its hop.
    if (last && /^\s{2,}[A-Za-z0-9.:_-]+(?: \([0-9A-Fa-f.:]+\))?\s*$/.test(line)) {
      last.more = [...(last.more ?? []), more];
      return;
    }
    // MPLS label lines (mtr -e) are indented and bracketed.
    if (last && /^\s+\[.*\]\s*$/.test(line)) return;
    throw lineError(WHAT, at, `${quoted(more)} is not a line mtr writes in a report`);
  });
  if (!columns) throw new UploadParseError(`${WHAT} has no HOST: line (the one naming its columns)`);
  return traceFrom("mtr-report", WHAT, rows, { startedAt: start.at, timeNote: start.note, source });
}
