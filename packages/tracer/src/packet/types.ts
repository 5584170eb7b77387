import type { MplsLabel } from "@lg/protocol";

export type ProbeProtocolName = "icmp" | "udp" | "tcp";

/**
 * One probe as a probe helper sends it. The fields mtr-packet has mean what they mean there; the
 * flow fields (`flowId`, `flowLabel`), the IPv4 options (`recordRoute`, `timestamps`), and
 * `localPort` on TCP or IPv6 probes only lg-probe sends (see helper/PROTOCOL.md and `lgProbeNeed`).
 */
export interface ProbeSpec {
  family: 4 | 6;
  address: string;
  ttl: number;
  protocol: ProbeProtocolName;
  /** Destination port (UDP/TCP). */
  port?: number;
  /** Source port: IPv4 UDP in mtr-packet; UDP and TCP, IPv4 and IPv6 in lg-probe. */
  localPort?: number;
  /** Packet size in bytes, IP and transport headers included. */
  size?: number;
  tos?: number;
  /** Whole seconds; mtr-packet refuses fractions. */
  timeoutSec: number;
  sourceAddress?: string;
  /**
   * ICMP echo (lg-probe): the echo identifier and the value the ICMP checksum is held at, 0-65535,
   * so every probe of the flow hashes alike whatever its sequence number.
   */
  flowId?: number;
  /** IPv6 flow label (lg-probe), 0-1048575. */
  flowLabel?: number;
  /** IPv4 Record Route option, 9 slots (lg-probe). */
  recordRoute?: boolean;
  /** IPv4 prespecified Timestamp option naming up to 4 addresses (lg-probe). */
  timestamps?: string[];
}

/** What the quote of an ICMP error says about the probe as a router saw it (lg-probe's `quoted-*`). */
export interface QuotedProbe {
  /** TTL or hop limit of the quoted probe. */
  ttl?: number;
  /** Source address in the quoted header (differs from ours behind a NAT). */
  source?: string;
  /** Source and destination port as quoted. */
  ports?: [number, number];
  /** Transport checksum as quoted (UDP, TCP or ICMP). */
  checksum?: number;
  /** The checksum the probe left with (`sent-checksum`), to compare with `checksum`. */
  sentChecksum?: number;
  /** IPv6: the flow label as quoted. */
  flowLabel?: number;
}

/** One prespecified address of a Timestamp option and its stamp (ms since midnight UT; null: did not stamp). */
export interface OptionTimestamp {
  address: string;
  ms: number | null;
}

/** An answer that carries a responder: the probe reached the target, or a router answered. */
export interface ProbeAnswer {
  kind: "reply" | "ttl-expired" | "no-route";
  family: 4 | 6;
  address: string;
  rttUs: number;
  mpls: MplsLabel[];
  /** lg-probe only, when the answer quoted the probe. */
  quoted?: QuotedProbe;
  /** IPv4 Record Route: the addresses recorded, in order. */
  recordRoute?: string[];
  /** IPv4 prespecified Timestamp option: each named address and its stamp. */
  timestamps?: OptionTimestamp[];
  /** An ICMP parameter problem answered the IP option: the path refuses it. */
  optionsRefused?: true;
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
  /** The helper that gave this failure, when it was not mtr-packet. */
  helper?: ProbeHelperName;
}

/** The probe helpers a port drives: mtr's own, and lg's (helper/PROTOCOL.md). */
export type ProbeHelperName = "mtr-packet" | "lg-probe";

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
  /**
   * Why this port cannot send such a probe (e.g. a flow that needs lg-probe, which is not
   * installed), or null. The tracer asks before a trace starts and refuses it with the reason.
   * Without it the port takes every probe.
   */
  unsupportedReason?(probe: ProbeSpec): string | null;
  close(): Promise<void>;
}
