import { networkInterfaces } from "node:os";
import { type Hop, TraceOptions, type TraceOptionsInput } from "@lg/protocol";
import { type Clock, realClock } from "./clock";
import { TracerError } from "./errors";
import { ReverseNames } from "./names";
import { MtrPacketPort } from "./packet/mtr-packet";
import type { PacketPort, ProbeOutcome } from "./packet/types";
import { planProbes } from "./plan";
import { type SessionEvent, type StopReason, TraceSession } from "./session";
import { resolveTarget } from "./target";

export interface TraceRequest {
  /** IP literal or hostname; `options.ipVersion` picks the family of a hostname. */
  target: string;
  options: TraceOptions | TraceOptionsInput;
  signal?: AbortSignal;
}

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
}

export interface TracerOptions {
  /** Packet port to use; default: a pool of mtr-packet processes owned by this tracer. */
  port?: PacketPort;
  /** mtr-packet processes in the default pool (started as needed). Default 8. */
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

  constructor(opts: TracerOptions = {}) {
    this.ownsPort = !opts.port;
    const poolOpts: { maxProcesses?: number; command?: string } = {};
    if (opts.poolSize !== undefined) poolOpts.maxProcesses = opts.poolSize;
    if (opts.mtrPacketPath !== undefined) poolOpts.command = opts.mtrPacketPath;
    this.port = opts.port ?? new MtrPacketPort(poolOpts);
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
    if (plan.sourceAddress !== undefined && !isLocalAddress(plan.sourceAddress)) {
      // mtr-packet would send nothing useful: ICMP probes from a foreign address just go unanswered.
      throw new TracerError(
        "invalid-argument",
        `-a/--address ${plan.sourceAddress} is not an address of this host`,
      );
    }
    const startedAt = new Date().toISOString();
    const names = this.names;
    const session: TraceSession = new TraceSession({
      plan,
      options,
      clock: this.clock,
      portReportsSent: this.port.onSent !== undefined,
      send: (probe, outcome, sent) => {
        const token = this.nextToken;
        this.nextToken = token >= 2_000_000_000 ? 1 : token + 1;
        this.waiting.set(token, { outcome, sent });
        this.port.send(token, probe);
        return () => this.waiting.delete(token);
      },
      ...(onEvent ? { onEvent } : {}),
      ...(names ? { nameOf: (a: string) => names.get(a), wantName: (a: string) => names.request(a) } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    const unsubscribe = names?.subscribe((a) => session.nameArrived(a));
    try {
      const outcome = await session.run();
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
      return result;
    } finally {
      unsubscribe?.();
    }
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

function isLocalAddress(address: string): boolean {
  const wanted = address.toLowerCase();
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((i) => i.address.toLowerCase() === wanted),
  );
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
