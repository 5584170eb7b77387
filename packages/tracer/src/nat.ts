import type { NatField, NatReading } from "@lg/protocol";
import type { ProbeProtocolName, ProbeSpec, QuotedProbe } from "./packet/types";

/**
 * Rewritten quotes a NAT reading needs in all, beyond the hop where they start: a single odd quote
 * (one router that quotes oddly, once) is not a NAT.
 */
export const NAT_MIN_REWRITTEN_QUOTES = 2;

/** What one router's quote of a probe says: which fields differ from what was sent, and the source it quotes. */
export interface QuoteReading {
  /** Empty: the probe was quoted as sent. */
  rewrote: NatField[];
  /** The quoted source address, when it is not this host's. */
  source?: string;
}

/**
 * Compares a quote (lg-probe's `quoted-source`, `quoted-ports`, `quoted-checksum` against
 * `sent-checksum`) with the probe that was sent. The source is as sent when it is the probe's `-a`
 * address, or else one of this host's addresses; ports are compared only where the probe fixed them
 * (a port the helper chose is not known here). Null when the quote holds nothing to compare.
 *
 * @example
 * readQuote(probe, { source: "198.18.161.1", checksum: 0x1d44, sentChecksum: 0x2844 }, isOwn)
 * // { rewrote: ["source", "checksum"], source: "198.18.161.1" }
 */
export function readQuote(
  probe: ProbeSpec,
  quoted: QuotedProbe,
  isOwnAddress: (address: string) => boolean,
): QuoteReading | null {
  const rewrote: NatField[] = [];
  let compared = false;
  let source: string | undefined;
  if (quoted.source !== undefined) {
    compared = true;
    const own =
      probe.sourceAddress !== undefined
        ? quoted.source.toLowerCase() === probe.sourceAddress.toLowerCase()
        : isOwnAddress(quoted.source);
    if (!own) {
      rewrote.push("source");
      source = quoted.source;
    }
  }
  if (quoted.ports !== undefined && (probe.localPort !== undefined || probe.port !== undefined)) {
    compared = true;
    const [sourcePort, destinationPort] = quoted.ports;
    if (
      (probe.localPort !== undefined && sourcePort !== probe.localPort) ||
      (probe.port !== undefined && destinationPort !== probe.port)
    )
      rewrote.push("port");
  }
  if (quoted.checksum !== undefined && quoted.sentChecksum !== undefined) {
    compared = true;
    if (quoted.checksum !== quoted.sentChecksum) rewrote.push("checksum");
  }
  if (!compared) return null;
  return source === undefined ? { rewrote } : { rewrote, source };
}

/** The quotes read at one hop. */
export interface HopQuotes {
  ttl: number;
  /** Quotes of the probe as sent. */
  asSent: number;
  /** Quotes that differ from what was sent. */
  rewritten: QuoteReading[];
}

/** Collects the quote readings of one trace, per hop. */
export class NatTally {
  readonly #hops = new Map<number, HopQuotes>();

  add(ttl: number, reading: QuoteReading): void {
    let hop = this.#hops.get(ttl);
    if (!hop) {
      hop = { ttl, asSent: 0, rewritten: [] };
      this.#hops.set(ttl, hop);
    }
    if (reading.rewrote.length === 0) hop.asSent++;
    else hop.rewritten.push(reading);
  }

  /** The hops read so far, in TTL order. */
  hops(): HopQuotes[] {
    return [...this.#hops.values()].sort((a, b) => a.ttl - b.ttl);
  }
}

const FIELD_ORDER: NatField[] = ["source", "port", "checksum"];

/**
 * Dublin traceroute's NAT reading: a NAT rewrites the probe on its way out, and the routers beyond it
 * quote the rewritten probe in their ICMP errors (most NATs do not restore every quoted field on the
 * way back). The NAT sits between hop k and hop k + 1 when every hop up to k that quoted the probe
 * quoted it as sent and every hop after it quoted it rewritten — each hop read by the majority of
 * its quotes — with at least {@link NAT_MIN_REWRITTEN_QUOTES} rewritten quotes beyond it. A hop
 * whose quotes split evenly, or a hop quoting as sent beyond rewritten ones, is no NAT reading.
 *
 * `rewrote` lists the fields most rewritten quotes changed. A TCP probe whose quotes changed only in
 * the checksum is no NAT reading: a router clamping the SYN's MSS option (common on PPPoE and
 * tunnel links) changes the checksum and nothing else. Null when the quotes show no NAT (or there
 * are none: mtr-packet reports no quotes).
 *
 * @example
 * natReading([{ ttl: 1, asSent: 3, rewritten: [] }, { ttl: 2, asSent: 0, rewritten: [r, r, r] }], "udp")
 * // { afterTtl: 1, beforeTtl: 2, rewrote: r.rewrote, ... }
 */
export function natReading(hops: HopQuotes[], protocol: ProbeProtocolName): NatReading | null {
  const read = hops
    .filter((h) => h.asSent + h.rewritten.length > 0)
    .sort((a, b) => a.ttl - b.ttl)
    .map((h) => ({
      hop: h,
      kind: h.rewritten.length > h.asSent ? "rewritten" : h.asSent > h.rewritten.length ? "as-sent" : "split",
    }));
  const first = read.findIndex((h) => h.kind !== "as-sent");
  if (first < 0) return null;
  const beyond = read.slice(first);
  if (beyond.some((h) => h.kind !== "rewritten")) return null;
  const rewritten = beyond.flatMap((h) => h.hop.rewritten);
  if (rewritten.length < NAT_MIN_REWRITTEN_QUOTES) return null;
  const rewrote = FIELD_ORDER.filter(
    (field) => rewritten.filter((q) => q.rewrote.includes(field)).length * 2 > rewritten.length,
  );
  if (rewrote.length === 0) return null;
  if (protocol === "tcp" && rewrote.length === 1 && rewrote[0] === "checksum") return null;
  const before = read.slice(0, first);
  const nat: NatReading = {
    afterTtl: before.at(-1)?.hop.ttl ?? 0,
    beforeTtl: (beyond[0] as (typeof read)[number]).hop.ttl,
    rewrote,
    quotes: { asSent: before.reduce((n, h) => n + h.hop.asSent, 0), rewritten: rewritten.length },
  };
  const publicSource = mostCommon(rewritten.map((q) => q.source).filter((s): s is string => !!s));
  if (rewrote.includes("source") && publicSource !== undefined) nat.publicSource = publicSource;
  return nat;
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  for (const [v, n] of counts) if (best === undefined || n > (counts.get(best) as number)) best = v;
  return best;
}
