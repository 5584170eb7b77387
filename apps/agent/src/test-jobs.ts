// Job fixtures for the agent's tests (no NATS): unique ids and job requests.
import { JobRequest, PROTOCOL_VERSION, type TraceOptionsInput } from "@lg/protocol";

let counter = 0;
export const uniqueId = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** A job; `address` is what the coordinator checked (default: the target, for IP literals). */
export function job(
  traceId: string,
  target: string,
  options: TraceOptionsInput = {},
  address = target,
): JobRequest {
  return JobRequest.parse({
    v: PROTOCOL_VERSION,
    traceId,
    measurementId: `m-${traceId}`,
    target,
    address,
    options,
    issuedAt: new Date().toISOString(),
  });
}
