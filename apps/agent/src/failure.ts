import { TargetError, type TraceFailure } from "@lg/protocol";
import { TracerError } from "@lg/tracer";

/**
 * Says who failed, for a trace that was accepted but could not finish: the resolver, the agent
 * (its probe engine or mtr-packet) or an internal fault. A user sees "the target could not be
 * resolved", an operator sees "mtr-packet failed on agent X", never one for the other.
 */
export function traceFailure(err: unknown): TraceFailure {
  if (err instanceof TracerError) {
    if (err.code === "resolve-failed") return { source: "resolver", message: err.message };
    return { source: "agent", message: `${err.code}: ${err.message}` };
  }
  if (err instanceof TargetError) {
    return { source: err.code === "resolve_failed" ? "resolver" : "target", message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { source: "internal", message };
}
