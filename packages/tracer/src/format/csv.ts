import type { TraceResult } from "../tracer";
import { cFixed, type Field, fieldsOf } from "./fields";
import { hostLabel, type NamingOptions } from "./naming";

export interface CsvOptions extends NamingOptions {
  fields?: string;
  /** First column; mtr writes MTR.<version>. */
  version?: string;
}

/**
 * Leading characters a spreadsheet reads as the start of a formula (`=`, `+`, `-`, `@`, tab and
 * carriage return): OWASP's list for CSV injection.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A cell of text (a name, a host, a PoP id): quoted when it holds a quote, comma or line break,
 * and, when it starts like a formula, prefixed with `'` inside quotes so a spreadsheet shows it as
 * text instead of running it (a reverse-DNS name is whatever the owner of an address range
 * writes). Numeric columns are written as numbers and never pass through here: `-1.5` stays data.
 *
 * @example
 *   csvText("=1+1"); // the cell "'=1+1" (quoted)
 *   csvText("2001:db8::1"); // unchanged
 */
export function csvText(text: string): string {
  if (FORMULA_START.test(text)) return `"'${text.replaceAll('"', '""')}"`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The trace as `mtr --csv` prints it: a header line, then one line per hop with the start time
 * in Unix seconds, the target as given, the hop number and its host, and mtr's columns (times
 * and Loss% with two decimals; the blank column carries Drop, as in mtr). The target and the host
 * are text cells ({@link csvText}): a name that starts like a formula cannot run in a spreadsheet.
 */
export function formatCsv(result: TraceResult, opts: CsvOptions = {}): string {
  const fields: Field[] = fieldsOf(opts.fields);
  const version = opts.version ?? "LG.0.1.0";
  const start = Math.floor(new Date(result.startedAt).getTime() / 1000);
  const lines = [`Mtr_Version,Start_Time,Status,Host,Hop,Ip,${fields.map((f) => f.title).join(",")},`];
  for (const hop of result.hops) {
    const cells = [
      version,
      String(start),
      "OK",
      csvText(result.target),
      String(hop.ttl),
      csvText(hostLabel(hop, opts)),
    ];
    for (const f of fields)
      cells.push(f.text ? csvText(f.text(hop)) : f.decimal ? cFixed(f.value(hop), 2) : String(f.value(hop)));
    lines.push(cells.join(","));
  }
  return `${lines.join("\n")}\n`;
}
