import fs from "node:fs/promises";
import path from "node:path";
import { spawnManaged } from "./child";
import { ServiceStartError } from "./errors";
import { startTcpForwarder, type TcpForwarder } from "./forward";
import { findFreePort, probeTcp, sleep } from "./ports";

export interface NatsServerOptions {
  /** Folder for JetStream storage (and the generated config file); created when missing. */
  dataDir: string;
  /** Client listen address; default 127.0.0.1. */
  host?: string;
  /** Client port; default: a free port. */
  port?: number;
  /** Enable JetStream (stored in `dataDir/jetstream`); default true. */
  jetstream?: boolean;
  /**
   * More addresses clients may connect to, as `host` or `host:port` (port defaults to the main
   * port). nats-server has one client listener, so each extra address is a TCP forwarder in this
   * process to the main listener.
   */
  extraListen?: string[];
  /**
   * Extra nats-server configuration text (e.g. operator mode from `createNatsAuth`). With it the
   * server runs from a generated config file instead of command-line flags.
   */
  config?: string;
  /** The nats-server executable; default `nats-server` from PATH. */
  binary?: string;
  /** How long to wait for the server to accept clients; default 15 s. */
  startTimeoutMs?: number;
  /** Every line the server logs (the library itself logs nothing). */
  onLog?: (line: string) => void;
}

export interface NatsServer {
  /** `nats://host:port` of the main listener. */
  url: string;
  port: number;
  /** URLs of the extra listen addresses, in the order given. */
  extraUrls: string[];
  pid: number;
  /** Resolves with the exit code when the server exits (also when it dies on its own). */
  exited: Promise<number | null>;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and the forwarders; idempotent. */
  stop(): Promise<void>;
}

const hostForUrl = (host: string) => {
  const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return h.includes(":") ? `[${h}]` : h;
};

function parseListen(spec: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed)
    return { host: bracketed[1] as string, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const colons = spec.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = spec.split(":") as [string, string];
    return { host, port: Number(port) };
  }
  return { host: spec, port: defaultPort };
}

/**
 * Runs `nats-server` as a child process and resolves once it accepts clients (its INFO line
 * arrives on a TCP connection).
 *
 * ```ts
 * const nats = await startNatsServer({ dataDir: ".lg/nats" });
 * const nc = await connect({ servers: nats.url });
 * await nats.stop();
 * ```
 * The same `dataDir` and `port` may be passed again after `stop()` to restart the server with
 * its JetStream state.
 */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServer> {
  const attempts = opts.port === undefined ? 4 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err;
      // Only a port taken between findFreePort and the bind is worth another try.
      if (!(err instanceof ServiceStartError) || !/address already in use/.test(err.output)) throw err;
    }
  }
  throw lastError;
}

async function startOnce(opts: NatsServerOptions): Promise<NatsServer> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? (await findFreePort(host));
  const jetstream = opts.jetstream ?? true;
  const storeDir = path.resolve(opts.dataDir, "jetstream");
  await fs.mkdir(opts.dataDir, { recursive: true });
  if (jetstream) await fs.mkdir(storeDir, { recursive: true });

  let args: string[];
  if (opts.config !== undefined) {
    // A config file carries what flags cannot. Never combine `-sd` with `store_dir`: the server refuses.
    const lines = [`listen: ${JSON.stringify(`${host.includes(":") ? `[${host}]` : host}:${port}`)}`];
    if (jetstream) lines.push(`jetstream { store_dir: ${JSON.stringify(storeDir)} }`);
    lines.push(opts.config);
    const file = path.resolve(opts.dataDir, "nats-server.conf");
    await fs.writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    args = ["-c", file];
  } else {
    args = ["-a", host, "-p", String(port)];
    if (jetstream) args.push("-js", "-sd", storeDir);
  }
  const server = spawnManaged(opts.binary ?? "nats-server", args, { deathSignal: "SIGKILL" });
  if (opts.onLog) server.onLine(opts.onLog);
  let exitedEarly = false;
  void server.exited.then(() => {
    exitedEarly = true;
  });

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  const probeHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  for (;;) {
    if (exitedEarly)
      throw new ServiceStartError(`nats-server exited before accepting clients`, server.tail());
    const greeting = await probeTcp(probeHost, port, 500).catch(() => "");
    if (greeting.startsWith("INFO ")) break;
    if (Date.now() > deadline) {
      await server.stop("SIGKILL");
      throw new ServiceStartError(
        `nats-server did not accept clients on ${host}:${port} in time`,
        server.tail(),
      );
    }
    await sleep(50);
  }

  const forwarders: TcpForwarder[] = [];
  try {
    for (const spec of opts.extraListen ?? []) {
      forwarders.push(await startTcpForwarder(parseListen(spec, port), { host: probeHost, port }));
    }
  } catch (err) {
    await Promise.all(forwarders.map((f) => f.close()));
    await server.stop();
    throw new ServiceStartError(`could not listen on an extra NATS address: ${(err as Error).message}`, "", {
      cause: err,
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `nats://${hostForUrl(host)}:${port}`,
    port,
    extraUrls: forwarders.map((f) => `nats://${hostForUrl(f.host)}:${f.port}`),
    pid: server.pid,
    exited: server.exited,
    stop() {
      stopping ??= (async () => {
        await Promise.all(forwarders.map((f) => f.close()));
        await server.stop("SIGTERM", 10_000);
      })();
      return stopping;
    },
  };
}
