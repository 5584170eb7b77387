import type { Hop } from "@lg/protocol";
import {
  checkedHops,
  type HopColumns,
  hopFrom,
  numberIn,
  quoted,
  type UploadedTrace,
  UploadParseError,
} from "./types";

/** mtr's column titles (its `-o` letters) and the hop field each one fills. */
const COLUMNS: Record<string, keyof HopColumns | null> = {
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
          if (!(title in COLUMNS))
            throw new UploadParseError(
              `line ${at} of the mtr report: ${quoted(title)} is not a column mtr writes`,
              at,
            );
          return COLUMNS[title] ?? null;
        });
      if (!columns.includes("lossPct") || !columns.includes("sent"))
        throw new UploadParseError(
          `line ${at} of the mtr report: the columns must include Loss% and Snt`,
          at,
        );
      return;
    }
    const hop = HOP.exec(line);
    if (hop) {
      if (!columns)
        throw new UploadParseError(`line ${at} of the mtr report: a hop line before the HOST: line`, at);
      const tokens = (hop[2] as string).split(/\s+/);
      const values = tokens.slice(-columns.length);
      const host = tokens.slice(0, -columns.length).join(" ");
      if (values.length < columns.length || !host)
        throw new UploadParseError(
          `line ${at} of the mtr report: expected a host and ${columns.length} numbers, found ${quoted(line.trim())}`,
          at,
        );
      const row: Partial<HopColumns> = { ttl: Number(hop[1]), host };
      columns.forEach((field, k) => {
        const value = numberIn(values[k]);
        if (value === undefined)
          throw new UploadParseError(
            `line ${at} of the mtr report: ${quoted(values[k] ?? "")} is not a number (column ${k + 1} of ${columns?.length})`,
            at,
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
    throw new UploadParseError(
      `line ${at} of the mtr report: ${quoted(more)} is not a line mtr writes in a report`,
      at,
    );
  });
  if (!columns) throw new UploadParseError("the mtr report has no HOST: line (the one naming its columns)");
  const hops: Hop[] = checkedHops(rows.map(hopFrom), "the mtr report");
  return {
    format: "mtr-report",
    ...(start.at ? { startedAt: start.at } : {}),
    ...(start.note ? { timeNote: start.note } : {}),
    ...(source ? { source } : {}),
    hops,
  };
}
