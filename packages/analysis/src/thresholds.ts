/**
 * Every number the diagnosis and the comparison decide with. They are named so the README,
 * the evidence strings and the tests all refer to the same values.
 */

/** Loss at the reference hop counts as real only with at least this many lost probes:
 * 1 lost of 10 happens on a healthy path (one late reply, one queue drop). */
export const REAL_LOSS_MIN_LOST_PROBES = 2;

/** ...and at least this loss rate, so 2 lost of 1,000 is not called a fault. */
export const REAL_LOSS_MIN_PCT = 1;

/** A latency step must raise the persistent Avg by at least this many ms... */
export const LATENCY_STEP_MIN_MS = 10;

/** ...and by at least this fraction of the level before it (10 ms matters at 5 ms, not at 300 ms). */
export const LATENCY_STEP_MIN_RATIO = 0.5;

/** When Best rises by at least this share of the Avg step, the step is distance (a longer
 * link or route, e.g. an ocean crossing), reported as information rather than a fault. */
export const PROPAGATION_SHARE = 0.8;

/** A hop's Avg must exceed the level of the hops after it by this many ms to be a spike... */
export const SPIKE_MIN_MS = 10;

/** ...and by this fraction of that level. */
export const SPIKE_MIN_RATIO = 0.5;

/** StDev at or above this fraction of Avg makes Avg unreliable (25 ms is high at 30 ms, not at 325 ms). */
export const UNSTABLE_STDEV_RATIO = 0.5;

/** Below this StDev in ms, variation is too small to matter whatever the ratio (LAN hops at 0.3 ms). */
export const UNSTABLE_MIN_STDEV_MS = 5;

/** A standard deviation from fewer replies than this says nothing. */
export const UNSTABLE_MIN_REPLIES = 3;

/** Unstable latency is a problem only when it persists over at least this many hops to the end. */
export const UNSTABLE_PERSIST_MIN_HOPS = 2;

/** With fewer probes per hop than this, throttling and loss cannot be told apart: inconclusive. */
export const MIN_PROBES_FOR_VERDICT = 5;

/** Without ASN data: public hops after the leading private ones that still count as the
 * source's access network (region A). */
export const ACCESS_PUBLIC_HOPS = 1;

/** Without ASN data: hops at the end of a trace that reached its destination that count as the
 * destination's network (region C), the destination included. */
export const DESTINATION_HOPS = 2;

/** Prefix lengths that make two addresses the two ends of one point-to-point link. */
export const LINK_PREFIX_V4 = [31, 30] as const;
export const LINK_PREFIX_V6 = [127, 126] as const;
