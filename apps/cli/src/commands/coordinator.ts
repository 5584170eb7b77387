import { ConfigError, DatabaseError, loadConfig, NatsConnectError, startCoordinator } from "@lg/coordinator";
import type { Command } from "commander";
import { loadCliConfig } from "../config";
import { CliError } from "../errors";
import { USAGE } from "../options";

/**
 * Resolves with the first SIGINT or SIGTERM; the caller then shuts down in order. Later signals
 * are ignored rather than killing the process halfway through its cleanup (a launcher that
 * relays Ctrl-C makes every Ctrl-C arrive twice).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const on = (signal: NodeJS.Signals) => {
      if (first) return;
      first = signal;
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/**
 * Ends the process once a long-running command has shut everything down: a launcher's IPC
 * channel (tsx while developing) would otherwise keep it alive after a clean stop.
 */
export function exitAfterShutdown(): never {
  process.exit(0);
}

/** Start failures a user can fix, as one line. */
export function startFailure(err: unknown, host: string, port: number): CliError | undefined {
  if (err instanceof NatsConnectError || err instanceof DatabaseError) return new CliError(err.message);
  if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
    return new CliError(`cannot listen on ${host}:${port}: the address is in use (set PORT)`);
  return undefined;
}

/** `lg coordinator`: the API (and later the web UI), configured by environment only. */
export function register(command: Command): void {
  command.action(async () => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(loadCliConfig().environment);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, USAGE);
      throw err;
    }
    let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
    try {
      coordinator = await startCoordinator(config);
    } catch (err) {
      throw startFailure(err, config.host, config.port) ?? err;
    }
    const signal = await untilSignal();
    coordinator.logger.info({ signal }, "stopping");
    await coordinator.stop();
    exitAfterShutdown();
  });
}
