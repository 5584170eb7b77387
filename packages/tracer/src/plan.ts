import { isIP } from "node:net";
import type { TraceOptions } from "@lg/protocol";
import { TracerError } from "./errors";
import type { ProbeProtocolName, ProbeSpec } from "./packet/types";

/** The traceroute port, used when a flow must be pinned or enumerated and no port was given. */
export const DEFAULT_UDP_PORT = 33434;
/** mtr's port for TCP probes without -P. */
export const DEFAULT_TCP_PORT = 80;
/** First source port of the flows --mda walks through (UDP and TCP): cycle n uses 40000 + n. */
export const MDA_BASE_PORT = 40000;
/** First ICMP flow id of the flows --mda walks through. */
export const MDA_BASE_FLOW_ID = 40000;
/** First IPv6 flow label of the flows --mda walks through. */
export const MDA_BASE_FLOW_LABEL = 40000;
/** Flows --mda uses before its values start again (40000 + 19999 is still a port and a flow id). */
const MDA_FLOWS = 20000;
/** Source port of a pinned flow when -L is not given. */
export const DEFAULT_PINNED_LOCAL_PORT = 33433;
/** ICMP flow id of a pinned flow. */
export const PINNED_FLOW_ID = 33433;
/** IPv6 flow label of a pinned flow. */
export const PINNED_FLOW_LABEL = 33433;

/**
 * How the probes of a trace vary (or do not vary) what ECMP routers hash. Pinned: every flow
 * field fixed — ports for UDP and TCP, the flow id for ICMP, and the flow label over IPv6. MDA:
 * one flow per cycle (its own source port, flow id or flow label), the same at every TTL.
 */
export type FlowMode =
  | { kind: "free" }
  | { kind: "pinned"; port?: number; localPort?: number; flowId?: number; flowLabel?: number }
  | { kind: "mda"; port?: number };

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

function invalid(message: string): never {
  throw new TracerError("invalid-argument", message);
}

/**
 * Checks options and turns them into a probe plan; a combination that means nothing (a port for
 * ICMP, --mda with --pin-flow) is refused with TracerError("invalid-argument"). Flow pinning and
 * --mda work for ICMP, UDP and TCP over IPv4 and IPv6: which helper sends the probes is the
 * packet port's business (mtr-packet, or lg-probe for the flows mtr-packet cannot hold — see
 * `lgProbeNeed`), and a port that cannot send them refuses the trace before it starts.
 *
 * @example
 * planProbes("198.18.1.1", 4, TraceOptions.parse({ protocol: "tcp", port: 443, localPort: 40000 })).flow
 * // { kind: "pinned", port: 443, localPort: 40000 }
 */
export function planProbes(address: string, family: 4 | 6, options: TraceOptions): ProbePlan {
  const { protocol } = options;
  if (options.firstTtl > options.maxTtl)
    invalid(`first TTL ${options.firstTtl} is above max TTL ${options.maxTtl} (-f must not exceed -m)`);
  if (options.port !== undefined && protocol === "icmp")
    invalid("-P/--port applies to UDP and TCP probes; add -u or -T, or drop the port");
  if (options.localPort !== undefined) {
    if (protocol === "icmp")
      invalid(
        "-L/--localport sets the source port of UDP and TCP probes; ICMP has none: add -u or -T, or drop -L",
      );
    if (options.localPort < 1024)
      invalid(`-L/--localport ${options.localPort}: probes are sent from ports 1024-65535 only`);
  }
  if (options.sourceAddress !== undefined) {
    const v = isIP(options.sourceAddress);
    if (v === 0) invalid(`-a/--address ${options.sourceAddress} is not an IP address`);
    if (v !== family)
      invalid(`-a/--address ${options.sourceAddress} is IPv${v} but the target ${address} is IPv${family}`);
  }
  if (options.recordRoute && family === 6)
    invalid(
      `--record-route: Record Route is an IPv4 option and ${address} is IPv6; drop --record-route or trace an IPv4 address (-4)`,
    );
  if (options.mda && options.pinFlow)
    invalid("--mda varies the flow on purpose and --pin-flow holds it constant: use one of them");

  const destinationPort =
    protocol === "tcp" ? (options.port ?? DEFAULT_TCP_PORT) : protocol === "udp" ? options.port : undefined;
  let flow: FlowMode = { kind: "free" };
  if (options.mda) {
    if (options.localPort !== undefined)
      invalid("--mda chooses the source port of each flow itself: drop -L/--localport");
    flow = protocol === "icmp" ? { kind: "mda" } : { kind: "mda", port: destinationPort ?? DEFAULT_UDP_PORT };
  } else if (
    options.pinFlow ||
    (protocol === "udp" && options.port !== undefined && options.localPort !== undefined) ||
    // A TCP probe always has a destination port: with -L its 5-tuple is fixed.
    (protocol === "tcp" && options.localPort !== undefined)
  ) {
    flow =
      protocol === "icmp"
        ? { kind: "pinned", flowId: PINNED_FLOW_ID }
        : {
            kind: "pinned",
            port: destinationPort ?? DEFAULT_UDP_PORT,
            localPort: options.localPort ?? DEFAULT_PINNED_LOCAL_PORT,
          };
    if (family === 6) flow.flowLabel = PINNED_FLOW_LABEL;
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
  if (destinationPort !== undefined) plan.port = destinationPort;
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
  const { flow } = plan;
  if (flow.kind === "pinned") {
    if (flow.port !== undefined) probe.port = flow.port;
    if (flow.localPort !== undefined) probe.localPort = flow.localPort;
    if (flow.flowId !== undefined) probe.flowId = flow.flowId;
    if (flow.flowLabel !== undefined) probe.flowLabel = flow.flowLabel;
  } else if (flow.kind === "mda") {
    // One flow per cycle, the same at every TTL, so each cycle follows one path end to end.
    const n = cycle % MDA_FLOWS;
    if (plan.protocol === "icmp") probe.flowId = MDA_BASE_FLOW_ID + n;
    else {
      if (flow.port !== undefined) probe.port = flow.port;
      probe.localPort = MDA_BASE_PORT + n;
    }
    if (plan.family === 6) probe.flowLabel = MDA_BASE_FLOW_LABEL + n;
  } else {
    if (plan.port !== undefined) probe.port = plan.port;
    if (plan.localPort !== undefined) probe.localPort = plan.localPort;
  }
  return probe;
}
