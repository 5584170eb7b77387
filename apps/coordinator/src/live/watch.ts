import type { Repository } from "@lg/db";
import {
  type DoneEvent,
  type HopEvent,
  LiveTraceMessage,
  type MeasurementView,
  ProgressMessage,
  subjects,
  type TraceStatus,
  type TraceView,
} from "@lg/protocol";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { measurementView } from "../measurements/views";
import { type LiveHub, progressSubject } from "./hub";

export type MeasurementEvent =
  | { event: "snapshot"; data: MeasurementView }
  | { event: "hop"; data: HopEvent }
  | { event: "trace"; data: TraceView }
  | { event: "done"; data: DoneEvent }
  | { event: "keepalive" };

export interface WatchDeps {
  nc: NatsConnection;
  repo: Repository;
  /** The replica's shared subscriptions; without it each watcher subscribes on its own. */
  hub?: LiveHub;
  /** How often the stored state is re-read, in case a live message was missed. */
  reconcileEveryMs?: number;
}

const isFinal = (s: TraceStatus) => s === "done" || s === "failed";

type Incoming =
  | { kind: "progress"; payload: unknown; subject: { agentId?: string | undefined; traceId: string } }
  | { kind: "trace"; payload: unknown };

/**
 * The live events of one measurement: a `snapshot` of what is stored, then `hop` whenever a
 * hop's statistics change in an agent's progress, `trace` whenever a trace's stored status
 * changes, and `done` once every trace is done or failed. Fed from NATS (agents' progress
 * subjects and the replicas' `lg.live.trace.<id>`), so any replica can serve any watcher.
 * Listens before reading the snapshot (or replays the hub's backlog from just before it), so
 * nothing that happens in between is missed.
 */
export async function* watchMeasurement(
  deps: WatchDeps,
  measurementId: string,
  signal: AbortSignal,
  /** A snapshot the caller already read, and the hub position taken just before reading it. */
  start?: { since: number; snapshot: MeasurementView },
): AsyncGenerator<MeasurementEvent> {
  const queue: Incoming[] = [];
  let wake: (() => void) | undefined;
  const push = (item: Incoming) => {
    queue.push(item);
    wake?.();
  };
  const subs: Subscription[] = [];
  let unwatch: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    let view: MeasurementView;
    if (deps.hub) {
      // Read the snapshot, then replay from the hub what arrived since just before the read.
      let since = start?.since ?? deps.hub.position();
      let snapshot = start?.snapshot;
      if (!snapshot) {
        since = deps.hub.position();
        const stored = await deps.repo.getMeasurement(measurementId);
        if (!stored) return;
        snapshot = measurementView(stored);
      }
      view = snapshot;
      unwatch = deps.hub.watch(
        view.traces.map((t) => t.id),
        since,
        (item) =>
          push(
            item.kind === "progress"
              ? {
                  kind: "progress",
                  payload: safeJson(item.data),
                  subject: { agentId: item.publisher, traceId: item.traceId },
                }
              : { kind: "trace", payload: safeJson(item.data) },
          ),
      );
    } else {
      for (const traceId of await deps.repo.traceIdsOf(measurementId)) {
        subs.push(
          deps.nc.subscribe(subjects.progressOfTrace(traceId), {
            callback: (err, msg) => {
              if (err) return;
              const subject = progressSubject(msg.subject) ?? { traceId: "" };
              push({ kind: "progress", payload: safeJson(msg.data), subject });
            },
          }),
          deps.nc.subscribe(subjects.traceUpdated(traceId), {
            callback: (err, msg) => {
              if (!err) push({ kind: "trace", payload: safeJson(msg.data) });
            },
          }),
        );
      }
      // Make sure the server has the subscriptions before the snapshot is read.
      await deps.nc.flush();
      const stored = await deps.repo.getMeasurement(measurementId);
      if (!stored) return;
      view = measurementView(stored);
    }
    yield { event: "snapshot", data: view };

    const status = new Map<string, TraceStatus>(view.traces.map((t) => [t.id, t.status]));
    const agentOf = new Map<string, string>(view.traces.map((t) => [t.id, t.agentId ?? ""]));
    const lastHop = new Map<string, string>();
    const allFinal = () => [...status.values()].every(isFinal);
    const done = (): MeasurementEvent => ({ event: "done", data: { id: measurementId, status: "done" } });
    if (allFinal()) {
      yield done();
      return;
    }

    const reconcileEveryMs = deps.reconcileEveryMs ?? 5_000;
    while (!signal.aborted) {
      if (queue.length === 0) {
        const timedOut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), reconcileEveryMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = undefined;
        if (signal.aborted) return;
        if (timedOut) {
          yield { event: "keepalive" };
          const stored = await deps.repo.getMeasurement(measurementId);
          for (const t of stored ? measurementView(stored).traces : []) {
            if (t.status !== status.get(t.id)) {
              status.set(t.id, t.status);
              yield { event: "trace", data: t };
            }
          }
          if (allFinal()) {
            yield done();
            return;
          }
          continue;
        }
      }
      const item = queue.shift();
      if (!item) continue;
      if (item.kind === "progress") {
        const parsed = ProgressMessage.safeParse(item.payload);
        if (!parsed.success) continue;
        const p = parsed.data;
        const known = status.get(p.traceId);
        if (!known || isFinal(known)) continue;
        // Tied to its publisher: the subject's agent (NATS lets an agent publish only under its own
        // id) must be the payload's agent and own the trace, and the subject must name this trace.
        const { subject } = item;
        if (subject.agentId !== p.agentId || subject.traceId !== p.traceId) continue;
        if (agentOf.get(p.traceId) !== p.agentId) continue;
        for (const hop of p.hops) {
          const key = `${p.traceId}/${hop.ttl}`;
          const text = JSON.stringify(hop);
          if (lastHop.get(key) === text) continue;
          lastHop.set(key, text);
          yield { event: "hop", data: { traceId: p.traceId, agentId: p.agentId, hop } };
        }
        continue;
      }
      const parsed = LiveTraceMessage.safeParse(item.payload);
      if (!parsed.success) continue;
      const trace = parsed.data.trace;
      const known = status.get(trace.id);
      // A message older than what is known (replayed, or overtaken) never moves a trace back.
      if (!known || known === trace.status || (isFinal(known) && !isFinal(trace.status))) continue;
      status.set(trace.id, trace.status);
      yield { event: "trace", data: trace };
      if (allFinal()) {
        yield done();
        return;
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    unwatch?.();
    for (const s of subs) s.unsubscribe();
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
