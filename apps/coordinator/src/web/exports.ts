import type { MeasurementView, TraceView } from "@lg/protocol";
import { csvText, formatCsv, formatReport, type TraceResult } from "@lg/tracer";
import { traceSource } from "./format";

/** How the text and CSV exports name a hop hidden by the operator (`LG_PRIVATE_HOPS`). */
export const HIDDEN_HOST = "hidden-by-the-operator";

/**
 * The stored trace in the shape the tracer's formatters read, so the exports are exactly what
 * `mtr --report` / `mtr --csv` (and `lg trace`) print.
 */
export function traceResult(trace: TraceView, options: MeasurementView["options"]): TraceResult {
  const now = new Date().toISOString();
  return {
    target: trace.target,
    address: trace.address ?? trace.target,
    // A hop the operator hides has no address; the report says so in one word, as its host column.
    hops: trace.hops.map((h) => (h.hidden ? { ...h, host: HIDDEN_HOST } : h)),
    startedAt: trace.startedAt ?? now,
    finishedAt: trace.finishedAt ?? now,
    reachedDestination: trace.hops.some((h) => h.host !== null && h.host === trace.address),
    stoppedBy: (trace.stoppedBy ?? "destination") as TraceResult["stoppedBy"],
    options,
  };
}

/** `/m/{id}.txt`: per PoP a title line, mtr's report (`-r -w`, the PoP as the HOST), and the reading. */
export function textExport(m: MeasurementView): string {
  const parts = [`lg measurement ${m.id}: ${m.target} (${m.status})\n`];
  for (const t of m.traces) {
    const lines = [`== ${traceSource(t)} -> ${t.address ?? t.target} (${t.status})`];
    if (t.hops.length > 0)
      lines.push(
        formatReport(traceResult(t, m.options), { wide: true, localHostname: traceSource(t) }).trimEnd(),
      );
    if (t.failure) lines.push(`failed (${t.failure.source}): ${t.failure.message}`);
    if (t.diagnosis) {
      lines.push(`diagnosis: ${t.diagnosis.verdict}${t.diagnosis.reason ? ` (${t.diagnosis.reason})` : ""}`);
      for (const f of t.diagnosis.findings)
        lines.push(`- ${f.code} [${f.severity}] hops ${f.hops.join(",")}: ${f.evidence} ${f.advice}`);
    }
    parts.push(`${lines.join("\n")}\n`);
  }
  return parts.join("\n");
}

/**
 * `/m/{id}.csv`: mtr's CSV for every PoP under one header, with the PoP as an extra first
 * column (mtr's own columns cannot tell two sources apart). Text cells (PoP, target, host name)
 * that start like a spreadsheet formula are written as quoted text with a leading `'`.
 */
export function csvExport(m: MeasurementView): string {
  let header: string | undefined;
  const rows: string[] = [];
  for (const t of m.traces) {
    if (t.hops.length === 0) continue;
    const [head, ...lines] = formatCsv(traceResult(t, m.options)).trimEnd().split("\n");
    header ??= `Pop,${head}`;
    for (const line of lines) rows.push(`${csvText(traceSource(t))},${line}`);
  }
  return `${[header ?? "Pop,Mtr_Version,Start_Time,Status,Host,Hop,Ip", ...rows].join("\n")}\n`;
}
