import { CancelMessage, JobRequest } from "@lg/protocol";

/** One line per problem, e.g. "options.count: Too big: expected number to be <=10000". */
export function describeIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "message"}: ${i.message}`).join("; ");
}

/**
 * A job as it arrived on `lg.agent.<id>.job`: the parsed request, or why it is `invalid` (with the
 * trace id when the payload names one as a string, else "").
 */
export type ParsedJob = { job: JobRequest } | { invalid: { traceId: string; message: string } };

/**
 * Parses a job's payload. Not JSON: "the job is not JSON"; not a `JobRequest`: the failing fields
 * (`options.count: Too small ...`).
 */
export function parseJob(payload: string): ParsedJob {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { invalid: { traceId: "", message: "the job is not JSON" } };
  }
  const parsed = JobRequest.safeParse(raw);
  if (parsed.success) return { job: parsed.data };
  const id = (raw as { traceId?: unknown } | null)?.traceId;
  return { invalid: { traceId: typeof id === "string" ? id : "", message: describeIssues(parsed.error) } };
}

/**
 * A cancel as it arrived on `lg.agent.<id>.cancel`: the trace to cancel, or why it is dropped
 * (`issues`: the failing fields of a JSON message that is not a `CancelMessage`).
 */
export type ParsedCancel =
  | { traceId: string }
  | { dropped: "not-json" }
  | { dropped: "malformed"; issues: string };

/** Parses a cancel's payload; what does not parse is dropped. */
export function parseCancel(payload: string): ParsedCancel {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { dropped: "not-json" };
  }
  const parsed = CancelMessage.safeParse(raw);
  if (!parsed.success) return { dropped: "malformed", issues: describeIssues(parsed.error) };
  return { traceId: parsed.data.traceId };
}
