import type { AgentCapabilities, FlowControl, JobRejectReason, TraceOptions } from "@lg/protocol";
import { findProbeHelper, planProbes, probeHelperVersion, TracerError } from "@lg/tracer";

/**
 * What this agent can do. mtr-packet sends ICMP, UDP and TCP over IPv4 and IPv6, but it can keep
 * a flow constant (flow pinning, multipath enumeration) only for IPv4 UDP; with lg-probe
 * (`flowControl: "all"`) every protocol and family.
 */
export function agentCapabilities(opts: {
  maxTraces: number;
  ipv6: boolean;
  mda: boolean;
  flowControl?: FlowControl;
}): AgentCapabilities {
  return {
    protocols: ["icmp", "udp", "tcp"],
    ipv4: true,
    ipv6: opts.ipv6,
    pinFlow: true,
    mda: opts.mda,
    flowControl: opts.flowControl ?? "udp4",
    maxTraces: opts.maxTraces,
  };
}

/**
 * Which flows this host can hold: `all` when lg-probe (at `LG_PROBE_HELPER`, or where
 * `./scripts/setup` installs it) answers `check-support feature version` as lg-probe — so one
 * that is there but may not open raw sockets counts as missing — else `udp4` (mtr-packet alone).
 */
export async function detectFlowControl(probeHelper?: string, timeoutMs = 2000): Promise<FlowControl> {
  const { path } = findProbeHelper(probeHelper);
  if (path === null) return "udp4";
  return (await probeHelperVersion(path, timeoutMs)) === null ? "udp4" : "all";
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
    if ((options.protocol !== "udp" || family !== 4) && caps.flowControl !== "all") {
      return `${flowControl} of IPv${family} ${options.protocol.toUpperCase()} probes needs lg-probe, which this agent does not have (mtr-packet holds IPv4 UDP flows only): run ./scripts/setup on the agent's host`;
    }
  }
  if (options.recordRoute) {
    if (family !== 4) return "Record Route is an IPv4 option: --record-route needs an IPv4 target";
    if (caps.flowControl !== "all")
      return "--record-route needs lg-probe (mtr-packet sends no IP options), which this agent does not have: run ./scripts/setup on the agent's host";
  }
  const needsSourcePort = options.localPort !== undefined && (options.protocol === "tcp" || family === 6);
  if (needsSourcePort && caps.flowControl !== "all") {
    return `-L/--localport on IPv${family} ${options.protocol.toUpperCase()} probes needs lg-probe, which this agent does not have: run ./scripts/setup on the agent's host`;
  }
  if (options.sourceAddress && !isLocalAddress(options.sourceAddress)) {
    return `${options.sourceAddress} is not an address of this agent`;
  }
  return null;
}

/**
 * The same check the tracer makes before probing (option combinations that mean nothing), run
 * before accepting so the answer is a rejection, not a failed trace.
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
