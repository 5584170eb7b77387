import { hostname } from "node:os";
import type { Hop } from "@lg/protocol";
import { TraceOptions, type TraceOptionsInput } from "@lg/protocol";
import {
  formatCsv,
  formatFollowUps,
  formatLiveTable,
  formatMtrJsonText,
  formatReadings,
  formatReport,
  JITTER_ORDER,
  LG_REPORT_ORDER,
  ndjsonLine,
  parseFieldOrder,
  type TraceEvent,
  type TraceResult,
  Tracer,
  TracerError,
  toStreamEvent,
  untilSureFromDiagnosis,
} from "@lg/tracer";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { numberOption, USAGE } from "../options";

// What `lg trace` does once its flags are parsed: loaded by trace.ts's action only, so that
// `lg trace --help` does not load the engine, zod and the protocol schemas.

/** The flags as commander gives them (texts: each is read and checked here). */
export interface TraceFlags {
  reportCycles?: string;
  interval?: string;
  psize?: string;
  firstTtl?: string;
  maxTtl?: string;
  maxUnknown?: string;
  timeout?: string;
  gracetime?: string;
  tcp?: boolean;
  udp?: boolean;
  port?: string;
  localport?: string;
  address?: string;
  tos?: string;
  inet?: boolean;
  inet6?: boolean;
  dns: boolean;
  showIps?: boolean;
  mpls?: boolean;
  report?: boolean;
  reportWide?: boolean;
  json?: boolean;
  csv?: boolean;
  ndjson?: boolean;
  order?: string;
  jitter?: boolean;
  mda?: boolean;
  pinFlow?: boolean;
  servicePort?: string;
  untilSure?: boolean;
  followUps?: boolean;
  geo?: boolean;
  recordRoute?: boolean;
}

type OutputMode = "live" | "report" | "json" | "csv" | "ndjson";

/** Turns mtr-style flags into the engine's options; every mistake is one CliError line. */
export function traceOptionsFromFlags(flags: TraceFlags): TraceOptions {
  if (flags.tcp && flags.udp)
    throw new CliError("-T/--tcp and -u/--udp exclude each other: pick one probe type", USAGE);
  if (flags.inet && flags.inet6) throw new CliError("-4 and -6 exclude each other", USAGE);
  const whole = { integer: true };
  const input: TraceOptionsInput = {
    protocol: flags.tcp ? "tcp" : flags.udp ? "udp" : "icmp",
    mda: flags.mda ?? false,
    pinFlow: flags.pinFlow ?? false,
  };
  const set = <K extends keyof TraceOptionsInput>(key: K, value: TraceOptionsInput[K] | undefined) => {
    if (value !== undefined) input[key] = value;
  };
  set("count", numberOption("-c/--report-cycles", flags.reportCycles, whole));
  set("interval", numberOption("-i/--interval", flags.interval));
  set("size", numberOption("-s/--psize", flags.psize, whole));
  set("firstTtl", numberOption("-f/--first-ttl", flags.firstTtl, whole));
  set("maxTtl", numberOption("-m/--max-ttl", flags.maxTtl, whole));
  set("maxUnknown", numberOption("-U/--max-unknown", flags.maxUnknown, whole));
  set("timeout", numberOption("-Z/--timeout", flags.timeout));
  set("gracePeriod", numberOption("-G/--gracetime", flags.gracetime));
  set("port", numberOption("-P/--port", flags.port, whole));
  set("localPort", numberOption("-L/--localport", flags.localport, whole));
  set("tos", numberOption("-Q/--tos", flags.tos, whole));
  set("servicePort", numberOption("--service-port", flags.servicePort, whole));
  if (flags.untilSure) input.adaptive = true;
  if (flags.recordRoute) input.recordRoute = true;
  set("sourceAddress", flags.address);
  if (flags.inet) input.ipVersion = 4;
  if (flags.inet6) input.ipVersion = 6;
  const parsed = TraceOptions.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new CliError(`${FLAG_OF[key] ?? key}: ${issue?.message ?? "invalid value"}`, USAGE);
  }
  return parsed.data;
}

const FLAG_OF: Record<string, string> = {
  count: "-c/--report-cycles",
  interval: "-i/--interval",
  size: "-s/--psize",
  firstTtl: "-f/--first-ttl",
  maxTtl: "-m/--max-ttl",
  maxUnknown: "-U/--max-unknown",
  timeout: "-Z/--timeout",
  gracePeriod: "-G/--gracetime",
  port: "-P/--port",
  localPort: "-L/--localport",
  tos: "-Q/--tos",
  sourceAddress: "-a/--address",
  servicePort: "--service-port",
};

function outputMode(flags: TraceFlags, isTty: boolean): OutputMode {
  const chosen: OutputMode[] = [];
  if (flags.report || flags.reportWide) chosen.push("report");
  if (flags.json) chosen.push("json");
  if (flags.csv) chosen.push("csv");
  if (flags.ndjson) chosen.push("ndjson");
  if (chosen.length > 1) throw new CliError("choose one output: -r/-w, -j, -C or --ndjson", USAGE);
  return chosen[0] ?? (isTty ? "live" : "report");
}

/** Runs the trace and prints it in the output the flags chose. */
export async function runTrace(target: string, flags: TraceFlags): Promise<void> {
  const options = traceOptionsFromFlags(flags);
  const mode = outputMode(flags, process.stdout.isTTY === true);
  const order = flags.jitter ? JITTER_ORDER : flags.order;
  if (order !== undefined) {
    const parsed = parseFieldOrder(order);
    if ("unknown" in parsed)
      throw new CliError(`-o/--order: unknown field letter "${parsed.unknown}"`, USAGE);
  }
  const naming = { useNames: flags.dns, showIps: flags.showIps === true };
  const local = hostname();
  // --until-sure reads the trace with the rules the coordinator diagnoses with (loaded only then).
  const untilSure = options.adaptive
    ? { untilSure: untilSureFromDiagnosis((await import("@lg/analysis")).diagnose) }
    : {};
  const { probeHelper } = loadCliConfig();
  const tracer = new Tracer({
    resolveNames: flags.dns,
    ...untilSure,
    ...(probeHelper !== undefined ? { lgProbePath: probeHelper } : {}),
  });
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on("SIGINT", onSigint);
  const write = (text: string) => process.stdout.write(text);
  const live =
    mode === "live"
      ? new LiveView(target, local, options.count, order ?? LG_REPORT_ORDER, naming, () => abort.abort())
      : null;

  if (mode === "ndjson") write(ndjsonLine({ type: "start", target, options, at: new Date().toISOString() }));
  const onEvent = (e: TraceEvent) => {
    if (mode === "ndjson") write(ndjsonLine(toStreamEvent(e)));
    else live?.update(e);
  };
  let result: TraceResult;
  try {
    result = await tracer.run(
      { target, options, signal: abort.signal, followUps: flags.followUps !== false },
      onEvent,
    );
  } catch (err) {
    live?.stop();
    if (err instanceof TracerError) {
      if (mode === "ndjson")
        write(
          ndjsonLine({ type: "error", code: err.code, message: err.message, at: new Date().toISOString() }),
        );
      // The caller's options at fault (e.g. --mda with --pin-flow, or a flow that needs lg-probe when
      // it is not installed) is a usage error; anything else a failure.
      const usage = err.code === "invalid-argument" || err.code === "unsupported";
      throw new CliError(err.message, usage ? USAGE : 1, { cause: err });
    }
    throw err;
  } finally {
    process.off("SIGINT", onSigint);
    await tracer.close();
  }
  live?.stop();
  if (result.unsentProbes)
    process.stderr.write(
      `lg: ${result.unsentProbes} probes could not be sent (every probe helper slot was busy); they are not counted\n`,
    );
  if (flags.geo) {
    // Places are looked up after the trace (offline files only), so probing is not slowed by them.
    const { placeLocalHops } = await import("../geo");
    result = { ...result, hops: await placeLocalHops(result.hops, loadCliConfig().geo, local) };
  }
  const fmt = { ...naming, localHostname: local, ...(order !== undefined ? { fields: order } : {}) };
  // mtr's own formats keep mtr's columns unless -o says otherwise; lg's report adds the interval.
  const reportFields = order ?? LG_REPORT_ORDER;
  if (mode === "ndjson") write(ndjsonLine({ type: "done", result, at: new Date().toISOString() }));
  else if (mode === "json") write(formatMtrJsonText(result, fmt));
  else if (mode === "csv") write(formatCsv(result, fmt));
  else
    write(
      formatReport(result, {
        ...fmt,
        fields: reportFields,
        wide: flags.reportWide === true || mode === "live",
        mpls: flags.mpls === true,
      }) +
        formatFollowUps(result.followUps, result.adaptive) +
        formatReadings(result.nat, result.recordRoute) +
        (flags.geo ? (await import("../geo")).formatPlaces(result.hops) : ""),
    );
}

/** The interactive view: a table redrawn in place, at most every 100 ms, q quits. */
class LiveView {
  private hops = new Map<number, Hop>();
  private cycle = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === "q" || k === "Q" || k === "\u0003") this.quit();
  };

  constructor(
    private readonly target: string,
    private readonly local: string,
    private readonly count: number,
    private readonly order: string | undefined,
    private readonly naming: { useNames: boolean; showIps: boolean },
    private readonly quit: () => void,
  ) {
    process.stdout.write("\x1b[?1049h\x1b[?25l"); // alternate screen, hide the cursor
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on("data", this.onKey);
    }
    this.draw();
  }

  /** Redraws at once, or in time for 10 frames a second at most. */
  private requestDraw(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastDraw + 100 - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, wait);
  }

  update(e: TraceEvent): void {
    if (e.type === "cycle") {
      this.cycle = e.cycle;
      this.hops = new Map(e.hops.map((h) => [h.ttl, h]));
    } else {
      this.hops.set(e.hop.ttl, e.hop);
    }
    this.requestDraw();
  }

  private draw(): void {
    this.lastDraw = performance.now();
    const hops = [...this.hops.values()].sort((a, b) => a.ttl - b.ttl);
    const lines = formatLiveTable(hops, {
      target: this.target,
      address: this.target,
      localHostname: this.local,
      columns: process.stdout.columns || 80,
      cycle: this.cycle,
      count: this.count,
      ...this.naming,
      ...(this.order !== undefined ? { fields: this.order } : {}),
    });
    process.stdout.write(`\x1b[H\x1b[2J${lines.join("\n")}\n`);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (process.stdin.isTTY) {
      process.stdin.off("data", this.onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    process.stdout.write("\x1b[?25h\x1b[?1049l");
  }
}
