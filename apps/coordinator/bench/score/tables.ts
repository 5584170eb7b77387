/** The scoreboard's tallies and tables: pure, from the graded runs. */
import { pct } from "../kit";
import type { Outcome } from "./readings";

/** One graded path test. */
export interface PairRun {
  scenario: string;
  run: number;
  outcome: Outcome;
  routersRight: boolean;
  /** null when the scenario does not grade the fault direction (`conventions`). */
  faultRight: boolean | null;
  probes: number;
  why: string;
  /** The comparison in lab node names (gradePathTest's `read`). */
  read: unknown;
}

/** `default`: the requested probes only; `until-sure`: `"adaptive": true`. */
export type TraceMode = "default" | "until-sure";

/** One graded single-trace measurement. */
export interface TraceRun {
  scenario: string;
  mode: TraceMode;
  run: number;
  outcome: Outcome;
  probes: number;
  read: string;
  why: string;
}

const count = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length;
const rate = (right: number, runs: number) => (runs === 0 ? "—" : `${Math.round((100 * right) / runs)}%`);
const median = (xs: number[]) => (xs.length === 0 ? "—" : String(Math.round(pct(xs, 50))));

/** Groups rows by key, keeping the order keys first appear in. */
function groups<T>(xs: T[], key: (x: T) => string): T[][] {
  const byKey = new Map<string, T[]>();
  for (const x of xs) byKey.set(key(x), [...(byKey.get(key(x)) ?? []), x]);
  return [...byKey.values()];
}

export const PAIR_COLUMNS = [
  "scenario",
  "runs",
  "routers right",
  "fault right",
  "undecided",
  "wrong",
  "rate",
  "probes (median)",
];

/** One row per pair scenario: routers right, fault right (— when not graded), rate of right runs. */
export function pairRows(runs: PairRun[]): string[][] {
  return groups(runs, (r) => r.scenario).map((rs) => {
    const first = rs[0] as PairRun;
    const right = count(rs, (r) => r.outcome === "right");
    return [
      first.scenario,
      String(rs.length),
      `${count(rs, (r) => r.routersRight)}/${rs.length}`,
      first.faultRight === null ? "—" : `${count(rs, (r) => r.faultRight === true)}/${rs.length}`,
      String(count(rs, (r) => r.outcome === "inconclusive")),
      String(count(rs, (r) => r.outcome === "wrong")),
      rate(right, rs.length),
      median(rs.map((r) => r.probes)),
    ];
  });
}

export const TRACE_COLUMNS = [
  "scenario",
  "mode",
  "right",
  "inconclusive",
  "wrong",
  "rate",
  "probes (median)",
];

/** One row per single-trace scenario and mode. */
export function traceRows(runs: TraceRun[]): string[][] {
  return groups(runs, (r) => `${r.scenario} ${r.mode}`).map((rs) => {
    const first = rs[0] as TraceRun;
    const right = count(rs, (r) => r.outcome === "right");
    return [
      first.scenario,
      first.mode,
      `${right}/${rs.length}`,
      String(count(rs, (r) => r.outcome === "inconclusive")),
      String(count(rs, (r) => r.outcome === "wrong")),
      rate(right, rs.length),
      median(rs.map((r) => r.probes)),
    ];
  });
}

/** A Markdown table, columns padded to their widest cell. */
export function markdownTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(columns), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
