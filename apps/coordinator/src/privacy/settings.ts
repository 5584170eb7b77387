import { type AllowList, parseAllowList } from "@lg/protocol";

/** Hops the operator hides from the public (`LG_PRIVATE_HOPS`). */
export interface PrivateHops {
  /** The first N hops of a trace from one of our agents, and the last N before one of them (0: none). */
  leading: number;
  /** Any hop answering from these networks. */
  ranges: AllowList;
  /** The variable as given. */
  text: string;
}

/** The most leading hops one may hide: past it a whole path would vanish. */
const MAX_LEADING = 16;

export const NO_PRIVATE_HOPS: PrivateHops = { leading: 0, ranges: [], text: "" };

/**
 * Reads `LG_PRIVATE_HOPS`: comma-separated entries, each a number of leading hops (`2`: the first
 * two hops from a PoP, and the last two before one) or a CIDR (`198.51.100.0/24`, `2001:db8::/32`:
 * any hop answering from it); both may be given (`2,198.51.100.0/24`). Throws an Error whose one-line
 * message names the variable and the entry.
 *
 * @example
 *   parsePrivateHops("2, 192.0.2.0/24") // { leading: 2, ranges: [[192.0.2.0, 24]], ... }
 */
export function parsePrivateHops(text: string | undefined): PrivateHops {
  const value = (text ?? "").trim();
  if (!value) return NO_PRIVATE_HOPS;
  let leading = 0;
  const cidrs: string[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    if (/^\d+$/.test(entry)) {
      const n = Number(entry);
      if (leading > 0)
        throw new Error(`LG_PRIVATE_HOPS: give one number of leading hops, not '${leading}' and '${n}'`);
      if (n < 1 || n > MAX_LEADING)
        throw new Error(`LG_PRIVATE_HOPS: '${entry}' leading hops: give 1 to ${MAX_LEADING}`);
      leading = n;
      continue;
    }
    cidrs.push(entry);
  }
  let ranges: AllowList;
  try {
    ranges = parseAllowList(cidrs);
  } catch (err) {
    throw new Error(
      `LG_PRIVATE_HOPS: ${(err as Error).message.replace("in the target allow-list is not a CIDR", "is neither a number of leading hops nor a CIDR")}`,
    );
  }
  return { leading, ranges, text: value };
}
