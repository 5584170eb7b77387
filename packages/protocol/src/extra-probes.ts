import type { TraceOptions } from "./trace";

/**
 * Bounds of the probes a trace sends beyond its requested cycles: follow-up probes that confirm a
 * silent end, and the extra cycles of `--until-sure`. The agent's engine keeps to them and the
 * coordinator reserves a target's budget for them, so both read them from here.
 */

/** Probes per follow-up (one TCP port, or UDP): three, so one lost probe or answer is not read as silence. */
export const FOLLOW_UP_PROBES = 3;

/** TCP ports a silent end is probed on when the request names no service port: HTTPS, then HTTP. */
export const FOLLOW_UP_TCP_PORTS: readonly number[] = [443, 80];

/**
 * Port of the UDP follow-up: traceroute's first port, closed on nearly every host, so a host that is
 * there answers ICMP port unreachable (unless it filters that too).
 */
export const FOLLOW_UP_UDP_PORT = 33434;

/**
 * TTL of follow-up probes: Linux's default initial TTL, high enough to reach any destination a trace
 * of up to 30 hops could see, and a follow-up is one probe per port, not a walk.
 */
export const FOLLOW_UP_TTL = 64;

/**
 * Shortest wait for follow-up answers, seconds (mtr-packet counts whole seconds). The engine waits
 * longer when the path is slow: three times the worst RTT it saw, never past the trace's timeout.
 */
export const FOLLOW_UP_MIN_TIMEOUT_SEC = 1;

/** Most follow-up probes one trace sends: three to each default TCP port and three UDP. */
export const MAX_FOLLOW_UP_PROBES = FOLLOW_UP_PROBES * (FOLLOW_UP_TCP_PORTS.length + 1);

/**
 * `--until-sure` runs at most this many times the requested cycles in all: enough for the loss
 * tests to decide a 25% loss that 10 probes left open (they need tens of probes, not hundreds).
 */
export const UNTIL_SURE_MAX_FACTOR = 4;

/** ...and at most this many cycles beyond the requested count, whatever the count. */
export const UNTIL_SURE_MAX_EXTRA_CYCLES = 200;

/**
 * Fewest extra cycles `--until-sure` adds at a time: each round ends with a wait for the last
 * answers, so rounds of one or two cycles would spend more time waiting than probing.
 */
export const UNTIL_SURE_MIN_STEP = 5;

/**
 * Most cycles a trace may run: `count`, or with `adaptive` the count plus
 * min((UNTIL_SURE_MAX_FACTOR - 1) x count, UNTIL_SURE_MAX_EXTRA_CYCLES).
 *
 * @example
 * untilSureMaxCycles({ count: 10, adaptive: true }); // 40
 * untilSureMaxCycles({ count: 100, adaptive: true }); // 300
 */
export function untilSureMaxCycles(options: Pick<TraceOptions, "count" | "adaptive">): number {
  if (!options.adaptive) return options.count;
  return options.count + Math.min((UNTIL_SURE_MAX_FACTOR - 1) * options.count, UNTIL_SURE_MAX_EXTRA_CYCLES);
}

/** Cycles `--mda` (`mda`) may add after `count` so every hop gets the probes its stopping rule asks for. */
export const MDA_EXTRA_CYCLES = 64;

/**
 * Most cycles a trace with these options may run, for budgets: {@link untilSureMaxCycles}, plus
 * {@link MDA_EXTRA_CYCLES} with `mda`.
 *
 * @example
 * maxCycles({ count: 10, adaptive: false, mda: true }); // 74
 */
export function maxCycles(options: Pick<TraceOptions, "count" | "adaptive" | "mda">): number {
  return untilSureMaxCycles(options) + (options.mda ? MDA_EXTRA_CYCLES : 0);
}

/**
 * Echo probes with the Record Route option a `recordRoute` trace sends its target after the trace,
 * and plain echo probes beside them (as many): a path that drops options shows as the first
 * unanswered while the plain ones are answered.
 */
export const RECORD_ROUTE_PROBES = 3;

/**
 * Probes a trace with these options may send after its cycles, all at once, each waited for as a
 * follow-up: the follow-ups of a silent ICMP end (none for UDP and TCP traces), and with
 * `recordRoute` its echo probes with and without the option.
 */
export function followUpProbeBound(
  options: Pick<TraceOptions, "protocol" | "servicePort" | "recordRoute">,
): number {
  const recordRoute = options.recordRoute ? 2 * RECORD_ROUTE_PROBES : 0;
  if (options.protocol !== "icmp") return recordRoute;
  const tcpPorts = options.servicePort !== undefined ? 1 : FOLLOW_UP_TCP_PORTS.length;
  return FOLLOW_UP_PROBES * (tcpPorts + 1) + recordRoute;
}
