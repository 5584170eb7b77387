import type { AgentCapabilities, JobRejectReason, TraceOptions } from "@lg/protocol";
import { planProbes, TracerError } from "@lg/tracer";

/**
 * What this agent can do. mtr-packet sends ICMP, UDP and TCP over IPv4 and IPv6, but it can keep
 * a flow's 5-tuple constant (needed for flow pinning and multipath enumeration) only for IPv4 UDP.
 */
export function agentCapabilities(opts: {
  maxTraces: number;
  ipv6: boolean;
  mda: boolean;
}): AgentCapabilities {
  return {
    protocols: ["icmp", "udp", "tcp"],
    ipv4: true,
    ipv6: opts.ipv6,
    pinFlow: true,
    mda: opts.mda,
    maxTraces: opts.maxTraces,
  };
}

/**
 * Why this agent cannot run a job with these options towards an address of `family`, or null
 * when it can. Checked before accepting, so the coordinator hears "unsupported" at once.
 */
export function unsupportedReason(
  options: TraceOptions,
  family: 4 | 6,
  caps: AgentCapabilities,
  isLocalAddress: (address: string) => boolean,
): string | null {
  if (!caps.protocols.includes(options.protocol)) return `this agent cannot send ${options.protocol} probes`;
  if (family === 6 && !caps.ipv6) return "this agent has no IPv6 address to trace from";
  if (family === 4 && !caps.ipv4) return "this agent has no IPv4 address to trace from";
  const flowControl = options.mda ? "multipath enumeration" : options.pinFlow ? "flow pinning" : null;
  if (flowControl) {
    if (options.mda && !caps.mda) return "this agent cannot enumerate multipath";
    if (options.protocol !== "udp" || family !== 4) {
      return `${flowControl} needs IPv4 UDP probes: mtr-packet cannot keep ${options.protocol.toUpperCase()} or IPv6 flows constant`;
    }
  }
  if (options.sourceAddress && !isLocalAddress(options.sourceAddress)) {
    return `${options.sourceAddress} is not an address of this agent`;
  }
  return null;
}

/**
 * The same check the tracer makes before probing (option combinations mtr-packet cannot honour),
 * run before accepting so the answer is a rejection, not a failed trace.
 */
export function planRejection(
  address: string,
  family: 4 | 6,
  options: TraceOptions,
): { reason: JobRejectReason; message: string } | null {
  try {
    planProbes(address, family, options);
    return null;
  } catch (err) {
    if (err instanceof TracerError) {
      return { reason: err.code === "unsupported" ? "unsupported" : "invalid", message: err.message };
    }
    throw err;
  }
}
