import type { TraceRow } from "@lg/db";
import { type LiveTraceMessage, subjects } from "@lg/protocol";
import type { NatsConnection } from "@nats-io/transport-node";
import { traceView } from "../measurements/views";

/**
 * Tells every coordinator replica that a trace's stored state changed, so whichever replica
 * serves a watcher's stream relays it. Core NATS: a watcher that misses it catches up from the
 * database on its next reconcile.
 */
export function publishTraceChange(nc: NatsConnection, row: TraceRow): void {
  if (nc.isClosed()) return;
  const message: LiveTraceMessage = { v: 1, trace: traceView(row) };
  try {
    nc.publish(subjects.traceUpdated(row.id), JSON.stringify(message));
  } catch {
    // A publish can only fail when the connection is closing; the reconcile covers it.
  }
}
