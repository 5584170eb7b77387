import type { MplsLabel } from "@lg/protocol";

export type ProbeProtocolName = "icmp" | "udp" | "tcp";

/** One probe as mtr-packet sends it. */
export interface ProbeSpec {
  family: 4 | 6;
  address: string;
  ttl: number;
  protocol: ProbeProtocolName;
  /** Destination port (UDP/TCP). */
  port?: number;
  /** Source port (UDP only in mtr-packet). */
  localPort?: number;
  /** Packet size in bytes, IP and transport headers included. */
  size?: number;
  tos?: number;
  /** Whole seconds; mtr-packet refuses fractions. */
  timeoutSec: number;
  sourceAddress?: string;
}

/** An answer that carries a responder: the probe reached the target, or a router answered. */
export interface ProbeAnswer {
  kind: "reply" | "ttl-expired" | "no-route";
  family: 4 | 6;
  address: string;
  rttUs: number;
  mpls: MplsLabel[];
}

/** mtr-packet's per-probe errors, plus `helper-failed` when the helper process itself is gone. */
export type ProbeFailureReason =
  | "probes-exhausted"
  | "invalid-argument"
  | "permission-denied"
  | "network-down"
  | "address-in-use"
  | "address-not-available"
  | "unexpected-error"
  | "unknown-command"
  | "helper-failed";

export interface ProbeFailure {
  kind: "failure";
  reason: ProbeFailureReason;
  /** mtr-packet's `reason` argument, or a sentence about the helper. */
  detail?: string;
}

/** Everything a probe can end with. */
export type ProbeOutcome = ProbeAnswer | { kind: "no-reply" } | ProbeFailure;

/**
 * Sends probes and reports what came back. The token ties a reply to its probe; tokens are
 * chosen by the caller and must be unique among probes in flight. Every probe sent gets
 * exactly one outcome (unless the port is closed first).
 */
export interface PacketPort {
  send(token: number, probe: ProbeSpec): void;
  onOutcome(listener: (token: number, outcome: ProbeOutcome) => void): void;
  /**
   * Ports that may hold probes back (a full pool) say when each one really left, so timeouts
   * run from then. Without it a probe counts as sent when `send` is called.
   */
  onSent?(listener: (token: number) => void): void;
  close(): Promise<void>;
}
