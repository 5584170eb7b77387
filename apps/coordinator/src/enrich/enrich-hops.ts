import type { AsnOf } from "@lg/analysis";
import type { Hop } from "@lg/protocol";

/**
 * Returns the hops with `asn` and `owner` filled from `lookup` for every hop whose address it knows.
 * Hops it does not know (silent, private without an operator prefix) are returned unchanged; the input
 * is not modified.
 *
 * @example
 * const lookup = await sharedAsnLookup({ prefixFile: config.asnPrefixes });
 * trace.hops = enrichHops(trace.hops, lookup);
 */
export function enrichHops(hops: Hop[], lookup: AsnOf): Hop[] {
  return hops.map((hop) => {
    if (hop.host === null) return hop;
    const info = lookup(hop.host);
    if (!info) return hop;
    const { owner: _previous, ...rest } = hop;
    return { ...rest, asn: info.asn, ...(info.owner ? { owner: info.owner } : {}) };
  });
}
