/**
 * Fault trials: real processes (nats-server, PostgreSQL, `lg coordinator`, `lg agent`), one fault
 * per trial, repeated, then a table of counts. Not part of CI (it takes minutes).
 *
 *   pnpm -F @lg/coordinator fault-trials --trials 20 [--only agent-kill,coordinator-kill,nats-restart,db-stop]
 *
 * Counting, per scenario:
 *   expected    traces whose agent finished and published a final result (read from the
 *               JetStream results stream, so a result lost before the stream is also seen)
 *   stored      of those, traces whose final result is in the database
 *   lost        expected - stored
 *   duplicated  final-result writes beyond the first for one trace (each write is announced
 *               once on lg.live.trace.<id> with the stored row; a second `done` announcement
 *               would be a second write)
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createDb, type DbHandle, inArray, traces } from "@lg/db";
import { LiveTraceMessage, RESULTS_STREAM, subjects } from "@lg/protocol";
import {
  findFreePort,
  type NatsServer,
  type PostgresServer,
  startNatsServer,
  startPostgres,
} from "@lg/services";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

const repoRoot = resolve(import.meta.dirname, "../../..");
const SCENARIOS = ["agent-kill", "coordinator-kill", "nats-restart", "db-stop"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: { trials: { type: "string", default: "20" }, only: { type: "string" } },
});
const TRIALS = Number(args.trials);
const only = (args.only?.split(",") ?? [...SCENARIOS]) as Scenario[];
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario '${s}'`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** One `lg` subcommand as ONE node process (so kill -9 hits it, not a launcher). */
function lg(command: string, env: Record<string, string>): ChildProcess & { out(): string } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), command],
    {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const keep = (d: Buffer) => {
    out = `${out}${d}`.slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return Object.assign(child, { out: () => out });
}

async function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}

// ---- the stack ----------------------------------------------------------------------------

interface Stack {
  dir: string;
  pg: PostgresServer;
  pgProc?: ChildProcess;
  nats: NatsServer;
  natsPort: number;
  httpPort: number;
  url: string;
  coordinator: ChildProcess & { out(): string };
  agents: Map<string, ChildProcess & { out(): string }>;
  db: DbHandle;
  nc: NatsConnection;
  /** Final-result writes announced per trace. */
  doneWrites: Map<string, number>;
}

function coordinatorEnv(s: Pick<Stack, "httpPort" | "natsPort" | "pg" | "dir">): Record<string, string> {
  return {
    HOST: "127.0.0.1",
    PORT: String(s.httpPort),
    NATS_URL: `nats://127.0.0.1:${s.natsPort}`,
    DATABASE_URL: s.pg.url,
    LG_DATA_DIR: s.dir,
    LG_ALLOW_TARGETS: "127.0.0.0/8",
    // The trials trace loopback many times a minute; the budget is tested elsewhere.
    LG_TARGET_BUDGET: "0",
  };
}

async function startCoordinatorProcess(s: Stack): Promise<void> {
  s.coordinator = lg("coordinator", coordinatorEnv(s));
  await waitFor("coordinator /healthz", async () => (await fetch(`${s.url}/healthz`)).ok, 60_000);
}

function startAgentProcess(s: Stack, id: string): void {
  s.agents.set(
    id,
    lg("agent", {
      NATS_URL: `nats://127.0.0.1:${s.natsPort}`,
      LG_AGENT_ID: id,
      LG_REGION: "trial",
      LG_ALLOW_TARGETS: "127.0.0.0/8",
      LG_PUBLIC_ADDRS: "127.0.0.1",
    }),
  );
}

async function agentsOnline(s: Stack, ids: string[]): Promise<void> {
  await waitFor(
    `agents ${ids.join(",")} online`,
    async () => {
      const list = (await (await fetch(`${s.url}/api/v1/agents`)).json()) as {
        id: string;
        online: boolean;
      }[];
      return ids.every((id) => list.some((a) => a.id === id && a.online));
    },
    60_000,
  );
}

const CORE_AGENTS = ["ft-1", "ft-2", "ft-3"];

async function startStack(): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "lg-fault-"));
  const pg = await startPostgres();
  const natsPort = await findFreePort("127.0.0.1");
  const nats = await startNatsServer({ dataDir: join(dir, "nats"), port: natsPort });
  const httpPort = await findFreePort("127.0.0.1");
  const s = {
    dir,
    pg,
    nats,
    natsPort,
    httpPort,
    url: `http://127.0.0.1:${httpPort}`,
    agents: new Map(),
    doneWrites: new Map<string, number>(),
  } as unknown as Stack;
  await startCoordinatorProcess(s);
  s.db = await createDb({ databaseUrl: pg.url, dataDir: dir, maxConnections: 2 });
  s.nc = await connect({
    servers: nats.url,
    name: "fault-trials",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
  });
  s.nc.subscribe("lg.live.trace.*", {
    callback: (_err, msg) => {
      try {
        const m = LiveTraceMessage.parse(msg.json());
        if (m.trace.status === "done") s.doneWrites.set(m.trace.id, (s.doneWrites.get(m.trace.id) ?? 0) + 1);
      } catch {
        // not a live message
      }
    },
  });
  for (const id of CORE_AGENTS) startAgentProcess(s, id);
  await agentsOnline(s, CORE_AGENTS);
  return s;
}

async function stopStack(s: Stack): Promise<void> {
  for (const a of s.agents.values()) await killAndWait(a, "SIGTERM").catch(() => {});
  await killAndWait(s.coordinator, "SIGTERM").catch(() => {});
  await s.nc.close().catch(() => {});
  await s.db.close().catch(() => {});
  await s.nats.stop();
  if (s.pgProc) await killAndWait(s.pgProc, "SIGINT").catch(() => {});
  await s.pg.stop();
  await rm(s.dir, { recursive: true, force: true });
}

// ---- PostgreSQL stop/start on the same cluster ---------------------------------------------

async function portOpen(port: number): Promise<boolean> {
  const { createConnection } = await import("node:net");
  return new Promise((r) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      r(true);
    });
    sock.once("error", () => r(false));
  });
}

async function pgStop(s: Stack): Promise<void> {
  if (s.pgProc) await killAndWait(s.pgProc, "SIGINT");
  else process.kill(s.pg.pid, "SIGINT");
  await waitFor("postgres down", async () => !(await portOpen(s.pg.port)), 30_000);
}

async function pgStart(s: Stack): Promise<void> {
  const bin = "/usr/lib/postgresql/15/bin/postgres";
  const ids = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  const argv = [
    ...[
      "--pdeathsig",
      "SIGQUIT",
      `--reuid=${ids("-u")}`,
      `--regid=${ids("-g")}`,
      "--clear-groups",
      "--",
      bin,
    ],
    ...["-D", join(s.pg.dir, "data"), "-p", String(s.pg.port), "-h", "127.0.0.1", "-k", s.pg.dir],
    ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
  ];
  s.pgProc = spawn("setpriv", argv, { stdio: "ignore" });
  await waitFor("postgres up", () => portOpen(s.pg.port), 30_000);
}

// ---- measurements and counting -------------------------------------------------------------

interface Accepted {
  id: string;
  traces: { id: string; agentId: string; status: string }[];
}

async function submit(s: Stack, from: string[], count: number, interval = 0.5): Promise<Accepted> {
  const res = await fetch(`${s.url}/api/v1/measurements`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ target: "127.0.0.1", from, count, interval, maxTtl: 4 }),
  });
  if (res.status !== 202) throw new Error(`submit: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Accepted;
}

async function traceStatus(s: Stack, measurementId: string): Promise<Map<string, string>> {
  const m = (await (await fetch(`${s.url}/api/v1/measurements/${measurementId}`)).json()) as {
    traces: { id: string; status: string }[];
  };
  return new Map(m.traces.map((t) => [t.id, t.status]));
}

async function settled(s: Stack, measurementId: string, ms = 60_000): Promise<boolean> {
  return waitFor(
    `measurement ${measurementId} settled`,
    async () =>
      [...(await traceStatus(s, measurementId)).values()].every((st) => st === "done" || st === "failed"),
    ms,
  ).then(
    () => true,
    () => false,
  );
}

interface Tally {
  trials: number;
  expected: number;
  stored: number;
  lost: number;
  duplicated: number;
  check: string;
  checkOk: number;
  notes: string[];
}

/** Counts for a set of traces: finals in the stream, results in the database, duplicate writes. */
async function count(s: Stack, traceIds: { id: string; agentId: string }[]) {
  const jsm = await jetstreamManager(s.nc);
  const info = await jsm.streams.info(RESULTS_STREAM, { subjects_filter: subjects.finalAll });
  const published = (info.state as { subjects?: Record<string, number> }).subjects ?? {};
  const expected = traceIds.filter((t) => (published[subjects.final(t.agentId, t.id)] ?? 0) > 0);
  const rows = traceIds.length
    ? await s.db.db
        .select({ id: traces.id, resultAt: traces.resultAt })
        .from(traces)
        .where(
          inArray(
            traces.id,
            traceIds.map((t) => t.id),
          ),
        )
    : [];
  const storedIds = new Set(rows.filter((r) => r.resultAt !== null).map((r) => r.id));
  const stored = expected.filter((t) => storedIds.has(t.id)).length;
  const duplicated = traceIds.reduce((n, t) => n + Math.max(0, (s.doneWrites.get(t.id) ?? 0) - 1), 0);
  return { expected: expected.length, stored, lost: expected.length - stored, duplicated };
}

const newTally = (check: string): Tally => ({
  trials: 0,
  expected: 0,
  stored: 0,
  lost: 0,
  duplicated: 0,
  check,
  checkOk: 0,
  notes: [],
});

function add(t: Tally, c: Awaited<ReturnType<typeof count>>): void {
  t.expected += c.expected;
  t.stored += c.stored;
  t.lost += c.lost;
  t.duplicated += c.duplicated;
}

// ---- scenarios ------------------------------------------------------------------------------

/**
 * kill -9 an agent mid-trace: its trace must be failed within the heartbeat timeout (15 s
 * offline + the 1 s sweep); the surviving agent's trace of the same measurement is stored.
 */
async function agentKill(s: Stack): Promise<Tally> {
  const t = newTally("killed agent's trace failed <= 17 s");
  const batch = 5;
  let maxMs = 0;
  for (let start = 0; start < TRIALS; start += batch) {
    const ids = Array.from({ length: Math.min(batch, TRIALS - start) }, (_, i) => `fk-${start + i}`);
    for (const id of ids) startAgentProcess(s, id);
    await agentsOnline(s, ids);
    const runs = await Promise.all(ids.map((id) => submit(s, [id, "ft-1"], 40)));
    await sleep(1_000 + Math.random() * 1_500);
    const killedAt = Date.now();
    await Promise.all(ids.map((id) => killAndWait(s.agents.get(id) as ChildProcess, "SIGKILL")));
    await Promise.all(
      runs.map(async (m, i) => {
        const victim = m.traces.find((x) => x.agentId === ids[i]);
        const ok = await waitFor(
          "victim failed",
          async () => (await traceStatus(s, m.id)).get(victim?.id ?? "") === "failed",
          40_000,
        ).then(
          () => true,
          () => false,
        );
        const ms = Date.now() - killedAt;
        maxMs = Math.max(maxMs, ms);
        t.trials++;
        if (ok && ms <= 17_000) t.checkOk++;
        else t.notes.push(`trial ${ids[i]}: ${ok ? `failed after ${ms} ms` : "never failed (hung)"}`);
      }),
    );
    for (const m of runs) if (!(await settled(s, m.id))) t.notes.push(`measurement ${m.id} did not settle`);
    add(
      t,
      await count(
        s,
        runs.flatMap((m) => m.traces),
      ),
    );
    for (const id of ids) s.agents.delete(id);
    log(`agent-kill: ${t.trials}/${TRIALS} (slowest failure ${maxMs} ms after the kill)`);
  }
  t.notes.push(`slowest failure: ${maxMs} ms after kill -9`);
  return t;
}

/** kill -9 the coordinator mid-measurement, restart it: every finished result stored once. */
async function coordinatorKill(s: Stack): Promise<Tally> {
  const t = newTally("measurement settled after restart");
  for (let i = 0; i < TRIALS; i++) {
    const m = await submit(s, CORE_AGENTS, 6);
    await sleep(200 + Math.random() * 2_500);
    await killAndWait(s.coordinator, "SIGKILL");
    await sleep(Math.random() * 3_000);
    await startCoordinatorProcess(s);
    t.trials++;
    if (await settled(s, m.id)) t.checkOk++;
    else t.notes.push(`trial ${i}: measurement ${m.id} did not settle`);
    add(t, await count(s, m.traces));
    log(`coordinator-kill: ${t.trials}/${TRIALS}`);
  }
  return t;
}

/** Restart nats-server mid-trace: agents reconnect, new jobs run, finished results kept. */
async function natsRestart(s: Stack): Promise<Tally> {
  const t = newTally("new measurement after restart ran");
  for (let i = 0; i < TRIALS; i++) {
    const m = await submit(s, CORE_AGENTS, 8);
    await sleep(300 + Math.random() * 2_000);
    await s.nats.stop();
    await sleep(500 + Math.random() * 1_500);
    s.nats = await startNatsServer({ dataDir: join(s.dir, "nats"), port: s.natsPort });
    await agentsOnline(s, CORE_AGENTS).catch(() => t.notes.push(`trial ${i}: agents not online again`));
    const settledOld = await settled(s, m.id);
    const fresh: Accepted | undefined = await waitFor(
      "a new measurement accepted",
      async () => submit(s, CORE_AGENTS, 2),
      30_000,
    ).catch(() => undefined);
    const ran = fresh ? await settled(s, fresh.id) : false;
    const freshDone = fresh
      ? [...(await traceStatus(s, fresh.id)).values()].every((x) => x === "done")
      : false;
    t.trials++;
    if (settledOld && ran && freshDone) t.checkOk++;
    else t.notes.push(`trial ${i}: old settled ${settledOld}, new ran ${ran && freshDone}`);
    add(t, await count(s, [...m.traces, ...(fresh?.traces ?? [])]));
    log(`nats-restart: ${t.trials}/${TRIALS}`);
  }
  return t;
}

/**
 * Stop PostgreSQL for 1-20 s mid-trace: writes answer 503 database_unavailable, what
 * needs no database is served, results finished meanwhile are stored after it returns, and
 * the coordinator recovers without a restart.
 */
async function dbStop(s: Stack): Promise<Tally> {
  const t = newTally("503 for writes, served reads, recovered");
  let maxRecoverMs = 0;
  let maxWriteMs = 0;
  for (let i = 0; i < TRIALS; i++) {
    const m = await submit(s, CORE_AGENTS, 8);
    await sleep(300 + Math.random() * 1_000);
    await pgStop(s);
    const writeStarted = Date.now();
    const write = await fetch(`${s.url}/api/v1/measurements`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "127.0.0.1", from: CORE_AGENTS, count: 1 }),
    });
    const writeBody = (await write.json().catch(() => ({}))) as { error?: { code?: string } };
    maxWriteMs = Math.max(maxWriteMs, Date.now() - writeStarted);
    const read = await fetch(`${s.url}/openapi.json`);
    const health = await fetch(`${s.url}/healthz`);
    const healthBody = (await health.json().catch(() => ({}))) as { checks?: Record<string, unknown> };
    // Up to 20 s: longer than the 15 s offline timeout, during which no heartbeat can be written.
    await sleep(1_000 + Math.random() * 19_000);
    await pgStart(s);
    const back = Date.now();
    let lastRefusal = "";
    const fresh = await waitFor(
      "a write accepted again",
      () =>
        submit(s, CORE_AGENTS, 1).catch((err: Error) => {
          lastRefusal = err.message;
          throw err;
        }),
      60_000,
    ).catch(() => undefined);
    const recoverMs = Date.now() - back;
    if (recoverMs > 5_000)
      t.notes.push(`trial ${i}: first 202 after ${recoverMs} ms; before it: ${lastRefusal}`);
    maxRecoverMs = Math.max(maxRecoverMs, recoverMs);
    const ok =
      write.status === 503 &&
      writeBody.error?.code === "database_unavailable" &&
      read.status === 200 &&
      health.status === 503 &&
      fresh !== undefined &&
      (await settled(s, m.id)) &&
      (await settled(s, fresh.id));
    t.trials++;
    if (ok) t.checkOk++;
    else
      t.notes.push(
        `trial ${i}: write ${write.status} ${writeBody.error?.code}, openapi ${read.status}, healthz ${health.status} ${JSON.stringify(healthBody)}, recovered ${fresh !== undefined}`,
      );
    add(t, await count(s, [...m.traces, ...(fresh?.traces ?? [])]));
    log(`db-stop: ${t.trials}/${TRIALS}`);
  }
  t.notes.push(`slowest recovery (first 202 after PostgreSQL is back): ${maxRecoverMs} ms`);
  t.notes.push(`slowest 503 answer to a write while PostgreSQL was down: ${maxWriteMs} ms`);
  return t;
}

// ---- main -----------------------------------------------------------------------------------

const run: Record<Scenario, (s: Stack) => Promise<Tally>> = {
  "agent-kill": agentKill,
  "coordinator-kill": coordinatorKill,
  "nats-restart": natsRestart,
  "db-stop": dbStop,
};

const stack = await startStack();
const results: [Scenario, Tally][] = [];
try {
  for (const scenario of only) {
    log(`${scenario}: ${TRIALS} trials`);
    results.push([scenario, await run[scenario](stack)]);
  }
} catch (err) {
  log(`aborted: ${(err as Error).stack}`);
  log(`coordinator output: ${stack.coordinator.out()}`);
  process.exitCode = 1;
} finally {
  await stopStack(stack).catch((e) => log(`cleanup: ${(e as Error).message}`));
}

const header = ["scenario", "trials", "expected", "stored", "lost", "duplicated", "check", "passed"];
const rows = results.map(([name, t]) => [
  name,
  String(t.trials),
  String(t.expected),
  String(t.stored),
  String(t.lost),
  String(t.duplicated),
  t.check,
  `${t.checkOk}/${t.trials}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
for (const [name, t] of results) for (const n of t.notes) console.log(`${name}: ${n}`);
if (results.some(([, t]) => t.lost > 0 || t.duplicated > 0 || t.checkOk < t.trials)) process.exitCode = 1;
