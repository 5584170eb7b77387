/**
 * N traces at once in this one process through the engine (one Tracer) over a pool of one probe
 * helper, mtr-packet or lg-probe, with the pool's shipped defaults (pace, slots, processes).
 * Prints one JSON line (a `TracesRun`): wall time, CPU and peak RSS of this node process and of
 * every helper process (read from /proc just before the pool closes), probes sent and answered per
 * hop, unsent probes, and the helpers' raw-socket drops. Run inside a lab namespace by
 * bench/helpers.ts on a path where nothing is lost, so every probe counted lost is false loss.
 *
 * The traces start at the same instant, or spread evenly over `ramp` seconds.
 *
 * Usage: helper-traces-worker '<TracesJob as JSON>'
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { HelperPool, LG_PROBE_PROFILE, MTR_PACKET_PROFILE } from "../src/packet/helper-pool";
import { Tracer } from "../src/tracer";
import type { TracesJob, TracesRun } from "./helpers-report";
import {
  childPids,
  clockTicksPerSecond,
  namespaceRawDrops,
  type ProcessReading,
  readProcess,
  readSocketBuffers,
  selfCpuTicks,
} from "./proc-stats";
import { tallyTraces } from "./tally";

const job = JSON.parse(process.argv[2] as string) as TracesJob;
const hz = clockTicksPerSecond();

const profile = job.helperName === "lg-probe" ? LG_PROBE_PROFILE : MTR_PACKET_PROFILE;
const port = new HelperPool(profile, {
  command: job.helper,
  ...(job.maxProcesses === null ? {} : { maxProcesses: job.maxProcesses }),
});
const tracer = new Tracer({ port, resolveNames: false });

// How late this process runs its timers and reads its pipes: the engine's waits assume it is on time.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const cpu0 = selfCpuTicks();
const t0 = performance.now();
const startIn = (k: number) =>
  job.ramp === 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, (k * job.ramp * 1000) / job.traces));
const results = await Promise.all(
  Array.from({ length: job.traces }, (_, k) =>
    startIn(k).then(() =>
      tracer.run({
        target: job.target,
        options: { count: job.count, interval: job.interval },
        followUps: false,
      }),
    ),
  ),
);
const wallMs = performance.now() - t0;
loopDelay.disable();
const nodeTicks = selfCpuTicks() - cpu0;
const helpers: ProcessReading[] = childPids(process.pid).map(readProcess);
const rawDrops = namespaceRawDrops();
const buffers = helpers.map((h) => readSocketBuffers(h.pid));
const socketBuffers = buffers.some((b) => b === null) ? null : buffers.flatMap((b) => b ?? []);
const node = readProcess(process.pid);
await tracer.close();
await port.close();

const { sent, recv, unsent, reached, lostByTtl } = tallyTraces(results);

const run: TracesRun = {
  traces: job.traces,
  wallMs,
  nodeCpuMs: (nodeTicks * 1000) / hz,
  helperCpuMs: helpers.reduce((s, h) => s + (h.cpuTicks * 1000) / hz, 0),
  nodePeakRssKb: node.peakRssKb,
  helperPeakRssKb: helpers.map((h) => h.peakRssKb),
  rawDrops,
  socketBuffers,
  sent,
  recv,
  unsent,
  reached,
  lostByTtl,
  loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  loopDelayMaxMs: loopDelay.max / 1e6,
  uid: process.getuid?.() ?? -1,
};
console.log(JSON.stringify(run));
