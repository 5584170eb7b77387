import {
  type ComparisonSegment,
  PathTestAccepted,
  type PathTestRequestInput,
  PathTestView,
  type SegmentSide,
} from "@lg/protocol";
import type { Command } from "commander";
import { createParser } from "eventsource-parser";
import { CliError } from "../errors";
import { api, measurementRequest, popReport } from "./measure";

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

const hopList = (side: SegmentSide) =>
  side.hops.length === 0 ? "—" : side.hops.map((h) => `${h.ttl}:${h.address ?? "???"}`).join(" ");

const added = (side: SegmentSide) => {
  const parts: string[] = [];
  if (side.addedLossPct > 0) parts.push(`+${side.addedLossPct.toFixed(1)}% loss`);
  if (side.addedLatencyMs >= 1) parts.push(`+${side.addedLatencyMs.toFixed(1)} ms`);
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
};

/** The comparison's segments as a small table: each direction's hops (TTL:address) per segment. */
export function segmentTable(segments: ComparisonSegment[], a: string, b: string): string {
  const rows = segments.map((s) => [
    s.kind,
    `${hopList(s.forward)}${added(s.forward)}`,
    `${hopList(s.reverse)}${added(s.reverse)}`,
  ]);
  const head = ["segment", `forward ${a} → ${b}`, `reverse ${b} → ${a} (read from ${a}'s end)`];
  const all = [head, ...rows];
  const w0 = Math.max(...all.map((r) => width(r[0] as string)));
  const w1 = Math.max(...all.map((r) => width(r[1] as string)));
  return `${all.map((r) => `  ${(r[0] as string).padEnd(w0)}  ${(r[1] as string).padEnd(w1)}  ${r[2]}`.trimEnd()).join("\n")}\n`;
}

/**
 * What `lg path` prints for a finished path test: the two directions side by side (each in mtr's
 * report format with its diagnosis), then the comparison and the verdict.
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
    out.push(opts.stacked ? `${forwardReport}\n${reverseReport}` : sideBySide(forwardReport, reverseReport));
  } else {
    out.push(forwardReport);
  }
  if (v.comparison) {
    const c = v.comparison;
    out.push(
      `comparison: ${c.verdict} · problem in: ${c.faultDirection === "none" ? "neither direction" : c.faultDirection === "both" ? "both directions" : `the ${c.faultDirection} direction`}`,
    );
    out.push(segmentTable(c.segments, v.a, b));
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
async function untilDone(base: string, id: string): Promise<void> {
  const res = await api(base, `/api/v1/path-tests/${id}/events`, {
    headers: { accept: "text/event-stream" },
  });
  if (!res.body) throw new CliError("the coordinator sent no event stream");
  let done = false;
  const parser = createParser({
    onEvent: (e) => {
      if (e.event === "done") done = true;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    if (done) break;
  }
  if (!done) throw new CliError("the event stream ended before the path test finished");
}

/** `lg path <a> <b>`: forward and reverse together, compared (a client of the coordinator API). */
export function register(program: Command): void {
  program
    .command("path")
    .description(
      "trace a -> b and b -> a at the same time and compare them (a: an agent; b: an agent, or a host for the forward direction only)",
    )
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
        throw new CliError("host: needs a name or address, e.g. host:192.0.2.1", 2);
      const body: PathTestRequestInput = { a, b, ...rest };
      const base = (process.env.LG_API_URL?.trim() || "http://127.0.0.1:8080").replace(/\/+$/, "");
      const res = await api(base, "/api/v1/path-tests", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const { id } = PathTestAccepted.parse(await res.json());
      if (!raw.json) process.stdout.write(`path test ${id}: tracing ${a} → ${bArg} and back…\n`);
      await untilDone(base, id);
      const view = PathTestView.parse(await (await api(base, `/api/v1/path-tests/${id}`)).json());
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
