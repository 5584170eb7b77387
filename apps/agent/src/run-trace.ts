import {
  type AgentCounters,
  type FinalResultMessage,
  type JobRequest,
  PROTOCOL_VERSION,
  type ProgressMessage,
  type ResolvedTarget,
} from "@lg/protocol";
import type { TraceEngine } from "./engine";
import { traceFailure } from "./failure";
import type { Logger } from "./logger";
import { ProgressThrottle } from "./progress";

export interface TraceRunDeps {
  /** This agent's id, stamped on progress and the final result. */
  agentId: string;
  engine: TraceEngine;
  /** Sends one progress snapshot (the agent publishes it on `lg.result.<id>.progress.<traceId>`). */
  publishProgress: (message: ProgressMessage) => void;
  /** Smallest gap between two snapshots, measured on `now`. */
  progressIntervalMs: number;
  /** Wall clock in ms: `startedAt`, `finishedAt` and each snapshot's `sentAt`. Default `Date.now`. */
  now?: () => number;
  log: Pick<Logger, "warn">;
}

/**
 * Runs one accepted job to its final result: the engine probes the checked address (never the
 * name), hop updates become throttled progress snapshots, and the outcome becomes the final
 * result — `done` (with `stoppedBy: "cancelled"` and the hops so far once `signal` aborts) or
 * `failed` with who failed. It never throws for the trace's own failure.
 *
 * @example
 * const final = await runTrace(job, { target: "a.test", address: "198.18.0.9", family: 4 }, signal, {
 *   agentId: "fra", engine, publishProgress: (m) => sent.push(m), progressIntervalMs: 500, log,
 * });
 */
export async function runTrace(
  job: JobRequest,
  target: ResolvedTarget,
  signal: AbortSignal,
  deps: TraceRunDeps,
): Promise<FinalResultMessage> {
  const now = deps.now ?? Date.now;
  const stamp = () => new Date(now()).toISOString();
  const traceId = job.traceId;
  const startedAt = stamp();
  const throttle = new ProgressThrottle(
    (snapshot) =>
      deps.publishProgress({
        v: PROTOCOL_VERSION,
        traceId,
        agentId: deps.agentId,
        seq: snapshot.seq,
        cycle: snapshot.cycle,
        address: target.address,
        hops: snapshot.hops,
        // The throttle's own clock reading, so consecutive sentAt are at least the interval apart.
        sentAt: new Date(snapshot.at).toISOString(),
      }),
    deps.progressIntervalMs,
    now,
  );

  const base = {
    v: PROTOCOL_VERSION,
    traceId,
    measurementId: job.measurementId,
    agentId: deps.agentId,
    target: job.target,
    address: target.address,
    startedAt,
  } as const;
  try {
    const result = await deps.engine.run(
      { target: target.address, options: { ...job.options, ipVersion: target.family }, signal },
      (event) => {
        try {
          if (event.type === "hop") throttle.hop(event.hop);
          else throttle.cycleDone(event.cycle, event.hops);
        } catch (err) {
          deps.log.warn({ err, traceId }, "progress snapshot failed");
        }
      },
    );
    return {
      ...base,
      status: "done",
      hops: result.hops,
      stoppedBy: signal.aborted ? "cancelled" : result.stoppedBy,
      ...(result.followUps ? { followUps: result.followUps } : {}),
      ...(result.adaptive ? { adaptive: result.adaptive } : {}),
      ...(result.nat ? { nat: result.nat } : {}),
      ...(result.recordRoute ? { recordRoute: result.recordRoute } : {}),
      finishedAt: stamp(),
    };
  } catch (err) {
    if (signal.aborted) {
      return { ...base, status: "done", hops: throttle.table(), stoppedBy: "cancelled", finishedAt: stamp() };
    }
    const failure = traceFailure(err);
    deps.log.warn({ traceId, failure }, "trace failed");
    return { ...base, status: "failed", failure, hops: throttle.table(), finishedAt: stamp() };
  } finally {
    throttle.close();
  }
}

/** Adds a finished trace to the agent's counters: done or failed, and every probe it sent and got back. */
export function countFinal(counters: AgentCounters, final: FinalResultMessage): void {
  if (final.status === "done") counters.tracesDone++;
  else counters.tracesFailed++;
  for (const hop of final.hops) {
    counters.probesSent += hop.sent;
    counters.probesAnswered += hop.recv;
  }
  for (const f of final.followUps ?? []) {
    counters.probesSent += f.sent ?? 0;
    counters.probesAnswered += f.recv ?? 0;
  }
  const rr = final.recordRoute;
  if (rr) {
    counters.probesSent += rr.sent + rr.plainSent;
    counters.probesAnswered += rr.answered + rr.plainAnswered;
  }
}
