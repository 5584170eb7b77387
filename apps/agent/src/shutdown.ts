import type { Logger } from "./logger";
import type { Outbox } from "./outbox";
import type { Presence } from "./presence";
import { withTimeout } from "./timeout";
import type { TraceRegistry } from "./traces";

export interface ShutdownParts {
  traces: TraceRegistry;
  presence: Pick<Presence, "leaving" | "stopHeartbeat">;
  outbox: Pick<Outbox, "whenEmpty" | "stop" | "size">;
  /** The NATS connection's part in it (a NatsConnection fits). */
  connection: { flush(): Promise<void>; drain(): Promise<void>; close(): Promise<void> };
  /** Closes the trace engine (its mtr-packet helpers). */
  closeEngine: () => Promise<void>;
  /** How long running traces may take to finish before they are cancelled (`LG_DRAIN_TIMEOUT`). */
  drainTimeoutMs: number;
  /** How long cancelled traces may take to publish their partial results; default 10 s. */
  cancelledTimeoutMs?: number;
  /** How long to wait for JetStream to acknowledge the last results; default 15 s. */
  outboxFlushTimeoutMs?: number;
  /** Where unacknowledged results stay, for the log ("in the unsent-results file"). */
  unsentKept: string;
  log: Pick<Logger, "info" | "warn" | "error">;
}

/**
 * The agent's shutdown, in order: stop taking jobs and say `leaving`; let running traces finish
 * (cancelling those still running after the drain timeout); wait for their results to be
 * acknowledged; stop retrying and heartbeating; a last `leaving` (with `running: 0`); drain the
 * connection (closing it when draining takes over 5 s); close the engine. Calling it again returns
 * the same promise.
 *
 * @example
 * const shutdown = createShutdown({ traces, presence, outbox, connection: nc, ... });
 * process.once("SIGTERM", () => void shutdown.run());
 */
export function createShutdown(parts: ShutdownParts): { run(): Promise<void>; readonly started: boolean } {
  const { traces, presence, outbox, connection, log } = parts;
  let running: Promise<void> | undefined;

  async function sequence(): Promise<void> {
    traces.stopTaking();
    log.info({ running: traces.running }, "shutting down: no new jobs, draining running traces");
    presence.leaving();
    await withTimeout(connection.flush(), 2_000).catch(() => {});
    if ((await traces.settled(parts.drainTimeoutMs)) === "timeout") {
      log.warn({ running: traces.running }, "drain timeout: cancelling the traces still running");
      traces.cancelAll();
      await traces.settled(parts.cancelledTimeoutMs ?? 10_000);
    }
    const flushed = await outbox.whenEmpty(parts.outboxFlushTimeoutMs ?? 15_000);
    if (!flushed) {
      log.error(
        { unsent: outbox.size, kept: parts.unsentKept },
        "shutting down with final results JetStream has not acknowledged",
      );
    }
    outbox.stop();
    presence.stopHeartbeat();
    presence.leaving();
    if ((await withTimeout(connection.drain(), 5_000).catch(() => "timeout")) === "timeout") {
      await connection.close();
    }
    await parts.closeEngine();
    log.info("agent stopped");
  }

  return {
    run() {
      running ??= sequence();
      return running;
    },
    get started() {
      return running !== undefined;
    },
  };
}
