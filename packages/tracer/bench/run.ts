/**
 * Benchmark of the trace engine in the reference lab (packages/netlab). Prints two tables:
 *
 * 1. Wall time of `lg trace -n -r -c C -i I` against `mtr -n -r -c C -i I` on the same lab
 *    paths (fully answering, silent destination, black hole), run alternately, as medians and
 *    ratios to mtr and to C x I.
 * 2. N concurrent traces in one process (N = 100, 500, 1000) on the clean path: wall time, CPU,
 *    peak RSS and loss.
 *
 * Both `lg trace` (bench/lg-trace-entry.ts: the CLI's trace command alone) and the concurrency
 * worker run as esbuild bundles under plain node, as the CLI ships.
 * Usage: pnpm -F @lg/tracer bench [--quick]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ReferenceLab, startReferenceLab } from "@lg/netlab";
import { bundleForNode } from "./bundle";
import { median, table } from "./helpers-report";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : 3;
const root = resolve(import.meta.dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "lg-bench-"));

// The trace command's own dependencies (commander) are the CLI's.
const bundle = (entry: string, out: string) =>
  bundleForNode(entry, join(dir, out), [join(root, "apps/cli/node_modules")]);

async function timed(lab: ReferenceLab, node: string, argv: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await lab.exec(node, argv, { timeoutMs: 300_000 });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr}`);
  return ms;
}

/**
 * The engine's own time for the same trace: from the NDJSON stream's start event to its done
 * event, without node's start-up.
 */
async function engineMs(lab: ReferenceLab, node: string, lg: string, args: string[]): Promise<number> {
  const r = await lab.exec(node, ["node", lg, "trace", "--ndjson", ...args.filter((a) => a !== "-r")], {
    timeoutMs: 300_000,
  });
  const events = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; at: string });
  const start = events.find((e) => e.type === "start");
  const done = events.find((e) => e.type === "done");
  if (!start || !done) throw new Error(`no start/done events: ${r.stderr}`);
  return Date.parse(done.at) - Date.parse(start.at);
}

const sec = (ms: number) => (ms / 1000).toFixed(2);

const lg = await bundle(join(root, "packages/tracer/bench/lg-trace-entry.ts"), "lg.mjs");
const worker = await bundle(join(root, "packages/tracer/bench/concurrent-worker.ts"), "concurrent.mjs");
const lab = await startReferenceLab();
try {
  const paths = [
    { name: "clean (all answer)", scenario: lab.scenarios.clean },
    { name: "filtered (silent dest.)", scenario: lab.scenarios.filtered },
    { name: "blackhole (silent hops)", scenario: lab.scenarios.blackhole },
  ];
  const configs = quick
    ? [{ c: 10, i: 0.1 }]
    : [
        { c: 10, i: 0.1 },
        { c: 5, i: 1 },
      ];
  const startup = median(
    await (async () => {
      const xs: number[] = [];
      for (let k = 0; k < 7; k++) xs.push(await timed(lab, "fra", ["node", lg, "--version"]));
      return xs;
    })(),
  );
  const rows: string[][] = [];
  for (const { c, i } of configs) {
    for (const { name, scenario } of paths) {
      const args = ["-n", "-r", "-c", String(c), "-i", String(i), scenario.target];
      const mtr: number[] = [];
      const ours: number[] = [];
      const engine: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which runs first so drift in the machine's load hits both alike.
        const pair = [
          () => timed(lab, scenario.from, ["mtr", ...args]).then((ms) => mtr.push(ms)),
          () => timed(lab, scenario.from, ["node", lg, "trace", ...args]).then((ms) => ours.push(ms)),
        ];
        if (round % 2 === 1) pair.reverse();
        for (const step of pair) await step();
        engine.push(await engineMs(lab, scenario.from, lg, args));
      }
      const cxi = c * i * 1000;
      const m = median(mtr);
      const o = median(ours);
      rows.push([
        name,
        String(c),
        String(i),
        sec(cxi),
        sec(m),
        sec(o),
        sec(median(engine)),
        (o / m).toFixed(2),
        (o / cxi).toFixed(2),
        (median(engine) / cxi).toFixed(2),
      ]);
    }
  }
  console.log(
    `\nWall time, median of ${ROUNDS} alternating runs; engine = lg's own start-to-done time (node start-up of lg alone: ${sec(startup)} s)\n`,
  );
  console.log(
    table(
      ["path", "C", "I", "C×I s", "mtr s", "lg s", "engine s", "lg/mtr", "lg/(C×I)", "engine/(C×I)"],
      rows,
    ),
  );

  const concurrent = async (target: string, ns: number[], title: string) => {
    const crows: string[][] = [];
    for (const n of ns) {
      const r = await lab.exec("fra", ["node", worker, String(n), "10", "1", target], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`concurrent worker failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Record<string, number>;
      crows.push([
        String(n),
        sec(m.wallMs as number),
        sec(m.cpuMs as number),
        sec(m.helperCpuMs as number),
        (m.maxRssMb as number).toFixed(1),
        String(m.sent),
        String(m.unsent),
        (m.lossPct as number).toFixed(3),
        JSON.stringify(m.lostByTtl),
        `${m.reached}/${n}`,
      ]);
    }
    console.log(`\n${title}\n`);
    console.log(
      table(
        [
          "N",
          "wall s",
          "CPU node s",
          "CPU helpers s",
          "peak RSS MB",
          "probes",
          "unsent",
          "loss %",
          "lost by TTL",
          "reached",
        ],
        crows,
      ),
    );
  };
  await concurrent(
    lab.scenarios.clean.target,
    quick ? [100] : [100, 500, 1000],
    "N concurrent traces in one process, clean path (4 hops), -c 10 -i 1 each",
  );
  if (!quick) {
    await concurrent(
      lab.scenarios.blackhole.target,
      [200, 500],
      "Same on the black-hole path (3 hops answer, then 12 silent TTLs every cycle; the 4th is shown, 100% loss expected there)",
    );
  }
} finally {
  await lab.down();
  rmSync(dir, { recursive: true, force: true });
}
