import { evidenceTally, type RouterRow, segmentRows } from "@lg/analysis";
import {
  type Comparison,
  type ComparisonSegment,
  type LossReading,
  PathTestAccepted,
  type PathTestRequestInput,
  PathTestView,
  type SegmentHop,
} from "@lg/protocol";
import type { Command } from "commander";
import { type ApiClient, createApiClient } from "../client";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { USAGE } from "../options";
import { measurementRequest, popReport } from "./measure";

/** Width of the visible text (ANSI-free: the reports carry none). */
const width = (s: string) => [...s].length;

/** Two blocks of lines next to each other, the left one padded to its widest line. */
export function sideBySide(left: string, right: string, gap = " │ "): string {
  const l = left.trimEnd().split("\n");
  const r = right.trimEnd().split("\n");
  const w = Math.max(...l.map(width));
  const rows = Math.max(l.length, r.length);
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    const a = l[i] ?? "";
    out.push(`${a}${" ".repeat(w - width(a))}${gap}${r[i] ?? ""}`.trimEnd());
  }
  return `${out.join("\n")}\n`;
}

/** Columns of lines, each padded to its widest cell (the last column is not padded). */
function columns(rows: string[][], indent = "  "): string {
  const w = (rows[0] ?? []).map((_, k) => Math.max(...rows.map((r) => width(r[k] ?? ""))));
  return `${rows
    .map((r) =>
      `${indent}${r.map((cell, k) => (k === r.length - 1 ? cell : cell + " ".repeat((w[k] ?? 0) - width(cell)))).join("  ")}`.trimEnd(),
    )
    .join("\n")}\n`;
}

const hopCell = (h: SegmentHop | null) => (h ? `${h.ttl}:${h.address ?? "???"}` : "—");

/** A line's router in a few words: shared, one direction's own, not identified, an end, silent. */
function identityCell(row: RouterRow, a: string, b: string): string {
  const side = row.forward ? `${a} → ${b}` : `${b} → ${a}`;
  switch (row.place) {
    case "shared":
      return "shared";
    case "own":
      return `only ${side}`;
    case "unknown":
      return `unknown: only seen ${side}`;
    case "endpoint":
      return `${row.forward ? b : a} itself`;
    case "silent":
      return "silent";
  }
}

function evidenceCell(row: RouterRow): string {
  const r = row.router;
  if (!r) return "";
  const tally = evidenceTally(r.evidence) || "no test";
  return r.confidence > 0 ? `${tally} · ${Math.round(r.confidence * 100)}%` : tally;
}

/**
 * The routers of each segment as a table: the forward and reverse hop (TTL:address in each
 * direction's own numbering) on one line when they are one router, what the router is, how it
 * answers (for shared routers), and the tests behind it with the confidence.
 */
export function routerTable(c: Pick<Comparison, "segments" | "routers">, a: string, b: string): string {
  const head = ["segment", `${a} → ${b}`, `${b} → ${a}`, "router", "answers", "evidence"];
  const rows = segmentRows(c).flatMap((lines, i) =>
    lines.map((row) => [
      (c.segments[i] as ComparisonSegment).kind,
      hopCell(row.forward),
      hopCell(row.reverse),
      identityCell(row, a, b),
      row.place === "shared" && row.router ? row.router.answers : "",
      evidenceCell(row),
    ]),
  );
  return columns([head, ...rows]);
}

const arrow = (direction: "forward" | "reverse", a: string, b: string) =>
  direction === "forward" ? `${a} → ${b}` : `${b} → ${a}`;

const stretchEnd = (ttl: number | null, address: string | null, source: string) =>
  ttl === null ? `its source (${source})` : `hop ${ttl} (${address ?? "???"})`;

/** Which direction loses, between which hops and how much one way, and the evidence; or why it cannot be told. */
export function lossLines(
  loss: LossReading | null | undefined,
  a: string,
  b: string,
  /** Which traces show real loss of their own (a trace the reading clears is then said to be clean). */
  shows: { forward: boolean; reverse: boolean } = { forward: true, reverse: true },
): string[] {
  if (!loss) return ["loss: neither trace shows real loss"];
  if (loss.reading === "undetermined") {
    return [
      "loss: undetermined: a direction loses packets, and the evidence cannot tell which (each trace's loss may be its own or its replies' way back)",
      `  evidence: ${loss.evidence}`,
    ];
  }
  const lines = loss.stretches.map(
    (s) =>
      `loss: ${arrow(s.direction, a, b)} loses ${s.lossPct.toFixed(1)}% one way between ${stretchEnd(s.fromTtl, s.fromAddress, s.direction === "forward" ? a : b)} and ${stretchEnd(s.toTtl, s.toAddress, s.direction === "forward" ? a : b)}`,
  );
  for (const direction of ["forward", "reverse"] as const) {
    if (shows[direction] && !loss.stretches.some((s) => s.direction === direction))
      lines.push(
        `loss: ${arrow(direction, a, b)} loses nothing of its own; the loss its trace shows is its replies' way back`,
      );
  }
  lines.push(`  evidence (log-likelihood ratio ${loss.support.toFixed(1)}): ${loss.evidence}`);
  return lines;
}

/** "follow-ups: 7 (fra 3, sin 4; alias-trace ×7)". */
export function followUpLine(v: PathTestView, b: string): string {
  const forward = v.forward.followUps ?? [];
  const reverse = v.reverse?.followUps ?? [];
  const all = [...forward, ...reverse];
  if (all.length === 0) return "follow-ups: none";
  const kinds = new Map<string, number>();
  for (const f of all) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const byKind = [...kinds].map(([k, n]) => `${k}${n > 1 ? ` ×${n}` : ""}`).join(", ");
  const ends = [`${v.a} ${forward.length}`, ...(v.reverse ? [`${b} ${reverse.length}`] : [])].join(", ");
  return `follow-ups: ${all.length} (${ends}; ${byKind})`;
}

const FAULT_WORDS: Record<Comparison["faultDirection"], string> = {
  none: "neither direction",
  both: "both directions",
  forward: "the forward direction",
  reverse: "the reverse direction",
  undetermined: "undetermined (a direction loses packets; the evidence cannot tell which)",
};

/** A report's hop table, and its diagnosis lines (from the `diagnosis:` line on), apart. */
function splitDiagnosis(report: string): [string, string] {
  const lines = report.split("\n");
  const at = lines.findIndex((l) => /^\s*diagnosis:/.test(l));
  return at < 0 ? [report, ""] : [lines.slice(0, at).join("\n"), lines.slice(at).join("\n")];
}

/**
 * What `lg path` prints for a finished path test: the two directions side by side (each in mtr's
 * report format with its diagnosis), then the comparison: the routers of each segment with their
 * evidence, where the loss is, the follow-up probes, the summary and the verdict.
 */
export function formatPathTest(v: PathTestView, opts: { stacked?: boolean } = {}): string {
  const b = typeof v.b === "string" ? v.b : v.b.host;
  const forwardReport = `forward ${popReport(v.forward, v.forward.hops, v.options).replace(/^── /, "")}`;
  const out: string[] = [
    `path test ${v.id}: ${v.a} (${v.aAddress}) ⇄ ${b} (${v.bAddress}) · ${v.options.protocol}, ${v.options.count} probes per hop`,
    "",
  ];
  if (v.reverse) {
    const reverseReport = `reverse ${popReport(v.reverse, v.reverse.hops, v.options).replace(/^── /, "")}`;
    if (opts.stacked) out.push(`${forwardReport}\n${reverseReport}`);
    else {
      // The tables side by side; each diagnosis below them at full width (its sentences are long).
      const [fTable, fDiagnosis] = splitDiagnosis(forwardReport);
      const [rTable, rDiagnosis] = splitDiagnosis(reverseReport);
      out.push(sideBySide(fTable, rTable));
      if (fDiagnosis) out.push(`forward ${fDiagnosis.trimStart()}`);
      if (rDiagnosis) out.push(`reverse ${rDiagnosis.trimStart()}`);
    }
  } else {
    out.push(forwardReport);
  }
  if (v.comparison) {
    const c = v.comparison;
    out.push(`comparison: ${c.verdict} · problem in: ${FAULT_WORDS[c.faultDirection]}`);
    out.push("routers per segment (TTL:address in each direction's own numbering):");
    out.push(routerTable(c, v.a, b));
    const showsLoss = (t: PathTestView["forward"] | null) =>
      t?.diagnosis?.findings.some((f) => f.code === "real-loss") ?? false;
    out.push(...lossLines(c.loss, v.a, b, { forward: showsLoss(v.forward), reverse: showsLoss(v.reverse) }));
    out.push(followUpLine(v, b));
    out.push(`summary: ${c.summary}`);
    out.push(
      `verdict: ${c.verdict}, ${c.faultDirection === "none" ? "both directions clean" : `fault: ${c.faultDirection}`}`,
    );
  } else {
    if (v.note) out.push(`note: ${v.note}`);
    const verdict = v.forward.diagnosis?.verdict ?? v.forward.status;
    out.push(`verdict: forward ${verdict}; no comparison (only one direction)`);
  }
  return `${out.join("\n")}\n`;
}

/** Waits on the path test's event stream until `done` (the stream's last event). */
async function untilDone(api: ApiClient, id: string): Promise<void> {
  for await (const e of api.events(`/api/v1/path-tests/${id}/events`)) {
    if (e.event === "done") return;
  }
  throw new CliError("the event stream ended before the path test finished");
}

/** `lg path <a> <b>`: forward and reverse together, compared (a client of the coordinator API). */
export function register(command: Command): void {
  command
    .argument("<a>", "agent id at one end")
    .argument("<b>", "agent id at the other end, or host:<name-or-address> for a host without an agent")
    .option("-c, --count <n>", "probes per hop (mtr -c)")
    .option("-i, --interval <seconds>", "seconds between cycles (mtr -i)")
    .option("-s, --psize <bytes>", "packet size (mtr -s)")
    .option("-m, --max-ttl <n>", "largest TTL (mtr -m)")
    .option("-P, --port <n>", "destination port for UDP/TCP (mtr -P)")
    .option("-u, --udp", "UDP probes (mtr -u)")
    .option("-T, --tcp", "TCP SYN probes (mtr -T)")
    .option("-4", "IPv4 only")
    .option("-6", "IPv6 only")
    .option(
      "--until-sure",
      "keep probing while a loss reading is inconclusive (API adaptive; at most 4 x the count)",
    )
    .option("--stacked", "print the reverse report under the forward one instead of beside it")
    .option("--json", "print the finished path test as JSON")
    .action(async (a: string, bArg: string, raw: Record<string, unknown>) => {
      const options = measurementRequest("-", {
        ...(raw as object),
        size: raw.psize as string | undefined,
        ipv4: raw["4"] === true,
        ipv6: raw["6"] === true,
      });
      const { target: _target, from: _from, ...rest } = options;
      const b = bArg.startsWith("host:") ? { host: bArg.slice("host:".length) } : bArg;
      if (typeof b !== "string" && !b.host)
        throw new CliError("host: needs a name or address, e.g. host:192.0.2.1", USAGE);
      const body: PathTestRequestInput = { a, b, ...rest };
      const api = createApiClient(loadCliConfig());
      const { id } = await api.post("/api/v1/path-tests", body, PathTestAccepted);
      if (!raw.json) process.stdout.write(`path test ${id}: tracing ${a} → ${bArg} and back…\n`);
      await untilDone(api, id);
      const view = await api.get(`/api/v1/path-tests/${id}`, PathTestView);
      if (raw.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
      else process.stdout.write(formatPathTest(view, { stacked: raw.stacked === true }));
      const failed = [view.forward, view.reverse].filter((t) => t?.status === "failed");
      if (failed.length > 0) {
        throw new CliError(
          `${failed.length} direction(s) failed (${failed.map((t) => t?.agentId).join(", ")})`,
        );
      }
    });
}
