import {
  FOLLOW_UP_MIN_TIMEOUT_SEC,
  followUpProbeBound,
  maxCycles,
  type TraceOptions,
  UNTIL_SURE_MIN_STEP,
  untilSureMaxCycles,
} from "@lg/protocol";

/** A path longer than this is rare, and a trace stops at its destination: a fair ceiling per trace. */
export const HOPS_ESTIMATE = 30;

/** The engine's wait past a follow-up's timeout for mtr-packet's own no-reply (see @lg/tracer). */
const FOLLOW_UP_SLACK_SECONDS = 0.5;

/**
 * Probes per minute a request sends towards its target, across its PoPs, at worst: each agent sends
 * one probe per hop per cycle, so hops x cycles in the first minute (all of them when the run is
 * shorter) x PoPs — with `adaptive` every cycle `--until-sure` may add counts, with `mda` every cycle
 * multipath enumeration may add — plus the follow-up
 * probes an ICMP trace sends its destination when it ends in silence. Every probe carries the target
 * as destination address, whichever router answers it, so all of them count.
 */
export function probeRate(options: TraceOptions, pops: number): number {
  const hops = Math.max(1, Math.min(options.maxTtl - options.firstTtl + 1, HOPS_ESTIMATE));
  const cyclesPerMinute = Math.min(maxCycles(options), Math.ceil(60 / options.interval));
  return (hops * cyclesPerMinute + followUpProbeBound(options)) * pops;
}

/**
 * How long a request probes at most: its cycles (with `adaptive` or `mda`, every cycle it may add, and the
 * wait for late replies after each round of them), the wait for late replies, then the follow-ups'
 * wait for an answer.
 */
export function probingMs(options: TraceOptions): number {
  const cycles = maxCycles(options);
  // Only `--until-sure` waits between rounds; multipath enumeration's cycles follow one another.
  const rounds = Math.ceil((untilSureMaxCycles(options) - options.count) / UNTIL_SURE_MIN_STEP);
  const followUps =
    followUpProbeBound(options) > 0
      ? Math.max(FOLLOW_UP_MIN_TIMEOUT_SEC, Math.ceil(options.timeout)) + FOLLOW_UP_SLACK_SECONDS
      : 0;
  const waits = options.timeout + options.gracePeriod * (1 + rounds);
  return Math.ceil((cycles * options.interval + waits + followUps) * 1000);
}
