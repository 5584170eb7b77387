/**
 * The pure part of the probe-helper benchmark (bench/helpers.ts): its arguments, the jobs it hands
 * its workers and what they print back, and the tables it prints. Tested in helpers-report.test.ts.
 */
import { parseArgs } from "node:util";
import type { ProbeHelperName, ProbeSpec } from "../src/packet/types";
import type { SocketBuffer, SocketDrops } from "./proc-stats";

export interface BenchArgs {
  quick: boolean;
  /** Runs of each measurement per helper, alternating which helper goes first. */
  rounds: number;
  /** Probes per raw-throughput run. */
  probes: number;
  /** Probes kept in flight by a raw-throughput run (mtr-packet refuses more than 1,024). */
  window: number;
  /** Numbers of concurrent traces. */
  traces: number[];
  /** Cycles (-c) and interval (-i, seconds) of each trace. */
  count: number;
  interval: number;
  /**
   * Run the workers as this user instead of root: the helpers then hold only the capability their
   * installed files carry (cap_net_raw+ep), as on an agent. Null: as the caller (root).
   */
  user: string | null;
  /** Seconds over which the traces' starts are spread evenly (0: all at the same instant). */
  ramp: number;
  /** Most helper processes per pool (the pool's own default when null: 16 mtr-packet, 4 lg-probe). */
  maxProcesses: number | null;
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not "${text}"`);
  return n;
}

/**
 * Parses the benchmark's command line: `--quick` picks the short defaults, every other flag
 * overrides one of them.
 *
 * @example
 * parseBenchArgs(["--quick", "--traces", "100,500"]) // traces [100, 500], 1 round, 10,000 probes
 */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      probes: { type: "string" },
      window: { type: "string" },
      traces: { type: "string" },
      count: { type: "string" },
      interval: { type: "string" },
      user: { type: "string" },
      "max-processes": { type: "string" },
      ramp: { type: "string" },
    },
  });
  const quick = values.quick === true;
  const interval = values.interval === undefined ? 1 : Number(values.interval);
  if (!(interval > 0))
    throw new Error(`--interval must be a positive number of seconds, not "${values.interval}"`);
  const ramp = values.ramp === undefined ? 0 : Number(values.ramp);
  if (!(ramp >= 0)) throw new Error(`--ramp must be a number of seconds, not "${values.ramp}"`);
  const window = values.window === undefined ? 1000 : positiveInt("window", values.window);
  if (window > 1024) throw new Error("--window must be at most 1,024 (mtr-packet refuses more in flight)");
  return {
    quick,
    rounds: values.rounds === undefined ? (quick ? 1 : 3) : positiveInt("rounds", values.rounds),
    probes: values.probes === undefined ? (quick ? 10_000 : 50_000) : positiveInt("probes", values.probes),
    window,
    traces:
      values.traces === undefined
        ? quick
          ? [100, 1000]
          : [1000, 2000, 5000]
        : values.traces.split(",").map((t) => positiveInt("traces", t)),
    count: values.count === undefined ? 5 : positiveInt("count", values.count),
    interval,
    user: values.user ?? null,
    ramp,
    maxProcesses:
      values["max-processes"] === undefined ? null : positiveInt("max-processes", values["max-processes"]),
  };
}

/** What a raw-throughput worker is asked to do. */
export interface RawJob {
  helper: string;
  probe: ProbeSpec;
  probes: number;
  window: number;
  deadlineMs: number;
}

/** What a raw-throughput worker measured. */
export interface RawRun {
  probes: number;
  wallMs: number;
  /** Answers by kind (`reply`, `ttl-expired`, `no-reply`, `failure:<reason>`, ...). */
  counts: Record<string, number>;
  helperCpuMs: number;
  nodeCpuMs: number;
  helperPeakRssKb: number;
  nodePeakRssKb: number;
  /** Drop counters of the lab node's raw sockets: the helper's. */
  rawDrops: SocketDrops[];
  /** The helper's sockets' receive buffers (null: not readable as this user). */
  socketBuffers: SocketBuffer[] | null;
  uid: number;
}

/** What a concurrent-traces worker is asked to do. */
export interface TracesJob {
  helperName: ProbeHelperName;
  helper: string;
  traces: number;
  count: number;
  interval: number;
  target: string;
  /** Seconds over which the starts are spread. */
  ramp: number;
  maxProcesses: number | null;
}

/** What a concurrent-traces worker measured. */
export interface TracesRun {
  traces: number;
  wallMs: number;
  nodeCpuMs: number;
  /** CPU of every helper process of the pool, summed. */
  helperCpuMs: number;
  nodePeakRssKb: number;
  /** Peak RSS of each helper process. */
  helperPeakRssKb: number[];
  /** Drop counters of the lab node's raw sockets: every helper process's. */
  rawDrops: SocketDrops[];
  socketBuffers: SocketBuffer[] | null;
  sent: number;
  recv: number;
  unsent: number;
  reached: number;
  lostByTtl: Record<number, number>;
  /** Event-loop delay of the node process during the run (99th percentile and worst), ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  uid: number;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** A markdown table with every column padded to its widest cell (numbers and words right-aligned). */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] as number)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** 12345.6 -> "12,346" */
export const thousands = (n: number): string => Math.round(n).toLocaleString("en-US");
const mb = (kb: number) => (kb / 1024).toFixed(1);
/** CPU seconds per 1,000 probes, from milliseconds over `probes`. */
const perThousand = (cpuMs: number, probes: number) => (probes === 0 ? "-" : (cpuMs / probes).toFixed(3));

const PROTOCOLS: Record<string, string> = {
  "4/1": "ICMP",
  "4/6": "TCP",
  "4/17": "UDP",
  "6/58": "ICMPv6",
  "6/6": "TCPv6",
  "6/17": "UDPv6",
};
/** "ICMPv6" for family 6, protocol 58; "raw 6/255" for what has no name. */
export const socketName = (family: 4 | 6, protocol: number): string =>
  PROTOCOLS[`${family}/${protocol}`] ?? `raw ${family}/${protocol}`;

/** The worst run's drops on the helpers' raw sockets and the kinds of socket that dropped: "0" or "9,744 (ICMPv6)". */
export function dropsText(runs: { rawDrops: SocketDrops[] }[]): string {
  const total = (r: { rawDrops: SocketDrops[] }) => r.rawDrops.reduce((s, d) => s + d.drops, 0);
  const worst = runs.reduce((w, r) => (total(r) > total(w) ? r : w));
  if (total(worst) === 0) return "0";
  const kinds = new Set(
    worst.rawDrops.filter((d) => d.drops > 0).map((d) => socketName(d.family, d.protocol)),
  );
  return `${thousands(total(worst))} (${[...kinds].join(", ")})`;
}

/**
 * The receive buffers a helper's raw sockets had, e.g. "212,992 B" when all alike, else per
 * socket kind ("ICMP 16,777,216 B, TCP 16,777,216 B, ..."); "?" when unreadable.
 */
export function buffersText(buffers: SocketBuffer[] | null): string {
  if (buffers === null || buffers.length === 0) return "?";
  const sizes = new Set(buffers.map((b) => b.bytes));
  if (sizes.size === 1) return `${thousands(buffers[0]?.bytes as number)} B`;
  return buffers.map((b) => `${socketName(b.family, b.protocol)} ${thousands(b.bytes)} B`).join(", ");
}

/** One raw-throughput case (a probe kind) and every run of it, by helper. */
export interface RawCase {
  name: string;
  runs: Record<ProbeHelperName, RawRun[]>;
}

export const HELPERS: ProbeHelperName[] = ["mtr-packet", "lg-probe"];

/**
 * The raw-throughput table: per case, one row per helper, next to each other. Throughput and CPU
 * are medians over the runs; answers, no-replies and drops the worst run's.
 */
export function rawTable(cases: RawCase[]): string {
  const rows: string[][] = [];
  for (const c of cases) {
    for (const helper of HELPERS) {
      const runs = c.runs[helper];
      if (runs.length === 0) continue;
      const answered = (r: RawRun) =>
        Object.entries(r.counts)
          .filter(([k]) => k !== "no-reply" && !k.startsWith("failure:"))
          .reduce((s, [, n]) => s + n, 0);
      const failures = (r: RawRun) =>
        Object.entries(r.counts)
          .filter(([k]) => k.startsWith("failure:"))
          .reduce((s, [, n]) => s + n, 0);
      const probes = (runs[0] as RawRun).probes;
      rows.push([
        c.name,
        helper,
        thousands(median(runs.map((r) => (r.probes * 1000) / r.wallMs))),
        `${thousands(Math.min(...runs.map(answered)))}/${thousands(probes)}`,
        thousands(Math.max(...runs.map((r) => r.counts["no-reply"] ?? 0))),
        thousands(Math.max(...runs.map(failures))),
        perThousand(median(runs.map((r) => r.helperCpuMs)), probes),
        perThousand(median(runs.map((r) => r.nodeCpuMs)), probes),
        mb(Math.max(...runs.map((r) => r.helperPeakRssKb))),
        mb(Math.max(...runs.map((r) => r.nodePeakRssKb))),
        dropsText(runs),
      ]);
    }
  }
  return table(
    [
      "probes to",
      "helper",
      "probes/s",
      "answered",
      "no-reply",
      "failures",
      "helper CPU s/1k",
      "node CPU s/1k",
      "helper RSS MB",
      "node RSS MB",
      "raw drops",
    ],
    rows,
  );
}

/** One number of concurrent traces and every run of it, by helper. */
export interface TracesCase {
  traces: number;
  runs: Record<ProbeHelperName, TracesRun[]>;
}

/** "3: 12, 4: 2" from lost probes by TTL; "-" when none. */
export function lostByTtlText(lost: Record<number, number>): string {
  const parts = Object.entries(lost)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([ttl, n]) => `${ttl}: ${n}`);
  return parts.length === 0 ? "-" : parts.join(", ");
}

/**
 * The concurrent-traces table: per N, one row per helper. Wall time and CPU are medians; peak RSS
 * the largest; probes, unsent, lost and drops the worst run's (lost: probes counted lost on a path
 * that loses nothing — false loss); loop lag the node process's event-loop delay, median p99 / worst.
 */
export function tracesTable(cases: TracesCase[]): string {
  const rows: string[][] = [];
  for (const c of cases) {
    for (const helper of HELPERS) {
      const runs = c.runs[helper];
      if (runs.length === 0) continue;
      const lost = (r: TracesRun) => r.sent - r.recv;
      const worst = runs.reduce((w, r) => (lost(r) > lost(w) ? r : w));
      const helperRss = runs.map((r) => r.helperPeakRssKb.reduce((s, k) => s + k, 0));
      const procs = Math.max(...runs.map((r) => r.helperPeakRssKb.length));
      const cpuPerProbe = median(
        runs.map((r) => (r.sent === 0 ? 0 : ((r.nodeCpuMs + r.helperCpuMs) * 1000) / r.sent)),
      );
      rows.push([
        thousands(c.traces),
        helper,
        (median(runs.map((r) => r.wallMs)) / 1000).toFixed(2),
        mb(Math.max(...runs.map((r) => r.nodePeakRssKb))),
        `${mb(Math.max(...helperRss))} (${procs})`,
        (median(runs.map((r) => r.nodeCpuMs)) / 1000).toFixed(2),
        (median(runs.map((r) => r.helperCpuMs)) / 1000).toFixed(2),
        cpuPerProbe.toFixed(1),
        thousands(Math.min(...runs.map((r) => r.sent))),
        thousands(Math.max(...runs.map((r) => r.unsent))),
        thousands(lost(worst)),
        lostByTtlText(worst.lostByTtl),
        dropsText(runs),
        `${Math.round(median(runs.map((r) => r.loopDelayP99Ms)))}/${Math.round(Math.max(...runs.map((r) => r.loopDelayMaxMs)))}`,
        `${thousands(Math.min(...runs.map((r) => r.reached)))}/${thousands(c.traces)}`,
      ]);
    }
  }
  return table(
    [
      "N",
      "helper",
      "wall s",
      "node RSS MB",
      "helper RSS MB (procs)",
      "node CPU s",
      "helper CPU s",
      "CPU µs/probe",
      "probes",
      "unsent",
      "lost",
      "lost by TTL",
      "raw drops",
      "loop lag ms",
      "reached",
    ],
    rows,
  );
}

/** The sentence about the machine's load: it is shared, so figures vary with what else runs. */
export function loadLine(when: "start" | "end", load: number[], cores: number): string {
  return `Load average at the ${when}: ${load.map((l) => l.toFixed(2)).join(" ")} (1, 5, 15 min; ${cores} cores, shared with other work: figures vary with it)`;
}
