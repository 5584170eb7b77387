import ipaddr from "ipaddr.js";
import { createTargetResolver, type TargetResolver } from "./dns";

/**
 * Target policy shared by the coordinator and the agents. The coordinator resolves a name once
 * (`checkTarget`) and checks that address: the special ranges here, the opt-out list and the
 * probe budget on its side. The job carries the address; the agent probes exactly it, after
 * checking it against its own policy and its own resolution of the name (`confirmTarget`), so a
 * name that answers differently the second time (DNS rebinding) is refused, never traced.
 * Addresses are normalised first: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is IPv4.
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
    if (ipaddr.IPv6.isValid(raw)) {
      // `::ffff:a.b.c.d` is the IPv4 address on the wire: one policy, one opt-out, one budget.
      const addr = normalise(raw);
      return { kind: "ip", address: addr.toString(), family: addr.kind() === "ipv4" ? 4 : 6 };
    }
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

/**
 * Parses an address. ipaddr.js reads an IPv6 literal ending in a dotted quad after `::` as
 * IPv4-mapped (`::8.8.8.8` as `::ffff:8.8.8.8`), but RFC 4291 and every IP stack read it as
 * `::808:808`; the dotted quad is turned into two groups first so the literal means what the
 * kernel will send to.
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const quad = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(address);
  if (quad?.[1] && quad[2] && ipaddr.IPv4.isValidFourPartDecimal(quad[2])) {
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(quad[2]).octets;
    const groups = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    return ipaddr.IPv6.parse(`${quad[1]}${groups}`);
  }
  return ipaddr.parse(address);
}

/** Normalises an address: IPv4-mapped IPv6 becomes the IPv4 address it carries. */
function normalise(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const addr = parseAddress(address);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/**
 * ::/8 is reserved by the IETF (RFC 4291); ipaddr.js names only ::, ::1 and the mapped forms in
 * it and calls the rest unicast, though it holds the deprecated IPv4-compatible form `::a.b.c.d`
 * (`::7f00:1` is 127.0.0.1 to some stacks). No public host lives there.
 */
const RESERVED_V6 = ipaddr.parseCIDR("::/8") as [ipaddr.IPv6, number];

/** The special range an address belongs to, or "unicast" for ordinary public addresses. */
export function addressRange(address: string): string {
  const addr = normalise(address);
  const range = addr.range();
  if (range === "unicast" && addr.kind() === "ipv6" && addr.match(RESERVED_V6)) return "reserved";
  return range;
}

/** The canonical text of an address: IPv4-mapped IPv6 as IPv4, IPv6 compressed. Throws if not an address. */
export function normaliseAddress(address: string): string {
  return normalise(address).toString();
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
  ["::/8", "in the reserved range ::/8 (it holds the IPv4-compatible form ::a.b.c.d)"],
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
  /** The checked address to probe (normalised). */
  address: string;
  family: 4 | 6;
}

/** Resolves a name to its addresses (of `family` when given); throws when it cannot. */
export type Resolver = (
  name: string,
  family: 4 | 6 | undefined,
) => Promise<{ address: string; family: number }[]>;

let fallback: TargetResolver | undefined;
/** Used when the caller passes no resolver: the system's DNS servers, 2 s, 4 lookups per name. */
const defaultResolver: Resolver = (name, family) => {
  fallback ??= createTargetResolver();
  return fallback.lookup(name, family);
};

/** Resolves with the given resolver; failures become TargetError("resolve_failed"). */
async function resolveName(name: string, family: 4 | 6 | undefined, resolver: Resolver | undefined) {
  let answers: { address: string; family: number }[];
  try {
    answers = await (resolver ?? defaultResolver)(name, family);
  } catch (err) {
    if (err instanceof TargetError) throw err;
    throw new TargetError("resolve_failed", `${name} could not be resolved`, { cause: err });
  }
  // Normalised, so an IPv4-mapped AAAA answer counts as the IPv4 address it is.
  return answers.flatMap((a) => {
    try {
      const addr = normalise(a.address);
      return [{ address: addr.toString(), family: addr.kind() === "ipv4" ? (4 as const) : (6 as const) }];
    } catch {
      return [];
    }
  });
}

/**
 * Parses, resolves (once) and checks a target: the coordinator's side. The returned address is
 * the one the job carries and the agents probe; with both families and no `ipVersion`, the
 * resolver's first answer (IPv4 first for the c-ares resolver).
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
  const answers = await resolveName(parsed.name, opts.ipVersion, opts.resolver);
  const first = answers.find((a) => !opts.ipVersion || a.family === opts.ipVersion);
  if (!first) {
    const fam = opts.ipVersion ? `IPv${opts.ipVersion} ` : "";
    throw new TargetError("resolve_failed", `${parsed.name} has no ${fam}address`);
  }
  const reason = refusal(first.address, opts.allow);
  if (reason)
    throw new TargetError("target_refused", `${parsed.name} resolves to ${first.address}, ${reason}`);
  return { target: parsed.name, address: first.address, family: first.family };
}

/**
 * The agent's side of a job: `address` is what the coordinator resolved and checked. It must be
 * an address of the asked family, pass this side's policy, and, for a name, be among this side's
 * own answers for it (an IP literal must be the address itself). Returns the address to probe,
 * which is always `address`. `here` names this side in the refusal ("fra resolved ...").
 *
 * Throws TargetError: `invalid_target` for a malformed job, `target_refused` for the policy or
 * a resolution that disagrees, `resolve_failed` when the name does not resolve here.
 */
export async function confirmTarget(
  target: string,
  address: string,
  opts: { allow: AllowList; ipVersion?: 4 | 6; resolver?: Resolver; here?: string },
): Promise<ResolvedTarget> {
  const parsed = parseTarget(target);
  let checked: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    checked = normalise(address);
  } catch (err) {
    throw new TargetError("invalid_target", `the job's address '${address}' is not an IP address`, {
      cause: err,
    });
  }
  const probe = checked.toString();
  const family = checked.kind() === "ipv4" ? 4 : 6;
  if (opts.ipVersion && opts.ipVersion !== family) {
    throw new TargetError(
      "invalid_target",
      `the job's address ${probe} is not an IPv${opts.ipVersion} address`,
    );
  }
  if (parsed.kind === "ip") {
    if (parsed.address !== probe) {
      throw new TargetError(
        "invalid_target",
        `the job's address ${probe} is not its target ${parsed.address}`,
      );
    }
    checkAddress(probe, opts.allow);
    return { target: parsed.address, address: probe, family };
  }
  const reason = refusal(probe, opts.allow);
  if (reason) throw new TargetError("target_refused", `${parsed.name} was checked as ${probe}, ${reason}`);
  const answers = await resolveName(parsed.name, family, opts.resolver);
  if (!answers.some((a) => a.address === probe)) {
    const here = answers.map((a) => a.address).join(", ") || `no IPv${family} address`;
    throw new TargetError(
      "target_refused",
      `${opts.here ?? "this agent"} resolved ${parsed.name} to ${here}, the coordinator checked ${probe}`,
    );
  }
  return { target: parsed.name, address: probe, family };
}
