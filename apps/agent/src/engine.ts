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
