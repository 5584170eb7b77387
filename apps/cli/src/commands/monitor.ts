import { AlertView, type MonitorRequestInput, type MonitorRules, MonitorView } from "@lg/protocol";
import type { Command } from "commander";
import { z } from "zod";
import { type ApiClient, createApiClient } from "../client";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { numberOption, USAGE } from "../options";
import { measurementRequest } from "./measure";

interface CreateFlags {
  every: string;
  from?: string;
  to?: string;
  name?: string;
  count?: string;
  interval?: string;
  loss?: string;
  latency?: string;
  runs?: string;
  pathChange?: boolean;
  popOffline?: boolean;
  webhook?: string;
  json?: boolean;
}

const api = (): ApiClient => createApiClient(loadCliConfig());
const whole = { integer: true, min: 0 };

/** The request body from the command line; the API checks the bounds and names a wrong field. */
export function monitorRequest(target: string, f: CreateFlags): MonitorRequestInput {
  const every = numberOption("-e/--every", f.every, whole) as number;
  const runs = numberOption("--runs", f.runs, whole);
  const rules: MonitorRules = {};
  const loss = numberOption("--loss", f.loss, { min: 0 });
  if (loss !== undefined) rules.loss = { pct: loss, runs: runs ?? 3 };
  const latency = numberOption("--latency", f.latency, { min: 0 });
  if (latency !== undefined) rules.latency = { ms: latency, runs: runs ?? 3 };
  if (f.pathChange) rules.pathChange = { runs: runs ?? 2 };
  if (f.popOffline) rules.popOffline = {};
  const common = {
    every,
    rules,
    ...(f.name ? { name: f.name } : {}),
    ...(f.webhook ? { webhook: f.webhook } : {}),
  };
  if (f.to) {
    if (f.from?.includes(","))
      throw new CliError("a path test monitor runs from one agent: give --from <agent>", USAGE);
    if (!f.from) throw new CliError("a path test monitor needs --from <agent> and --to <agent>", USAGE);
    const options = measurementRequest("x", { count: f.count, interval: f.interval });
    const { target: _t, ...rest } = options;
    return { kind: "path-test", ...common, pathTest: { a: f.from, b: f.to, ...rest } };
  }
  if (!target)
    throw new CliError("give a target, or --from <agent> --to <agent> for a path test monitor", USAGE);
  return {
    kind: "trace",
    ...common,
    measurement: measurementRequest(target, { from: f.from, count: f.count, interval: f.interval }),
  };
}

function rulesText(r: MonitorRules): string {
  const parts: string[] = [];
  if (r.loss) parts.push(`loss>${r.loss.pct}%x${r.loss.runs}`);
  if (r.latency) parts.push(`latency+${r.latency.ms}msx${r.latency.runs}`);
  if (r.pathChange) parts.push(`path-change`);
  if (r.popOffline) parts.push("pop-offline");
  return parts.join(",") || "-";
}

/** `lg monitor create|list|delete|alerts`: scheduled measurements and their alerts (LG_API_URL, LG_API_KEY). */
export function register(monitor: Command): void {
  monitor
    .command("create")
    .description("run a measurement (a target from PoPs) or a path test (--from a --to b) every N seconds")
    .argument("[target]", "hostname or IP address (omit with --to)")
    .requiredOption("-e, --every <seconds>", "seconds between runs (at least 5)")
    .option("--from <pops>", "comma-separated agent ids or region:<name>; with --to: the one agent a")
    .option("--to <agent>", "make it a path test from --from to this agent")
    .option("-n, --name <text>", "a name to recognise it by")
    .option("-c, --count <n>", "probes per hop")
    .option("-i, --interval <seconds>", "seconds between cycles")
    .option("--loss <pct>", "alert when the destination (or a real-loss finding) loses more than pct %")
    .option("--latency <ms>", "alert when the destination's average RTT steps up by ms or more")
    .option("--path-change", "alert when the responding hops or the AS path change")
    .option("--pop-offline", "alert when one of the monitor's PoPs is offline")
    .option("--runs <n>", "consecutive runs a condition must hold to fire, and clear to resolve")
    .option("--webhook <url>", "POST each alert (fired and resolved) as JSON to this URL")
    .option("--json", "print the created monitor as JSON")
    .action(async (target: string | undefined, flags: CreateFlags) => {
      const body = monitorRequest(target ?? "", flags);
      const created = await api().post("/api/v1/monitors", body, MonitorView);
      if (flags.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else
        process.stdout.write(
          `monitor ${created.id} created: ${created.name}, every ${created.every} s, rules ${rulesText(created.rules)}\n`,
        );
    });

  monitor
    .command("list")
    .description("list monitors (id, name, every, runs, firing alerts, rules, last run)")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      const rows = await api().get("/api/v1/monitors", z.array(MonitorView));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) process.stderr.write("no monitors\n");
      for (const m of rows) {
        process.stdout.write(
          `${m.id}\t${m.name}\tevery ${m.every}s\truns ${m.runs}\tfiring ${m.firing}\t${rulesText(m.rules)}\t${m.lastLink ?? "-"}\n`,
        );
      }
    });

  monitor
    .command("delete <id>")
    .description("delete a monitor and its series (its alert history stays)")
    .action(async (id: string) => {
      await api().request(`/api/v1/monitors/${encodeURIComponent(id)}`, { method: "DELETE" });
      process.stderr.write(`monitor ${id} deleted\n`);
    });

  monitor
    .command("alerts")
    .description("alert history, newest first")
    .option("-m, --monitor <id>", "only this monitor's alerts")
    .option("--firing", "only alerts still firing")
    .option("-l, --limit <n>", "at most n alerts", "50")
    .option("--json", "print JSON")
    .action(async (flags: { monitor?: string; firing?: boolean; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ limit: String(numberOption("-l/--limit", flags.limit, whole)) });
      if (flags.monitor) q.set("monitor", flags.monitor);
      if (flags.firing) q.set("status", "firing");
      const rows = await api().get(`/api/v1/alerts?${q}`, z.array(AlertView));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) process.stderr.write("no alerts\n");
      for (const a of rows) {
        const until = a.resolvedAt ? `resolved ${a.resolvedAt}` : "FIRING";
        process.stdout.write(
          `${a.firedAt}\t${a.monitorId}\t${a.rule}\t${a.subject}\t${until}\t${a.link ?? "-"}\n`,
        );
      }
    });
}
