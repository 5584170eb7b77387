import { diagnose } from "@lg/analysis";
import { Tracer, type TracerOptions, untilSureFromDiagnosis } from "@lg/tracer";

/** The part of the tracer the agent uses (tests may pass a Tracer with a scripted packet port, or a fake). */
export type TraceEngine = Pick<Tracer, "run" | "close">;

/**
 * The agent's trace engine: the tracer with `--until-sure` reading each trace by the same rules the
 * coordinator diagnoses it with (@lg/analysis), so "decided" means the same on both sides. Tests
 * pass a scripted packet port through `options`.
 *
 * @example
 * const tracer = createAgentTracer(); // mtr-packet pool, reverse DNS on
 */
export function createAgentTracer(options: TracerOptions = {}): Tracer {
  return new Tracer({ untilSure: untilSureFromDiagnosis(diagnose), ...options });
}

/**
 * Above this many traces at once, lg-probe (when installed) sends every probe, not only the flows
 * mtr-packet cannot hold: past about 900 probes in flight mtr-packet's pool opens more processes,
 * every one of whose raw sockets receives every answer, and their buffers overflow — 20 of 20,000
 * probes falsely lost at 1,000 traces and 321 of 40,000 at 2,000, against 0 and 0 through one
 * lg-probe (`pnpm -F @lg/tracer bench:helpers`, docs/tracer.md).
 */
export const LG_PROBE_FOR_ALL_ABOVE_TRACES = 500;

/** Which helper sends an agent's free flows, from how many traces it may run at once. */
export function freeFlowsHelper(maxTraces: number): "mtr-packet" | "lg-probe" {
  return maxTraces > LG_PROBE_FOR_ALL_ABOVE_TRACES ? "lg-probe" : "mtr-packet";
}
