import type { MplsLabel } from "@lg/protocol";
import type { Clock } from "../clock";
import type {
  OptionTimestamp,
  PacketPort,
  ProbeAnswer,
  ProbeFailureReason,
  ProbeOutcome,
  ProbeSpec,
  QuotedProbe,
} from "../packet/types";

/**
 * What a scripted network does with one probe. An answer may carry what lg-probe reports beyond
 * mtr-packet: the quoted probe, Record Route addresses, timestamps, a refused option.
 */
export type ScriptedAnswer =
  | {
      kind: "ttl-expired" | "reply" | "no-route";
      address: string;
      rttMs: number;
      mpls?: MplsLabel[];
      quoted?: QuotedProbe;
      recordRoute?: string[];
      timestamps?: OptionTimestamp[];
      optionsRefused?: true;
    }
  | { kind: "silent" }
  | { kind: "no-reply"; afterMs: number }
  | { kind: "failure"; reason: ProbeFailureReason; detail?: string };

/**
 * `n` counts earlier probes to the same TTL (0 for the first), so a script can say "hop 3 drops
 * its 3rd, 6th and 9th probe".
 */
export type Script = (probe: ProbeSpec, n: number) => ScriptedAnswer;

/**
 * A PacketPort that answers from a script on a (usually manual) clock: deterministic unit tests
 * of the engine without sending a packet.
 */
export class ScriptedPort implements PacketPort {
  readonly sent: { token: number; probe: ProbeSpec; at: number }[] = [];
  private readonly perTtl = new Map<number, number>();
  private listeners: ((token: number, outcome: ProbeOutcome) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly script: Script,
  ) {}

  send(token: number, probe: ProbeSpec): void {
    this.sent.push({ token, probe, at: this.clock.now() });
    const n = this.perTtl.get(probe.ttl) ?? 0;
    this.perTtl.set(probe.ttl, n + 1);
    const answer = this.script(probe, n);
    if (answer.kind === "silent") return;
    if (answer.kind === "failure") {
      const outcome: ProbeOutcome = { kind: "failure", reason: answer.reason };
      if (answer.detail !== undefined) outcome.detail = answer.detail;
      queueMicrotask(() => this.emit(token, outcome));
      return;
    }
    if (answer.kind === "no-reply") {
      this.clock.setTimer(() => this.emit(token, { kind: "no-reply" }), answer.afterMs);
      return;
    }
    const outcome: ProbeAnswer = {
      kind: answer.kind,
      family: probe.family,
      address: answer.address,
      rttUs: Math.round(answer.rttMs * 1000),
      mpls: answer.mpls ?? [],
    };
    if (answer.quoted) outcome.quoted = answer.quoted;
    if (answer.recordRoute) outcome.recordRoute = answer.recordRoute;
    if (answer.timestamps) outcome.timestamps = answer.timestamps;
    if (answer.optionsRefused) outcome.optionsRefused = true;
    this.clock.setTimer(() => this.emit(token, outcome), answer.rttMs);
  }

  onOutcome(listener: (token: number, outcome: ProbeOutcome) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.listeners = [];
  }

  /** Probes sent to one TTL. */
  sentTo(ttl: number): { token: number; probe: ProbeSpec; at: number }[] {
    return this.sent.filter((s) => s.probe.ttl === ttl);
  }

  private emit(token: number, outcome: ProbeOutcome): void {
    for (const l of this.listeners) l(token, outcome);
  }
}

/**
 * A script for a simple path: `hops[i]` answers TTL i + 1 (null = silent router), the last
 * one is the target and answers with `reply`. TTLs past the target also reach the target.
 */
export function linearPath(hops: (string | null)[], rttMs: (ttl: number) => number = (ttl) => ttl): Script {
  return (probe) => {
    const idx = Math.min(probe.ttl, hops.length) - 1;
    const address = hops[idx];
    if (address === null || address === undefined) return { kind: "silent" };
    const isTarget = address === probe.address;
    return {
      kind: isTarget ? "reply" : "ttl-expired",
      address,
      rttMs: rttMs(Math.min(probe.ttl, hops.length)),
    };
  };
}
