import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LabProcess, ReferenceLab } from "@lg/netlab";
import type { AgentView, MeasurementView } from "@lg/protocol";
import { type NatsAuth, type NatsServer, startNatsServer } from "@lg/services";
import { testDatabaseUrl } from "@lg/services/testing";
import { createParser } from "eventsource-parser";
import pino from "pino";
import { loadConfig } from "../src/config";
import { type RunningCoordinator, type StartOptions, startCoordinator } from "../src/coordinator";
import type { UndocumentedStatus } from "../src/http/status-audit";
import { repoRoot } from "./kit/process";

export { repoRoot };
export const lgBin = join(repoRoot, "bin/lg");

export type DbKind = "postgres" | "pglite";

export interface Stack {
  dir: string;
  nats: NatsServer;
  databaseUrl: string | undefined;
  coordinator: RunningCoordinator;
  /** Starts the coordinator again on the same NATS and database (after `coordinator.stop()`). */
  restart(opts?: StartOptions): Promise<RunningCoordinator>;
  /**
   * Responses whose status /openapi.json does not document for the route that answered them;
   * `stop()` fails the suite when there is any.
   */
  undocumented: UndocumentedStatus[];
  stop(): Promise<void>;
}

const quiet = () => pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** A real nats-server and a real database (PostgreSQL or PGlite) per suite, and a coordinator on a free port. */
export async function startStack(
  db: DbKind,
  opts: StartOptions & {
    allow?: string;
    host?: string;
    natsHost?: string;
    /** More coordinator settings (variable name -> value). */
    env?: Record<string, string>;
  } = {},
): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "lg-coord-"));
  const nats = await startNatsServer({ dataDir: join(dir, "nats"), host: opts.natsHost });
  const pg = db === "postgres" ? await testDatabaseUrl() : undefined;
  const config = loadConfig({
    HOST: opts.host ?? "127.0.0.1",
    PORT: "0",
    NATS_URL: nats.url,
    DATABASE_URL: pg?.url,
    LG_DATA_DIR: dir,
    LG_ALLOW_TARGETS: opts.allow ?? "127.0.0.0/8",
    ...opts.env,
  });
  const undocumented: UndocumentedStatus[] = [];
  const onUndocumentedStatus = (v: UndocumentedStatus) => undocumented.push(v);
  const start = (o: StartOptions = {}) =>
    startCoordinator(config, { logger: quiet(), onUndocumentedStatus, ...opts, ...o });
  const stack: Stack = {
    dir,
    nats,
    databaseUrl: pg?.url,
    coordinator: await start(),
    async restart(o) {
      stack.coordinator = await start(o);
      return stack.coordinator;
    },
    undocumented,
    async stop() {
      await stack.coordinator.stop();
      await nats.stop();
      await pg?.stop();
      await rm(dir, { recursive: true, force: true });
      if (undocumented.length > 0) {
        const seen = new Set(undocumented.map((v) => `${v.status} on ${v.operation} (${v.path})`));
        throw new Error(`statuses /openapi.json does not document for their route:\n${[...seen].join("\n")}`);
      }
    },
  };
  return stack;
}

/**
 * A coordinator in operator mode on `nats` (a server that requires `auth`'s credentials), with
 * its own minted credentials written to `dir`, its data folder; loopback targets allowed.
 */
export async function startOperatorCoordinator(
  dir: string,
  nats: NatsServer,
  auth: NatsAuth,
  opts: StartOptions = {},
): Promise<RunningCoordinator> {
  const creds = join(dir, "coordinator.creds");
  await writeFile(creds, await auth.mintUserCreds("coordinator"), { mode: 0o600 });
  const config = loadConfig({
    PORT: "0",
    NATS_URL: nats.url,
    NATS_CREDS: creds,
    LG_DATA_DIR: dir,
    LG_ALLOW_TARGETS: "127.0.0.0/8",
  });
  return startCoordinator(config, { logger: quiet(), ...opts });
}

export interface AgentProcess {
  id: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** An agent to start: its id, and what differs from a PoP in region "test" on loopback. */
export interface AgentSpec {
  id: string;
  region?: string;
  role?: string;
  allow?: string;
  /** More environment (e.g. NATS_CREDS). */
  env?: Record<string, string>;
}

/**
 * A real agent: `lg agent` as ONE child process (node with the tsx loader, not the tsx launcher,
 * which would leave the agent running when the test kills its pid).
 */
export function startAgent(opts: AgentSpec & { natsUrl: string }): AgentProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "apps/cli/src/main.ts"), "agent"],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        NATS_URL: opts.natsUrl,
        LG_AGENT_ID: opts.id,
        LG_REGION: opts.region ?? "test",
        LG_ROLE: opts.role ?? "pop",
        LG_ALLOW_TARGETS: opts.allow ?? "127.0.0.0/8",
        LG_PUBLIC_ADDRS: "127.0.0.1",
        LOG_LEVEL: "warn",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    id: opts.id,
    child,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Real agents (`startAgent`) on the stack's NATS, each pushed to `into` as it starts (for the
 * suite's afterAll to stop, also when one never comes online); resolves once all are online.
 */
export async function startAgentsOnline(stack: Stack, into: AgentProcess[], specs: AgentSpec[]) {
  for (const spec of specs) into.push(startAgent({ ...spec, natsUrl: stack.nats.url }));
  return waitForAgents(
    stack.coordinator.url,
    specs.map((s) => s.id),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined/false) or the time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function waitForAgents(url: string, ids: string[], timeoutMs = 30_000): Promise<AgentView[]> {
  return waitFor(
    `agents ${ids.join(", ")} online`,
    async () => {
      const agents = (await (await fetch(`${url}/api/v1/agents`)).json()) as AgentView[];
      return ids.every((id) => agents.some((a) => a.id === id && a.online)) ? agents : undefined;
    },
    timeoutMs,
  );
}

export async function waitForMeasurementDone(
  url: string,
  id: string,
  timeoutMs = 60_000,
): Promise<MeasurementView> {
  return waitFor(
    `measurement ${id} done`,
    async () => {
      const m = (await (await fetch(`${url}/api/v1/measurements/${id}`)).json()) as MeasurementView;
      return m.status === "done" ? m : undefined;
    },
    timeoutMs,
  );
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a Server-Sent Events stream until it ends (or `timeoutMs`), collecting events in order. */
export async function readEvents(url: string, timeoutMs = 60_000): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const parser = createParser({
    onEvent: (e) => events.push({ event: e.event ?? "message", data: JSON.parse(e.data) }),
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  return events;
}

/** node's own tsx loader, for agents spawned inside lab namespaces (one process, no launcher). */
export const tsxLoader = `file://${join(repoRoot, "node_modules/tsx/dist/loader.mjs")}`;

/**
 * A real agent (`lg agent`) inside a lab node, dialling the stack's NATS over the lab's host link.
 * Its output is kept (last 4 kB) for failure messages.
 */
/** A lab node's main addresses: IPv4, and IPv6 where its first link has one. */
function labAddresses(lab: ReferenceLab, node: string): string[] {
  const v6 = (() => {
    try {
      return [lab.addr(node, 6)];
    } catch {
      return [];
    }
  })();
  return [lab.addr(node), ...v6];
}

export function startLabAgent(
  lab: ReferenceLab,
  natsUrl: string,
  node: string,
  role: "pop" | "neutral" = "pop",
  extraEnv: Record<string, string> = {},
): LabProcess & { output(): string } {
  const proc = lab.spawn(
    node,
    [process.execPath, "--import", tsxLoader, join(repoRoot, "apps/cli/src/main.ts"), "agent"],
    {
      env: {
        NATS_URL: natsUrl,
        LG_AGENT_ID: node,
        LG_REGION: lab.nodes[node]?.region ?? node,
        LG_ROLE: role,
        LG_ALLOW_TARGETS: lab.labCidrs.join(","),
        LG_PUBLIC_ADDRS: labAddresses(lab, node).join(","),
        LOG_LEVEL: "warn",
        ...extraEnv,
      },
      cwd: repoRoot,
    },
  );
  let out = "";
  const keep = (d: Buffer) => {
    out = `${out}${d}`.slice(-4_000);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  return Object.assign(proc, { output: () => out });
}
