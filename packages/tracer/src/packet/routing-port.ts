import { INSTALL_LG_PROBE } from "./helper-pool";
import type { PacketPort, ProbeOutcome, ProbeSpec } from "./types";

/**
 * What a probe needs lg-probe for, in words, or null when mtr-packet sends it as asked: a fixed
 * ICMP flow id, an IPv6 flow label, an IPv4 option, or a source port mtr-packet cannot set (TCP,
 * IPv6). IPv4 UDP with `local-port` stays on mtr-packet.
 */
export function lgProbeNeed(probe: ProbeSpec): string | null {
  if (probe.flowId !== undefined) return "a fixed ICMP flow id";
  if (probe.flowLabel !== undefined) return "an IPv6 flow label";
  if (probe.recordRoute) return "the Record Route option";
  if (probe.timestamps !== undefined && probe.timestamps.length > 0) return "the Timestamp option";
  if (probe.localPort !== undefined && probe.protocol === "tcp") return "a fixed TCP source port";
  if (probe.localPort !== undefined && probe.family === 6) return "a fixed IPv6 source port";
  return null;
}

export interface RoutingPortOptions {
  /** Makes the mtr-packet port, on the first probe that goes there. */
  mtrPacket: () => PacketPort;
  /** Makes the lg-probe port, on the first probe that needs it; null when lg-probe is not installed. */
  lgProbe: (() => PacketPort) | null;
  /** Where lg-probe was looked for (named when it is missing). */
  lgProbeSearched?: string[];
  /**
   * Which helper sends the probes either could send as asked (free flows, IPv4 UDP with a source
   * port). Default `mtr-packet`; `lg-probe` (when installed) sends every probe, so one process with
   * one receive buffer reads all answers — measured to keep 0 false loss at 1,000-2,000 concurrent
   * traces where mtr-packet's pool of processes loses some (docs/tracer.md, bench:helpers).
   */
  freeFlows?: "mtr-packet" | "lg-probe";
}

/**
 * A PacketPort that sends each probe through the helper it needs: mtr-packet for everything it
 * can send as asked (mtr's own helper stays the default), lg-probe for flows mtr-packet cannot
 * hold (`lgProbeNeed`). Each helper's port is made on first use. A probe that needs lg-probe when
 * it is missing is never sent some other way: `unsupportedReason` says so before a trace starts,
 * and such a probe fails with `helper-failed`.
 */
export class RoutingPort implements PacketPort {
  private mtr: PacketPort | null = null;
  private lg: PacketPort | null = null;
  private listeners: ((token: number, outcome: ProbeOutcome) => void)[] = [];
  private sentListeners: ((token: number) => void)[] = [];
  private closed = false;

  constructor(private readonly opts: RoutingPortOptions) {}

  /** Which helpers' ports have been made (each on its first probe). */
  get started(): { mtrPacket: boolean; lgProbe: boolean } {
    return { mtrPacket: this.mtr !== null, lgProbe: this.lg !== null };
  }

  unsupportedReason(probe: ProbeSpec): string | null {
    const need = lgProbeNeed(probe);
    if (need === null || this.opts.lgProbe !== null) return null;
    return this.missing(need);
  }

  send(token: number, probe: ProbeSpec): void {
    if (this.closed) return;
    const need = lgProbeNeed(probe);
    if (need !== null && this.opts.lgProbe === null) {
      const outcome: ProbeOutcome = {
        kind: "failure",
        reason: "helper-failed",
        helper: "lg-probe",
        detail: this.missing(need),
      };
      queueMicrotask(() => this.emit(token, outcome));
      return;
    }
    const viaLgProbe = need !== null || (this.opts.freeFlows === "lg-probe" && this.opts.lgProbe !== null);
    const port = viaLgProbe ? this.lgPort() : this.mtrPort();
    port.send(token, probe);
    // A port that does not say when probes leave sends them at once.
    if (!port.onSent) for (const l of this.sentListeners) l(token);
  }

  onOutcome(listener: (token: number, outcome: ProbeOutcome) => void): void {
    this.listeners.push(listener);
  }

  onSent(listener: (token: number) => void): void {
    this.sentListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.mtr?.close(), this.lg?.close()]);
    this.listeners = [];
    this.sentListeners = [];
  }

  private missing(need: string): string {
    const where = this.opts.lgProbeSearched?.length
      ? ` (looked for ${this.opts.lgProbeSearched.join(", ")})`
      : "";
    return `${need} needs lg-probe, lg's own probe helper, which is not installed${where}: ${INSTALL_LG_PROBE}`;
  }

  private mtrPort(): PacketPort {
    this.mtr ??= this.attach(this.opts.mtrPacket());
    return this.mtr;
  }

  private lgPort(): PacketPort {
    this.lg ??= this.attach((this.opts.lgProbe as () => PacketPort)());
    return this.lg;
  }

  private attach(port: PacketPort): PacketPort {
    port.onOutcome((token, outcome) => this.emit(token, outcome));
    port.onSent?.((token) => {
      for (const l of this.sentListeners) l(token);
    });
    return port;
  }

  private emit(token: number, outcome: ProbeOutcome): void {
    for (const l of this.listeners) l(token, outcome);
  }
}
