import { type PopLocation, parseLatLon } from "@lg/protocol";
import { z } from "zod";
import { CliError } from "./errors";
import { USAGE } from "./options";

/** Where the API clients (`lg measure`, `lg path`, `lg monitor`) look when LG_API_URL is unset. */
export const DEFAULT_API_URL = "http://127.0.0.1:8080";

const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/**
 * Every variable the CLI itself reads, in one schema; empty variables count as unset. The
 * coordinator's and the agent's variables (DATABASE_URL, LG_DATA_DIR, PORT, …) are read by their
 * own schemas (`loadConfig`, `parseAgentConfig`, `databaseLocation`) from `environment`.
 */
const CliEnv = z.object({
  LG_API_URL: z
    .url({
      protocol: /^https?$/,
      error: "LG_API_URL must be the coordinator's http(s) URL, e.g. http://127.0.0.1:8080",
    })
    .default(DEFAULT_API_URL)
    .transform((url) => url.replace(/\/+$/, "")),
  LG_API_KEY: z.string().optional(),
  /** `lg up`/`lg demo`: an existing NATS instead of a child nats-server. */
  NATS_URL: z.string().optional(),
  /** `lg up`/`lg demo`: ranges allow-listed on top of the lab's. */
  LG_ALLOW_TARGETS: z.string().default(""),
  /** `lg up`/`lg demo`: the operator's prefix table; the demo writes its own unless this is set. */
  LG_ASN_PREFIXES: z.string().optional(),
  /** `lg up`/`lg demo` and `lg trace --geo`: the operator's place table; the demo writes its own unless this is set. */
  LG_GEO_PREFIXES: z.string().optional(),
  /** `lg trace --geo`: whether to look public addresses up in the offline city database. */
  LG_GEO_DATABASE: z.enum(["on", "off"], { error: "LG_GEO_DATABASE must be 'on' or 'off'" }).default("on"),
  /** `lg trace --geo` (and `lg up`'s agent): where this machine is, "lat,lon"; its RTTs then bound the places. */
  LG_LOCATION: z.string().optional(),
  LG_CITY: z.string().optional(),
  /** `lg up`: the local agent's id (default: the host name). */
  LG_AGENT_ID: z.string().optional(),
  /** `lg trace`: where lg-probe is (flows mtr-packet cannot hold); unset: looked for where ./scripts/setup puts it. */
  LG_PROBE_HELPER: z.string().optional(),
  /** What `lg join`, `lg up` and `lg demo` log (default warn: their output is for a person). */
  LOG_LEVEL: LogLevel.default("warn"),
});

export interface CliConfig {
  /** The coordinator the API commands talk to, without a trailing slash. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  apiKey: string | undefined;
  natsUrl: string | undefined;
  allowTargets: string;
  asnPrefixes: string | undefined;
  agentId: string | undefined;
  /** `lg trace --geo`: the place table, the database switch and this machine's place. */
  geo: { prefixFile: string | undefined; database: boolean; location: PopLocation | undefined };
  /** `LG_PROBE_HELPER`: the lg-probe `lg trace` runs. */
  probeHelper: string | undefined;
  logLevel: z.infer<typeof LogLevel>;
  /** The environment as given, for the coordinator's and agent's own schemas and for child processes. */
  environment: Record<string, string | undefined>;
}

/**
 * Reads the CLI's variables from an environment (`process.env` unless given). A wrong one is a
 * usage error: one line naming the variable, exit code 2.
 */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const set = Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== "")
      .map(([k, v]) => [k, v.trim()]),
  );
  const parsed = CliEnv.safeParse(set);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    const message = issue?.message ?? "invalid";
    throw new CliError(message.includes(name) ? message : `${name}: ${message}`, USAGE);
  }
  const e = parsed.data;
  let location: PopLocation | undefined;
  if (e.LG_LOCATION) {
    try {
      location = { ...parseLatLon(e.LG_LOCATION), ...(e.LG_CITY ? { city: e.LG_CITY } : {}) };
    } catch (err) {
      throw new CliError(`LG_LOCATION: ${(err as Error).message}`, USAGE);
    }
  }
  return {
    apiUrl: e.LG_API_URL,
    apiKey: e.LG_API_KEY,
    natsUrl: e.NATS_URL,
    allowTargets: e.LG_ALLOW_TARGETS,
    asnPrefixes: e.LG_ASN_PREFIXES,
    agentId: e.LG_AGENT_ID,
    geo: { prefixFile: e.LG_GEO_PREFIXES, database: e.LG_GEO_DATABASE === "on", location },
    probeHelper: e.LG_PROBE_HELPER,
    logLevel: e.LOG_LEVEL,
    environment: { ...env },
  };
}
