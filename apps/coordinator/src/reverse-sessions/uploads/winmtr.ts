import { lineError, traceFrom } from "./line-formats";
import { type HopColumns, numberIn, quoted, type UploadedTrace, UploadParseError } from "./types";

/*
 * WinMTR (0.92, Appnor's, the one support desks point to) exports a finished trace as text or HTML
 * from its "Export TEXT" / "Export HTML" buttons (and copies the same to the clipboard): one row
 * per hop in TTL order with the host (its DNS name, or its address when DNS is off or fails; "No
 * response from host" for a silent hop), then Loss %, Sent, Recv, Best, Avrg, Wrst and Last — all
 * whole numbers, times in ms. Neither format carries a time, the traced address or the TTL.
 */

const TEXT = "the WinMTR export";
const HTML = "the WinMTR HTML export";

/** The columns in WinMTR's order after the host, and the hop field each fills. */
const WINMTR_COLUMNS = ["lossPct", "sent", "recv", "best", "avg", "worst", "last"] as const;

/** A text export's hop row: `|<host right-aligned> - <loss> | <sent> | … | <last> |`. */
const TEXT_ROW =
  /^\|\s*(.*?)\s+-\s+(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*$/;

function rowOf(ttl: number, host: string, numbers: number[]): HopColumns {
  const row: HopColumns = { ttl, host, lossPct: 0, sent: 0 };
  WINMTR_COLUMNS.forEach((field, k) => {
    row[field] = numbers[k] as number;
  });
  return row;
}

/** Reads WinMTR's text export (or the same text copied with "Copy Text to clipboard"). */
export function parseWinMtrText(text: string): UploadedTrace {
  const rows: HopColumns[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const at = i + 1;
    const t = line.trim();
    if (!t) return;
    const m = TEXT_ROW.exec(t);
    if (m) {
      rows.push(rowOf(rows.length + 1, m[1] as string, m.slice(2, 9).map(Number)));
      return;
    }
    // The frame, the title, the column header and the closing "WinMTR v0.92 …" line.
    if (
      /^\|[-_|]+\|$/.test(t) ||
      /^\|\s*WinMTR statistics\s*\|$/i.test(t) ||
      /^\|\s*Host\s+-\s+%\s*\|/.test(t)
    )
      return;
    if (/^WinMTR\b/i.test(t) && rows.length > 0) return;
    throw lineError(TEXT, at, `${quoted(t)} is not a row WinMTR writes`);
  });
  return traceFrom("winmtr-text", TEXT, rows);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };
const cellText = (html: string) =>
  html
    .replace(/<[^>]*>/g, "")
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e] ?? "")
    .trim();

/** Reads WinMTR's HTML export: a table whose first row names the columns (Host, %, Sent, Recv, Best, Avrg, Wrst, Last). */
export function parseWinMtrHtml(text: string): UploadedTrace {
  const lineAt = (offset: number) => text.slice(0, offset).split("\n").length;
  const rows: HopColumns[] = [];
  let header = false;
  for (const m of text.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/gi)) {
    const at = lineAt(m.index ?? 0);
    const cells = [...(m[1] as string).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/gi)].map((c) =>
      cellText(c[1] as string),
    );
    if (!header) {
      if (cells[0]?.toLowerCase() !== "host" || cells.length !== 8)
        throw lineError(
          HTML,
          at,
          `the first row should name Host, %, Sent, Recv, Best, Avrg, Wrst, Last; it has ${quoted(cells.join(", "))}`,
        );
      header = true;
      continue;
    }
    const numbers = cells.slice(1).map((c) => numberIn(c));
    if (cells.length !== 8 || numbers.some((n) => n === undefined))
      throw lineError(
        HTML,
        at,
        `a row of a host and 7 numbers was expected, found ${quoted(cells.join(", "))}`,
      );
    rows.push(rowOf(rows.length + 1, cells[0] as string, numbers as number[]));
  }
  if (!header) throw new UploadParseError(`${HTML} has no table rows (<tr>)`);
  return traceFrom("winmtr-html", HTML, rows);
}
