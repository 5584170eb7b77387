/**
 * The probe-helper benchmark: mtr-packet and lg-probe side by side in one run, alternating, in a
 * small lab of their own (src — r1 — r2 — r3 — tgt, every router and the target answering). Two
 * tables:
 *
 * 1. Raw throughput: request lines written straight to one helper process's stdin, `window` in
 *    flight, to the target (echo reply, UDP port unreachable) and to a router halfway (time
 *    exceeded): probes/s, answers, no-replies, CPU per 1,000 probes of the helper and of the node
 *    side (/proc/PID/stat), peak RSS, the helper's raw-socket drops.
 * 2. N concurrent traces in one node process through the engine (a Tracer over a pool of that
 *    helper): wall time, peak RSS of node and of the helpers, CPU per probe, and false loss (the
 *    path loses nothing: every probe counted lost is the engine's or the helper's).
 *
 * The workers run as esbuild bundles under plain node inside the lab's src namespace, as root
 * unless `--user` names another user (then the helpers run from their installed files with
 * cap_net_raw only, as on an agent). Not part of the test suite: nothing here asserts a time.
 *
 * Usage: pnpm -F @lg/tracer bench:helpers [--quick] [--rounds N] [--probes N] [--window N]
 *        [--traces 1000,2000,5000] [--count C] [--interval I] [--user nobody] [--max-processes N]
 *        [--ramp S]
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildLab, type LabHandle, numberedLink as link, type Topology } from "@lg/netlab";
import { LG_PROBE_INSTALLED_PATH } from "../src/packet/helper-pool";
import type { ProbeHelperName, ProbeSpec } from "../src/packet/types";
import { bundleForNode } from "./bundle";
import {
  buffersText,
  HELPERS,
  loadLine,
  parseBenchArgs,
  type RawCase,
  type RawJob,
  type RawRun,
  rawTable,
  type TracesCase,
  type TracesJob,
  type TracesRun,
  thousands,
  tracesTable,
} from "./helpers-report";

const args = parseBenchArgs(process.argv.slice(2));
const root = resolve(import.meta.dirname, "../../..");
const helperDir = join(root, "packages/tracer/helper");
const cores = cpus().length;
const loadAtStart = loadavg();

/** Four hops, every one answering, nothing dropped: any loss on it is false loss. */
const TOPOLOGY: Topology = {
  autoRoutes: true,
  nodes: {
    src: {},
    r1: { router: true },
    r2: { router: true },
    r3: { router: true },
    tgt: {},
  },
  links: [link(1, "src", "r1"), link(2, "r1", "r2"), link(3, "r2", "r3"), link(4, "r3", "tgt")],
};
const TARGET = "198.18.4.2";
const TARGET6 = "2001:2:0:4::2";

const RAW_CASES: { name: string; probe: ProbeSpec }[] = [
  {
    name: "target, ICMP echo (reply)",
    probe: { family: 4, address: TARGET, ttl: 64, protocol: "icmp", timeoutSec: 1 },
  },
  {
    name: "router at TTL 2, ICMP (time exceeded)",
    probe: { family: 4, address: TARGET, ttl: 2, protocol: "icmp", timeoutSec: 1 },
  },
  {
    name: "target, UDP (port unreachable)",
    probe: { family: 4, address: TARGET, ttl: 64, protocol: "udp", timeoutSec: 1 },
  },
  {
    name: "target, ICMPv6 echo (reply)",
    probe: { family: 6, address: TARGET6, ttl: 64, protocol: "icmp", timeoutSec: 1 },
  },
];

function which(command: string): string {
  return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim();
}

function quietly(command: string, argv: string[]): string {
  try {
    return execFileSync(command, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return "?";
  }
}

/** The helpers' paths: as root the checkout's lg-probe; as another user the installed, capability-holding files. */
function helperPaths(): Record<ProbeHelperName, string> {
  const mtrPacket = which("mtr-packet");
  if (args.user !== null) return { "mtr-packet": mtrPacket, "lg-probe": LG_PROBE_INSTALLED_PATH };
  // Compiling is not what is measured: under nice, like every build on this machine.
  execFileSync("nice", ["-n", "19", "make", "-s", "-C", helperDir], { stdio: "inherit" });
  return { "mtr-packet": mtrPacket, "lg-probe": join(helperDir, "build/lg-probe") };
}

const dir = mkdtempSync(join(tmpdir(), "lg-bench-helpers-"));
// Readable by the user the workers may run as.
chmodSync(dir, 0o755);

async function bundle(entry: string, out: string): Promise<string> {
  const outfile = await bundleForNode(join(root, "packages/tracer/bench", entry), join(dir, out));
  chmodSync(outfile, 0o644);
  return outfile;
}

/** Runs a worker in src (as `args.user` when given) and returns the JSON line it printed. */
async function work<T>(lab: LabHandle, worker: string, job: unknown): Promise<T> {
  const asUser =
    args.user === null ? [] : ["setpriv", `--reuid=${args.user}`, "--regid=nogroup", "--clear-groups"];
  const r = await lab.exec("src", [...asUser, "node", worker, JSON.stringify(job)], { timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`${worker} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string) as T;
}

/** The helpers in the order a round runs them: alternating which goes first. */
const order = (round: number): ProbeHelperName[] => (round % 2 === 0 ? HELPERS : [...HELPERS].reverse());

const empty = <T>(): Record<ProbeHelperName, T[]> => ({ "mtr-packet": [], "lg-probe": [] });

const paths = helperPaths();
const rawWorker = await bundle("helper-raw-worker.ts", "raw.mjs");
const tracesWorker = await bundle("helper-traces-worker.ts", "traces.mjs");
const lab = await buildLab(TOPOLOGY);
let raw: RawCase[] = [];
let traces: TracesCase[] = [];
try {
  await lab.waitFor("src", TARGET);
  await lab.waitFor("src", TARGET6);
  raw = RAW_CASES.map(({ name }) => ({ name, runs: empty<RawRun>() }));
  for (let round = 0; round < args.rounds; round++) {
    for (const [i, c] of RAW_CASES.entries()) {
      for (const helper of order(round)) {
        const job: RawJob = {
          helper: paths[helper],
          probe: c.probe,
          probes: args.probes,
          window: args.window,
          deadlineMs: 300_000,
        };
        (raw[i] as RawCase).runs[helper].push(await work<RawRun>(lab, rawWorker, job));
      }
    }
  }
  traces = args.traces.map((n) => ({ traces: n, runs: empty<TracesRun>() }));
  for (let round = 0; round < args.rounds; round++) {
    for (const c of traces) {
      for (const helper of order(round)) {
        const job: TracesJob = {
          helperName: helper,
          helper: paths[helper],
          traces: c.traces,
          count: args.count,
          interval: args.interval,
          target: TARGET,
          ramp: args.ramp,
          maxProcesses: args.maxProcesses,
        };
        c.runs[helper].push(await work<TracesRun>(lab, tracesWorker, job));
      }
    }
  }
} finally {
  await lab.down();
  rmSync(dir, { recursive: true, force: true });
}

const firstRaw = (helper: ProbeHelperName) => raw[0]?.runs[helper][0];
const buffers = `${HELPERS.map((h) => `${h}: ${buffersText(firstRaw(h)?.socketBuffers ?? null)}`).join("; ")}${args.user === null ? "" : " (? = not readable as this user)"}`;
const uid = firstRaw("mtr-packet")?.uid;
const sysctl = (name: string) => (existsSync(name) ? readFileSync(name, "utf8").trim() : "?");

console.log(
  `\nProbe helpers side by side: mtr-packet (${quietly("mtr", ["--version"])}) and lg-probe (${paths["lg-probe"]}), ` +
    `node ${process.version}, kernel ${quietly("uname", ["-r"])}, ${cores} cores.`,
);
console.log(
  `Workers ran as ${args.user ?? "root"} (uid ${uid}); ${args.user === null ? "lg-probe forces its 8 MB receive buffers (SO_RCVBUFFORCE), mtr-packet keeps the default" : "helpers hold only cap_net_raw: receive buffers capped by net.core.rmem_max"}. ` +
    `Socket receive buffers (getsockopt SO_RCVBUF, twice what was asked): ${buffers}; net.core.rmem_default ${sysctl("/proc/sys/net/core/rmem_default")}, rmem_max ${sysctl("/proc/sys/net/core/rmem_max")}.`,
);
console.log(loadLine("start", loadAtStart, cores));
console.log(
  `\nRaw helper throughput: ${thousands(args.probes)} probes per run written to one helper's stdin, ${thousands(args.window)} in flight, ` +
    `${args.rounds} run(s) per helper alternating; probes/s and CPU are medians, answered/no-reply/failures/drops the worst run. ` +
    "CPU s/1k: CPU seconds per 1,000 probes (/proc/PID/stat utime+stime; the node side writes requests and parses answers with the engine's own parser).\n",
);
console.log(rawTable(raw));
console.log(
  `\nN concurrent traces in one node process (a Tracer over a pool of one helper with its shipped defaults), -c ${args.count} -i ${args.interval} each to ${TARGET} (4 hops, all answering), no follow-ups, ` +
    `${args.ramp === 0 ? "all started at the same instant" : `starts spread evenly over ${args.ramp} s (in the wall time)`}, ` +
    `${args.rounds} run(s) per helper alternating. Wall and CPU are medians; RSS the peak (helpers: summed over the pool's processes); ` +
    "lost = probes counted lost on a path that loses nothing (false loss), worst run; unsent: given up for lack of a slot (not counted as sent or lost). CPU µs/probe: node + helpers. " +
    "Loop lag: the node process's event-loop delay, p99/worst ms (the engine's final wait is the worst RTT + 200 ms).\n",
);
console.log(tracesTable(traces));
console.log(`\n${loadLine("end", loadavg(), cores)}`);
