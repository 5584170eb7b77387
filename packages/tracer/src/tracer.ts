import { networkInterfaces } from "node:os";
import {
  type AdaptiveRun,
  type Diagnosis,
  FOLLOW_UP_PROBES,
  type FollowUp,
  type Hop,
  type NatReading,
  RECORD_ROUTE_PROBES,
  type RecordRouteHint,
  TraceOptions,
  type TraceOptionsInput,
  UNTIL_SURE_MIN_STEP,
  untilSureMaxCycles,
} from "@lg/protocol";
import { type TimestampAliasOptions, type TimestampAliasResult, timestampAliasTest } from "./alias-test";
import { type Clock, realClock } from "./clock";
import { TracerError } from "./errors";
import {
  type FollowUpItem,
  followUpPlan,
  followUpProbe,
  followUpRecord,
  followUpTimeoutSec,
} from "./follow-ups";
import { ReverseNames } from "./names";
import { NatTally, natReading, readQuote } from "./nat";
import { LgProbePort, MtrPacketPort } from "./packet/helper-pool";
import { Pacer } from "./packet/pacer";
import { findProbeHelper } from "./packet/probe-helper";
import { RoutingPort } from "./packet/routing-port";
import type { PacketPort, ProbeOutcome, ProbeSpec } from "./packet/types";
import { type ProbePlan, planProbes, probeFor } from "./plan";
import { recordRouteHint, recordRouteProbe } from "./record-route";
import { type SessionEvent, type SettledState, type StopReason, TraceSession } from "./session";
import { resolveTarget } from "./target";

export interface TraceRequest {
  /** IP literal or hostname; `options.ipVersion` picks the family of a hostname. */
  target: string;
  options: TraceOptions | TraceOptionsInput;
  signal?: AbortSignal;
  /**
   * Confirm a silent end with follow-up probes (see `followUpPlan`). Default true; a caller that
   * only wants mtr's table (a benchmark, a conformance run) may turn it off.
   */
  followUps?: boolean;
}

/**
 * Reads the trace so far for `--until-sure`: `decided` when no finding is left `inconclusive`,
 * else about how many more probes per hop would decide (the diagnosis's `probesNeeded`).
 */
export type UntilSureDecider = (
  hops: Hop[],
  context: { address: string; stoppedBy: StopReason; reachedDestination: boolean },
) => { decided: boolean; probesNeeded?: number };

export type TraceEvent = SessionEvent;

export interface TraceResult {
  target: string;
  address: string;
  hops: Hop[];
  startedAt: string;
  finishedAt: string;
  reachedDestination: boolean;
  /** Why probing stopped; `unreachable` when a router answered "no route" (ICMP unreachable). */
  stoppedBy: StopReason;
  /** The options the trace ran with, defaults filled in. */
  options: TraceOptions;
  /**
   * Probes the engine could not send because every mtr-packet slot was taken for too long
   * (overload); they count in no hop's Snt and never as loss. Absent when 0.
   */
  unsentProbes?: number;
  /** Probes sent after the trace to confirm a silent end (see `followUpPlan`); absent when none were needed. */
  followUps?: FollowUp[];
  /** With `options.adaptive`: the cycles `--until-sure` added and whether they decided. */
  adaptive?: AdaptiveRun;
  /**
   * Where a NAT sits, when the routers' quotes of the probes show one (`natReading`). Only lg-probe
   * reports quotes: a trace sent by mtr-packet never has it.
   */
  nat?: NatReading;
  /** With `options.recordRoute`: what echo probes with the Record Route option brought back. */
  recordRoute?: RecordRouteHint;
}

export interface TracerOptions {
  /**
   * Packet port to use; default: owned by this tracer, a pool of mtr-packet processes for what
   * mtr-packet can send and a pool of lg-probe processes for the flows it cannot hold (each
   * started on first use; see `RoutingPort`).
   */
  port?: PacketPort;
  /** mtr-packet processes in the default pool (started as needed). Default 16. */
  poolSize?: number;
  /** Reverse DNS of responders. Default true. */
  resolveNames?: boolean;
  /** Longest wait for outstanding names once probing is over. Default 1,000 ms. */
  nameWaitMs?: number;
  /** The reverse-DNS service (shared cache) to use. */
  names?: ReverseNames;
  clock?: Clock;
  /** Path of mtr-packet for the default pool. */
  mtrPacketPath?: string;
  /**
   * Path of lg-probe for the default port (the apps pass `LG_PROBE_HELPER`). Unset: looked for as
   * `findProbeHelper` says (/usr/local/libexec/lg/lg-probe, then the checkout's build). Without
   * it, flows only lg-probe can hold are refused with TracerError("unsupported").
   */
  lgProbePath?: string;
  /**
   * Which helper sends probes mtr-packet could send too (see `RoutingPortOptions.freeFlows`).
   * Default `mtr-packet`; `lg-probe` falls back to mtr-packet when lg-probe is not installed.
   */
  freeFlows?: "mtr-packet" | "lg-probe";
  /** The diagnosis `--until-sure` (`options.adaptive`) asks; without it adaptive traces are refused. */
  untilSure?: UntilSureDecider;
  /**
   * Is an address this host's? The NAT reading takes a quoted source among them as the probe's own,
   * and Record Route leaves this host out of the way back. Default: the addresses of
   * `os.networkInterfaces()`, read once per trace.
   */
  ownAddress?: (address: string) => boolean;
}

/** A diagnosis as `@lg/analysis`'s `diagnose` gives it (injected: the engine does not depend on the rules). */
export type DiagnoseHops = (
  hops: Hop[],
  options: { destination: string; reachedDestination?: boolean },
) => Diagnosis;

/**
 * The `--until-sure` reading from a diagnosis: undecided while a finding is `inconclusive` (more
 * probes per hop: the most any such finding asks for), or while the verdict is `inconclusive` for want
 * of probes although hops answered (a count below the rules' minimum). A trace where nothing answered
 * is "decided": more of the same probes will not change it.
 *
 * @example
 * new Tracer({ untilSure: untilSureFromDiagnosis(diagnose) }); // diagnose from @lg/analysis
 */
export function untilSureFromDiagnosis(diagnose: DiagnoseHops): UntilSureDecider {
  return (hops, context) => {
    const diagnosis = diagnose(hops, {
      destination: context.address,
      ...(context.reachedDestination ? { reachedDestination: true } : {}),
    });
    const open = diagnosis.findings.filter((f) => f.status === "inconclusive");
    if (open.length > 0) {
      const needed = open.map((f) => f.probesNeeded).filter((n): n is number => n !== undefined);
      return needed.length > 0 ? { decided: false, probesNeeded: Math.max(...needed) } : { decided: false };
    }
    const fewProbes = diagnosis.verdict === "inconclusive" && hops.some((h) => h.recv > 0);
    return { decided: !fewProbes };
  };
}

/**
 * Runs traces over one packet port; many traces may run at once and share the port's
 * helper processes.
 *
 * @example
 * const tracer = new Tracer();
 * const result = await tracer.run({ target: "198.18.0.1", options: { count: 5, interval: 0.2 } });
 * console.log(formatReport(result));
 * await tracer.close();
 */
export class Tracer {
  private readonly port: PacketPort;
  private readonly ownsPort: boolean;
  private readonly waiting = new Map<number, { outcome: (o: ProbeOutcome) => void; sent: () => void }>();
  private nextToken = 1;
  private readonly clock: Clock;
  private readonly names: ReverseNames | null;
  private readonly nameWaitMs: number;
  private readonly untilSure: UntilSureDecider | undefined;
  private readonly ownAddress: (() => (address: string) => boolean) | undefined;

  constructor(opts: TracerOptions = {}) {
    this.ownsPort = !opts.port;
    this.port = opts.port ?? defaultPort(opts);
    this.port.onOutcome((token, outcome) => {
      const entry = this.waiting.get(token);
      if (!entry) return; // a probe already timed out or its trace ended
      this.waiting.delete(token);
      entry.outcome(outcome);
    });
    this.port.onSent?.((token) => this.waiting.get(token)?.sent());
    this.clock = opts.clock ?? realClock;
    this.names = opts.resolveNames === false ? null : (opts.names ?? new ReverseNames());
    this.nameWaitMs = opts.nameWaitMs ?? 1000;
    this.untilSure = opts.untilSure;
    const own = opts.ownAddress;
    this.ownAddress = own ? () => own : undefined;
  }

  /** Probes in flight over all traces. */
  get inFlight(): number {
    return this.waiting.size;
  }

  async run(req: TraceRequest, onEvent?: (e: TraceEvent) => void): Promise<TraceResult> {
    const parsed = TraceOptions.safeParse(req.options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") || "options";
      throw new TracerError("invalid-argument", `${field}: ${issue?.message ?? "invalid"}`);
    }
    const options = parsed.data;
    const { address, family } = await resolveTarget(req.target, options.ipVersion);
    const plan = planProbes(address, family, options);
    // Every probe of a plan needs the same helper (only ports and flow values change per cycle).
    const portRefuses = this.port.unsupportedReason?.(probeFor(plan, options.firstTtl, 0));
    if (portRefuses) throw new TracerError("unsupported", `${requestWords(options, family)}: ${portRefuses}`);
    const recordRouteRefused = options.recordRoute
      ? this.port.unsupportedReason?.(recordRouteProbe(plan, 1, true))
      : null;
    if (recordRouteRefused) throw new TracerError("unsupported", `--record-route: ${recordRouteRefused}`);
    if (plan.sourceAddress !== undefined && !isLocalAddress(plan.sourceAddress)) {
      // mtr-packet would send nothing useful: ICMP probes from a foreign address just go unanswered.
      throw new TracerError(
        "invalid-argument",
        `-a/--address ${plan.sourceAddress} is not an address of this host`,
      );
    }
    const untilSure = this.untilSure;
    if (options.adaptive && !untilSure)
      throw new TracerError(
        "unsupported",
        "--until-sure (adaptive) needs a diagnosis to decide with; this engine was built without one",
      );
    const startedAt = new Date().toISOString();
    const names = this.names;
    const isOwn = this.ownAddress?.() ?? localAddressTest();
    const quotes = new NatTally();
    const adaptive: AdaptiveRun | undefined = options.adaptive
      ? {
          extraCycles: 0,
          extraProbes: 0,
          maxExtraCycles: untilSureMaxCycles(options) - options.count,
          decided: true,
        }
      : undefined;
    let probesAtCount: number | undefined;
    const moreCycles =
      adaptive && untilSure
        ? (state: SettledState): number => {
            probesAtCount ??= sentOf(state.hops);
            adaptive.extraCycles = state.cycles - options.count;
            adaptive.extraProbes = sentOf(state.hops) - probesAtCount;
            const reading = untilSure(state.hops, {
              address,
              stoppedBy: state.stoppedBy,
              reachedDestination: state.reachedDestination,
            });
            adaptive.decided = reading.decided;
            const left = adaptive.maxExtraCycles - adaptive.extraCycles;
            if (reading.decided || left <= 0 || state.stoppedBy === "cancelled") return 0;
            return Math.min(left, Math.max(UNTIL_SURE_MIN_STEP, reading.probesNeeded ?? options.count));
          }
        : undefined;
    const session: TraceSession = new TraceSession({
      plan,
      options,
      clock: this.clock,
      portReportsSent: this.port.onSent !== undefined,
      send: (probe, outcome, sent) => this.sendProbe(probe, outcome, sent),
      ...(moreCycles ? { moreCycles } : {}),
      ...(onEvent ? { onEvent } : {}),
      onAnswer: (ttl, probe, answer) => {
        const reading = answer.quoted ? readQuote(probe, answer.quoted, isOwn) : null;
        if (reading) quotes.add(ttl, reading);
      },
      ...(names ? { nameOf: (a: string) => names.get(a), wantName: (a: string) => names.request(a) } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    const unsubscribe = names?.subscribe((a) => session.nameArrived(a));
    try {
      const outcome = await session.run();
      const items = req.followUps === false || req.signal?.aborted ? [] : followUpPlan(options, outcome);
      const [followUps, recordRoute] = await Promise.all([
        items.length > 0 ? this.followUp(plan, options, outcome.hops, items, req.signal) : [],
        options.recordRoute && !req.signal?.aborted
          ? this.recordRoute(plan, options, outcome.hops, isOwn, req.signal)
          : undefined,
      ]);
      let hops = outcome.hops;
      if (names && outcome.stoppedBy !== "cancelled") {
        await names.settle(this.nameWaitMs);
        hops = hops.map((h) => withNames(h, (a) => names.get(a)));
      }
      const result: TraceResult = {
        target: req.target,
        address,
        hops,
        startedAt,
        finishedAt: new Date().toISOString(),
        reachedDestination: outcome.reachedDestination,
        stoppedBy: outcome.stoppedBy,
        options,
      };
      if (outcome.unsent > 0) result.unsentProbes = outcome.unsent;
      if (followUps.length > 0) result.followUps = followUps;
      if (adaptive) result.adaptive = adaptive;
      // Only the hops shown: a probe past the destination adds nothing the destination's own does not.
      const lastShown = outcome.hops.at(-1)?.ttl ?? 0;
      const nat = natReading(
        quotes.hops().filter((h) => h.ttl <= lastShown),
        options.protocol,
      );
      if (nat) result.nat = nat;
      if (recordRoute) result.recordRoute = recordRoute;
      return result;
    } finally {
      unsubscribe?.();
    }
  }

  private sendProbe(probe: ProbeSpec, outcome: (o: ProbeOutcome) => void, sent: () => void): () => void {
    const token = this.nextToken;
    this.nextToken = token >= 2_000_000_000 ? 1 : token + 1;
    this.waiting.set(token, { outcome, sent });
    this.port.send(token, probe);
    return () => this.waiting.delete(token);
  }

  /**
   * Sends one probe over this tracer's port and resolves with its outcome: the helper's own, or
   * `no-reply` when none came by `probe.timeoutSec` (plus a margin) after it left, or when `signal`
   * aborts. For tests of one's own beside traces (`timestampAliasTest`).
   */
  probe(probe: ProbeSpec, signal?: AbortSignal): Promise<ProbeOutcome> {
    return new Promise((resolve) => {
      let timer: unknown = null;
      let cancel = () => {};
      const done = (o: ProbeOutcome) => {
        if (timer !== null) this.clock.clearTimer(timer);
        timer = null;
        signal?.removeEventListener("abort", onAbort);
        cancel();
        resolve(o);
      };
      const onAbort = () => done({ kind: "no-reply" });
      const arm = () => {
        if (timer !== null) this.clock.clearTimer(timer);
        // The helper says no-reply itself at the timeout; this only guards a lost outcome.
        timer = this.clock.setTimer(
          () => done({ kind: "no-reply" }),
          Math.ceil(probe.timeoutSec) * 1000 + FOLLOW_UP_SLACK_MS,
        );
      };
      if (signal?.aborted) return resolve({ kind: "no-reply" });
      signal?.addEventListener("abort", onAbort, { once: true });
      arm();
      cancel = this.sendProbe(probe, done, arm);
    });
  }

  /**
   * The prespecified-timestamp alias test of two IPv4 addresses over this tracer's port (lg-probe):
   * see `timestampAliasTest`. Refused with TracerError("unsupported") when lg-probe is not there.
   */
  timestampAliasTest(opts: TimestampAliasOptions): Promise<TimestampAliasResult> {
    const refused = this.port.unsupportedReason?.({
      family: 4,
      address: opts.a,
      ttl: 64,
      protocol: "icmp",
      timeoutSec: 1,
      timestamps: [opts.a, opts.b],
    });
    if (refused)
      return Promise.reject(new TracerError("unsupported", `the timestamp alias test: ${refused}`));
    return timestampAliasTest(this, opts);
  }

  /**
   * `--record-route`: RECORD_ROUTE_PROBES echo probes to the target with the option and as many
   * plain ones, all at once, waited for as the follow-up probes are.
   */
  private async recordRoute(
    plan: ProbePlan,
    options: TraceOptions,
    hops: Hop[],
    isOwn: (address: string) => boolean,
    signal: AbortSignal | undefined,
  ): Promise<RecordRouteHint> {
    const timeoutSec = followUpTimeoutSec(options, hops);
    const send = (withOption: boolean) =>
      Promise.all(
        Array.from({ length: RECORD_ROUTE_PROBES }, () =>
          this.probe(recordRouteProbe(plan, timeoutSec, withOption), signal),
        ),
      );
    const [withOption, plain] = await Promise.all([send(true), send(false)]);
    return recordRouteHint(plan.address, withOption, plain, isOwn);
  }

  /**
   * Sends every follow-up's probes at once (FOLLOW_UP_PROBES per item) and waits for their
   * outcomes, each at most its timeout: the whole confirmation takes about one timeout.
   */
  private async followUp(
    plan: ProbePlan,
    options: TraceOptions,
    hops: Hop[],
    items: FollowUpItem[],
    signal: AbortSignal | undefined,
  ): Promise<FollowUp[]> {
    const timeoutSec = followUpTimeoutSec(options, hops);
    const lastAnswering = [...hops].reverse().find((h) => h.recv > 0);
    const one = (probe: ProbeSpec) => this.probe(probe, signal);
    return Promise.all(
      items.map(async (item) => {
        const probe = followUpProbe(plan, item, timeoutSec);
        const outcomes = await Promise.all(Array.from({ length: FOLLOW_UP_PROBES }, () => one({ ...probe })));
        return followUpRecord(item, plan.address, outcomes, { lastAnswering, timeoutSec });
      }),
    );
  }

  /** Stops the helpers; traces still running end with TracerError("packet-helper"). */
  async close(): Promise<void> {
    const running = [...this.waiting.values()];
    this.waiting.clear();
    for (const entry of running)
      entry.outcome({
        kind: "failure",
        reason: "helper-failed",
        detail: "the tracer was closed while the trace ran",
      });
    if (this.ownsPort) await this.port.close();
  }
}

/**
 * The tracer's own port: mtr-packet for what it can send, lg-probe (when installed) for the rest,
 * both paced as one (every helper's raw socket sees every ICMP answer).
 */
function defaultPort(opts: TracerOptions): PacketPort {
  const pacer = new Pacer();
  const lgProbe = findProbeHelper(opts.lgProbePath);
  const lgPath = lgProbe.path;
  return new RoutingPort({
    mtrPacket: () =>
      new MtrPacketPort({
        pacer,
        ...(opts.poolSize !== undefined ? { maxProcesses: opts.poolSize } : {}),
        ...(opts.mtrPacketPath !== undefined ? { command: opts.mtrPacketPath } : {}),
      }),
    lgProbe: lgPath === null ? null : () => new LgProbePort({ pacer, command: lgPath }),
    lgProbeSearched: lgProbe.searched,
    ...(opts.freeFlows !== undefined ? { freeFlows: opts.freeFlows } : {}),
  });
}

/** What a refused trace asked for, e.g. "--pin-flow over IPv6 TCP". */
function requestWords(options: TraceOptions, family: 4 | 6): string {
  const asked = options.mda
    ? "--mda"
    : options.pinFlow
      ? "--pin-flow"
      : options.localPort !== undefined
        ? "-L/--localport"
        : "this trace";
  return `${asked} over IPv${family} ${options.protocol.toUpperCase()}`;
}

/** Extra wait past a follow-up's timeout before the engine stops waiting for mtr-packet's own no-reply. */
const FOLLOW_UP_SLACK_MS = 500;

const sentOf = (hops: Hop[]) => hops.reduce((n, h) => n + h.sent, 0);

function isLocalAddress(address: string): boolean {
  return localAddressTest()(address);
}

/** This host's addresses as they are now, as a test. */
function localAddressTest(): (address: string) => boolean {
  const own = new Set(
    Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.toLowerCase())),
  );
  return (address) => own.has(address.toLowerCase());
}

function withNames(hop: Hop, nameOf: (address: string) => string | undefined): Hop {
  const out: Hop = {
    ...hop,
    responders: hop.responders.map((r) => {
      const name = nameOf(r.address);
      return name ? { ...r, name } : r;
    }),
  };
  const name = hop.host ? nameOf(hop.host) : undefined;
  if (name) out.name = name;
  return out;
}
