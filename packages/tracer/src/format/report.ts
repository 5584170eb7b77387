import { hostname } from "node:os";
import type { TraceResult } from "../tracer";
import { type Field, fieldsOf } from "./fields";
import { hostLabel, isoLocal, type NamingOptions } from "./naming";

export interface ReportOptions extends NamingOptions {
  /** mtr -w: no truncation of host names; the host column is as wide as the longest. */
  wide?: boolean;
  /** mtr -e: print MPLS label stacks. */
  mpls?: boolean;
  /** mtr -o field letters; default "LS NABWV". */
  fields?: string;
  /** The name in the HOST: line; default this machine's hostname. */
  localHostname?: string;
}

/** mtr's fixed host column without -w. */
const NARROW_HOSTS = 33;

function mplsLine(l: { label: number; tc: number; bottom: boolean; ttl: number }): string {
  return `       [MPLS: Lbl ${l.label} Exp ${l.tc} S ${l.bottom ? 1 : 0} TTL ${l.ttl}]`;
}

/**
 * Appends cells at fixed column offsets the way mtr does: a cell wider than its column (Loss%
 * of 100.0 is " 100.0%") is overwritten by the next one, so mtr prints "100.0" there.
 */
function placeCells(start: string, cells: [string, number][]): string {
  let line = start;
  let pos = start.length;
  for (const [text, width] of cells) {
    line = line.slice(0, pos) + text;
    pos += width;
  }
  return line;
}

/**
 * The trace as `mtr --report` prints it (`mtr -r -w` with `wide`): a Start line, the HOST
 * header, one line per hop, and the other responders of a hop on lines of their own.
 */
export function formatReport(result: TraceResult, opts: ReportOptions = {}): string {
  const fields: Field[] = fieldsOf(opts.fields);
  const local = opts.localHostname ?? hostname();
  const labels = result.hops.map((h) => hostLabel(h, opts));
  const lines = [`Start: ${isoLocal(new Date(result.startedAt))}`];

  let header: string;
  let width = NARROW_HOSTS;
  if (opts.wide) {
    width = Math.max(local.length, ...labels.map((l) => l.length));
    header = `HOST: ${local.padEnd(width)}`;
  } else {
    header = `HOST: ${local.padEnd(NARROW_HOSTS)}`.slice(0, NARROW_HOSTS);
  }
  lines.push(
    placeCells(
      header,
      fields.map((f) => [f.title.padStart(f.width), f.width]),
    ),
  );

  result.hops.forEach((hop, i) => {
    let row = ` ${String(hop.ttl).padStart(2)}.|-- ${(labels[i] as string).padEnd(width)}`;
    if (!opts.wide) row = row.slice(0, NARROW_HOSTS);
    lines.push(
      placeCells(
        row,
        fields.map((f) => [f.cell(hop), f.width]),
      ),
    );

    // As mtr 0.95 prints them: MPLS labels of the hop, then each further responder indented
    // under the host column, followed by its own labels.
    if (opts.mpls) for (const l of hop.mpls ?? []) lines.push(mplsLine(l));
    for (const r of hop.responders) {
      if (r.address === hop.host) continue;
      lines.push(`        ${r.address}`);
      if (opts.mpls) for (const l of r.mpls ?? []) lines.push(mplsLine(l));
    }
  });
  return `${lines.join("\n")}\n`;
}
