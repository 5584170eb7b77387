import { readFile } from "node:fs/promises";
import ipaddr from "ipaddr.js";
import { PlaceTableError } from "./errors";
import type { Place } from "./place";

/** One line of an operator's place table: every address inside `cidr` is at (`lat`, `lon`). */
export interface PlaceEntry {
  cidr: string;
  lat: number;
  lon: number;
  city?: string;
  country?: string;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Reads a place table: one `CIDR,lat,lon,city,country` line per prefix (decimal degrees; city and
 * country may be empty or left out, the country is the last field and a two-letter code, a city may
 * hold commas), blank lines and `#` comments ignored. A bad
 * line throws {@link PlaceTableError} naming `source` and the line.
 *
 * @example
 * parsePlaceTable("# lab\n198.18.1.0/24,50.11,8.68,Frankfurt,DE", "places.csv")
 */
export function parsePlaceTable(text: string, source = "place table"): PlaceEntry[] {
  const entries: PlaceEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fail = (message: string): never => {
      throw new PlaceTableError(message, source, i + 1);
    };
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < 3) fail("expected CIDR,lat,lon,city,country (city and country may be left out)");
    const [cidr = "", latText = "", lonText = "", ...names] = fields;
    // The country is the last field; a city may hold commas ("Washington, D.C.").
    const country = names.length >= 2 ? (names.pop() ?? "") : "";
    const city = names.join(", ");
    if (!ipaddr.isValidCIDR(cidr)) fail(`"${cidr}" is not a CIDR prefix (like 198.18.0.0/24)`);
    const lat = Number(latText);
    const lon = Number(lonText);
    if (!NUMBER.test(latText) || lat < -90 || lat > 90) fail(`"${latText}" is not a latitude (-90..90)`);
    if (!NUMBER.test(lonText) || lon < -180 || lon > 180) fail(`"${lonText}" is not a longitude (-180..180)`);
    if (country && !/^[A-Za-z]{2}$/.test(country)) fail(`"${country}" is not a two-letter country code`);
    entries.push({
      cidr,
      lat,
      lon,
      ...(city ? { city } : {}),
      ...(country ? { country: country.toUpperCase() } : {}),
    });
  });
  return entries;
}

/**
 * An operator's place table. The longest matching prefix wins: per prefix length (longest first)
 * one map from network address to place, so a lookup costs one map probe per length in use.
 */
export class PlaceTable {
  private readonly byLength: { kind: "ipv4" | "ipv6"; bits: number; places: Map<string, Place> }[] = [];

  /** Throws when a prefix is not a valid CIDR. A later entry for the same prefix replaces an earlier one. */
  constructor(readonly entries: PlaceEntry[]) {
    const groups = new Map<string, { kind: "ipv4" | "ipv6"; bits: number; places: Map<string, Place> }>();
    for (const e of entries) {
      const [network, bits] = ipaddr.parseCIDR(e.cidr);
      const kind = network.kind();
      const key = `${kind}/${bits}`;
      let group = groups.get(key);
      if (!group) {
        group = { kind, bits, places: new Map() };
        groups.set(key, group);
      }
      const { cidr: _cidr, ...place } = e;
      group.places.set(networkKey(network, bits), { ...place, source: "table" });
    }
    this.byLength = [...groups.values()].sort((a, b) => b.bits - a.bits);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The place of the longest prefix holding `address`, or undefined. */
  lookup(address: string): Place | undefined {
    if (!ipaddr.isValid(address)) return undefined;
    const parsed = ipaddr.process(address);
    for (const group of this.byLength) {
      if (group.kind !== parsed.kind()) continue;
      const place = group.places.get(networkKey(parsed, group.bits));
      if (place) return place;
    }
    return undefined;
  }
}

/** The address with everything past `bits` cleared, as text (the key of its network). */
function networkKey(address: ipaddr.IPv4 | ipaddr.IPv6, bits: number): string {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return bytes.join(".");
}

/** Reads and parses a place table file (`LG_GEO_PREFIXES`). */
export async function loadPlaceTable(path: string): Promise<PlaceTable> {
  const text = await readFile(path, "utf8");
  return new PlaceTable(parsePlaceTable(text, path));
}
