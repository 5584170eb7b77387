/**
 * Scale benchmark: the control-plane benchmark's load (bench/load-generator-agents.ts: N agents
 * with the real protocol, synthetic traces, no probes) on the deployment shape of
 * docs/deploy.md: the checked-in 3-node NATS cluster with operator-mode credentials, the results
 * stream at three replicas, two coordinator processes (`lg coordinator` from the bundle) on
 * different nodes sharing the durable results consumer, and one PostgreSQL.
 *
 * Submits at a fixed rate (open loop), alternating between the two coordinators, and follows each
 * measurement's live stream on the OTHER coordinator. Prints a table: traces per second, dispatch
 * latency percentiles (submit -> every agent accepted), submit -> stored (done event), and the
 * database's write rate from pg_stat_database.
 *
 *   pnpm --filter @lg/coordinator bench:scale -- --agents 100 --rate 50 --duration 30
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createDb, createRepository } from "@lg/db";
import { RESULTS_STREAM } from "@lg/protocol";
import { findFreePort, startLocalDeployment, startPostgres } from "@lg/services";
import { jetstreamManager } from "@nats-io/jetstream";
import { sql } from "drizzle-orm";
import { cpuSeconds, followDone, pct, printTable, sleep, waitHealthy } from "./kit";

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    agents: { type: "string", default: "100" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    "trace-ms": { type: "string", default: "1000" },
  },
});
const agents = Number(args.agents);
const rate = Number(args.rate);
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const traceMs = Number(args["trace-ms"]);
const COORDINATORS = 2;

const root = resolve(import.meta.dirname, "../../..");
const tsx = `file://${join(root, "node_modules/tsx/dist/loader.mjs")}`;

interface Sample {
  submittedAt: number;
  via: number;
  acceptMs?: number;
  doneMs?: number;
  id?: string;
  error?: string;
}

/** Rows written and transactions committed in the database so far. */
async function dbCounters(db: Awaited<ReturnType<typeof createDb>>) {
  const result = await db.db.execute(
    sql`select xact_commit::bigint as commits, (tup_inserted + tup_updated + tup_deleted)::bigint as rows from pg_stat_database where datname = current_database()`,
  );
  const row = (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]) as {
    commits: string;
    rows: string;
  };
  return { commits: Number(row.commits), rows: Number(row.rows) };
}

async function main() {
  const deployment = await startLocalDeployment();
  const pg = await startPostgres();
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))),
    );
    await deployment.stop();
    await pg.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const c of children) c.kill("SIGKILL");
      void Promise.allSettled([deployment.stop(), pg.stop()]).then(() => process.exit(130));
    });
  }
  try {
    const dir = deployment.dir;
    const credsDir = join(dir, "bench-creds");
    await mkdir(credsDir, { recursive: true });
    for (let i = 0; i < agents; i++) {
      const id = `bench${String(i).padStart(3, "0")}`;
      await writeFile(join(credsDir, `${id}.creds`), await deployment.keys.mintUser("agent", id), {
        mode: 0o600,
      });
    }
    const coordinatorCreds = join(dir, "coordinator.creds");
    await writeFile(coordinatorCreds, await deployment.keys.mintUser("coordinator"), { mode: 0o600 });
    const nodeUrls = deployment.nodes.map((n) => n.clientUrl);

    execFileSync(process.execPath, ["build.mjs"], { cwd: join(root, "apps/cli"), stdio: "inherit" });
    const bases: string[] = [];
    const coordinators: ChildProcess[] = [];
    for (let i = 0; i < COORDINATORS; i++) {
      const port = await findFreePort();
      const child = spawn(process.execPath, [join(root, "apps/cli/dist/lg.mjs"), "coordinator"], {
        cwd: root,
        env: {
          ...process.env,
          HOST: "127.0.0.1",
          PORT: String(port),
          // Replica i dials node i first; the client learns the others from the cluster.
          NATS_URL: nodeUrls[i % nodeUrls.length] as string,
          NATS_CREDS: coordinatorCreds,
          DATABASE_URL: pg.url,
          LG_DATA_DIR: join(dir, `coordinator-${i}`),
          LG_ALLOW_TARGETS: "198.18.0.0/15",
          LG_TARGET_BUDGET: "0",
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.push(child);
      coordinators.push(child);
      bases.push(`http://127.0.0.1:${port}`);
      // One at a time: both migrate the same database at start.
      await waitHealthy(bases[i] as string);
    }
    // As docs/deploy.md: the stream the coordinators created gets three replicas.
    const admin = await deployment.connectAs("coordinator", nodeUrls);
    const jsm = await jetstreamManager(admin);
    const info = await jsm.streams.info(RESULTS_STREAM);
    await jsm.streams.update(RESULTS_STREAM, { ...info.config, num_replicas: 3 });
    await admin.close();

    const generator = spawn(
      process.execPath,
      ["--import", tsx, join(root, "apps/coordinator/bench/load-generator-agents.ts")],
      {
        cwd: root,
        env: {
          ...process.env,
          NATS_URL: nodeUrls.join(","),
          BENCH_CREDS_DIR: credsDir,
          BENCH_AGENTS: String(agents),
          BENCH_TRACE_MS: String(traceMs),
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(generator);
    const ids: string[] = [];
    for (let i = 0; ; i++) {
      const list = (await (await fetch(`${bases[0]}/api/v1/agents`)).json()) as {
        id: string;
        online: boolean;
      }[];
      const online = list.filter((a) => a.online).map((a) => a.id);
      if (online.length >= agents) {
        ids.push(...online.sort());
        break;
      }
      if (i > 1_200) throw new Error(`only ${online.length} of ${agents} agents online`);
      await sleep(100);
    }
    process.stderr.write(
      `${agents} agents online over ${nodeUrls.length} NATS nodes, ${COORDINATORS} coordinators\n`,
    );

    const run = async (seconds: number) => {
      const samples: Sample[] = [];
      const follows: Promise<void>[] = [];
      const period = 1000 / rate;
      const total = Math.round(seconds * rate);
      const start = performance.now();
      for (let i = 0; i < total; i++) {
        const wait = start + i * period - performance.now();
        if (wait > 0) await sleep(wait);
        const via = i % COORDINATORS;
        const sample: Sample = { submittedAt: performance.now(), via };
        samples.push(sample);
        const submit = fetch(`${bases[via]}/api/v1/measurements`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ target: "198.18.0.1", from: [ids[i % ids.length]], count: 3 }),
        }).then(async (res) => {
          sample.acceptMs = performance.now() - sample.submittedAt;
          const body = (await res.json()) as { id?: string; traces?: { status: string }[] };
          if (res.status !== 202 || !body.id) sample.error = `HTTP ${res.status}`;
          else if (body.traces?.some((t) => t.status !== "running")) sample.error = "a job was not accepted";
          sample.id = body.id;
          // The live stream is read from the other replica.
          const other = bases[(via + 1) % COORDINATORS] as string;
          if (body.id) sample.doneMs = (await followDone(other, body.id)) - sample.submittedAt;
        });
        follows.push(
          submit.catch((err) => {
            sample.error = String(err);
          }),
        );
      }
      const submitSeconds = (performance.now() - start) / 1000;
      await Promise.all(follows);
      return { samples, submitSeconds, drainSeconds: (performance.now() - start) / 1000 };
    };

    const db = await createDb({ databaseUrl: pg.url, dataDir: dir, maxConnections: 2 });
    process.stderr.write(`warm-up ${warmupS} s…\n`);
    await run(warmupS);
    process.stderr.write(`measuring ${durationS} s at ${rate} traces/s…\n`);
    const pids = {
      coordinators: coordinators.map((c) => c.pid),
      nats: deployment.nodes.map((n) => n.process.child.pid),
      generator: [generator.pid],
      postgres: [pg.pid],
    };
    const cpu = () =>
      Object.fromEntries(
        Object.entries(pids).map(([k, ps]) => [k, ps.reduce((sum: number, p) => sum + cpuSeconds(p), 0)]),
      );
    const cpuBefore = cpu();
    const dbBefore = await dbCounters(db);
    const { samples, submitSeconds, drainSeconds } = await run(durationS);
    const dbAfter = await dbCounters(db);
    const cpuAfter = cpu();
    const used = (k: string) => (cpuAfter[k] as number) - (cpuBefore[k] as number);
    const counts = await createRepository(db.db).traceStatusCounts(
      samples.flatMap((s) => (s.id ? [s.id] : [])),
    );
    await db.close();

    const jobsBy = await Promise.all(
      bases.map(async (b) => {
        const text = await (await fetch(`${b}/metrics`)).text();
        return Number(/^lg_jobs_total\{outcome="accepted"\} (\d+)/m.exec(text)?.[1] ?? 0);
      }),
    );
    const accept = samples.flatMap((s) => (s.acceptMs === undefined ? [] : [s.acceptMs]));
    const done = samples.flatMap((s) => (s.doneMs === undefined ? [] : [s.doneMs]));
    const stored = counts.done ?? 0;
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    printTable([
      [
        "agents (load generator) / NATS nodes / coordinators",
        `${agents} / ${nodeUrls.length} / ${COORDINATORS}`,
        ">= 100 / 3 / 2",
      ],
      ["offered load", `${rate} traces/s for ${durationS} s`, ""],
      ["traces per second (submitted)", (samples.length / submitSeconds).toFixed(1), ""],
      [
        "traces per second (stored, to the last)",
        (stored / drainSeconds).toFixed(1),
        `(includes the ${traceMs} ms trace)`,
      ],
      ["stored (done) / submitted", `${stored} / ${samples.length}`, "all"],
      [
        "failed / queued / running",
        `${counts.failed ?? 0} / ${counts.queued ?? 0} / ${counts.running ?? 0}`,
        "0 / 0 / 0",
      ],
      ["request errors", String(samples.filter((s) => s.error).length), "0"],
      ["dispatch latency p50 (submit -> all accepted)", ms(pct(accept, 50)), ""],
      ["dispatch latency p90", ms(pct(accept, 90)), ""],
      ["dispatch latency p99", ms(pct(accept, 99)), ""],
      ["dispatch latency max", ms(Math.max(...accept)), ""],
      [
        "submit -> done event on the other replica p50",
        ms(pct(done, 50)),
        `(synthetic trace lasts ${traceMs} ms)`,
      ],
      ["submit -> done event on the other replica p99", ms(pct(done, 99)), ""],
      ["jobs dispatched per coordinator (lg_jobs_total)", jobsBy.join(" / "), "(warm-up included)"],
      [
        "database rows written per second",
        ((dbAfter.rows - dbBefore.rows) / drainSeconds).toFixed(0),
        "pg_stat_database",
      ],
      ["database commits per second", ((dbAfter.commits - dbBefore.commits) / drainSeconds).toFixed(0), ""],
      [
        "database rows written per trace",
        ((dbAfter.rows - dbBefore.rows) / Math.max(1, samples.length)).toFixed(1),
        "",
      ],
      [
        "CPU per trace: coordinators (both)",
        `${((used("coordinators") * 1000) / samples.length).toFixed(2)} ms`,
        `(${((used("coordinators") / drainSeconds) * 100).toFixed(0)}% of one core)`,
      ],
      [
        "CPU per trace: NATS (3 nodes) / PostgreSQL",
        `${((used("nats") * 1000) / samples.length).toFixed(2)} ms / ${((used("postgres") * 1000) / samples.length).toFixed(2)} ms`,
        "",
      ],
      ["CPU: load generator", `${used("generator").toFixed(1)} s`, ""],
      ["machine load average (1/5/15 min)", load, "2 cores, shared"],
    ]);
  } finally {
    await stopAll();
  }
}

await main();
