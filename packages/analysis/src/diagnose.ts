import type { Diagnosis, Finding, Hop } from "@lg/protocol";
import { destinationFiltersIcmp } from "./rules/destination-filters-icmp";
import { icmpThrottling } from "./rules/icmp-throttling";
import { latencySpikeConfined } from "./rules/latency-spike-confined";
import { latencyStep } from "./rules/latency-step";
import { nodeInterruption } from "./rules/node-interruption";
import { realLoss } from "./rules/real-loss";
import { routingLoop } from "./rules/routing-loop";
import { unstableLatency } from "./rules/unstable-latency";
import { MIN_PROBES_FOR_VERDICT } from "./thresholds";
import { buildTraceView, type DiagnoseOptions, type TraceView } from "./trace-view";

/** The rules of the analysis guide, in the order their findings are listed. */
const RULES: ((view: TraceView) => Finding[])[] = [
  routingLoop,
  nodeInterruption,
  destinationFiltersIcmp,
  realLoss,
  latencyStep,
  unstableLatency,
  icmpThrottling,
  latencySpikeConfined,
];

/**
 * Diagnoses one trace by the rules of the mtr analysis guide. Findings are ordered by rule (structural
 * faults, then loss, then latency, then throttling), and within a rule by hop.
 *
 * The verdict is `problem` when a finding has severity `problem`; `inconclusive` when nothing
 * answered, when a finding could not be decided with the probes sent (`status: "inconclusive"`), or
 * when fewer than MIN_PROBES_FOR_VERDICT probes per hop were sent (a routing loop is
 * still a problem then: it shows in one probe); `clean` otherwise — throttling, a confined spike or one
 * jittery router leave a path clean.
 *
 * @example
 * const { verdict, findings } = diagnose(trace.hops, { destination: trace.target, servicePort: 443 });
 */
export function diagnose(hops: Hop[], options: DiagnoseOptions = {}): Diagnosis {
  const view = buildTraceView(hops, options);
  if (view.lastAnswered < 0) {
    return {
      verdict: "inconclusive",
      findings: [],
      reason: hops.length === 0 ? "The trace has no hops." : "No hop answered any probe.",
    };
  }
  const findings = RULES.flatMap((rule) => rule(view));
  const problem = findings.some((f) => f.severity === "problem");
  if (view.maxSent < MIN_PROBES_FOR_VERDICT && !findings.some((f) => f.code === "routing-loop")) {
    return {
      verdict: "inconclusive",
      findings,
      reason: `Only ${view.maxSent} probe(s) per hop were sent; at least ${MIN_PROBES_FOR_VERDICT} are needed to tell ICMP throttling from real loss.`,
    };
  }
  const undecided = findings.filter((f) => f.status === "inconclusive");
  if (!problem && undecided.length > 0) {
    const f = undecided[0] as Finding;
    return {
      verdict: "inconclusive",
      findings,
      reason: `The probes sent cannot tell whether the loss from hop ${f.hops[0]} persists${
        f.probesNeeded !== undefined ? `; about ${f.probesNeeded} more probes per hop would decide` : ""
      }.`,
    };
  }
  return { verdict: problem ? "problem" : "clean", findings };
}
