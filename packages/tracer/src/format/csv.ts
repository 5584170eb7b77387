import type { TraceResult } from "../tracer";
import { cFixed, type Field, fieldsOf } from "./fields";
import { hostLabel, type NamingOptions } from "./naming";

export interface CsvOptions extends NamingOptions {
  fields?: string;
  /** First column; mtr writes MTR.<version>. */
  version?: string;
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The trace as `mtr --csv` prints it: a header line, then one line per hop with the start time
 * in Unix seconds, the target as given, the hop number and its host, and mtr's columns (times
 * and Loss% with two decimals; the blank column carries Drop, as in mtr).
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
      csvCell(result.target),
      String(hop.ttl),
      csvCell(hostLabel(hop, opts)),
    ];
    for (const f of fields) cells.push(f.decimal ? cFixed(f.value(hop), 2) : String(f.value(hop)));
    lines.push(cells.join(","));
  }
  return `${lines.join("\n")}\n`;
}
