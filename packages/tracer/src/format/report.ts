import { hostname } from "node:os";
import type { AdaptiveRun, FollowUp, NatReading, RecordRouteHint } from "@lg/protocol";
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

/**
 * The lines printed under a report for what lg-probe's answers showed: where a NAT sits, and the
 * Record Route hints (or why there are none). Empty when the trace has neither.
 *
 * @example
 * formatReadings(result.nat, result.recordRoute);
 * // NAT between hop 2 and hop 3: hops up to 2 quote the probes as sent (6 quotes), hops from 3 on quote them rewritten (3 quotes: source address 198.18.161.1, checksum).
 * // Way there (Record Route, hints): 198.18.170.1 198.18.171.1
 * // Way back (Record Route, hints): 198.18.173.1 198.18.150.2
 */
export function formatReadings(nat?: NatReading, recordRoute?: RecordRouteHint): string {
  const lines: string[] = [];
  if (nat) lines.push(natWords(nat));
  if (recordRoute) lines.push(...recordRouteWords(recordRoute));
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** "NAT between hop 2 and hop 3: ..." (see NatReading). */
export function natWords(nat: NatReading): string {
  const fields = nat.rewrote
    .map((f) =>
      f === "source"
        ? `source address${nat.publicSource ? ` ${nat.publicSource}` : ""}`
        : f === "port"
          ? "port"
          : "checksum",
    )
    .join(", ");
  const rewritten = `hops from ${nat.beforeTtl} on quote them rewritten (${nat.quotes.rewritten} quotes: ${fields})`;
  if (nat.afterTtl === 0)
    return `NAT before hop ${nat.beforeTtl}: no hop before it quoted the probes, ${rewritten}.`;
  return `NAT between hop ${nat.afterTtl} and hop ${nat.beforeTtl}: hops up to ${nat.afterTtl} quote the probes as sent (${nat.quotes.asSent} quotes), ${rewritten}.`;
}

/** The Record Route lines under a report: the hints, labelled as hints, or why there are none. */
export function recordRouteWords(rr: RecordRouteHint): string[] {
  const hint = "(Record Route, hints)";
  switch (rr.status) {
    case "ok": {
      const recorded = rr.recorded ?? [];
      if (rr.forward.length === 0 && rr.back.length === 0 && recorded.length > 0 && !rr.full)
        return [
          `Record Route ${hint}: ${recorded.join(" ")} (the target did not record its own address: where the way back starts is not known)`,
        ];
      const lines = [
        `Way there ${hint}: ${rr.forward.length > 0 ? rr.forward.join(" ") : "nothing recorded before the target"}`,
        `Way back ${hint}: ${rr.back.length > 0 ? rr.back.join(" ") : "nothing recorded after the target"}`,
      ];
      if (rr.full) lines.push("  (the option's 9 slots were full: the rest of the way went unrecorded)");
      return lines;
    }
    case "stripped":
      return [
        `Record Route: the target's echo replies (${rr.answered} of ${rr.sent}) came back without the option: stripped on the way, or not returned by the target. No hints.`,
      ];
    case "refused":
      return [
        rr.refusedBy !== undefined
          ? `Record Route: refused: ${rr.refusedBy} answered the option with a parameter problem. No hints.`
          : `Record Route: refused: none of ${rr.sent} echo probes with the option was answered, while ${rr.plainAnswered} of ${rr.plainSent} plain ones were: the path drops IP options. No hints.`,
      ];
    case "no-answer":
      return [
        `Record Route: no hints: the target answered none of ${rr.sent} echo probes with the option, nor of ${rr.plainSent} plain ones.`,
      ];
  }
}
