/**
 * Every number the diagnosis and the comparison decide with. They are named so the README,
 * the evidence strings and the tests all refer to the same values.
 */

/** Loss a healthy path shows (one late reply, one queue drop in a hundred): a hop's loss is real
 * only when this rate alone would rarely lose as many probes. */
export const NOISE_LOSS_RATE = 0.01;

/** The loss at the end of a trace is real when 1% noise would lose that many probes (or more) with a
 * chance below this (exact binomial, one-sided): 1%, so a clean path is called lossy once in a hundred
 * readings at most. */
export const REAL_LOSS_ALPHA = 0.01;

/** Between REAL_LOSS_ALPHA and this (the conventional 5%: noise explains it less than one reading in
 * twenty), the end's loss is a hint the probes cannot confirm: the reading is `inconclusive` rather
 * than flipping between real loss and throttling run to run. 1 lost of 10 (9.6%) stays noise. */
export const LOSS_HINT_ALPHA = 0.05;

/** A hop's loss does not persist when the hops after it lose significantly less (Fisher's exact
 * test, one-sided, below this): the guide's "no loss on subsequent hops", with the sampling error
 * counted. 2%: a persisting loss is misread as throttling at most about once in fifty readings, and
 * the guide's own sample (4 of 33 lost at hop 2, none of 66 after it: p = 1.1%) still reads as
 * throttling. */
export const PERSIST_DROP_ALPHA = 0.02;

/** The loss that persists is read on the last hops of the run (the guide: "use the loss rate of the
 * last few affected hops as the reference value"), pooled so one unlucky hop does not decide. */
export const REFERENCE_HOPS = 2;

/** probesNeeded is not computed past this many more probes per hop: beyond it, say so instead. */
export const MAX_PROBES_NEEDED = 1_000;

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

/* Router identity across the two directions of a path test (identity.ts). Each is how sure one test
 * alone makes us that two hops are one router; independent tests combine as 1 - Π(1 - c). */

/** The same address answered both directions: one router (anycast aside). */
export const IDENTITY_ADDRESS_CONFIDENCE = 0.99;

/** The same reverse-DNS name: operators name interfaces of one router alike, rarely two routers the same. */
export const IDENTITY_NAME_CONFIDENCE = 0.9;

/** Both ends' alias traces reached each other's address where their own hop is. */
export const IDENTITY_ALIAS_MUTUAL_CONFIDENCE = 0.95;

/** Only one end's alias trace agreed: two routers at the same distance behind the same router
 * (a branch) look alike from that end, so this alone does not identify. */
export const IDENTITY_ALIAS_ONE_SIDED_CONFIDENCE = 0.5;

/** One link-mate pair: right when the router answers from its side towards the hop before it (its
 * way in, or its way back when that is the same), wrong on asymmetric routers answering from their
 * way back. A hint alone. */
export const IDENTITY_LINK_CONFIDENCE = 0.5;

/** A link-mate pair at an endpoint: a host answers from its own address, on the link to its
 * gateway, so the other end is the router next to it unless the host has several uplinks. */
export const IDENTITY_ENDPOINT_LINK_CONFIDENCE = 0.7;

/** Both directions of the prespecified-timestamp alias test stamped both addresses (an echo to each
 * naming itself, then the other): one router. Wrong only where a router stamps an address it does
 * not own, or the way back changed between the two probings. */
export const IDENTITY_TIMESTAMP_CONFIDENCE = 0.95;

/** How many independent weak tests (link-mate pairs, a one-sided alias trace) must agree, with none
 * against, to identify a router without a strong test. */
export const IDENTITY_WEAK_TESTS_NEEDED = 2;

/** How sure a router is one-sided when the other end's alias trace reached it away from its own path
 * (routing to an interface address can enter a router from another side, so not certain). */
export const IDENTITY_OWN_CONFIDENCE = 0.8;

/* Reading the two traces' losses together (loss-reading.ts). */

/** Loss a series shows on a path that loses nothing: a floor that keeps one stray lost probe from
 * ruling a reading out (0.5%). */
export const LOSS_NOISE_FLOOR = 0.005;

/** A reading must beat the next best by this natural-log likelihood ratio (about 100 : 1) to be
 * said; closer than that, the direction is `undetermined` and the summary says what would decide. */
export const LOSS_READING_MARGIN = Math.log(100);

/** Highest one-way loss the readings consider, as a fraction (a stretch that drops everything is an
 * interruption, read by other rules). */
export const LOSS_READING_MAX = 0.95;

/* Follow-ups of a path test (follow-ups.ts). */

/** Alias traces per end at most: the routers of the other direction worth asking about on an
 * Internet path (beyond that, the budget goes to probes the reading cannot use). */
export const ALIAS_TRACES_PER_END = 8;

/** Probes per hop of an alias trace: the series that tell the two directions' losses apart. With
 * 40, a 25% one-way loss on the reference pair was never put on the wrong direction in 900 seeded
 * samplings (src/loss-reading.calibration.test.ts); with 20, 2 of 300 "both" read as one direction. */
export const ALIAS_TRACE_PROBES = 40;

/** Half the chi-square 95% point (1 degree of freedom): the drop of the profile log-likelihood that
 * bounds a one-way loss estimate's 95% interval. */
export const PROFILE_DROP = 1.92;

/** A one-direction reading calls the other direction clean only when the other's own loss is ruled
 * out (95%) above this share of the loss found: a direction is not cleared on too few probes. 0.3:
 * at 0.5 the lab's "both" pair was read as one direction once in about forty path tests (one alias
 * series alone tells its two losses apart); undecided readings get a second round of alias traces. */
export const CLEAN_DIRECTION_SHARE = 0.3;
