import {
  type AgentCapabilities,
  type AgentCounters,
  type JobRejectReason,
  type JobReply,
  type JobRequest,
  PROTOCOL_VERSION,
  type ResolvedTarget,
} from "@lg/protocol";
import { type AdmissionState, admit, type TargetCheck } from "./admission";
import { parseJob } from "./inbound";
import type { Logger } from "./logger";
import type { TraceRegistry } from "./traces";

export interface JobDeskOptions {
  traces: TraceRegistry;
  /** Counts accepted and rejected jobs. */
  counters: AgentCounters;
  maxTraces: number;
  capabilities: AgentCapabilities;
  isLocalAddress: (address: string) => boolean;
  /** A final result of this trace still waits for JetStream's acknowledgement. */
  isUnsent: (traceId: string) => boolean;
  /** Checks the job's target here (`checkTarget` with the agent's policy and resolver). */
  checkTarget: (job: JobRequest) => Promise<TargetCheck>;
  /** Runs an accepted job to its end: its final result handed on. */
  run: (job: JobRequest, target: ResolvedTarget, signal: AbortSignal) => Promise<void>;
  log: Pick<Logger, "info" | "error">;
}

/**
 * The handler of `lg.agent.<id>.job`: takes a job's payload and answers at once — parse, admit,
 * hold a slot while the target is checked, admit again with the outcome, then start the trace and
 * answer accepted (the trace goes on after the answer).
 *
 * @example
 * const takeJob = createJobDesk({ traces, counters, ... });
 * msg.respond(JSON.stringify(await takeJob(msg.string())));
 */
export function createJobDesk(opts: JobDeskOptions): (payload: string) => Promise<JobReply> {
  const { traces, counters, log } = opts;
  const reject = (traceId: string, reason: JobRejectReason, message: string): JobReply => {
    counters.jobsRejected++;
    log.info({ traceId, reason, message }, "job rejected");
    return { v: PROTOCOL_VERSION, traceId, accepted: false, reason, message };
  };

  return async function takeJob(payload) {
    const parsed = parseJob(payload);
    if ("invalid" in parsed) return reject(parsed.invalid.traceId, "invalid", parsed.invalid.message);
    const job = parsed.job;
    const traceId = job.traceId;
    const state = (target?: TargetCheck): AdmissionState => ({
      draining: traces.draining,
      maxTraces: opts.maxTraces,
      inFlight: traces.inFlight,
      alreadyAccepted: traces.has(traceId) || opts.isUnsent(traceId),
      beingChecked: traces.isChecking(traceId),
      capabilities: opts.capabilities,
      isLocalAddress: opts.isLocalAddress,
      ...(target ? { target } : {}),
    });

    const first = admit(job, state());
    if (first.verdict === "confirm") {
      // A retried request for a job already taken: confirm it, but never run it twice.
      log.info({ traceId }, "job already accepted; confirming again");
      return { v: PROTOCOL_VERSION, traceId, accepted: true };
    }
    if (first.verdict === "reject") return reject(traceId, first.reason, first.message);

    traces.hold(traceId);
    let checked: TargetCheck;
    try {
      checked = await opts.checkTarget(job);
    } finally {
      traces.release(traceId);
    }
    const decision = admit(job, state(checked));
    if (decision.verdict === "reject") return reject(traceId, decision.reason, decision.message);
    if (decision.verdict !== "accept")
      throw new Error(`admission after the target check said ${decision.verdict}`);

    counters.jobsAccepted++;
    const target = decision.target;
    traces
      .start(traceId, (signal) => opts.run(job, target, signal))
      .catch((err: unknown) => log.error({ err, traceId }, "trace bookkeeping failed"));
    log.info({ traceId, target: job.target, address: target.address }, "job accepted");
    return { v: PROTOCOL_VERSION, traceId, accepted: true };
  };
}
