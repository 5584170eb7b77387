import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

/**
 * Target policy shared by the coordinator and the agents. Each side resolves the target itself
 * and checks the *resolved* address, so a name that later resolves elsewhere (DNS rebinding)
 * is caught where the packets are sent.
 */

export type TargetErrorCode = "invalid_target" | "target_refused" | "resolve_failed";

export class TargetError extends Error {
  override name = "TargetError";
  readonly field = "target";
  constructor(
    readonly code: TargetErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export type ParsedTarget =
  | { kind: "ip"; address: string; family: 4 | 6 }
  | { kind: "hostname"; name: string };

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/;

/**
 * Accepts a hostname or an IP literal and nothing else: no spaces, options, URLs, ports or
 * IPv6 zone ids. Throws TargetError("invalid_target") with the reason.
 */
export function parseTarget(input: string): ParsedTarget {
  const raw = input.trim();
  if (raw.length === 0) throw new TargetError("invalid_target", "the target is empty");
  if (raw.length > 253) throw new TargetError("invalid_target", "the target is longer than 253 characters");
  if (/\s/.test(raw)) throw new TargetError("invalid_target", "the target contains whitespace");
  if (raw.startsWith("-")) throw new TargetError("invalid_target", "the target must not start with '-'");
  if (raw.includes("%")) throw new TargetError("invalid_target", "IPv6 zone ids are not accepted");
  if (raw.includes("/"))
    throw new TargetError("invalid_target", "give a hostname or an IP address, not a URL or a prefix");
  if (raw.includes(":")) {
    if (ipaddr.IPv6.isValid(raw))
      return { kind: "ip", address: ipaddr.IPv6.parse(raw).toString(), family: 6 };
    throw new TargetError("invalid_target", "give a hostname or an IP address, not a URL or host:port");
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(raw)) {
    return { kind: "ip", address: ipaddr.IPv4.parse(raw).toString(), family: 4 };
  }
  if (/^[0-9.]+$/.test(raw)) throw new TargetError("invalid_target", `'${raw}' is not a valid IPv4 address`);
  const name = raw.endsWith(".") ? raw.slice(0, -1) : raw;
  // The system resolver reads "0x7f.1" or "1.0x2" as IPv4 in old inet_aton forms; no real
  // top-level domain is numeric, so such names are refused rather than left to the resolver.
  if (/^(?:0x[0-9a-f]*|[0-9]+)$/i.test(name.split(".").pop() ?? "")) {
    throw new TargetError(
      "invalid_target",
      `'${raw}' looks like an IPv4 address in a form that is not accepted`,
    );
  }
  for (const label of name.split(".")) {
    if (!LABEL.test(label)) throw new TargetError("invalid_target", `'${raw}' is not a valid hostname`);
  }
  return { kind: "hostname", name: name.toLowerCase() };
}

/** An allow-list of CIDRs (IPv4 and IPv6) that lifts the refusal of special ranges. */
export type AllowList = ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

/**
 * Parses `LG_ALLOW_TARGETS`: comma-separated CIDRs (a bare address means a single host).
 * Throws on the first entry that is not a CIDR, naming it.
 */
export function parseAllowList(input: string | readonly string[] | undefined): AllowList {
  const items = typeof input === "string" ? input.split(",") : (input ?? []);
  const list: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const item of items) {
    const entry = item.trim();
    if (!entry) continue;
    try {
      list.push(entry.includes("/") ? ipaddr.parseCIDR(entry) : hostCidr(ipaddr.parse(entry)));
    } catch (err) {
      throw new Error(`'${entry}' in the target allow-list is not a CIDR`, { cause: err });
    }
  }
  return list;
}

function hostCidr(addr: ipaddr.IPv4 | ipaddr.IPv6): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  return [addr, addr.kind() === "ipv4" ? 32 : 128];
}

/** Normalises an address: IPv4-mapped IPv6 becomes the IPv4 address it carries. */
function normalise(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const addr = ipaddr.parse(address);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/** The special range an address belongs to, or "unicast" for ordinary public addresses. */
export function addressRange(address: string): string {
  return normalise(address).range();
}

export function isAllowListed(address: string, allow: AllowList): boolean {
  const addr = normalise(address);
  return allow.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

const RANGE_WORDS: Record<string, string> = {
  private: "a private (RFC 1918) address",
  loopback: "a loopback address",
  linkLocal: "a link-local address",
  carrierGradeNat: "a carrier-grade NAT (RFC 6598) address",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  unspecified: "the unspecified address",
  reserved: "a reserved or documentation address",
  uniqueLocal: "a unique-local (private) IPv6 address",
  benchmarking: "a benchmarking-range address",
};

/**
 * Refuses private, loopback, link-local, CGNAT, multicast, reserved, documentation and
 * benchmarking addresses (every range but ordinary unicast) unless the allow-list names them.
 */
export function checkAddress(address: string, allow: AllowList): void {
  const reason = refusal(address, allow);
  if (reason) throw new TargetError("target_refused", `${address} is ${reason}`);
}

/** Ranges that ipaddr.js files under a broader name, named precisely in refusals. */
const NAMED_RANGES: [string, string][] = [
  ["198.18.0.0/15", "a benchmarking (RFC 2544) address"],
  ["192.0.2.0/24", "a documentation (RFC 5737) address"],
  ["198.51.100.0/24", "a documentation (RFC 5737) address"],
  ["203.0.113.0/24", "a documentation (RFC 5737) address"],
  ["2001:db8::/32", "a documentation (RFC 3849) address"],
  ["3fff::/20", "a documentation (RFC 9637) address"],
  ["240.0.0.0/4", "a reserved (class E) address"],
  ["0.0.0.0/8", "in 'this network' (0.0.0.0/8)"],
  ["2002::/16", "a 6to4 address (it embeds an IPv4 address)"],
  ["2001::/32", "a Teredo address (it embeds an IPv4 address)"],
  ["64:ff9b::/96", "a NAT64 address (it embeds an IPv4 address)"],
];
const NAMED = NAMED_RANGES.map(([cidr, words]) => [ipaddr.parseCIDR(cidr), words] as const);

function rangeWords(address: string, range: string): string {
  const addr = normalise(address);
  const named = NAMED.find(([[net, bits]]) => net.kind() === addr.kind() && addr.match(net, bits));
  return named?.[1] ?? RANGE_WORDS[range] ?? `in the special range '${range}'`;
}

/** Why an address is refused, or null when it may be traced. */
function refusal(address: string, allow: AllowList): string | null {
  const range = addressRange(address);
  if (range === "unicast" || isAllowListed(address, allow)) return null;
  const what = rangeWords(address, range);
  return `${what}; it can be traced only if the operator allow-lists it`;
}

export interface ResolvedTarget {
  /** What the user asked for, normalised. */
  target: string;
  /** The checked address to probe. */
  address: string;
  family: 4 | 6;
}

export type Resolver = (
  name: string,
  family: 4 | 6 | undefined,
) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (name, family) => lookup(name, { all: true, family: family ?? 0 });

/**
 * Parses, resolves (once) and checks a target. The returned address is the one to probe.
 *
 * @example
 * const { address } = await checkTarget("example.net", { allow: parseAllowList("198.18.0.0/15") });
 */
export async function checkTarget(
  input: string,
  opts: { allow: AllowList; ipVersion?: 4 | 6; resolver?: Resolver },
): Promise<ResolvedTarget> {
  const parsed = parseTarget(input);
  if (parsed.kind === "ip") {
    if (opts.ipVersion && opts.ipVersion !== parsed.family) {
      throw new TargetError("invalid_target", `${parsed.address} is not an IPv${opts.ipVersion} address`);
    }
    checkAddress(parsed.address, opts.allow);
    return { target: parsed.address, address: parsed.address, family: parsed.family };
  }
  let answers: { address: string; family: number }[];
  try {
    answers = await (opts.resolver ?? systemResolver)(parsed.name, opts.ipVersion);
  } catch (err) {
    throw new TargetError("resolve_failed", `${parsed.name} could not be resolved`, { cause: err });
  }
  const first = answers.find((a) => !opts.ipVersion || a.family === opts.ipVersion);
  if (!first) {
    const fam = opts.ipVersion ? `IPv${opts.ipVersion} ` : "";
    throw new TargetError("resolve_failed", `${parsed.name} has no ${fam}address`);
  }
  const reason = refusal(first.address, opts.allow);
  if (reason)
    throw new TargetError("target_refused", `${parsed.name} resolves to ${first.address}, ${reason}`);
  return {
    target: parsed.name,
    address: normalise(first.address).toString(),
    family: first.family === 6 ? 6 : 4,
  };
}
