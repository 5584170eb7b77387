import { type AllowList, parseAllowList, parseDnsServers } from "@lg/protocol";
import { z } from "zod";
import type { AsnSettings, GeoSettings } from "./enrich";
import { type PrivateHops, parsePrivateHops } from "./privacy/settings";
import { parseRetentionSettings, type RetentionSettings } from "./retention/settings";
import { type NatsSigningKey, readSigningKeyFile } from "./reverse-sessions/join-credentials";
import { parseSecuritySettings, type SecuritySettings } from "./security/settings";
import { parseTlsSettings, type TlsSettings } from "./security/tls";

const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** The coordinator's environment, in one schema. Nothing else reads `process.env`. */
const EnvSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  NATS_URL: z
    .string({
      error:
        "NATS_URL is not set: give the NATS server (e.g. nats://127.0.0.1:4222), or run `lg up` to start one",
    })
    .min(1),
  NATS_CREDS: z.string().min(1).optional(),
  LG_NATS_SIGNING_KEY: z.string().min(1).optional(),
  LG_ROLE_ISSUERS: z.string().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  LG_DATA_DIR: z.string().min(1).default("./.lg"),
  LG_ALLOW_TARGETS: z.string().default(""),
  LG_DNS_SERVERS: z.string().default(""),
  LOG_LEVEL: LogLevel.default("info"),
  LG_ASN_PREFIXES: z.string().min(1).optional(),
  LG_ASN_DATABASE: z.enum(["on", "off"], { error: "LG_ASN_DATABASE must be 'on' or 'off'" }).default("on"),
  LG_GEO_PREFIXES: z.string().min(1).optional(),
  LG_GEO_DATABASE: z.enum(["on", "off"], { error: "LG_GEO_DATABASE must be 'on' or 'off'" }).default("on"),
  LG_RESULTS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  LG_PUBLIC_URL: z.url({ protocol: /^https?$/, error: "LG_PUBLIC_URL must be an http(s) URL" }).optional(),
  LG_PRIVATE_HOPS: z.string().default(""),
});

export interface CoordinatorConfig {
  host: string;
  port: number;
  natsUrl: string;
  /** Path of a NATS credentials file (JWT + seed). */
  natsCreds: string | undefined;
  /**
   * The lg account's signing key (`LG_NATS_SIGNING_KEY`, a file with its seed): with NATS_CREDS,
   * the join bridge mints a NATS user per reverse session with it. Never logged.
   */
  natsSigningKey: NatsSigningKey | undefined;
  /**
   * Operator mode: more keys (account signing keys, `A…`) whose agent credentials carry a role
   * the coordinator believes, besides the signer and account of its own NATS_CREDS (`LG_ROLE_ISSUERS`).
   */
  roleIssuers: string[];
  databaseUrl: string | undefined;
  dataDir: string;
  /** LG_ALLOW_TARGETS as given, and parsed. */
  allowTargets: string;
  allowList: AllowList;
  /** DNS servers for target names (`LG_DNS_SERVERS`); empty: those of /etc/resolv.conf. */
  dnsServers: string[];
  logLevel: z.infer<typeof LogLevel>;
  /** Rate limits, concurrency cap, probe budget, opt-out list, audit retention (`LG_*`, see README). */
  security: SecuritySettings;
  /** HTTPS and TLS towards NATS (`LG_TLS_*`, see src/security/README.md). */
  tls: TlsSettings;
  /** Base of the links in alerts (`LG_PUBLIC_URL`); default: the main listener's URL. */
  publicUrl: string | undefined;
  /** Origin AS lookup: the operator's prefix table and the public table (`LG_ASN_*`). */
  asn: AsnSettings;
  /** Places of hops: the operator's place table and the offline city database (`LG_GEO_*`). */
  geo: GeoSettings;
  /** Copies of the results stream; 3 on a NATS cluster (`LG_RESULTS_REPLICAS`). */
  resultsReplicas: number;
  /** Retention of traces and monitor series (`LG_RETENTION_*`, see README); audit: `security`. */
  retention: RetentionSettings;
  /** Hops hidden from the public (`LG_PRIVATE_HOPS`): leading hops of our PoPs' traces, or CIDRs. */
  privateHops: PrivateHops;
}

/** A setting is missing or wrong; the message is one line naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The variables that are set: empty ones count as unset. */
function setOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== ""),
  );
}

/**
 * Where the coordinator keeps its data, read the way `loadConfig` reads it: PostgreSQL at
 * `DATABASE_URL`, else PGlite in `<LG_DATA_DIR>/pg`. For `lg keys` and `lg up`, which need the
 * same database (and data folder) without a whole coordinator configuration.
 */
export function databaseLocation(env: Record<string, string | undefined>): {
  databaseUrl: string | undefined;
  dataDir: string;
} {
  const e = EnvSchema.pick({ DATABASE_URL: true, LG_DATA_DIR: true }).parse(setOnly(env));
  return { databaseUrl: e.DATABASE_URL, dataDir: e.LG_DATA_DIR };
}

/**
 * Reads the configuration from an environment. Empty variables count as unset.
 * Throws ConfigError with one line naming the first wrong variable.
 */
export function loadConfig(env: Record<string, string | undefined>): CoordinatorConfig {
  const present = setOnly(env);
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    const message = issue?.message ?? "invalid";
    throw new ConfigError(message.includes(name) ? message : `${name}: ${message}`);
  }
  const e = parsed.data;
  let allowList: AllowList;
  try {
    allowList = parseAllowList(e.LG_ALLOW_TARGETS);
  } catch (err) {
    throw new ConfigError(`LG_ALLOW_TARGETS: ${(err as Error).message}`);
  }
  let dnsServers: string[];
  try {
    dnsServers = parseDnsServers(e.LG_DNS_SERVERS);
  } catch (err) {
    throw new ConfigError(`LG_DNS_SERVERS: ${(err as Error).message}`);
  }
  const roleIssuers = (e.LG_ROLE_ISSUERS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  for (const key of roleIssuers) {
    if (!/^A[A-Z2-7]{55}$/.test(key))
      throw new ConfigError(
        `LG_ROLE_ISSUERS: '${key}' is not an account or signing public key (A…, 56 characters)`,
      );
  }
  if (roleIssuers.length > 0 && !e.NATS_CREDS)
    throw new ConfigError(
      "LG_ROLE_ISSUERS needs NATS_CREDS: without NATS auth agents' roles are taken as given",
    );
  let natsSigningKey: NatsSigningKey | undefined;
  if (e.LG_NATS_SIGNING_KEY !== undefined) {
    if (!e.NATS_CREDS)
      throw new ConfigError(
        "LG_NATS_SIGNING_KEY needs NATS_CREDS: without NATS auth the join bridge needs no credentials",
      );
    try {
      natsSigningKey = readSigningKeyFile(e.LG_NATS_SIGNING_KEY);
    } catch (err) {
      throw new ConfigError(`LG_NATS_SIGNING_KEY: ${(err as Error).message}`);
    }
  }
  let security: SecuritySettings;
  let tls: TlsSettings;
  try {
    security = parseSecuritySettings(present);
    tls = parseTlsSettings(present);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  let retention: RetentionSettings;
  let privateHops: PrivateHops;
  try {
    retention = parseRetentionSettings(present);
    privateHops = parsePrivateHops(e.LG_PRIVATE_HOPS);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return {
    host: e.HOST,
    port: e.PORT,
    natsUrl: e.NATS_URL,
    natsCreds: e.NATS_CREDS,
    natsSigningKey,
    roleIssuers,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.LG_DATA_DIR,
    allowTargets: e.LG_ALLOW_TARGETS,
    allowList,
    dnsServers,
    logLevel: e.LOG_LEVEL,
    security,
    tls,
    publicUrl: e.LG_PUBLIC_URL?.replace(/\/+$/, ""),
    retention,
    privateHops,
    asn: { prefixFile: e.LG_ASN_PREFIXES, database: e.LG_ASN_DATABASE === "on" },
    geo: { prefixFile: e.LG_GEO_PREFIXES, database: e.LG_GEO_DATABASE === "on" },
    resultsReplicas: e.LG_RESULTS_REPLICAS,
  };
}
