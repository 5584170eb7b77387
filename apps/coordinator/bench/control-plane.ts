/**
 * Control-plane benchmark: a coordinator process, a real nats-server, a real PostgreSQL, and a
 * load generator playing many agents (bench/load-generator-agents.ts: synthetic traces, no
 * probes). Submits traces at a fixed rate (open loop) and prints a table:
 * submit -> accept (202) latency, submit -> first hop event on the live stream, and sustained
 * traces per second with every trace accounted for in the database.
 *
 *   pnpm --filter @lg/coordinator bench -- --agents 100 --rate 50 --duration 30
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createDb, createRepository } from "@lg/db";
import { findFreePort, startNatsServer, startPostgres } from "@lg/services";
import { createParser } from "eventsource-parser";
import { cpuSeconds, pct, sleep } from "./kit";

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    agents: { type: "string", default: "100" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    "per-measurement": { type: "string", default: "1" },
    "trace-ms": { type: "string", default: "1000" },
  },
});
const agents = Number(args.agents);
const rate = Number(args.rate);
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const perMeasurement = Number(args["per-measurement"]);
const traceMs = Number(args["trace-ms"]);

const root = resolve(import.meta.dirname, "../../..");
const tsx = `file://${join(root, "node_modules/tsx/dist/loader.mjs")}`;

function spawnTs(
  file: string,
  argv: string[],
  env: Record<string, string>,
  nodeFlags: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, "--import", tsx, file, ...argv], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function waitLine(child: ChildProcess, marker: string, timeoutMs: number): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no '${marker}' within ${timeoutMs} ms`)), timeoutMs);
    let seen = "";
    child.stdout?.on("data", (d) => {
      seen += d;
      if (seen.includes(marker)) {
        clearTimeout(timer);
        ok();
      }
    });
  });
}

interface Sample {
  submittedAt: number;
  acceptMs?: number;
  firstHopMs?: number;
  doneMs?: number;
  id?: string;
  error?: string;
}

async function follow(base: string, sample: Sample): Promise<void> {
  const res = await fetch(`${base}/api/v1/measurements/${sample.id}/events`, {
    signal: AbortSignal.timeout(60_000),
  });
  let done = false;
  const parser = createParser({
    onEvent: (e) => {
      const now = performance.now();
      if (e.event === "hop" && sample.firstHopMs === undefined) sample.firstHopMs = now - sample.submittedAt;
      if (e.event === "done") {
        sample.doneMs = now - sample.submittedAt;
        done = true;
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body ?? []) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    if (done) break;
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "lg-bench-"));
  const nats = await startNatsServer({ dataDir: join(dir, "nats") });
  const pg = await startPostgres();
  const port = await findFreePort();
  const base = `http://127.0.0.1:${port}`;
  const children: ChildProcess[] = [];
  // Interrupted (Ctrl-C, a timeout): stop the children first so nothing outlives the benchmark.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const c of children) c.kill("SIGKILL");
      void Promise.allSettled([nats.stop(), pg.stop()]).then(() => process.exit(130));
    });
  }
  try {
    // The coordinator runs as `lg coordinator` from the bundle, as it is deployed.
    execFileSync(process.execPath, ["build.mjs"], { cwd: join(root, "apps/cli"), stdio: "inherit" });
    const coordinator = spawn(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the coordinator there.
        ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
        join(root, "apps/cli/dist/lg.mjs"),
        "coordinator",
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          HOST: "127.0.0.1",
          PORT: String(port),
          NATS_URL: nats.url,
          DATABASE_URL: pg.url,
          LG_DATA_DIR: dir,
          LG_ALLOW_TARGETS: "198.18.0.0/15",
          // The load is aimed at one lab address on purpose; the per-target budget would refuse it.
          LG_TARGET_BUDGET: "0",
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(coordinator);
    for (let i = 0; ; i++) {
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 200) throw new Error("coordinator did not start");
      await sleep(100);
    }
    const generator = spawnTs(join(root, "apps/coordinator/bench/load-generator-agents.ts"), [], {
      NATS_URL: nats.url,
      BENCH_AGENTS: String(agents),
      BENCH_TRACE_MS: String(traceMs),
    });
    children.push(generator);
    await waitLine(generator, "ready", 60_000);
    process.stderr.write(`${agents} load-generator agents connected\n`);
    const ids: string[] = [];
    for (let i = 0; ; i++) {
      const list = (await (await fetch(`${base}/api/v1/agents`)).json()) as { id: string; online: boolean }[];
      const online = list.filter((a) => a.online).map((a) => a.id);
      if (online.length >= agents) {
        ids.push(...online.sort());
        break;
      }
      if (i > 300) throw new Error(`only ${online.length} of ${agents} agents online`);
      await sleep(100);
    }

    const run = async (seconds: number, record: boolean) => {
      const samples: Sample[] = [];
      const follows: Promise<void>[] = [];
      const measurementsPerSecond = rate / perMeasurement;
      const period = 1000 / measurementsPerSecond;
      const total = Math.round(seconds * measurementsPerSecond);
      const start = performance.now();
      let next = 0;
      for (let i = 0; i < total; i++) {
        const due = start + i * period;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const from = Array.from({ length: perMeasurement }, () => ids[next++ % ids.length] as string);
        const sample: Sample = { submittedAt: performance.now() };
        samples.push(sample);
        const submit = fetch(`${base}/api/v1/measurements`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ target: "198.18.0.1", from, count: 3 }),
        }).then(async (res) => {
          sample.acceptMs = performance.now() - sample.submittedAt;
          const body = (await res.json()) as { id?: string; traces?: { status: string }[] };
          if (res.status !== 202 || !body.id) sample.error = `HTTP ${res.status}`;
          else if (body.traces?.some((t) => t.status !== "running")) sample.error = "a job was not accepted";
          sample.id = body.id;
          if (body.id) await follow(base, sample);
        });
        follows.push(
          submit.catch((err) => {
            sample.error = String(err);
          }),
        );
      }
      const submitSeconds = (performance.now() - start) / 1000;
      await Promise.all(follows);
      const drainSeconds = (performance.now() - start) / 1000;
      return { samples, submitSeconds, drainSeconds, record };
    };

    process.stderr.write(`warm-up ${warmupS} s…\n`);
    await run(warmupS, false);
    process.stderr.write(`measuring ${durationS} s at ${rate} traces/s from ${agents} agents…\n`);
    const pids = { coordinator: coordinator.pid, generator: generator.pid, nats: nats.pid, postgres: pg.pid };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const selfBefore = process.cpuUsage();
    const { samples, submitSeconds, drainSeconds } = await run(durationS, true);
    const selfCpu = process.cpuUsage(selfBefore);
    const cpu = Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) - (cpuBefore[k] as number)]),
    ) as Record<keyof typeof pids, number>;
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

    const db = await createDb({ databaseUrl: pg.url, dataDir: dir });
    const counts = await createRepository(db.db).traceStatusCounts(
      samples.flatMap((s) => (s.id ? [s.id] : [])),
    );
    await db.close();
    const submittedTraces = samples.length * perMeasurement;
    const stored = counts.done ?? 0;
    const accept = samples.flatMap((s) => (s.acceptMs === undefined ? [] : [s.acceptMs]));
    const firstHop = samples.flatMap((s) => (s.firstHopMs === undefined ? [] : [s.firstHopMs]));
    const done = samples.flatMap((s) => (s.doneMs === undefined ? [] : [s.doneMs]));
    const errors = samples.filter((s) => s.error).length;
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const rows: [string, string, string][] = [
      ["agents (load generator)", String(agents), "100"],
      ["offered load", `${rate} traces/s, ${perMeasurement} per measurement, ${durationS} s`, "50 traces/s"],
      ["submit -> accept p50", ms(pct(accept, 50)), ""],
      ["submit -> accept p99", ms(pct(accept, 99)), "<= 25 ms"],
      ["submit -> accept max", ms(Math.max(...accept)), ""],
      [
        "submit -> first hop event p50",
        ms(pct(firstHop, 50)),
        `(agent sends first progress at ${traceMs * 0.3} ms)`,
      ],
      ["submit -> first hop event p99", ms(pct(firstHop, 99)), ""],
      ["submit -> done event p50", ms(pct(done, 50)), `(synthetic trace lasts ${traceMs} ms)`],
      ["submit -> done event p99", ms(pct(done, 99)), ""],
      ["sustained submit rate", `${(submittedTraces / submitSeconds).toFixed(1)} traces/s`, ""],
      ["stored (done) / submitted", `${stored} / ${submittedTraces}`, "all"],
      [
        "failed / queued / running",
        `${counts.failed ?? 0} / ${counts.queued ?? 0} / ${counts.running ?? 0}`,
        "0 / 0 / 0",
      ],
      ["request errors", String(errors), "0"],
      [
        "CPU per trace: coordinator",
        `${((cpu.coordinator * 1000) / (samples.length * perMeasurement)).toFixed(2)} ms`,
        `(${((cpu.coordinator / drainSeconds) * 100).toFixed(0)}% of one core)`,
      ],
      [
        "CPU per trace: NATS / PostgreSQL",
        `${((cpu.nats * 1000) / (samples.length * perMeasurement)).toFixed(2)} ms / ${((cpu.postgres * 1000) / (samples.length * perMeasurement)).toFixed(2)} ms`,
        "",
      ],
      [
        "CPU: load generator / bench client",
        `${cpu.generator.toFixed(1)} s / ${((selfCpu.user + selfCpu.system) / 1e6).toFixed(1)} s`,
        "",
      ],
      ["machine load average (1/5/15 min)", load, "2 cores"],
      [
        "last trace stored after",
        `${(drainSeconds - submitSeconds).toFixed(2)} s after the last submit`,
        `(includes the ${traceMs} ms trace)`,
      ],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    const line = (a: string, b: string, c: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |`;
    process.stdout.write(
      `${line("metric", "value", "goal")}\n|${"-".repeat(w0 + 2)}|${"-".repeat(w1 + 2)}|------|\n`,
    );
    for (const r of rows) process.stdout.write(`${line(...r)}\n`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))),
    );
    await nats.stop();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
