import { z } from "zod";
import { HopGeo } from "./geo";

/** Probe protocols mtr-packet can send. */
export const ProbeProtocol = z.enum(["icmp", "udp", "tcp"]);
export type ProbeProtocol = z.infer<typeof ProbeProtocol>;

export const IpVersion = z.union([z.literal(4), z.literal(6)]);
export type IpVersion = z.infer<typeof IpVersion>;

/**
 * Parameters of one trace, with mtr 0.95's defaults. Times are in seconds, like mtr's flags.
 * The same schema is used by `lg trace`, the job message and the HTTP body, so a bound
 * checked here is checked everywhere.
 */
export const TraceOptions = z.object({
  protocol: ProbeProtocol.default("icmp"),
  /** Destination port for UDP/TCP (mtr -P). UDP without a port varies it per probe like mtr. */
  port: z.number().int().min(1).max(65535).optional(),
  /**
   * Source port (mtr -L) of UDP and TCP probes; with `port` it pins a UDP flow, and it pins a TCP
   * flow (whose destination port is always fixed). TCP and IPv6 need lg-probe on the agent.
   */
  localPort: z.number().int().min(1).max(65535).optional(),
  /** Probes per hop (mtr -c). */
  count: z.number().int().min(1).max(10_000).default(10),
  /** Seconds between cycles (mtr -i). */
  interval: z.number().min(0.01).max(60).default(1),
  /** Packet size in bytes (mtr -s). */
  size: z.number().int().min(28).max(9000).default(64),
  ipVersion: IpVersion.optional(),
  /** First TTL (mtr -f). */
  firstTtl: z.number().int().min(1).max(255).default(1),
  /** Max TTL (mtr -m). */
  maxTtl: z.number().int().min(1).max(255).default(30),
  /** Stop after this many consecutive silent hops (mtr -U). */
  maxUnknown: z.number().int().min(1).max(255).default(12),
  /** Seconds a probe may stay unanswered (mtr -Z). */
  timeout: z.number().min(0.1).max(60).default(10),
  /** Seconds to wait for last replies after the last cycle (mtr -G); our engine ends earlier when it can. */
  gracePeriod: z.number().min(0).max(60).default(5),
  /** IP type-of-service byte (mtr -Q). */
  tos: z.number().int().min(0).max(255).default(0),
  /** Source address (mtr -a). */
  sourceAddress: z.string().optional(),
  /**
   * Keep the flow constant so ECMP routers send every probe down one path: the ports (UDP, TCP),
   * the ICMP flow id, and over IPv6 the flow label. Any protocol and family; all but IPv4 UDP need
   * lg-probe on the agent.
   */
  pinFlow: z
    .boolean()
    .default(false)
    .describe(
      "Keep the flow constant so ECMP routers send every probe down one path: ports for UDP and TCP (default 33434 <- 33433, TCP to 80), the ICMP flow id, and over IPv6 the flow label. ICMP, UDP and TCP over IPv4 and IPv6; an agent without lg-probe (capabilities.flowControl udp4) refuses all but IPv4 UDP.",
    ),
  /**
   * Multipath enumeration at each hop: one flow per cycle (source port, ICMP flow id, IPv6 flow
   * label), the same at every TTL. Any protocol and family, as `pinFlow`.
   */
  mda: z
    .boolean()
    .default(false)
    .describe(
      "Multipath enumeration: one flow per cycle (its own source port, ICMP flow id or IPv6 flow label, the same at every TTL), cycles added until every hop had the probes the 95% rule asks for its responders. Protocols and families as pinFlow.",
    ),
  /**
   * ICMP traces only (ignored for UDP and TCP, whose probes already go to a port): the TCP port of
   * the service at the target. When the trace ends in silence after a hop that answers, the engine
   * sends its follow-up TCP SYN probes to this port instead of 443 and 80 (see `followUpPlan`).
   */
  servicePort: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe(
      "ICMP traces only: TCP port of the target's service. A trace that ends in silence after a hop that answers is confirmed with 3 TCP SYN to this port (else to 443 and 80) and 3 UDP probes to 33434; the results are the trace's followUps.",
    ),
  /**
   * `--until-sure`: when the diagnosis after `count` cycles has an `inconclusive` finding, keep
   * running cycles until it is decided or the budget of {@link untilSureMaxCycles} is spent.
   * Absent: false.
   */
  adaptive: z
    .boolean()
    .optional()
    .describe(
      "--until-sure: while the diagnosis after `count` cycles has an inconclusive finding, keep running cycles over the whole path (at least 5 at a time) until it is decided, at most 4 x count cycles in all and at most 200 beyond count. The trace's `adaptive` says how many it took.",
    ),
  /**
   * `--record-route` (IPv4, lg-probe): after the trace, ICMP echo probes to the target carry the
   * Record Route option, and the addresses the reply brings back are the trace's `recordRoute`
   * hints (the way there and the way back). Absent: false.
   */
  recordRoute: z
    .boolean()
    .optional()
    .describe(
      "IPv4 only, needs lg-probe: after the trace, 3 ICMP echo probes to the target carry the Record Route option (3 plain ones beside them); the addresses the replies bring back are the trace's recordRoute hints: the way there, and the way back no forward trace shows. Says when the path strips or refuses the option.",
    ),
});
export type TraceOptions = z.infer<typeof TraceOptions>;
export type TraceOptionsInput = z.input<typeof TraceOptions>;

/** One MPLS label stack entry from an ICMP extension (RFC 4950). */
export const MplsLabel = z.object({
  label: z.number().int(),
  tc: z.number().int(),
  bottom: z.boolean(),
  ttl: z.number().int(),
});
export type MplsLabel = z.infer<typeof MplsLabel>;

/** An address that answered at a hop, and how many of the hop's replies came from it. */
export const Responder = z.object({
  address: z.string(),
  name: z.string().optional(),
  count: z.number().int().nonnegative(),
  mpls: z.array(MplsLabel).optional(),
});
export type Responder = z.infer<typeof Responder>;

/**
 * Per-hop statistics, mtr's columns. Times are milliseconds; when nothing answered
 * (`recv` = 0) every time is 0, as in mtr's report.
 */
export const Hop = z.object({
  ttl: z.number().int().min(1).max(255),
  /** The responder that answered most often, or null when the hop was silent. */
  host: z.string().nullable(),
  name: z.string().optional(),
  asn: z.number().int().optional(),
  owner: z.string().optional(),
  lossPct: z.number().min(0).max(100),
  sent: z.number().int().nonnegative(),
  recv: z.number().int().nonnegative(),
  /** Probes that got no reply (mtr's Drop). */
  drop: z.number().int().nonnegative(),
  /** 95% interval of Loss% (Wilson score interval), percent: `[low, high]`. See {@link lossInterval}. */
  lossCi: z
    .tuple([z.number().min(0).max(100), z.number().min(0).max(100)])
    .optional()
    .describe("95% interval of Loss% (Wilson score interval), percent: [low, high]"),
  last: z.number().nonnegative(),
  avg: z.number().nonnegative(),
  best: z.number().nonnegative(),
  worst: z.number().nonnegative(),
  /** Sample standard deviation of the RTTs. */
  stdev: z.number().nonnegative(),
  /** Jttr: difference between the last two RTTs. */
  jitter: z.number().nonnegative(),
  /** Javg: mean absolute difference between consecutive RTTs. */
  jitterAvg: z.number().nonnegative(),
  /** Jmax: largest absolute difference between consecutive RTTs. */
  jitterMax: z.number().nonnegative(),
  responders: z.array(Responder).max(8),
  mpls: z.array(MplsLabel).optional(),
  /** In a path test: the router behind the hop, the same id in both directions when identified
   * (see `Comparison.routers`). */
  routerId: z.string().optional(),
  /** Where the hop is claimed to be and whether the round-trip times allow it (the coordinator's). */
  geo: HopGeo.optional(),
  /**
   * The operator hides this hop from the public (`LG_PRIVATE_HOPS`: a PoP's own infrastructure):
   * its address, name, AS, responders and place are left out; its counts and times are kept.
   */
  hidden: z
    .literal(true)
    .optional()
    .describe(
      "Hidden by the operator (LG_PRIVATE_HOPS): the PoP's own infrastructure. host is null and name, asn, owner, responders' addresses and geo are left out; the counts and times are kept. Signed-in operators see the hop.",
    ),
});
export type Hop = z.infer<typeof Hop>;

/**
 * A probe the system sent on its own to decide a question a trace left open:
 * `alias-trace`: a short trace from one end of a path test to an address only the other end saw
 * (is that router on this end's path, and do its replies back to this end lose packets?);
 * `retrace`: the same trace again with more probes (a path test whose loss direction the first
 * round left undecided; its counts are added to the trace's own for the comparison);
 * `tcp-syn`, `udp`, `echo`: single-target probes (does a destination that ignores ICMP answer
 * TCP, does a router answer when addressed itself).
 */
export const FollowUpKind = z.enum(["alias-trace", "retrace", "tcp-syn", "udp", "echo"]);
export type FollowUpKind = z.infer<typeof FollowUpKind>;

export const FollowUp = z.object({
  kind: FollowUpKind,
  target: z.string(),
  port: z.number().int().optional(),
  /** alias-trace: the TTL at which the target itself answered; probes: the TTL sent. */
  ttl: z.number().int().optional(),
  answered: z.boolean(),
  /** Best round-trip time of the answers, ms. */
  rtt: z.number().optional(),
  /** Probes sent to the target and answers received. */
  sent: z.number().int().nonnegative().optional(),
  recv: z.number().int().nonnegative().optional(),
  /** alias-trace: the responder at each TTL up to the target (null: silent). */
  path: z.array(z.string().nullable()).optional(),
  /** Why it was sent, in words. */
  purpose: z.string(),
  /** What it showed, in words. */
  result: z.string().optional(),
});
export type FollowUp = z.infer<typeof FollowUp>;

/** A field of the quoted probe a NAT rewrote: the source address, a port, the transport checksum. */
export const NatField = z.enum(["source", "port", "checksum"]);
export type NatField = z.infer<typeof NatField>;

/**
 * Where a NAT sits, read from what routers quote of the probe in their ICMP errors (Dublin
 * traceroute's reading; only lg-probe reports the quotes): the hops up to `afterTtl` quote the probe
 * as it was sent, the hops from `beforeTtl` on quote it rewritten — the NAT is hop `afterTtl`
 * itself (its own errors quote the probe before its rewrite) or a box between the two.
 */
export const NatReading = z
  .object({
    /** The last hop that quoted the probe as sent; 0 when none did (the NAT is before `beforeTtl`). */
    afterTtl: z.number().int().min(0).max(255),
    /** The first hop that quoted the probe rewritten. */
    beforeTtl: z.number().int().min(1).max(255),
    /** What the hops beyond it quote differently from what was sent. */
    rewrote: z.array(NatField).min(1),
    /** The source address the hops beyond it quote: the NAT's outside address. */
    publicSource: z.string().optional(),
    /** Quotes read on each side: as sent (up to `afterTtl`), rewritten (from `beforeTtl` on). */
    quotes: z.object({ asSent: z.number().int().nonnegative(), rewritten: z.number().int().nonnegative() }),
  })
  .describe(
    "A NAT between hop afterTtl (0: this host) and hop beforeTtl: hops up to afterTtl quote the probe as sent in their ICMP errors, hops from beforeTtl on quote it rewritten (source address, port or checksum). Read only from lg-probe's quotes.",
  );
export type NatReading = z.infer<typeof NatReading>;

/**
 * What became of the Record Route option on echo probes to the target: `ok` (the reply brought the
 * addresses back), `stripped` (replies came without the option), `refused` (a parameter problem,
 * or no answer to probes with the option while plain probes were answered), `no-answer` (neither
 * kind was answered: nothing to say about the option).
 */
export const RecordRouteStatus = z.enum(["ok", "stripped", "refused", "no-answer"]);
export type RecordRouteStatus = z.infer<typeof RecordRouteStatus>;

/** Most addresses an IPv4 Record Route option holds. */
export const RECORD_ROUTE_SLOTS = 9;

/**
 * Record Route hints (IPv4, `--record-route`): the addresses an echo reply brought back, split as
 * Linux records them — each router the address it forwards from, the target the probed address
 * twice (on receipt and as it answers), then the routers of the way back. Hints, not a trace: a
 * router that does not record is missing, and nine slots end the list.
 */
export const RecordRouteHint = z
  .object({
    status: RecordRouteStatus,
    /** Recorded on the way there, before the target. */
    forward: z.array(z.string()).max(RECORD_ROUTE_SLOTS),
    /** Recorded on the way back, after the target (this host's own address left out). */
    back: z.array(z.string()).max(RECORD_ROUTE_SLOTS),
    /** The list as the reply carried it (when the target is not in it, the split is unknown: both sides are empty). */
    recorded: z.array(z.string()).max(RECORD_ROUTE_SLOTS).optional(),
    /** The option was full: the rest of the way (back) went unrecorded. */
    full: z.boolean().optional(),
    /** Who answered a probe with the option by a parameter problem (`refused`). */
    refusedBy: z.string().optional(),
    /** Echo probes with the option, and their replies; plain echo probes sent beside them, and theirs. */
    sent: z.number().int().nonnegative(),
    answered: z.number().int().nonnegative(),
    plainSent: z.number().int().nonnegative(),
    plainAnswered: z.number().int().nonnegative(),
  })
  .describe(
    "Record Route hints (IPv4): forward (recorded before the target), back (after it: the way back), status ok | stripped (replies without the option) | refused (a parameter problem, or only plain probes answered) | no-answer; full when the 9 slots ran out.",
  );
export type RecordRouteHint = z.infer<typeof RecordRouteHint>;

/**
 * What `--until-sure` (`adaptive`) did after the requested cycles: how many more it ran, the probes
 * they sent, and whether the diagnosis was decided when it stopped (false: the budget ran out first).
 */
export const AdaptiveRun = z
  .object({
    /** Cycles run beyond the requested count: probes per hop it took. */
    extraCycles: z.number().int().nonnegative(),
    /** Probes those cycles sent, over every hop. */
    extraProbes: z.number().int().nonnegative(),
    /** Most extra cycles the budget allowed (see `untilSureMaxCycles`). */
    maxExtraCycles: z.number().int().nonnegative(),
    decided: z.boolean(),
  })
  .describe(
    "What --until-sure (adaptive) added after the requested cycles: extraCycles (probes per hop), extraProbes (over every hop), maxExtraCycles (the budget), decided (false: the budget ran out first).",
  );
export type AdaptiveRun = z.infer<typeof AdaptiveRun>;

export const FindingCode = z.enum([
  "icmp-throttling",
  "real-loss",
  "latency-step",
  "latency-spike-confined",
  "unstable-latency",
  "destination-filters-icmp",
  "routing-loop",
  "node-interruption",
]);
export type FindingCode = z.infer<typeof FindingCode>;

/** Blame regions of the analysis guide, relative to the trace's own direction. */
export const Region = z.enum(["A", "B", "C"]);
export type Region = z.infer<typeof Region>;

/**
 * Whether a finding shows a real problem or only explains what a reader sees (throttling,
 * a confined spike, jitter at one router). The verdict is `problem` exactly when one finding is.
 */
export const FindingSeverity = z.enum(["problem", "info"]);
export type FindingSeverity = z.infer<typeof FindingSeverity>;

export const Finding = z.object({
  code: FindingCode,
  severity: FindingSeverity,
  /** TTLs of the hops the finding is about, first the one where it starts. */
  hops: z.array(z.number().int()),
  region: Region,
  /** The numbers behind the finding, in words. */
  evidence: z.string(),
  /** What to do and whom to contact. */
  advice: z.string(),
  /**
   * `inconclusive`: the probes sent cannot decide between this reading and its alternative (real loss
   * or throttling); `probesNeeded` says about how many more probes per hop would. Absent: decided.
   */
  status: z.enum(["confirmed", "inconclusive"]).optional(),
  probesNeeded: z.number().int().positive().optional(),
});
export type Finding = z.infer<typeof Finding>;

export const DiagnosisVerdict = z.enum(["clean", "problem", "inconclusive"]);
export type DiagnosisVerdict = z.infer<typeof DiagnosisVerdict>;

export const Diagnosis = z.object({
  verdict: DiagnosisVerdict,
  findings: z.array(Finding),
  /** Why the verdict is `inconclusive` (too few probes, nothing answered). */
  reason: z.string().optional(),
});
export type Diagnosis = z.infer<typeof Diagnosis>;

export const TraceStatus = z.enum(["queued", "running", "done", "failed"]);
export type TraceStatus = z.infer<typeof TraceStatus>;

/** Who failed: the target, the resolver, the agent, or us. */
export const TraceFailure = z.object({
  source: z.enum(["target", "resolver", "agent", "internal"]),
  message: z.string(),
});
export type TraceFailure = z.infer<typeof TraceFailure>;

/** z for a two-sided 95% interval. */
const Z95 = 1.959964;

/**
 * The 95% Wilson score interval of a hop's loss, in percent, rounded to 0.1: the range of loss rates
 * the probes sent are consistent with. Unlike `lossPct ± 1.96·se`, it stays inside 0–100 and is
 * honest with few probes or with no loss at all (0 lost of 10 is [0, 27.8]). `[0, 100]` when nothing
 * was sent.
 *
 * @example
 * lossInterval(10, 7); // [10.8, 60.3]: 3 of 10 lost
 */
export function lossInterval(sent: number, recv: number): [number, number] {
  if (sent <= 0) return [0, 100];
  const n = sent;
  const p = Math.min(1, Math.max(0, (sent - recv) / n));
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  const round = (x: number) => Math.round(Math.min(100, Math.max(0, x * 100)) * 10) / 10;
  return [round(centre - half), round(centre + half)];
}
