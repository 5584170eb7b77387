/**
 * Runs N traces at once in this one process over one shared Tracer (a pool of mtr-packet
 * helpers) and prints one JSON line: wall time, CPU of this process and of its helpers, peak
 * RSS, and loss over every hop of every trace. Run inside a lab namespace by bench/run.ts.
 *
 * Usage: concurrent-worker <N> <count> <interval> <target>
 */
import { readFileSync } from "node:fs";
import { Tracer } from "../src/index";
import { tallyTraces } from "./tally";

const [n, count, interval] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const target = process.argv[5] as string;

/** CPU seconds of reaped children (the mtr-packet helpers), from /proc/self/stat. */
function childCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17, in clock ticks (100/s)
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

const tracer = new Tracer({ resolveNames: false });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const results = await Promise.all(
  Array.from({ length: n }, () => tracer.run({ target, options: { count, interval } })),
);
const wallMs = performance.now() - t0;
await tracer.close();
const cpu = process.cpuUsage(cpu0);
const { sent, recv, tracesWithLoss, reached, unsent, lostByTtl } = tallyTraces(results);
console.log(
  JSON.stringify({
    n,
    count,
    interval,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    helperCpuMs: childCpuMs(),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    sent,
    recv,
    lossPct: sent === 0 ? 0 : (100 * (sent - recv)) / sent,
    tracesWithLoss,
    lostByTtl,
    unsent,
    reached,
  }),
);
