import os from "node:os";
import {
  AgentId,
  type AgentRole,
  type AllowList,
  isJoinAgentId,
  JOIN_AGENT_PREFIX,
  type PopLocation,
  parseAllowList,
  parseDnsServers,
  parseLatLon,
  RegionName,
} from "@lg/protocol";
import { z } from "zod";
import { detectPublicAddresses, type InterfaceTable } from "./addresses";

/** A configuration value is missing or wrong; the message names the variable and says why. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const WHOLE_1_10000 = "must be a whole number from 1 to 10000";
const SECONDS = "must be a number of seconds from 0 to 86400";
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Empty strings count as unset, so `LG_REGION=` behaves like no LG_REGION at all. */
const unsetIfEmpty = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema);

const natsUrlList = z.string().superRefine((value, ctx) => {
  for (const item of value.split(",").map((s) => s.trim())) {
    try {
      const url = new URL(item.includes("://") ? item : `nats://${item}`);
      if (!["nats:", "tls:", "ws:", "wss:"].includes(url.protocol) || !url.hostname) throw new Error();
    } catch {
      ctx.addIssue({ code: "custom", message: `'${item}' is not a NATS server URL (nats://host:port)` });
    }
  }
});

const addressList = z.string().superRefine((value, ctx) => {
  for (const item of value.split(",").map((s) => s.trim())) {
    if (z.union([z.ipv4(), z.ipv6()]).safeParse(item).success) continue;
    ctx.addIssue({ code: "custom", message: `'${item}' is not an IP address` });
  }
});

const allowList = z.string().superRefine((value, ctx) => {
  try {
    parseAllowList(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const latLon = z.string().superRefine((value, ctx) => {
  try {
    parseLatLon(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const dnsServerList = z.string().superRefine((value, ctx) => {
  try {
    parseDnsServers(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

/**
 * The agent's configuration, keyed by environment variable name. Command-line flags are mapped
 * onto the same names before parsing, so there is exactly one set of rules for both.
 */
export const AgentEnvSchema = z.object({
  NATS_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string({ error: "is required (the NATS server to connect to, e.g. nats://127.0.0.1:4222)" })
      .pipe(natsUrlList),
  ),
  NATS_CREDS: opt(z.string().optional()),
  /** TLS towards NATS: the CA of the server's certificate, and an optional client certificate. */
  LG_TLS_CA: opt(z.string().optional()),
  LG_TLS_NATS_CERT: opt(z.string().optional()),
  LG_TLS_NATS_KEY: opt(z.string().optional()),
  LG_AGENT_ID: opt(AgentId.optional()),
  LG_REGION: opt(RegionName.default("local")),
  LG_ROLE: opt(z.enum(["pop", "neutral"], { error: "must be 'pop' or 'neutral'" }).default("pop")),
  LG_PUBLIC_ADDRS: opt(addressList.optional()),
  /** Where the agent is, "lat,lon" in decimal degrees; shown with the PoP, bounds its hops' places. */
  LG_LOCATION: opt(latLon.optional()),
  /** The city of LG_LOCATION, for people (e.g. "Frankfurt"). */
  LG_CITY: opt(z.string().max(100, { error: "must be at most 100 characters" }).optional()),
  LG_MAX_TRACES: opt(
    z.coerce
      .number({ error: WHOLE_1_10000 })
      .int({ error: WHOLE_1_10000 })
      .min(1, { error: WHOLE_1_10000 })
      .max(10_000, { error: WHOLE_1_10000 })
      .default(200),
  ),
  LG_ALLOW_TARGETS: opt(allowList.default("")),
  /** DNS servers for target names (ip, ip:port, [ipv6]:port); default: /etc/resolv.conf's. */
  LG_DNS_SERVERS: opt(dnsServerList.optional()),
  LG_DATA_DIR: opt(z.string().optional()),
  /**
   * Path of lg-probe, lg's own probe helper (flow pinning and --mda beyond IPv4 UDP); default
   * /usr/local/libexec/lg/lg-probe, then the checkout's packages/tracer/helper/build/lg-probe.
   */
  LG_PROBE_HELPER: opt(z.string().optional()),
  LG_DRAIN_TIMEOUT: opt(
    z.coerce
      .number({ error: SECONDS })
      .min(0, { error: SECONDS })
      .max(86_400, { error: SECONDS })
      .default(120),
  ),
  LOG_LEVEL: opt(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info")),
});
export type AgentEnv = z.input<typeof AgentEnvSchema>;

export interface AgentConfig {
  natsUrl: string;
  /** Path of a NATS creds file (user JWT + seed), re-read on every reconnect. */
  natsCreds?: string;
  /** TLS towards NATS (`LG_TLS_CA`, `LG_TLS_NATS_CERT`, `LG_TLS_NATS_KEY`); files read by the client. */
  natsTls?: { caFile?: string; certFile?: string; keyFile?: string };
  id: string;
  region: string;
  /**
   * `join` only for the join agent of a reverse session (not settable through LG_ROLE). What the
   * agent announces; the coordinator takes it as given only without NATS auth. With a creds file
   * whose JWT names a role, the agent announces that one instead.
   */
  role: AgentRole;
  /** LG_ROLE was set (so a different role in the credentials deserves a warning). */
  roleGiven?: boolean;
  publicAddresses: string[];
  /** Where the agent is (`LG_LOCATION`, `LG_CITY`); announced with its presence. */
  location?: PopLocation;
  maxTraces: number;
  /** Raw allow-list text and its parsed form. */
  allowTargets: string;
  allowList: AllowList;
  /** DNS servers for target names (`LG_DNS_SERVERS`); unset or empty: those of /etc/resolv.conf. */
  dnsServers?: string[];
  /** Folder for the unsent-results file; without it unsent results live only in memory. */
  dataDir?: string;
  /** `LG_PROBE_HELPER`: where lg-probe is; unset: looked for where `./scripts/setup` puts it. */
  probeHelper?: string;
  /** Seconds to wait for running traces on shutdown before cancelling them. */
  drainTimeoutSec: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Things read from the host when a value is not configured (passed in so tests control them). */
export interface HostFacts {
  hostname: string;
  interfaces: InterfaceTable;
}

/** An agent id derived from a hostname: its first label, reduced to subject-safe characters. */
export function agentIdFromHostname(hostname: string): string {
  const label = hostname.split(".")[0] ?? "";
  const safe = label.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
  return safe || "agent";
}

/**
 * Parses the agent's configuration from environment-style values (flags already mapped onto
 * the variable names). Throws ConfigError with a one-line message naming the variable.
 *
 * @example parseAgentConfig({ ...process.env, LG_REGION: "eu" })
 */
export function parseAgentConfig(
  source: Record<string, string | undefined>,
  host: HostFacts = { hostname: os.hostname(), interfaces: os.networkInterfaces() },
): AgentConfig {
  const result = AgentEnvSchema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path.join(".") ?? "configuration";
    const message = issue?.message ?? "is invalid";
    throw new ConfigError(message.startsWith("is ") ? `${name} ${message}` : `${name}: ${message}`);
  }
  const env = result.data;
  if (Boolean(env.LG_TLS_NATS_CERT) !== Boolean(env.LG_TLS_NATS_KEY)) {
    throw new ConfigError("LG_TLS_NATS_CERT and LG_TLS_NATS_KEY go together: set both or neither");
  }
  const natsTls =
    env.LG_TLS_CA || env.LG_TLS_NATS_CERT
      ? {
          ...(env.LG_TLS_CA ? { caFile: env.LG_TLS_CA } : {}),
          ...(env.LG_TLS_NATS_CERT && env.LG_TLS_NATS_KEY
            ? { certFile: env.LG_TLS_NATS_CERT, keyFile: env.LG_TLS_NATS_KEY }
            : {}),
        }
      : undefined;
  const id = env.LG_AGENT_ID ?? agentIdFromHostname(host.hostname);
  // The coordinator takes every such id for a reverse session's join agent, whatever it announces.
  if (isJoinAgentId(id)) {
    throw new ConfigError(
      env.LG_AGENT_ID
        ? `LG_AGENT_ID: ids starting with '${JOIN_AGENT_PREFIX}' are reserved for reverse-session join agents`
        : `LG_AGENT_ID is needed: the hostname gives the id '${id}', and ids starting with '${JOIN_AGENT_PREFIX}' are reserved for reverse-session join agents`,
    );
  }
  if (env.LG_CITY && !env.LG_LOCATION)
    throw new ConfigError("LG_CITY needs LG_LOCATION: give the place as lat,lon too (e.g. 50.11,8.68)");
  const location = env.LG_LOCATION
    ? { ...parseLatLon(env.LG_LOCATION), ...(env.LG_CITY ? { city: env.LG_CITY.trim() } : {}) }
    : undefined;
  return {
    natsUrl: env.NATS_URL,
    natsCreds: env.NATS_CREDS,
    ...(natsTls ? { natsTls } : {}),
    id,
    region: env.LG_REGION,
    role: env.LG_ROLE,
    roleGiven: unsetIfEmpty(source.LG_ROLE) !== undefined,
    publicAddresses: env.LG_PUBLIC_ADDRS
      ? env.LG_PUBLIC_ADDRS.split(",").map((s) => s.trim())
      : detectPublicAddresses(host.interfaces),
    ...(location ? { location } : {}),
    maxTraces: env.LG_MAX_TRACES,
    allowTargets: env.LG_ALLOW_TARGETS,
    allowList: parseAllowList(env.LG_ALLOW_TARGETS),
    dnsServers: parseDnsServers(env.LG_DNS_SERVERS),
    dataDir: env.LG_DATA_DIR,
    ...(env.LG_PROBE_HELPER ? { probeHelper: env.LG_PROBE_HELPER } : {}),
    drainTimeoutSec: env.LG_DRAIN_TIMEOUT,
    logLevel: env.LOG_LEVEL,
  };
}
