import { hostname } from "node:os";
import type { AdaptiveRun, FollowUp } from "@lg/protocol";
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

const KIND_WORDS: Record<FollowUp["kind"], string> = {
  "tcp-syn": "TCP SYN",
  udp: "UDP",
  echo: "ICMP echo",
  "alias-trace": "alias trace",
  retrace: "trace again",
};

/** `198.18.0.9:443`, `[2001:2::9]:443`, or the address alone without a port. */
function endpoint(f: FollowUp): string {
  if (f.port === undefined) return f.target;
  return f.target.includes(":") ? `[${f.target}]:${f.port}` : `${f.target}:${f.port}`;
}

/**
 * The lines printed under a report: the follow-up probes (what was asked and what answered) and
 * what `--until-sure` added. Empty when the trace had neither.
 *
 * @example
 * formatFollowUps(result.followUps, result.adaptive);
 * // Follow-up probes: the ICMP trace ends in silence after hop 3 (198.18.0.3): is 198.18.0.9 there, ignoring ICMP echo?
 * //   TCP SYN  198.18.0.9:443    198.18.0.9 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms
 */
export function formatFollowUps(followUps: FollowUp[] = [], adaptive?: AdaptiveRun): string {
  const lines: string[] = [];
  if (followUps.length > 0) {
    const purposes = [...new Set(followUps.map((f) => f.purpose))];
    const shared = purposes.length === 1;
    lines.push(shared ? `Follow-up probes: ${purposes[0]}` : "Follow-up probes:");
    const width = Math.max(...followUps.map((f) => endpoint(f).length));
    for (const f of followUps) {
      const words = f.result ?? (f.answered ? "answered" : "no answer");
      lines.push(`  ${KIND_WORDS[f.kind].padEnd(11)} ${endpoint(f).padEnd(width)}  ${words}`);
      if (!shared) lines.push(`  ${" ".repeat(11)} ${" ".repeat(width)}  (${f.purpose})`);
    }
  }
  if (adaptive) lines.push(untilSureWords(adaptive));
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** "Until sure: decided after 20 more probes per hop (80 probes; at most 30 more per hop)." */
export function untilSureWords(a: AdaptiveRun): string {
  const budget = `at most ${a.maxExtraCycles} more per hop`;
  if (a.decided && a.extraCycles === 0)
    return "Until sure: decided with the requested probes; no more were needed.";
  if (a.decided)
    return `Until sure: decided after ${a.extraCycles} more probes per hop (${a.extraProbes} probes; ${budget}).`;
  return `Until sure: still undecided after ${a.extraCycles} more probes per hop (${a.extraProbes} probes; ${budget}): the finding stays inconclusive.`;
}
