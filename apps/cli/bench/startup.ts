/**
 * Start-up benchmark of the lg command as shipped (bin/lg running the bundle). Prints one table:
 * wall time and peak RSS of `lg --version` and `lg trace --help` (with `node -e 0` as the floor),
 * and of `lg trace -n -r -c 30 -i 0.1` on a fully answering lab path as a whole process, side by
 * side with `mtr -n -r -c 30 -i 0.1` on the same path in the same run, against C×I.
 *
 * The lab: src -- r1 -- r2 -- dst in network namespaces (198.18.0.0/15), built here and removed
 * at the end. Needs root. Not a timed test: the figures go to apps/cli/README.md.
 * Usage: pnpm bench:cli [--runs N]   (default 11 runs of each, medians)
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { buildLab, type LabHandle } from "@lg/netlab";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const lg = join(root, "bin/lg");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 11;
const C = 30;
const I = 0.1;
const dir = mkdtempSync(join(tmpdir(), "lg-bench-cli-"));

if (process.getuid?.() !== 0) {
  console.error("bench:cli builds a lab in network namespaces and needs root");
  process.exit(2);
}

/** Makes sure bin/lg runs the bundle: builds it, then checks what the launcher checks. */
async function currentBundle(): Promise<void> {
  await run("node", [join(root, "apps/cli/build.mjs")]);
  const list = join(root, "apps/cli/dist/lg.inputs");
  const made = statSync(list).mtimeMs;
  const text = readFileSync(list, "utf8");
  const files = (/lg_inputs='\n([^']*)'/.exec(text)?.[1] ?? "").trim().split("\n");
  const newer = files.filter(
    (f) => (statSync(join(root, f), { throwIfNoEntry: false })?.mtimeMs ?? 0) > made,
  );
  if (newer.length > 0) throw new Error(`the bundle is not current (${newer[0]} is newer)`);
}

interface Sample {
  wallMs: number;
  /** User + system CPU of the process: what the machine's load changes least. */
  cpuMs: number;
  rssMb: number;
}

/** Runs argv under /usr/bin/time (peak RSS of the process bin/lg execs), timing it from here. */
async function sample(argv: string[], exec?: (argv: string[]) => Promise<{ code: number }>): Promise<Sample> {
  const out = join(dir, "time.txt");
  const timed = ["/usr/bin/time", "-f", "%M %U %S", "-o", out, ...argv];
  const t0 = performance.now();
  const r = exec
    ? await exec(timed)
    : await run(timed[0] as string, timed.slice(1)).then(() => ({ code: 0 }));
  const wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}`);
  const [rssKb, user, sys] = (readFileSync(out, "utf8").trim().split("\n").pop() ?? "")
    .split(" ")
    .map(Number);
  return { wallMs, cpuMs: ((user as number) + (sys as number)) * 1000, rssMb: (rssKb as number) / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

let lab: LabHandle | undefined;
try {
  await currentBundle();
  const startup: Record<string, Sample[]> = { "node -e 0": [], "lg --version": [], "lg trace --help": [] };
  const argvOf: Record<string, string[]> = {
    "node -e 0": ["node", "-e", "0"],
    "lg --version": [lg, "--version"],
    "lg trace --help": [lg, "trace", "--help"],
  };
  for (let k = 0; k < RUNS; k++) {
    for (const [name, argv] of Object.entries(argvOf)) startup[name]?.push(await sample(argv));
  }

  const p2p = (n: number, a: string, b: string) => ({
    a,
    b,
    aAddr: { v4: `198.18.${n}.1/24` },
    bAddr: { v4: `198.18.${n}.2/24` },
  });
  lab = await buildLab({
    autoRoutes: true,
    nodes: { src: {}, r1: { router: true }, r2: { router: true }, dst: {} },
    links: [p2p(101, "src", "r1"), p2p(102, "r1", "r2"), p2p(103, "r2", "dst")],
  });
  const target = "198.18.103.2";
  await lab.waitFor("src", target);
  const inLab = (argv: string[]) => (lab as LabHandle).exec("src", argv, { timeoutMs: 120_000 });
  const args = ["-n", "-r", "-c", String(C), "-i", String(I), target];
  const traces: Record<string, Sample[]> = { lg: [], mtr: [] };
  for (let k = 0; k < RUNS; k++) {
    // Alternate which runs first so drift in the machine's load hits both alike.
    const pair = [
      async () => traces.lg?.push(await sample([lg, "trace", ...args], inLab)),
      async () => traces.mtr?.push(await sample(["mtr", ...args], inLab)),
    ];
    if (k % 2 === 1) pair.reverse();
    for (const step of pair) await step();
  }
  // Where the process's time goes: spawn -> its "start" event (start-up), "start" -> "done" (the
  // engine), "done" -> exit (the ending), each as this process sees the events arrive.
  const phases = { startup: [] as number[], engine: [] as number[], ending: [] as number[] };
  for (let k = 0; k < RUNS; k++) {
    const ndjson = [lg, "trace", "--ndjson", ...args.filter((a) => a !== "-r")];
    const t0 = performance.now();
    const child = spawn("ip", ["netns", "exec", lab.ns("src"), ...ndjson], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const seen = new Map<string, number>();
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      for (const type of ["start", "done"])
        if (!seen.has(type) && text.includes(`{"type":"${type}"`)) seen.set(type, performance.now() - t0);
    });
    const code = await new Promise<number | null>((done) => child.once("close", done));
    const exit = performance.now() - t0;
    const start = seen.get("start");
    const end = seen.get("done");
    if (code !== 0 || start === undefined || end === undefined)
      throw new Error(`lg trace --ndjson exited ${code}`);
    phases.startup.push(start);
    phases.engine.push(end - start);
    phases.ending.push(exit - end);
  }

  const cxi = C * I * 1000;
  const ms = (xs: Sample[]) => median(xs.map((s) => s.wallMs));
  const mb = (xs: Sample[]) => median(xs.map((s) => s.rssMb));
  const cpu = (xs: Sample[]) => median(xs.map((s) => s.cpuMs));
  const rows = [
    ...Object.entries(startup).map(([name, xs]) => [
      name,
      ms(xs).toFixed(0),
      cpu(xs).toFixed(0),
      mb(xs).toFixed(1),
      "",
      name === "node -e 0" ? "(floor)" : "≤ 150 ms, ≤ 60 MB",
    ]),
    [
      `lg trace -c ${C} -i ${I}`,
      ms(traces.lg as Sample[]).toFixed(0),
      cpu(traces.lg as Sample[]).toFixed(0),
      mb(traces.lg as Sample[]).toFixed(1),
      (ms(traces.lg as Sample[]) / cxi).toFixed(3),
      "≤ 1.05 × C×I",
    ],
    ["  start-up: spawn → start event", median(phases.startup).toFixed(0), "", "", "", ""],
    [
      "  engine: start → done event",
      median(phases.engine).toFixed(0),
      "",
      "",
      (median(phases.engine) / cxi).toFixed(3),
      "",
    ],
    ["  ending: done event → exit", median(phases.ending).toFixed(0), "", "", "", ""],
    [
      `mtr -c ${C} -i ${I}`,
      ms(traces.mtr as Sample[]).toFixed(0),
      cpu(traces.mtr as Sample[]).toFixed(0),
      mb(traces.mtr as Sample[]).toFixed(1),
      (ms(traces.mtr as Sample[]) / cxi).toFixed(3),
      "",
    ],
  ];
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(
    `\nbin/lg as shipped (bundle, node ${process.version}); medians of ${RUNS} runs; trace path src -> r1 -> r2 -> dst (3 hops, all answer), lg and mtr alternating; load average at the end ${load}\n`,
  );
  console.log(table(["command", "wall ms", "CPU ms", "max RSS MB", "× C×I", "target"], rows));
} finally {
  await lab?.down();
  rmSync(dir, { recursive: true, force: true });
}
