import {
  type Hop,
  HopEvent,
  MeasurementAccepted,
  type MeasurementRequestInput,
  MeasurementView,
  type TraceView,
  TraceView as TraceViewSchema,
} from "@lg/protocol";
import { formatFollowUps, formatReadings, formatReport, LG_REPORT_ORDER } from "@lg/tracer";
import type { Command } from "commander";
import { type ApiClient, createApiClient } from "../client";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { formatPlaces } from "../geo";
import { numberOption, USAGE } from "../options";

interface MeasureFlags {
  from?: string;
  count?: string;
  interval?: string;
  size?: string;
  maxTtl?: string;
  port?: string;
  protocol?: string;
  udp?: boolean;
  tcp?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  pinFlow?: boolean;
  servicePort?: string;
  untilSure?: boolean;
  recordRoute?: boolean;
  json?: boolean;
  geo?: boolean;
}

/** The request body from the command line; the API validates the bounds and says which field is wrong. */
export function measurementRequest(target: string, f: MeasureFlags): MeasurementRequestInput {
  if (f.ipv4 && f.ipv6) throw new CliError("give -4 or -6, not both", USAGE);
  const protocol = f.tcp ? "tcp" : f.udp ? "udp" : f.protocol;
  if (protocol !== undefined && !["icmp", "udp", "tcp"].includes(protocol)) {
    throw new CliError(`--protocol must be icmp, udp or tcp, got '${protocol}'`, USAGE);
  }
  const body: MeasurementRequestInput = { target };
  const from = f.from
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (from && from.length > 0) body.from = from;
  if (protocol) body.protocol = protocol as "icmp" | "udp" | "tcp";
  const set = <K extends keyof MeasurementRequestInput>(k: K, v: MeasurementRequestInput[K] | undefined) => {
    if (v !== undefined) body[k] = v;
  };
  const whole = { integer: true };
  set("count", numberOption("-c/--count", f.count, whole));
  set("interval", numberOption("-i/--interval", f.interval));
  set("size", numberOption("-s/--psize", f.size, whole));
  set("maxTtl", numberOption("-m/--max-ttl", f.maxTtl, whole));
  set("port", numberOption("-P/--port", f.port, whole));
  set("servicePort", numberOption("--service-port", f.servicePort, whole));
  if (f.untilSure) body.adaptive = true;
  if (f.ipv4) body.ipVersion = 4;
  if (f.ipv6) body.ipVersion = 6;
  if (f.pinFlow) body.pinFlow = true;
  if (f.recordRoute) body.recordRoute = true;
  return body;
}

/** One PoP's report: the header line, then mtr's report format (or why the trace failed). */
export function popReport(
  trace: TraceView,
  hops: Hop[],
  options: MeasurementView["options"],
  geo = false,
): string {
  const head = `── ${trace.agentId} → ${trace.address ?? trace.target} · ${trace.status}`;
  if (trace.status === "failed" && hops.length === 0) {
    return `${head}\n   failed (${trace.failure?.source ?? "internal"}): ${trace.failure?.message ?? "no reason given"}\n`;
  }
  const report = formatReport(
    {
      target: trace.target,
      address: trace.address ?? trace.target,
      hops,
      startedAt: trace.startedAt ?? new Date().toISOString(),
      finishedAt: trace.finishedAt ?? new Date().toISOString(),
      reachedDestination: hops.some((h) => h.host !== null && h.host === trace.address),
      stoppedBy: (trace.stoppedBy ?? "destination") as "destination",
      options,
    },
    { wide: true, localHostname: trace.agentId, fields: LG_REPORT_ORDER },
  );
  const lines = [head, report.trimEnd()];
  // A path test's alias traces are read and counted by `lg path` itself.
  const probes = trace.followUps.filter((f) => f.kind !== "alias-trace");
  const extra = (
    formatFollowUps(probes, trace.adaptive) + formatReadings(trace.nat, trace.recordRoute)
  ).trimEnd();
  if (extra) lines.push(...extra.split("\n").map((l) => `   ${l}`));
  // The coordinator places each hop when the trace is stored (mtr -y shows such a field per hop).
  if (geo && trace.status !== "queued" && trace.status !== "running") {
    const places = formatPlaces(hops, "   ").trimEnd();
    if (places) lines.push(places);
  }
  if (trace.diagnosis) {
    lines.push(`   diagnosis: ${trace.diagnosis.verdict}`);
    for (const f of trace.diagnosis.findings)
      lines.push(`   - ${f.code} (hops ${f.hops.join(", ")}): ${f.evidence}`);
  }
  if (trace.failure) lines.push(`   failed (${trace.failure.source}): ${trace.failure.message}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Follows the measurement's event stream and keeps each PoP's hops current. On a terminal the
 * reports are redrawn in place; otherwise each PoP's report is printed once, when it finishes.
 */
async function follow(
  api: ApiClient,
  id: string,
  mode: "live" | "print" | "quiet",
  geo = false,
): Promise<void> {
  const live = mode === "live";
  let options: MeasurementView["options"] | undefined;
  const traces = new Map<string, TraceView>();
  const hops = new Map<string, Map<number, Hop>>();
  const printed = new Set<string>();
  let drawnLines = 0;
  let lastDraw = 0;

  const hopsOf = (t: TraceView) => [...(hops.get(t.id)?.values() ?? [])].sort((a, b) => a.ttl - b.ttl);
  const draw = (force = false) => {
    if (!live || !options) return;
    const now = Date.now();
    if (!force && now - lastDraw < 200) return;
    lastDraw = now;
    const text = [...traces.values()]
      .map((t) => popReport(t, hopsOf(t), options as MeasurementView["options"], geo))
      .join("\n");
    if (drawnLines > 0) process.stdout.write(`\x1b[${drawnLines}F\x1b[J`);
    process.stdout.write(text);
    drawnLines = text.split("\n").length - 1;
  };
  const printFinished = () => {
    if (mode !== "print" || !options) return;
    for (const t of traces.values()) {
      if ((t.status === "done" || t.status === "failed") && !printed.has(t.id)) {
        printed.add(t.id);
        process.stdout.write(`${popReport(t, hopsOf(t), options, geo)}\n`);
      }
    }
  };
  const setTrace = (t: TraceView) => {
    traces.set(t.id, t);
    if (t.hops.length > 0 || t.status === "done") hops.set(t.id, new Map(t.hops.map((h) => [h.ttl, h])));
  };

  let finished = false;
  for await (const e of api.events(`/api/v1/measurements/${id}/events`)) {
    const data = JSON.parse(e.data) as unknown;
    if (e.event === "snapshot") {
      const m = MeasurementView.parse(data);
      options = m.options;
      for (const t of m.traces) setTrace(t);
    } else if (e.event === "hop") {
      const h = HopEvent.parse(data);
      const table = hops.get(h.traceId) ?? new Map<number, Hop>();
      hops.set(h.traceId, table);
      table.set(h.hop.ttl, h.hop);
    } else if (e.event === "trace") {
      setTrace(TraceViewSchema.parse(data));
    } else if (e.event === "done") {
      finished = true;
    }
    draw(e.event !== "hop");
    printFinished();
    if (finished) break;
  }
  draw(true);
  if (!finished) throw new CliError("the event stream ended before the measurement finished");
}

/** `lg measure --from <pops> <target>`: a client of the coordinator API. */
export function register(command: Command): void {
  command
    .argument("<target>", "hostname or IP address")
    .option("--from <pops>", "comma-separated agent ids or region:<name> (default: every online PoP)")
    .option("-c, --count <n>", "probes per hop (mtr -c)")
    .option("-i, --interval <seconds>", "seconds between cycles (mtr -i)")
    .option("-s, --psize <bytes>", "packet size (mtr -s)")
    .option("-m, --max-ttl <n>", "largest TTL (mtr -m)")
    .option("-P, --port <n>", "destination port for UDP/TCP (mtr -P)")
    .option("--protocol <p>", "icmp, udp or tcp")
    .option("-u, --udp", "UDP probes (mtr -u)")
    .option("-T, --tcp", "TCP SYN probes (mtr -T)")
    .option("-4", "IPv4 only")
    .option("-6", "IPv6 only")
    .option(
      "--pin-flow",
      "keep the flow constant so ECMP routers use one path (all but IPv4 UDP need agents with lg-probe)",
    )
    .option(
      "--service-port <n>",
      "TCP port of the target's service: a silent end is asked there instead of 443 and 80 (ICMP)",
    )
    .option(
      "--until-sure",
      "keep probing while a loss reading is inconclusive (at most 4 x the count, +200 at most; API adaptive)",
    )
    .option(
      "--record-route",
      "IPv4: after each trace, echo probes with the Record Route option show hints of the way back (agents with lg-probe)",
    )
    .option("--geo", "print each hop's city and country, and whether the PoP's round-trip times allow it")
    .option("--json", "print the finished measurement as JSON")
    .action(async (target: string, raw: Record<string, unknown>) => {
      const flags: MeasureFlags = {
        ...(raw as MeasureFlags),
        size: raw.psize as string | undefined,
        ipv4: raw["4"] === true,
        ipv6: raw["6"] === true,
      };
      const body = measurementRequest(target, flags);
      const api = createApiClient(loadCliConfig());
      const accepted = await api.post("/api/v1/measurements", body, MeasurementAccepted);
      const mode = flags.json ? "quiet" : process.stdout.isTTY ? "live" : "print";
      if (!flags.json) {
        process.stdout.write(
          `measurement ${accepted.id} from ${accepted.traces.map((t) => t.agentId).join(", ")}\n`,
        );
      }
      await follow(api, accepted.id, mode, flags.geo === true);
      const final = await api.get(`/api/v1/measurements/${accepted.id}`, MeasurementView);
      if (flags.json) process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
      const failed = final.traces.filter((t) => t.status === "failed");
      if (failed.length > 0) {
        throw new CliError(
          `${failed.length} of ${final.traces.length} traces failed (${failed.map((t) => t.agentId).join(", ")})`,
        );
      }
    });
}
