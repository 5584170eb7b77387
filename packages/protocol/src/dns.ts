import { Resolver as DnsResolver } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import ipaddr from "ipaddr.js";
import { type Resolver, TargetError } from "./targets";

/**
 * Target name resolution for the coordinator and the agents: c-ares (`dns.promises.Resolver`)
 * rather than `dns.lookup`, whose getaddrinfo calls occupy libuv's four pool threads until the
 * system resolver gives up, so a handful of names that never answer stalled every other lookup
 * (and file access) of the process. A c-ares query holds a UDP socket, not a thread.
 *
 * c-ares reads /etc/resolv.conf but not /etc/hosts, nor nsswitch: names are answered, in order,
 * by the loopback rule for `localhost` (RFC 6761), by the hosts file, then by DNS. A name found
 * in the hosts file is answered from it alone. DNS queries are sent as given: no search domains.
 */

/**
 * Longest a target lookup may take, waiting included. Short enough that a request with a name
 * that never answers fails while its client still waits, and that an agent refuses such a job
 * before the coordinator's 3 s job timeout; long enough for a slow authoritative server.
 */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 2_000;

/**
 * Lookups one client may have under way at once; more wait their turn (within their own
 * deadline). Enough for a path test's two legs and a few parallel requests, and it bounds the
 * DNS queries one client can make the coordinator send.
 */
export const DEFAULT_LOOKUPS_PER_CLIENT = 4;

/** The hosts file is read again at most this often, so an edit is seen without a restart. */
const HOSTS_CACHE_MS = 5_000;

/**
 * Queries per server: one retransmission, so a single lost UDP packet does not fail the name.
 * c-ares doubles the wait on the second round, so each server's first try gets a third of its share.
 */
const TRIES = 2;
const TRY_SHARE = 3;

/** Shortest wait for one server's first answer, however many servers share the deadline. */
const MIN_TRY_MS = 250;

type Answer = { address: string; family: number };

export interface TargetResolverOptions {
  /** DNS servers (`ip`, `ip:port`, `[ipv6]:port`); default: those of /etc/resolv.conf. */
  servers?: readonly string[];
  /** Whole budget of one lookup, waiting for a slot included; default 2 s. */
  timeoutMs?: number;
  /** Lookups one client may have under way; default 4. */
  perClient?: number;
  /** The hosts file; `null` for none. Default `/etc/hosts`. */
  hostsFile?: string | null;
}

export interface TargetResolver {
  /**
   * The addresses of `name` (IPv4 first when no family is asked). `client` groups lookups for
   * the concurrency bound; without one, each name is its own group. Throws TargetError
   * ("resolve_failed") on failure or when the deadline passes.
   */
  lookup(name: string, family: 4 | 6 | undefined, client?: string): Promise<Answer[]>;
  /** A `Resolver` for checkTarget whose lookups are grouped by `clientOf()`, read at each call. */
  forClient(clientOf: () => string | undefined): Resolver;
}

/**
 * Parses a comma-separated DNS server list (`LG_DNS_SERVERS`). Throws naming the first entry
 * that is not `ip`, `ip:port` or `[ipv6]:port`.
 */
export function parseDnsServers(input: string | undefined): string[] {
  const servers: string[] = [];
  for (const item of (input ?? "").split(",")) {
    const entry = item.trim();
    if (!entry) continue;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    const host = m ? m[1] : entry;
    const port = m?.[2] === undefined ? 53 : Number(m[2]);
    if (!host || !ipaddr.isValid(host) || host.includes("%") || port < 1 || port > 65_535) {
      throw new Error(`'${entry}' is not a DNS server address (ip, ip:port or [ipv6]:port)`);
    }
    servers.push(entry);
  }
  return servers;
}

/** Address lists of the names in a hosts file, in file order. */
export function parseHostsFile(text: string): Map<string, Answer[]> {
  const table = new Map<string, Answer[]>();
  for (const line of text.split("\n")) {
    const [address, ...names] = (line.split("#")[0] ?? "").trim().split(/\s+/);
    if (!address || names.length === 0 || address.includes("%") || !ipaddr.isValid(address)) continue;
    const family = ipaddr.parse(address).kind() === "ipv4" ? 4 : 6;
    for (const raw of names) {
      const name = raw.toLowerCase().replace(/\.$/, "");
      const list = table.get(name) ?? [];
      if (!list.some((a) => a.address === address)) list.push({ address, family });
      table.set(name, list);
    }
  }
  return table;
}

const LOOPBACK: Answer[] = [
  { address: "127.0.0.1", family: 4 },
  { address: "::1", family: 6 },
];

/** What a failed c-ares query means, for the requester. */
function failureWords(name: string, err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case "ENOTFOUND":
      return `${name} does not exist (NXDOMAIN)`;
    case "ESERVFAIL":
      return `${name} could not be resolved: the DNS server failed (SERVFAIL)`;
    case "EREFUSED":
      return `${name} could not be resolved: the DNS server refused the query`;
    case "ECONNREFUSED":
      return `${name} could not be resolved: no DNS server answers`;
    default:
      return `${name} could not be resolved${code ? ` (${code})` : ""}`;
  }
}

const NO_DATA = new Set(["ENODATA"]);

interface Group {
  running: number;
  waiting: (() => void)[];
}

/**
 * Makes a resolver with a deadline per lookup and a bound per client.
 *
 * @example
 * const targets = createTargetResolver({ servers: parseDnsServers(env.LG_DNS_SERVERS) });
 * await checkTarget("example.net", { allow, resolver: targets.forClient(() => clientKey) });
 */
export function createTargetResolver(opts: TargetResolverOptions = {}): TargetResolver {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  const perClient = opts.perClient ?? DEFAULT_LOOKUPS_PER_CLIENT;
  const hostsFile = opts.hostsFile === undefined ? "/etc/hosts" : opts.hostsFile;
  let dns: DnsResolver | undefined;
  // Created on first use: c-ares reads /etc/resolv.conf when the channel is made.
  const channel = (): DnsResolver => {
    if (dns) return dns;
    const servers = opts.servers?.length ? opts.servers : new DnsResolver().getServers();
    // c-ares asks each server in turn; share the time so the last one still gets its tries.
    const tryMs = Math.max(MIN_TRY_MS, Math.floor(timeoutMs / (TRY_SHARE * Math.max(1, servers.length))));
    dns = new DnsResolver({ timeout: tryMs, tries: TRIES });
    if (opts.servers?.length) dns.setServers([...opts.servers]);
    return dns;
  };

  let hosts: { at: number; table: Promise<Map<string, Answer[]>> } | undefined;
  const hostsTable = (): Promise<Map<string, Answer[]>> => {
    if (!hostsFile) return Promise.resolve(new Map());
    if (!hosts || Date.now() - hosts.at > HOSTS_CACHE_MS) {
      const table = readFile(hostsFile, "utf8").then(parseHostsFile, () => new Map<string, Answer[]>());
      hosts = { at: Date.now(), table };
    }
    return hosts.table;
  };

  const groups = new Map<string, Group>();
  const release = (key: string) => {
    const group = groups.get(key);
    if (!group) return;
    const next = group.waiting.shift();
    if (next) next();
    else if (--group.running === 0) groups.delete(key);
  };
  /** Waits for a slot of the group; false when the deadline passed first. */
  const acquire = (key: string, deadline: number): Promise<boolean> => {
    const group = groups.get(key) ?? { running: 0, waiting: [] };
    groups.set(key, group);
    if (group.running < perClient) {
      group.running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const go = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        group.waiting.splice(group.waiting.indexOf(go), 1);
        resolve(false);
      }, deadline - Date.now());
      group.waiting.push(go);
    });
  };

  async function queryDns(name: string, family: 4 | 6 | undefined): Promise<Answer[]> {
    const ask = (f: 4 | 6) =>
      (f === 4 ? channel().resolve4(name) : channel().resolve6(name)).then((list) =>
        list.map((address) => ({ address, family: f })),
      );
    const settled = await Promise.allSettled(family ? [ask(family)] : [ask(4), ask(6)]);
    const answers = settled.flatMap((s) => (s.status === "fulfilled" ? s.value : []));
    const errors = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
    if (answers.length > 0) return answers;
    const real = errors.find((e) => !NO_DATA.has((e as { code?: string } | null)?.code ?? ""));
    if (!real) return [];
    if ((real as { code?: string }).code === "ETIMEOUT") throw new TimedOut();
    throw new TargetError("resolve_failed", failureWords(name, real), { cause: real });
  }

  const timedOut = (name: string, queued: boolean) =>
    new TargetError(
      "resolve_failed",
      `${name} did not resolve within ${timeoutMs / 1000} s${
        queued ? ` (${perClient} lookups of the same client were still under way)` : ""
      }`,
    );

  async function lookup(rawName: string, family: 4 | 6 | undefined, client?: string): Promise<Answer[]> {
    const name = rawName.toLowerCase().replace(/\.$/, "");
    const deadline = Date.now() + timeoutMs;
    const wanted = (list: Answer[]) => list.filter((a) => !family || a.family === family);
    if (name === "localhost" || name.endsWith(".localhost")) return wanted(LOOPBACK);
    const fromFile = (await hostsTable()).get(name);
    if (fromFile) return wanted(fromFile);

    const key = client ?? `name:${name}`;
    if (!(await acquire(key, deadline))) throw timedOut(name, true);
    const query = queryDns(name, family);
    void query.then(
      () => release(key),
      () => release(key),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut()), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([query, late]);
    } catch (err) {
      if (err instanceof TimedOut) throw timedOut(name, false);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    lookup,
    forClient: (clientOf) => (name, family) => lookup(name, family, clientOf()),
  };
}

class TimedOut extends Error {
  override name = "TimedOut";
}
