import type { Hop, Region } from "@lg/protocol";
import ipaddr from "ipaddr.js";

/** Origin AS of an address, as a lookup table knows it. */
export interface AsnInfo {
  asn: number;
  owner?: string;
}

/** Finds the origin AS of an address; used for hops that carry no `asn` yet. */
export type AsnOf = (address: string) => AsnInfo | undefined;

/** A hop with the facts every rule needs, computed once. */
export interface HopView {
  hop: Hop;
  ttl: number;
  address: string | null;
  /** At least one probe was answered. */
  answered: boolean;
  /** Probes sent that got no reply. */
  lost: number;
  /** The address is in a private, CGN, link-local, unique-local or loopback range. */
  private: boolean;
  asn?: number;
  owner?: string;
  region: Region;
}

const PRIVATE_RANGES = new Set(["private", "carrierGradeNat", "linkLocal", "uniqueLocal", "loopback"]);

/** True for addresses that only mean something inside one site (RFC 1918, CGN, ULA, link-local). */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return PRIVATE_RANGES.has(parsed.range());
}

export function lostProbes(hop: Hop): number {
  return Math.max(0, hop.sent - hop.recv);
}

/** "hop 6 (198.18.0.6)", or "hop 6 (no reply)" for a silent hop. */
export function hopLabel(view: Pick<HopView, "ttl" | "address">): string {
  return `hop ${view.ttl} (${view.address ?? "no reply"})`;
}

/** "AS64501 (Beta Transit)", "AS64501", or undefined. */
export function asLabel(view: Pick<HopView, "asn" | "owner">): string | undefined {
  if (view.asn === undefined) return view.owner;
  return view.owner ? `AS${view.asn} (${view.owner})` : `AS${view.asn}`;
}

/** 30.3 -> "30.3%", 20 -> "20%". */
export function pct(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}

/** 12.345 -> "12.3 ms". */
export function ms(value: number): string {
  return `${Number(value.toFixed(1))} ms`;
}

/** "hops 6–9", "hop 6". */
export function ttlRange(first: number, last: number): string {
  return first === last ? `hop ${first}` : `hops ${first}–${last}`;
}
