import { type Hop, MDA_EXTRA_CYCLES, type TraceOptions } from "@lg/protocol";
import type { Clock } from "./clock";
import { GRANT_LG_PROBE_RAW_SOCKETS, GRANT_RAW_SOCKETS, TracerError } from "./errors";
import { mdaProbesNeeded } from "./mda";
import type { ProbeAnswer, ProbeFailure, ProbeOutcome, ProbeSpec } from "./packet/types";
import { type ProbePlan, probeFor } from "./plan";
import { HopStats } from "./stats";

export type StopReason = "destination" | "unreachable" | "max-unknown" | "max-ttl" | "cancelled";

export type SessionEvent = { type: "hop"; hop: Hop } | { type: "cycle"; cycle: number; hops: Hop[] };

/**
 * Sends one probe and reports its outcome once; `onSent` when it really left (if the port says
 * so). The returned function forgets the probe.
 */
export type SendProbe = (
  probe: ProbeSpec,
  onOutcome: (outcome: ProbeOutcome) => void,
  onSent: () => void,
) => () => void;

export interface SessionDeps {
  plan: ProbePlan;
  options: TraceOptions;
  send: SendProbe;
  clock: Clock;
  onEvent?: (e: SessionEvent) => void;
  /** Name of an address when reverse DNS already knows it. */
  nameOf?: (address: string) => string | undefined;
  /** Asks for an address's name; must not block. */
  wantName?: (address: string) => void;
  signal?: AbortSignal;
  /** The port reports when each probe leaves; until then a probe has no deadline. */
  portReportsSent?: boolean;
  /**
   * Asked once the requested cycles are done and every probe has settled: how many more cycles to
   * run before finishing (0 or less: finish). `--until-sure` uses it; mtr has no such thing.
   */
  moreCycles?: (state: SettledState) => number;
  /** Every answer counted at a hop, with the probe it answered (the NAT reading reads the quotes). */
  onAnswer?: (ttl: number, probe: ProbeSpec, answer: ProbeAnswer) => void;
}

/** The trace as it stands when its cycles are done and nothing is in flight. */
export interface SettledState {
  hops: Hop[];
  /** Cycles run so far. */
  cycles: number;
  stoppedBy: StopReason;
  reachedDestination: boolean;
}

export interface SessionResult {
  hops: Hop[];
  stoppedBy: StopReason;
  reachedDestination: boolean;
  /** Probes the packet port could not send (no free slot); they are in no hop's Snt. */
  unsent: number;
}

interface Probe {
  ttl: number;
  cycle: number;
  sentAt: number;
  /** How long this probe may stay unanswered. */
  timeoutMs: number;
  /** False while the port holds it back for want of a free slot. */
  sent: boolean;
  spec: ProbeSpec;
  cancel: () => void;
}

/** Adapted wait at the end: three times the worst RTT seen, at least that plus this margin. */
const ADAPT_MARGIN_MS = 200;
/** First-cycle spacing as mtr uses before the path length is known (interval / 10). */
const INITIAL_HOSTS = 10;

/**
 * One trace with mtr's schedule: each cycle sends one probe per TTL from the first TTL up,
 * spread evenly over the interval, and stops at the destination, after `maxUnknown`
 * consecutive silent hops, or at the max TTL. The last cycle ends as soon as no outstanding
 * probe can still change the result: answered, timed out on a timeout adapted to the RTTs
 * seen, or sent to a hop that has been silent in every earlier cycle.
 */
export class TraceSession {
  private readonly hops = new Map<number, HopStats>();
  private readonly outstanding = new Set<Probe>();
  private readonly hardTimeoutMs: number;
  private readonly spacingBase: number;
  private phase: "sending" | "draining" | "done" = "sending";
  private cycle = 0;
  /** Cycles granted beyond `count` by `moreCycles`. */
  private extraCycles = 0;
  private ttl: number;
  private needCheck = false;
  private nextSendAt = 0;
  private spacing: number;
  private destTtl: number | undefined;
  private unreachableTtl: number | undefined;
  private lastReason: StopReason = "max-ttl";
  private worstRttMs = 0;
  private answers = 0;
  private drainStartedAt = 0;
  private startedAt = 0;
  private ioTurnTaken = false;
  private unsent = 0;
  private readonly onAbort = () => this.finish("cancelled");
  private timer: unknown = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private resolveRun!: (r: SessionResult) => void;
  private rejectRun!: (e: Error) => void;

  constructor(private readonly deps: SessionDeps) {
    const o = deps.options;
    this.ttl = o.firstTtl;
    this.hardTimeoutMs = o.timeout * 1000;
    this.spacingBase = o.interval * 1000;
    this.spacing = this.spacingBase / INITIAL_HOSTS;
  }

  run(): Promise<SessionResult> {
    return new Promise<SessionResult>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
      const { signal } = this.deps;
      if (signal?.aborted) return this.finish("cancelled");
      signal?.addEventListener("abort", this.onAbort, { once: true });
      this.startedAt = this.deps.clock.now();
      this.nextSendAt = this.startedAt;
      this.tick();
    });
  }

  /** Called when a name arrived for an address: hops it answers at are re-emitted. */
  nameArrived(address: string): void {
    if (this.phase === "done") return;
    for (const hop of this.hops.values()) {
      if (hop.hasResponder(address) && this.inDisplay(hop.ttl)) this.emitHop(hop);
    }
  }

  private isDone(): boolean {
    return this.phase === "done";
  }

  private hop(ttl: number): HopStats {
    let h = this.hops.get(ttl);
    if (!h) {
      h = new HopStats(ttl);
      this.hops.set(ttl, h);
    }
    return h;
  }

  private tick(): void {
    if (this.phase === "done") return;
    const now = this.deps.clock.now();
    if (this.phase === "sending") this.expire(now);
    // A timer may fire a hair early; treat anything within 0.5 ms as due. After a stall of the
    // event loop longer than one spacing, the schedule slides instead of sending a burst.
    if (this.phase === "sending" && now - this.nextSendAt > this.spacing) this.nextSendAt = now;
    while (this.phase === "sending" && now + 0.5 >= this.nextSendAt) this.step();
    if (this.phase === "draining") this.drain(now);
    if (!this.isDone()) this.arm();
  }

  private arm(): void {
    if (this.ioTurnTaken) return; // re-armed once the pending I/O turn has run
    let at = this.phase === "sending" ? this.nextSendAt : Number.POSITIVE_INFINITY;
    for (const p of this.outstanding) {
      const d = this.deadlineOf(p);
      if (d < at) at = d;
    }
    if (at === this.timerAt && this.timer !== null) return;
    if (this.timer !== null) this.deps.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (Number.isFinite(at)) {
      this.timer = this.deps.clock.setTimer(
        () => {
          this.timer = null;
          this.timerAt = Number.POSITIVE_INFINITY;
          this.tick();
        },
        Math.max(0, at - this.deps.clock.now()),
      );
    }
  }

  /** Stop reason known without waiting: the TTL just sent is the last one this cycle can need. */
  private knownEnd(ttl: number): StopReason | null {
    if (this.destTtl !== undefined && ttl >= this.destTtl) return "destination";
    if (this.unreachableTtl !== undefined && ttl >= this.unreachableTtl) return "unreachable";
    if (ttl >= this.deps.options.maxTtl) return "max-ttl";
    return null;
  }

  /** Stop reason after the TTL just sent has had one probe spacing to answer. */
  private checkedEnd(ttl: number): StopReason | null {
    const known = this.knownEnd(ttl);
    if (known) return known;
    let silent = 0;
    for (let t = ttl; t >= this.deps.options.firstTtl && !this.hop(t).answered; t--) silent++;
    if (silent >= this.deps.options.maxUnknown) return "max-unknown";
    return null;
  }

  private step(): void {
    if (this.needCheck) {
      this.needCheck = false;
      const reason = this.checkedEnd(this.ttl);
      if (reason) {
        this.endCycle(reason);
        if (this.phase !== "sending") return;
      } else {
        this.ttl++;
      }
    }
    this.sendProbe(this.ttl);
    this.nextSendAt += this.spacing;
    const reason = this.knownEnd(this.ttl);
    if (reason) this.endCycle(reason);
    else this.needCheck = true;
  }

  private endCycle(reason: StopReason): void {
    this.lastReason = reason;
    const probed = Math.min(this.ttl, this.destTtl ?? this.ttl, this.unreachableTtl ?? this.ttl);
    this.deps.onEvent?.({ type: "cycle", cycle: this.cycle + 1, hops: this.snapshot() });
    this.cycle++;
    if (this.cycle >= this.deps.options.count + this.extraCycles && !this.mdaWantsMore()) {
      this.phase = "draining";
      this.drainStartedAt = this.deps.clock.now();
      return;
    }
    const hosts = Math.max(1, probed - this.deps.options.firstTtl + 1);
    // The first cycle guesses the path length like mtr (10 hops); when it ran over its interval
    // (long or silent paths), the next cycles make up the delay, down to half an interval each,
    // so -c C -i I still takes about C x I.
    const behind = this.nextSendAt - (this.startedAt + this.cycle * this.spacingBase);
    const budget = behind > 0 ? Math.max(this.spacingBase / 2, this.spacingBase - behind) : this.spacingBase;
    this.spacing = budget / hosts;
    this.ttl = this.deps.options.firstTtl;
  }

  /** --mda: some displayed hop has fewer probes than the 95% rule asks for its responders. */
  private mdaWantsMore(): boolean {
    if (this.deps.plan.flow.kind !== "mda") return false;
    if (this.cycle >= this.deps.options.count + MDA_EXTRA_CYCLES) return false;
    const [first, last] = this.displayRange();
    for (let t = first; t <= last; t++) {
      const h = this.hop(t);
      if (h.responderCount > 0 && h.sent < mdaProbesNeeded(h.responderCount)) return true;
    }
    return false;
  }

  /**
   * A hop silent in every earlier cycle gets a short timeout (the adapted one, in whole seconds
   * as mtr-packet takes it): an answer is not expected, and each unanswered probe holds a slot in
   * a helper that serves every trace of the process until it times out.
   */
  private timeoutFor(ttl: number): number {
    if (this.cycle === 0 || this.hop(ttl).answered) return this.hardTimeoutMs;
    return Math.min(this.hardTimeoutMs, Math.max(1000, Math.ceil(this.adaptedTimeoutMs() / 1000) * 1000));
  }

  private sendProbe(ttl: number): void {
    const timeoutMs = this.timeoutFor(ttl);
    const hop = this.hop(ttl);
    hop.probeSent();
    const spec = probeFor(this.deps.plan, ttl, this.cycle);
    spec.timeoutSec = timeoutMs / 1000;
    const probe: Probe = {
      ttl,
      cycle: this.cycle,
      sentAt: this.deps.clock.now(),
      timeoutMs,
      sent: this.deps.portReportsSent !== true,
      spec,
      cancel: () => {},
    };
    this.outstanding.add(probe);
    probe.cancel = this.deps.send(
      spec,
      (outcome) => this.onOutcome(probe, outcome),
      () => {
        probe.sent = true;
        probe.sentAt = this.deps.clock.now();
      },
    );
  }

  private onOutcome(probe: Probe, outcome: ProbeOutcome): void {
    if (this.phase === "done" || !this.outstanding.delete(probe)) return;
    const hop = this.hop(probe.ttl);
    if (isAnswer(outcome)) {
      const rttMs = outcome.rttUs / 1000;
      if (rttMs > probe.timeoutMs) {
        hop.probeLost(); // a late answer (e.g. to a retransmitted TCP SYN) would distort the RTTs
      } else {
        hop.probeAnswered(outcome.address, rttMs, outcome.mpls);
        this.deps.onAnswer?.(probe.ttl, probe.spec, outcome);
        this.answers++;
        if (rttMs > this.worstRttMs) this.worstRttMs = rttMs;
        if (outcome.address === this.deps.plan.address)
          this.destTtl = Math.min(this.destTtl ?? probe.ttl, probe.ttl);
        else if (outcome.kind === "no-route")
          this.unreachableTtl = Math.min(this.unreachableTtl ?? probe.ttl, probe.ttl);
        this.deps.wantName?.(outcome.address);
      }
    } else if (outcome.kind === "no-reply") {
      hop.probeLost();
    } else if (!this.handleFailure(hop, outcome)) {
      return;
    }
    if (this.inDisplay(probe.ttl)) this.emitHop(hop);
    if (this.phase === "draining") this.tick();
  }

  /** Maps mtr-packet's per-probe errors; returns false when the trace was ended by it. */
  private handleFailure(hop: HopStats, f: ProbeFailure): boolean {
    const { plan } = this.deps;
    const helper = f.helper ?? "mtr-packet";
    switch (f.reason) {
      case "probes-exhausted":
        // The port already retried; the probe never left, so it does not count as sent.
        hop.probeUnsent();
        this.unsent++;
        return true;
      case "network-down":
        if (this.answers > 0) {
          hop.probeLost();
          return true;
        }
        this.fail(
          new TracerError(
            "packet-helper",
            `cannot send probes to ${plan.address}: this host has no route to it (network down)`,
          ),
        );
        return false;
      case "permission-denied":
        this.fail(
          new TracerError(
            "no-permission",
            `${helper} may not send ${plan.protocol.toUpperCase()} probes${f.detail ? ` (${f.detail})` : ""}: ${helper === "lg-probe" ? GRANT_LG_PROBE_RAW_SOCKETS : GRANT_RAW_SOCKETS}`,
          ),
        );
        return false;
      case "address-not-available":
        this.fail(
          new TracerError(
            "invalid-argument",
            `-a/--address ${plan.sourceAddress ?? "(default)"} is not an address of this host`,
          ),
        );
        return false;
      case "address-in-use":
        this.fail(
          new TracerError(
            "invalid-argument",
            `-L/--localport: the source port is already in use on this host`,
          ),
        );
        return false;
      case "invalid-argument":
        this.fail(new TracerError("invalid-argument", describeInvalidArgument(plan, helper, f.detail)));
        return false;
      default:
        this.fail(new TracerError("packet-helper", f.detail ?? `${helper} failed: ${f.reason}`));
        return false;
    }
  }

  private adaptedTimeoutMs(): number {
    if (this.answers === 0) return this.hardTimeoutMs;
    return Math.min(this.hardTimeoutMs, Math.max(3 * this.worstRttMs, this.worstRttMs + ADAPT_MARGIN_MS));
  }

  private deadlineOf(p: Probe): number {
    if (!p.sent) return Number.POSITIVE_INFINITY; // the port gives it up itself if no slot frees
    if (this.phase !== "draining") return p.sentAt + p.timeoutMs;
    // A hop silent in every earlier cycle will not answer now: do not wait for it.
    if (p.cycle > 0 && !this.hop(p.ttl).answered) return p.sentAt;
    const [, last] = this.displayRange();
    if (p.ttl > last) return p.sentAt; // beyond the destination: cannot change the result
    // Never later than mtr with the same flags, which stops its grace period after the last cycle.
    const grace = this.drainStartedAt + this.deps.options.gracePeriod * 1000;
    return Math.min(p.sentAt + this.adaptedTimeoutMs(), grace);
  }

  private expire(now: number): void {
    for (const p of this.outstanding) {
      if (this.deadlineOf(p) <= now) {
        this.outstanding.delete(p);
        p.cancel();
        const hop = this.hop(p.ttl);
        hop.probeLost();
        if (this.inDisplay(p.ttl)) this.emitHop(hop);
      }
    }
  }

  private drain(now: number): void {
    if (this.outstanding.size === 0) {
      this.settled();
      return;
    }
    if (this.ioTurnTaken || ![...this.outstanding].some((p) => this.deadlineOf(p) <= now)) return;
    // Answers may already sit unread in a helper's pipe when the timer fires (timers run before
    // I/O in Node's event loop): read them first, then give up on what is still missing.
    this.ioTurnTaken = true;
    setImmediate(() => {
      this.ioTurnTaken = false;
      if (this.phase !== "draining") return;
      this.expire(this.deps.clock.now());
      if (this.outstanding.size === 0) this.settled();
      else this.arm();
    });
  }

  /** Every probe has settled after the last cycle: finish, or run the cycles `moreCycles` asks for. */
  private settled(): void {
    if (this.phase !== "draining") return;
    const more = this.deps.moreCycles?.({
      hops: this.snapshot(),
      cycles: this.cycle,
      stoppedBy: this.stopReason(),
      reachedDestination: this.destTtl !== undefined,
    });
    if (this.phase !== "draining") return; // cancelled meanwhile
    if (more === undefined || !(more > 0)) {
      this.finish(this.stopReason());
      return;
    }
    // Resume on the path as it is known, on time from now: the wait for the last answers is not
    // a delay the next cycles should make up.
    const now = this.deps.clock.now();
    const probed = Math.min(this.ttl, this.destTtl ?? this.ttl, this.unreachableTtl ?? this.ttl);
    const hosts = Math.max(1, probed - this.deps.options.firstTtl + 1);
    this.extraCycles += Math.floor(more);
    this.phase = "sending";
    this.ttl = this.deps.options.firstTtl;
    this.needCheck = false;
    this.spacing = this.spacingBase / hosts;
    this.startedAt = now - this.cycle * this.spacingBase;
    this.nextSendAt = now;
    this.tick();
  }

  private stopReason(): StopReason {
    if (this.destTtl !== undefined) return "destination";
    if (this.unreachableTtl !== undefined) return "unreachable";
    return this.lastReason;
  }

  /** Hops shown, as mtr's report: up to the destination, or one past the last hop that answered. */
  private displayRange(): [number, number] {
    const { firstTtl, maxTtl } = this.deps.options;
    if (this.destTtl !== undefined) return [firstTtl, this.destTtl];
    if (this.unreachableTtl !== undefined) return [firstTtl, this.unreachableTtl];
    let lastAnswered = 0;
    for (const h of this.hops.values()) if (h.answered && h.ttl > lastAnswered) lastAnswered = h.ttl;
    const probedTop = Math.max(firstTtl, ...this.hops.keys());
    const last = lastAnswered === 0 ? firstTtl : Math.min(maxTtl, lastAnswered + 1, probedTop);
    return [firstTtl, Math.max(firstTtl, last)];
  }

  private inDisplay(ttl: number): boolean {
    const [first, last] = this.displayRange();
    return ttl >= first && ttl <= last;
  }

  private snapshot(): Hop[] {
    const [first, last] = this.displayRange();
    const out: Hop[] = [];
    for (let t = first; t <= last; t++) out.push(this.hop(t).toHop(this.deps.nameOf));
    return out;
  }

  private emitHop(hop: HopStats): void {
    this.deps.onEvent?.({ type: "hop", hop: hop.toHop(this.deps.nameOf) });
  }

  private stopTimersAndProbes(): void {
    this.deps.signal?.removeEventListener("abort", this.onAbort);
    if (this.timer !== null) this.deps.clock.clearTimer(this.timer);
    this.timer = null;
    for (const p of this.outstanding) p.cancel();
  }

  private finish(reason: StopReason): void {
    if (this.phase === "done") return;
    if (reason === "cancelled") {
      for (const p of this.outstanding) this.hop(p.ttl).probeLost();
    }
    this.phase = "done";
    this.stopTimersAndProbes();
    this.outstanding.clear();
    this.resolveRun({
      hops: this.snapshot(),
      stoppedBy: reason,
      reachedDestination: this.destTtl !== undefined,
      unsent: this.unsent,
    });
  }

  private fail(err: Error): void {
    if (this.phase === "done") return;
    this.phase = "done";
    this.stopTimersAndProbes();
    this.outstanding.clear();
    this.rejectRun(err);
  }
}

function isAnswer(o: ProbeOutcome): o is ProbeAnswer {
  return o.kind === "reply" || o.kind === "ttl-expired" || o.kind === "no-route";
}

/** The helper does not say which argument it refused; name the ones it checks for this probe. */
function describeInvalidArgument(plan: ProbePlan, helper: string, detail?: string): string {
  if (detail === "ip-version-not-supported")
    return `this ${helper} cannot send IPv${plan.family} probes (invalid-argument: ip-version-not-supported)`;
  const args = [`size ${plan.size} (-s)`, `tos ${plan.tos} (-Q)`];
  if (plan.port !== undefined) args.push(`port ${plan.port} (-P)`);
  const { flow } = plan;
  if (flow.kind === "pinned") {
    if (flow.port !== undefined && plan.port === undefined) args.push(`port ${flow.port} (-P)`);
    if (flow.localPort !== undefined) args.push(`local port ${flow.localPort} (-L)`);
    if (flow.flowId !== undefined) args.push(`flow id ${flow.flowId}`);
    if (flow.flowLabel !== undefined) args.push(`flow label ${flow.flowLabel}`);
  }
  if (plan.localPort !== undefined) args.push(`local port ${plan.localPort} (-L)`);
  if (plan.sourceAddress !== undefined) args.push(`source address ${plan.sourceAddress} (-a)`);
  return `${helper} refused a ${plan.protocol.toUpperCase()} probe as invalid: check ${args.join(", ")}`;
}
