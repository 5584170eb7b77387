import {
  type AgentCapabilities,
  type AllowList,
  confirmTarget,
  type JobRejectReason,
  type JobRequest,
  type ResolvedTarget,
  type Resolver,
  TargetError,
} from "@lg/protocol";
import { planRejection, unsupportedReason } from "./support";
import { withTimeout } from "./timeout";

/** Why a job is refused: the reply's `reason` and its one-line `message`. */
export interface Rejection {
  reason: JobRejectReason;
  message: string;
}

/** The outcome of checking a job's target here: the address to probe, or why it is refused. */
export type TargetCheck = { resolved: ResolvedTarget } | { refused: Rejection };

/** What the agent knows when it decides on a job. */
export interface AdmissionState {
  /** Shutting down: no new jobs. */
  draining: boolean;
  /** `LG_MAX_TRACES`. */
  maxTraces: number;
  /** Traces running plus jobs being checked (each holds a slot). */
  inFlight: number;
  /** This trace id was accepted before: it is running, finished recently, or its result is unsent. */
  alreadyAccepted: boolean;
  /** An earlier request for this trace id is being checked right now. */
  beingChecked: boolean;
  capabilities: AgentCapabilities;
  isLocalAddress: (address: string) => boolean;
  /** The outcome of `checkTarget`; absent until the job has passed the first checks. */
  target?: TargetCheck;
}

/**
 * The decision on a job. Before the target check: `confirm` (a repeated request for a trace already
 * taken: answer accepted, never run it twice), `reject`, or `check-target` (hold a slot and check).
 * With the check's outcome: `accept` with the address to probe, or `reject`.
 */
export type Admission =
  | { verdict: "confirm" }
  | { verdict: "check-target" }
  | { verdict: "accept"; target: ResolvedTarget }
  | ({ verdict: "reject" } & Rejection);

const reject = (reason: JobRejectReason, message: string): Admission => ({
  verdict: "reject",
  reason,
  message,
});
const DRAINING = "the agent is shutting down and takes no new jobs";

/**
 * Decides on a job from the agent's state alone (no I/O). It is asked twice: without
 * `state.target` (repeat, being checked, draining, capacity, in that order), then, after
 * `checkTarget`, with its outcome (refused target, draining, what this agent cannot do, what the
 * tracer would refuse).
 *
 * @example
 * admit(job, { ...state, target: undefined });            // { verdict: "check-target" }
 * admit(job, { ...state, target: await checkTarget(job, opts) }); // { verdict: "accept", target }
 */
export function admit(job: JobRequest, state: AdmissionState): Admission {
  if (!state.target) {
    if (state.alreadyAccepted) return { verdict: "confirm" };
    if (state.beingChecked) return reject("busy", "this job is already being checked");
    if (state.draining) return reject("draining", DRAINING);
    if (state.inFlight >= state.maxTraces) {
      return reject("busy", `the agent is running its limit of ${state.maxTraces} traces`);
    }
    return { verdict: "check-target" };
  }
  if ("refused" in state.target) return { verdict: "reject", ...state.target.refused };
  const target = state.target.resolved;
  if (state.draining) return reject("draining", DRAINING);
  const unsupported = unsupportedReason(job.options, target.family, state.capabilities, state.isLocalAddress);
  if (unsupported) return reject("unsupported", unsupported);
  const planProblem = planRejection(target.address, target.family, job.options);
  if (planProblem) return { verdict: "reject", ...planProblem };
  return { verdict: "accept", target };
}

export interface TargetCheckOptions {
  /** This agent's policy (`LG_ALLOW_TARGETS` on top of the special-range rules). */
  allow: AllowList;
  resolver: Resolver;
  /** This agent's id, named in a refusal ("fra resolved example.net to X, ..."). */
  here: string;
  /** Longest wait for the resolution; a name that takes longer is refused. */
  timeoutMs: number;
}

/**
 * Checks a job's target here. The job's address is what the coordinator checked (opt-out, budget,
 * audit): the agent probes exactly it, but only if it passes this agent's policy and the name
 * resolves to it here too. A name that answers differently now (DNS rebinding) is refused, never
 * traced elsewhere. A malformed target or address is `invalid`; everything else `target-refused`.
 */
export async function checkTarget(job: JobRequest, opts: TargetCheckOptions): Promise<TargetCheck> {
  try {
    const checked = await withTimeout(
      confirmTarget(job.target, job.address, {
        allow: opts.allow,
        ipVersion: job.options.ipVersion,
        resolver: opts.resolver,
        here: opts.here,
      }),
      opts.timeoutMs,
    );
    if (checked === "timeout") {
      throw new TargetError(
        "resolve_failed",
        `${job.target} did not resolve within ${opts.timeoutMs / 1000} s`,
      );
    }
    return { resolved: checked };
  } catch (err) {
    if (err instanceof TargetError && err.code === "invalid_target") {
      return { refused: { reason: "invalid", message: err.message } };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { refused: { reason: "target-refused", message } };
  }
}
