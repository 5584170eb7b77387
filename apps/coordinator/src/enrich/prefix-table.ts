import { readFile } from "node:fs/promises";
import type { AsnInfo } from "@lg/analysis";
import ipaddr from "ipaddr.js";
import { PrefixTableError } from "./errors";

/** One operator-supplied prefix: every address inside it belongs to `asn`, run by `owner`. */
export interface PrefixEntry {
  cidr: string;
  asn: number;
  owner?: string;
}

interface ParsedEntry {
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  info: AsnInfo;
}

/**
 * An operator's own prefix table (private, lab and internal ranges the public data does not know).
 * Lookups take the longest matching prefix; the table is small, so a linear scan is enough.
 */
export class PrefixTable {
  private readonly parsed: ParsedEntry[];

  /** Throws when a prefix is not a valid CIDR. */
  constructor(readonly entries: PrefixEntry[]) {
    this.parsed = entries
      .map((e) => ({
        range: ipaddr.parseCIDR(e.cidr),
        info: { asn: e.asn, ...(e.owner ? { owner: e.owner } : {}) },
      }))
      .sort((a, b) => b.range[1] - a.range[1]);
  }

  get size(): number {
    return this.parsed.length;
  }

  lookup(address: string): AsnInfo | undefined {
    if (!ipaddr.isValid(address)) return undefined;
    const parsed = ipaddr.process(address);
    for (const entry of this.parsed) {
      const [network, bits] = entry.range;
      if (network.kind() === parsed.kind() && parsed.match(network, bits)) return entry.info;
    }
    return undefined;
  }
}

/**
 * Reads a prefix table: one `CIDR,ASN,owner` line per prefix (the owner may contain commas; `AS` before
 * the number is allowed), blank lines and `#` comments ignored.
 *
 * @example
 * parsePrefixTable("# lab\n198.18.0.0/24,64500,Lab Access\n2001:2::/48,AS64501,Lab Transit", "lab.csv")
 */
export function parsePrefixTable(text: string, source = "prefix table"): PrefixEntry[] {
  const entries: PrefixEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [cidrField = "", asnField = "", ...ownerParts] = line.split(",");
    const cidr = cidrField.trim();
    const asnText = asnField.trim();
    if (!ipaddr.isValidCIDR(cidr)) {
      throw new PrefixTableError(`"${cidr}" is not a CIDR prefix (like 198.18.0.0/24)`, source, i + 1);
    }
    const asn = Number(asnText.replace(/^AS/i, ""));
    if (!/^(AS)?\d+$/i.test(asnText) || !Number.isSafeInteger(asn) || asn > 4_294_967_295) {
      throw new PrefixTableError(`"${asnText}" is not an AS number`, source, i + 1);
    }
    const owner = ownerParts.join(",").trim();
    entries.push({ cidr, asn, ...(owner ? { owner } : {}) });
  });
  return entries;
}

/** Reads and parses a prefix table file. */
export async function loadPrefixTable(path: string): Promise<PrefixTable> {
  const text = await readFile(path, "utf8");
  return new PrefixTable(parsePrefixTable(text, path));
}
