import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import {
  ConfigError,
  createLogger,
  databaseLocation,
  loadConfig,
  type RunningCoordinator,
  startCoordinator,
} from "@lg/coordinator";
import { type NatsServer, startNatsServer } from "@lg/services";
import type { Command } from "commander";
import { type CliConfig, loadCliConfig } from "../config";
import { CliError } from "../errors";
import { USAGE } from "../options";
import { exitAfterShutdown, startFailure, untilSignal } from "./coordinator";

/** How `lg` runs itself again as a child (same node flags: tsx loader or bundle). */
export function selfCommand(...args: string[]): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1] as string, ...args];
}

export interface LocalStack {
  /** The CLI's configuration the stack was started with. */
  config: CliConfig;
  nats: NatsServer | undefined;
  natsUrl: string;
  coordinator: RunningCoordinator;
  dataDir: string;
  allowTargets: string;
  /** Stops the coordinator, then NATS (agents are the caller's, stopped before this). */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** CIDRs to allow-list on top of LG_ALLOW_TARGETS. */
  extraAllow?: string[];
  /** More addresses for HTTP and NATS to listen on (e.g. the lab's host-side address). */
  extraHosts?: string[];
  /** Lines of an operator prefix table (origin ASes) used unless LG_ASN_PREFIXES names one. */
  asnPrefixes?: string[];
  /** Lines of an operator place table (`CIDR,lat,lon,city,country`) used unless LG_GEO_PREFIXES names one. */
  geoPrefixes?: string[];
}

/**
 * NATS (a child on a free port unless NATS_URL), the database (PGlite unless DATABASE_URL) and
 * the coordinator in this process. The environment is read through the coordinator's one schema.
 */
export async function startLocalStack(cli: CliConfig, opts: LocalStackOptions = {}): Promise<LocalStack> {
  const env = cli.environment;
  const dataDir = resolve(databaseLocation(env).dataDir);
  const allowTargets = [cli.allowTargets, ...(opts.extraAllow ?? [])]
    .map((s) => s.trim())
    .filter(Boolean)
    .join(",");
  await mkdir(dataDir, { recursive: true });
  let nats: NatsServer | undefined;
  let natsUrl = cli.natsUrl ?? "";
  if (!natsUrl) {
    try {
      nats = await startNatsServer({ dataDir: join(dataDir, "nats"), extraListen: opts.extraHosts });
    } catch (err) {
      throw new CliError(`cannot start nats-server: ${(err as Error).message.split("\n")[0]}`);
    }
    natsUrl = nats.url;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      ...env,
      NATS_URL: natsUrl,
      LG_DATA_DIR: dataDir,
      LG_ALLOW_TARGETS: allowTargets,
      LOG_LEVEL: cli.logLevel,
      ...(opts.asnPrefixes && !cli.asnPrefixes
        ? { LG_ASN_PREFIXES: await writePrefixTable(dataDir, opts.asnPrefixes) }
        : {}),
      ...(opts.geoPrefixes && !env.LG_GEO_PREFIXES
        ? { LG_GEO_PREFIXES: await writePlaceTable(dataDir, opts.geoPrefixes) }
        : {}),
    });
  } catch (err) {
    await nats?.stop();
    if (err instanceof ConfigError) throw new CliError(err.message, USAGE);
    throw err;
  }
  let coordinator: RunningCoordinator;
  try {
    // Logs go to stderr so the URL and examples stay readable on stdout.
    coordinator = await startCoordinator(config, {
      logger: createLogger(config.logLevel, 2),
      extraHosts: opts.extraHosts,
    });
  } catch (err) {
    await nats?.stop();
    throw startFailure(err, config.host, config.port) ?? err;
  }
  return {
    config: cli,
    nats,
    natsUrl,
    coordinator,
    dataDir,
    allowTargets,
    async stop() {
      await coordinator.stop();
      await nats?.stop();
    },
  };
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 10_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Environment of an agent started by `lg up` / `lg demo`. */
export function agentEnv(
  stack: LocalStack,
  natsUrl: string,
  agent: Record<string, string>,
): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(stack.config.environment).filter((e): e is [string, string] => e[1] !== undefined),
  );
  delete base.DATABASE_URL;
  return {
    ...base,
    NATS_URL: natsUrl,
    LG_ALLOW_TARGETS: stack.allowTargets,
    LG_DRAIN_TIMEOUT: "5",
    LOG_LEVEL: stack.config.logLevel,
    ...agent,
  };
}

/** `lg up`: a single-node looking-glass on this machine; Ctrl-C stops everything. */
export function register(command: Command): void {
  command.action(async () => {
    const stack = await startLocalStack(loadCliConfig());
    const agentId =
      stack.config.agentId ||
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, "-")
        .slice(0, 64) ||
      "local";
    const [cmd, ...args] = selfCommand("agent");
    const agent = spawn(cmd as string, args, {
      env: agentEnv(stack, stack.natsUrl, {
        LG_AGENT_ID: agentId,
        LG_DATA_DIR: join(stack.dataDir, "agent"),
      }),
      stdio: ["ignore", "inherit", "inherit"],
    });
    let stopping = false;
    const agentExit = new Promise<void>((r) => agent.once("exit", () => r()));
    agent.once("exit", (code, signal) => {
      if (!stopping) process.stderr.write(`lg: the local agent exited (${signal ?? `code ${code}`})\n`);
    });
    const url = stack.coordinator.url;
    process.stdout.write(
      [
        `lg is up: ${url}`,
        `  API      ${url}/api/v1/agents · ${url}/openapi.json`,
        `  NATS     ${stack.natsUrl}${stack.nats ? " (child process)" : ""}`,
        `  database ${stack.coordinator.db.kind === "pglite" ? `PGlite in ${join(stack.dataDir, "pg")}` : "PostgreSQL (DATABASE_URL)"}`,
        `  agent    ${agentId} (this machine)`,
        `Try: bin/lg measure --from ${agentId} <target>   (LG_ALLOW_TARGETS lets private ranges be traced)`,
        "Ctrl-C stops everything.",
        "",
      ].join("\n"),
    );
    await Promise.race([untilSignal(), agentExit]);
    stopping = true;
    process.stdout.write("lg: stopping…\n");
    await stopChild(agent, "SIGTERM", 10_000);
    await stack.stop();
    exitAfterShutdown();
  });
}

/** Writes the stack's own prefix table into the data folder and returns its path. */
async function writePrefixTable(dataDir: string, lines: string[]): Promise<string> {
  const file = join(dataDir, "asn-prefixes.csv");
  await mkdir(dataDir, { recursive: true });
  await writeFile(
    file,
    `# written by lg: origin ASes of the stack's own address ranges\n${lines.join("\n")}\n`,
  );
  return file;
}

async function writePlaceTable(dataDir: string, lines: string[]): Promise<string> {
  const file = join(dataDir, "geo-prefixes.csv");
  await mkdir(dataDir, { recursive: true });
  await writeFile(
    file,
    `# written by lg: places of the stack's own address ranges (CIDR,lat,lon,city,country)\n${lines.join("\n")}\n`,
  );
  return file;
}
