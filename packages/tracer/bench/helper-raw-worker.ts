/**
 * Raw throughput of one probe helper (mtr-packet or lg-probe): starts it, writes `probes` request
 * lines straight to its stdin keeping `window` in flight, reads every answer with the engine's
 * own parser, and prints one JSON line (a `RawRun`): wall time, answers by kind, no-replies,
 * failures, CPU and peak RSS of the helper and of this node process, the raw-socket
 * drops and socket receive buffers. Run inside a lab namespace by bench/helpers.ts, as the user the
 * benchmark runs as.
 *
 * Usage: helper-raw-worker '<RawJob as JSON>'
 */
import { spawn } from "node:child_process";
import { formatProbeCommand, parseReplyLine } from "../src/packet/command";
import type { RawJob, RawRun } from "./helpers-report";
import {
  clockTicksPerSecond,
  namespaceRawDrops,
  readProcess,
  readSocketBuffers,
  selfCpuTicks,
} from "./proc-stats";

const job = JSON.parse(process.argv[2] as string) as RawJob;
const hz = clockTicksPerSecond();

const child = spawn(job.helper, [], { stdio: ["pipe", "pipe", "pipe"] });
let stderr = "";
child.stderr.setEncoding("utf8");
child.stderr.on("data", (c: string) => {
  stderr += c;
});
const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

// Let the helper open its sockets (and lg-probe drop its privileges) before the clock starts.
child.stdin.write("1 check-support feature send-probe\n");
await new Promise<void>((resolve, reject) => {
  child.stdout.once("data", () => resolve());
  child.once("exit", (code) => reject(new Error(`${job.helper} exited (${code}): ${stderr}`)));
});

const counts: Record<string, number> = {};
let answered = 0;
let nextToken = 2;
const lastToken = job.probes + 1;
let partial = "";

function writeMore(n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n && nextToken <= lastToken; i++)
    lines.push(formatProbeCommand(nextToken++, job.probe));
  if (lines.length > 0) child.stdin.write(`${lines.join("\n")}\n`);
}

const cpu0 = selfCpuTicks();
const t0 = performance.now();
const done = new Promise<void>((resolve, reject) => {
  const timer = setTimeout(
    () => reject(new Error(`only ${answered} of ${job.probes} answered in ${job.deadlineMs} ms`)),
    job.deadlineMs,
  );
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    let freed = 0;
    for (const line of lines) {
      const parsed = parseReplyLine(line);
      if (!parsed || parsed.token < 2) continue;
      const kind =
        parsed.outcome.kind === "failure" ? `failure:${parsed.outcome.reason}` : parsed.outcome.kind;
      counts[kind] = (counts[kind] ?? 0) + 1;
      freed++;
    }
    answered += freed;
    if (answered >= job.probes) {
      clearTimeout(timer);
      resolve();
    } else writeMore(freed);
  });
});
writeMore(job.window);
await done;
const wallMs = performance.now() - t0;
const nodeTicks = selfCpuTicks() - cpu0;
const helper = readProcess(child.pid as number);
const rawDrops = namespaceRawDrops();
const socketBuffers = readSocketBuffers(child.pid as number);
const node = readProcess(process.pid);
child.stdin.end();
await exited;

const run: RawRun = {
  probes: job.probes,
  wallMs,
  counts,
  helperCpuMs: (helper.cpuTicks * 1000) / hz,
  nodeCpuMs: (nodeTicks * 1000) / hz,
  helperPeakRssKb: helper.peakRssKb,
  nodePeakRssKb: node.peakRssKb,
  rawDrops,
  socketBuffers,
  uid: process.getuid?.() ?? -1,
};
console.log(JSON.stringify(run));
