import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runToCompletion, spawnManaged } from "./child";
import { ServiceStartError } from "./errors";
import { findFreePort, probeTcp, sleep } from "./ports";

export interface PostgresOptions {
  /** Folder holding the PostgreSQL binaries; default /usr/lib/postgresql/15/bin. */
  binDir?: string;
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Keep the cluster's files after stop() (for debugging); default false. */
  keep?: boolean;
  startTimeoutMs?: number;
}

export interface PostgresServer {
  /** `postgres://postgres@host:port/postgres`, trust authentication. */
  url: string;
  port: number;
  /** The cluster's folder (removed by stop() unless `keep`). */
  dir: string;
  pid: number;
  /** Fast shutdown (SIGINT), SIGKILL after 10 s, then the folder is removed; idempotent. */
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  /** True when the URL came from TEST_DATABASE_URL (then stop() leaves that server alone). */
  external: boolean;
  stop(): Promise<void>;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  // initdb refuses to run as root: as root, run the cluster as the `postgres` system user.
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temporary folder and `postgres` as a
 * child process on a free port (as the `postgres` user when run as root). Durability is turned
 * off (fsync, synchronous_commit) because the cluster is deleted afterwards.
 *
 * ```ts
 * const pg = await startPostgres();
 * const sql = postgres(pg.url);
 * await pg.stop();
 * ```
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = opts.binDir ?? "/usr/lib/postgresql/15/bin";
  const host = opts.host ?? "127.0.0.1";
  const user = postgresUser();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lg-pg-"));
  const dataDir = path.join(dir, "data");
  const cleanup = () => (opts.keep ? Promise.resolve() : fs.rm(dir, { recursive: true, force: true }));
  try {
    if (user) await fs.chown(dir, user.uid, user.gid);
    const env = { ...process.env, LC_ALL: "C.UTF-8", LANG: "C.UTF-8" };
    runToCompletion(
      path.join(binDir, "initdb"),
      ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
      { user, env },
    );
  } catch (err) {
    await cleanup();
    throw new ServiceStartError(`initdb failed: ${(err as Error).message}`, "", { cause: err });
  }

  const attempts = opts.port === undefined ? 4 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await findFreePort(host));
    const server = spawnManaged(
      path.join(binDir, "postgres"),
      [
        ...["-D", dataDir, "-p", String(port), "-h", host, "-k", dir],
        ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
      ],
      { user, deathSignal: "SIGQUIT" },
    );
    let ready = false;
    server.onLine((line) => {
      if (line.includes("ready to accept connections")) ready = true;
    });
    let exited = false;
    void server.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    let failure: ServiceStartError | undefined;
    for (;;) {
      if (
        ready &&
        (await probeTcp(host, port, 200).then(
          () => true,
          () => false,
        ))
      )
        break;
      if (exited) {
        failure = new ServiceStartError("postgres exited before accepting connections", server.tail());
        break;
      }
      if (Date.now() > deadline) {
        await server.stop("SIGKILL");
        failure = new ServiceStartError(
          `postgres did not accept connections on ${host}:${port} in time`,
          server.tail(),
        );
        break;
      }
      await sleep(50);
    }
    if (failure) {
      if (attempt < attempts && /already in use/.test(failure.output)) continue;
      await cleanup();
      throw failure;
    }
    let stopping: Promise<void> | undefined;
    return {
      url: `postgres://postgres@${host.includes(":") ? `[${host}]` : host}:${port}/postgres`,
      port,
      dir,
      pid: server.pid,
      stop() {
        stopping ??= (async () => {
          await server.stop("SIGINT", 10_000);
          await cleanup();
        })();
        return stopping;
      },
    };
  }
}

/**
 * The database a test should use: `TEST_DATABASE_URL` when set (a server someone runs), otherwise
 * a fresh throwaway cluster from `startPostgres()`.
 */
export async function testDatabaseUrl(env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
  const given = env.TEST_DATABASE_URL?.trim();
  if (given) return { url: given, external: true, stop: async () => {} };
  const pg = await startPostgres();
  return { url: pg.url, external: false, stop: () => pg.stop() };
}
