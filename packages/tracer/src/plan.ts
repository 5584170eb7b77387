import { isIP } from "node:net";
import type { TraceOptions } from "@lg/protocol";
import { TracerError } from "./errors";
import type { ProbeProtocolName, ProbeSpec } from "./packet/types";

/** The traceroute port, used when a flow must be pinned or enumerated and no port was given. */
export const DEFAULT_UDP_PORT = 33434;
/** mtr's port for TCP probes without -P. */
export const DEFAULT_TCP_PORT = 80;
/** First source port of the flows --mda walks through. */
export const MDA_BASE_PORT = 40000;
/** Source port of a pinned flow when -L is not given. */
export const DEFAULT_PINNED_LOCAL_PORT = 33433;

/** How the probes of a trace vary (or do not vary) their flow identifier. */
export type FlowMode =
  | { kind: "free" }
  | { kind: "pinned"; port: number; localPort: number }
  | { kind: "mda"; port: number };

/** Everything needed to build each probe of one trace. */
export interface ProbePlan {
  family: 4 | 6;
  address: string;
  protocol: ProbeProtocolName;
  port?: number;
  /** Source port of a free UDP flow (-L without -P). */
  localPort?: number;
  size: number;
  tos: number;
  timeoutSec: number;
  sourceAddress?: string;
  flow: FlowMode;
}

function unsupported(message: string): never {
  throw new TracerError("unsupported", message);
}
function invalid(message: string): never {
  throw new TracerError("invalid-argument", message);
}

/**
 * Checks options against what mtr-packet can do for this address family and turns them into a
 * probe plan. Combinations it cannot honour (pinning or enumerating flows other than IPv4 UDP)
 * are refused with a TracerError("unsupported") rather than silently traced some other way.
 */
export function planProbes(address: string, family: 4 | 6, options: TraceOptions): ProbePlan {
  const { protocol } = options;
  if (options.firstTtl > options.maxTtl)
    invalid(`first TTL ${options.firstTtl} is above max TTL ${options.maxTtl} (-f must not exceed -m)`);
  if (options.port !== undefined && protocol === "icmp")
    invalid("-P/--port applies to UDP and TCP probes; add -u or -T, or drop the port");
  if (options.localPort !== undefined) {
    if (protocol !== "udp")
      unsupported(
        `-L/--localport sets the source port of UDP probes only; mtr-packet cannot set it for ${protocol.toUpperCase()}`,
      );
    if (family === 6)
      unsupported(
        "-L/--localport works for IPv4 UDP only: mtr-packet cannot fix the source port of IPv6 probes",
      );
    if (options.localPort < 1024)
      invalid(`-L/--localport ${options.localPort}: mtr-packet sends from ports 1024-65535 only`);
  }
  if (options.sourceAddress !== undefined) {
    const v = isIP(options.sourceAddress);
    if (v === 0) invalid(`-a/--address ${options.sourceAddress} is not an IP address`);
    if (v !== family)
      invalid(`-a/--address ${options.sourceAddress} is IPv${v} but the target ${address} is IPv${family}`);
  }
  if (options.mda && options.pinFlow)
    invalid("--mda varies the flow on purpose and --pin-flow holds it constant: use one of them");

  const needsFlowControl = options.mda ? "--mda" : options.pinFlow ? "--pin-flow" : null;
  if (needsFlowControl) {
    if (protocol !== "udp" || family !== 4) {
      unsupported(
        `${needsFlowControl} needs IPv4 UDP probes (-u -4): mtr-packet can hold or choose the flow id only for those, ` +
          `not for ${family === 6 ? "IPv6 " : ""}${protocol.toUpperCase()}`,
      );
    }
  }

  let flow: FlowMode = { kind: "free" };
  if (options.mda) {
    if (options.localPort !== undefined)
      invalid("--mda chooses the source port of each flow itself: drop -L/--localport");
    flow = { kind: "mda", port: options.port ?? DEFAULT_UDP_PORT };
  } else if (
    options.pinFlow ||
    (protocol === "udp" && options.port !== undefined && options.localPort !== undefined)
  ) {
    flow = {
      kind: "pinned",
      port: options.port ?? DEFAULT_UDP_PORT,
      localPort: options.localPort ?? DEFAULT_PINNED_LOCAL_PORT,
    };
  }

  const plan: ProbePlan = {
    family,
    address,
    protocol,
    size: options.size,
    tos: options.tos,
    timeoutSec: options.timeout,
    flow,
  };
  if (protocol === "tcp") plan.port = options.port ?? DEFAULT_TCP_PORT;
  else if (protocol === "udp" && options.port !== undefined) plan.port = options.port;
  if (options.sourceAddress !== undefined) plan.sourceAddress = options.sourceAddress;
  if (flow.kind === "free" && options.localPort !== undefined) plan.localPort = options.localPort;
  return plan;
}

/** The probe for one TTL in one cycle. */
export function probeFor(plan: ProbePlan, ttl: number, cycle: number): ProbeSpec {
  const probe: ProbeSpec = {
    family: plan.family,
    address: plan.address,
    ttl,
    protocol: plan.protocol,
    size: plan.size,
    tos: plan.tos,
    timeoutSec: plan.timeoutSec,
  };
  if (plan.sourceAddress !== undefined) probe.sourceAddress = plan.sourceAddress;
  if (plan.flow.kind === "pinned") {
    probe.port = plan.flow.port;
    probe.localPort = plan.flow.localPort;
  } else if (plan.flow.kind === "mda") {
    probe.port = plan.flow.port;
    // One flow per cycle, the same at every TTL, so each cycle follows one path end to end.
    probe.localPort = MDA_BASE_PORT + (cycle % 20000);
  } else {
    if (plan.port !== undefined) probe.port = plan.port;
    if (plan.localPort !== undefined) probe.localPort = plan.localPort;
  }
  return probe;
}
