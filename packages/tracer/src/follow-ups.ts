import {
  FOLLOW_UP_MIN_TIMEOUT_SEC,
  FOLLOW_UP_TCP_PORTS,
  FOLLOW_UP_TTL,
  FOLLOW_UP_UDP_PORT,
  type FollowUp,
  type Hop,
  type TraceOptions,
} from "@lg/protocol";
import type { ProbeOutcome, ProbeSpec } from "./packet/types";
import type { ProbePlan } from "./plan";
import type { StopReason } from "./session";

/** One follow-up: a few probes of one kind to one port of the destination. */
export interface FollowUpItem {
  kind: "tcp-syn" | "udp";
  port: number;
}

/** What the trace showed when its probing ended. */
export interface TraceEnd {
  hops: Hop[];
  stoppedBy: StopReason;
  reachedDestination: boolean;
}

/**
 * The follow-ups a trace needs before it finishes: an ICMP trace that ends in silence after a hop
 * that answers cannot tell a destination that ignores ICMP echo from one that is gone (or a dead
 * node before it), so the destination is asked over TCP — the service port when given, else 443
 * and 80 — and UDP to a closed high port. Empty when the trace left nothing to confirm: other
 * protocols, a destination that answered, a router that said "unreachable", a cancelled trace,
 * nothing answering at all, or a last hop that answers (the path is longer than the max TTL).
 *
 * @example
 * followUpPlan(options, end); // [{kind:"tcp-syn",port:443},{kind:"tcp-syn",port:80},{kind:"udp",port:33434}]
 */
export function followUpPlan(options: TraceOptions, end: TraceEnd): FollowUpItem[] {
  if (options.protocol !== "icmp" || end.reachedDestination) return [];
  if (end.stoppedBy !== "max-unknown" && end.stoppedBy !== "max-ttl") return [];
  const last = end.hops.at(-1);
  if (!last || last.recv > 0 || !end.hops.some((h) => h.recv > 0)) return [];
  const ports = options.servicePort !== undefined ? [options.servicePort] : FOLLOW_UP_TCP_PORTS;
  return [
    ...ports.map((port) => ({ kind: "tcp-syn" as const, port })),
    { kind: "udp", port: FOLLOW_UP_UDP_PORT },
  ];
}

/**
 * How long follow-up probes wait, whole seconds (mtr-packet's unit): at least
 * FOLLOW_UP_MIN_TIMEOUT_SEC, three times the worst RTT the trace saw on a slow path, never past the
 * trace's own timeout (`-Z`, rounded up as mtr-packet takes it).
 */
export function followUpTimeoutSec(options: TraceOptions, hops: Hop[]): number {
  const worstMs = hops.reduce((m, h) => Math.max(m, h.worst), 0);
  const wanted = Math.max(FOLLOW_UP_MIN_TIMEOUT_SEC, Math.ceil((3 * worstMs) / 1000));
  return Math.min(wanted, Math.max(1, Math.ceil(options.timeout)));
}

/** The probes of one follow-up item, as mtr-packet sends them. */
export function followUpProbe(plan: ProbePlan, item: FollowUpItem, timeoutSec: number): ProbeSpec {
  const probe: ProbeSpec = {
    family: plan.family,
    address: plan.address,
    ttl: FOLLOW_UP_TTL,
    protocol: item.kind === "tcp-syn" ? "tcp" : "udp",
    port: item.port,
    size: plan.size,
    tos: plan.tos,
    timeoutSec,
  };
  if (plan.sourceAddress !== undefined) probe.sourceAddress = plan.sourceAddress;
  return probe;
}

/**
 * Reads the outcomes of one follow-up item into its record. Only an answer from the destination's
 * own address counts (for TCP a SYN-ACK or a RST, which mtr-packet both report as `reply`; for UDP
 * ICMP port unreachable, or any unreachable it sends itself): a router answering instead (TTL
 * expired, no route) proves nothing about the destination and is said in `result`.
 */
export function followUpRecord(
  item: FollowUpItem,
  address: string,
  outcomes: ProbeOutcome[],
  context: { lastAnswering: Hop | undefined; timeoutSec: number },
): FollowUp {
  const fromTarget = outcomes.filter(
    (o): o is Extract<ProbeOutcome, { address: string }> =>
      (o.kind === "reply" || o.kind === "no-route") && o.address === address,
  );
  const failures = outcomes.filter(
    (o): o is Extract<ProbeOutcome, { kind: "failure" }> => o.kind === "failure",
  );
  const others = outcomes.filter(
    (o): o is Extract<ProbeOutcome, { address: string }> =>
      (o.kind === "reply" || o.kind === "no-route" || o.kind === "ttl-expired") && o.address !== address,
  );
  const sent = outcomes.length - failures.filter((f) => f.reason !== "helper-failed").length;
  const last = context.lastAnswering;
  const record: FollowUp = {
    kind: item.kind,
    target: address,
    port: item.port,
    ttl: FOLLOW_UP_TTL,
    answered: fromTarget.length > 0,
    sent,
    recv: fromTarget.length,
    purpose:
      `the ICMP trace ends in silence${last ? ` after hop ${last.ttl} (${last.host})` : ""}: ` +
      `is ${address} there, ignoring ICMP echo?`,
  };
  if (fromTarget.length > 0) {
    const best = Math.min(...fromTarget.map((o) => o.rttUs / 1000));
    record.rtt = Math.round(best * 1000) / 1000;
    const how = item.kind === "tcp-syn" ? "SYN-ACK or RST" : "port unreachable";
    record.result = `${address} answered ${fromTarget.length} of ${sent} (${how}), best ${record.rtt} ms`;
  } else if (sent === 0) {
    const why = failures[0];
    record.result = `not sent: mtr-packet refused the probes (${why?.reason ?? "failure"}${why?.detail ? `: ${why.detail}` : ""})`;
  } else if (others.length > 0) {
    const o = others[0] as Extract<ProbeOutcome, { address: string }>;
    record.result = `no answer from ${address}; ${o.address} answered instead (${o.kind})`;
  } else {
    record.result = `no answer to ${sent} probe${sent === 1 ? "" : "s"} within ${context.timeoutSec} s`;
  }
  return record;
}
