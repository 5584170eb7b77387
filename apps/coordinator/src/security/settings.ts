import { type AllowList, parseAllowList } from "@lg/protocol";
import { z } from "zod";

/** The security settings, read from the environment by the coordinator's config. */
export interface SecuritySettings {
  /** Limited requests per client (IPv6 /64) per minute on the routes that start probes; 0 = off. */
  rateLimit: number;
  /** Measurements a limited client may have running at once; 0 = off. */
  maxConcurrent: number;
  /** Probes per minute one target address may receive from all PoPs and users together; 0 = off. */
  targetBudget: number;
  /** Networks never probed (`LG_OPT_OUT`), beside the operator-managed table. */
  optOut: AllowList;
  optOutText: string;
  /** Client addresses the public limits do not apply to (default: loopback, i.e. this host). */
  limitsExempt: AllowList;
  /** Proxies whose `X-Forwarded-For` is believed. */
  trustedProxies: AllowList;
  /** How long audit rows are kept, in ms. */
  auditRetentionMs: number;
  /** The largest request body read, in bytes (`LG_MAX_BODY`); larger ones are refused with 413. */
  maxBodyBytes: number;
  /** Internal networks monitor webhooks may still reach (`LG_WEBHOOK_ALLOW`); none by default. */
  webhookAllow: AllowList;
  /**
   * How long a replica reuses what it read of operator keys and the opt-out table
   * (`LG_SECURITY_CACHE`): a revoked key or a new opt-out takes effect everywhere within it.
   */
  cacheMs: number;
  /** How long an operator's browser session lasts after signing in at /login (`LG_SESSION_TTL`). */
  sessionTtlMs: number;
}

/**
 * 64 KiB: the largest body any route takes today (a measurement, a path test, a monitor) is a
 * few hundred bytes of JSON, so this leaves room without letting one request hold megabytes.
 */
export const DEFAULT_MAX_BODY = 64 * 1024;
/** Below 1 KiB even a valid request with a long hostname would not fit. */
const MIN_MAX_BODY = 1024;

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const BYTE_UNITS: Record<string, number> = { "": 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2 };

/** Parses a size in bytes: `65536`, `64k`/`64KiB`, `1m`/`1MiB`. */
export function parseBytes(text: string): number {
  const m = /^(\d+)\s*(k|kib|m|mib)?$/i.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a size such as 65536, 64k or 1m`);
  return Number(m[1]) * (BYTE_UNITS[(m[2] ?? "").toLowerCase()] as number);
}

/** Parses `90d`, `12h`, `30m`, `45s`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a duration such as 90d, 12h, 30m or 45s`);
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

const count = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int({ error: `${name} must be a whole number` })
    .min(0, { error: `${name} must be 0 (off) or more` })
    .default(fallback);

const Env = z.object({
  LG_RATE_LIMIT: count("LG_RATE_LIMIT", 20),
  LG_MAX_CONCURRENT: count("LG_MAX_CONCURRENT", 4),
  LG_TARGET_BUDGET: count("LG_TARGET_BUDGET", 20_000),
  LG_OPT_OUT: z.string().default(""),
  LG_LIMITS_EXEMPT: z.string().default("127.0.0.0/8,::1"),
  LG_TRUSTED_PROXIES: z.string().default(""),
  LG_RETENTION_AUDIT: z.string().default("90d"),
  LG_MAX_BODY: z.string().default(String(DEFAULT_MAX_BODY)),
  LG_WEBHOOK_ALLOW: z.string().default(""),
  LG_SECURITY_CACHE: z.string().default("5s"),
  LG_SESSION_TTL: z.string().default("12h"),
});

function cidrs(name: string, text: string): AllowList {
  if (text.trim() === "none") return [];
  try {
    return parseAllowList(text);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message.replace("target allow-list", "list")}`);
  }
}

/**
 * Reads the security settings; throws an Error whose message is one line naming the variable.
 * `LG_LIMITS_EXEMPT=none` removes the loopback exemption (e.g. behind a proxy on this host).
 * `LG_MAX_BODY` is a size (`64k`), `LG_WEBHOOK_ALLOW` a list of CIDRs (empty: no internal webhooks).
 */
export function parseSecuritySettings(env: Record<string, string | undefined>): SecuritySettings {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(issue?.message ?? "invalid security setting");
  }
  const e = parsed.data;
  let auditRetentionMs: number;
  try {
    auditRetentionMs = parseDuration(e.LG_RETENTION_AUDIT);
  } catch (err) {
    throw new Error(`LG_RETENTION_AUDIT: ${(err as Error).message}`);
  }
  let maxBodyBytes: number;
  try {
    maxBodyBytes = parseBytes(e.LG_MAX_BODY);
  } catch (err) {
    throw new Error(`LG_MAX_BODY: ${(err as Error).message}`);
  }
  if (maxBodyBytes < MIN_MAX_BODY) throw new Error(`LG_MAX_BODY: at least ${MIN_MAX_BODY} bytes (1k)`);
  let cacheMs: number;
  try {
    cacheMs = parseDuration(e.LG_SECURITY_CACHE);
  } catch (err) {
    throw new Error(`LG_SECURITY_CACHE: ${(err as Error).message}`);
  }
  let sessionTtlMs: number;
  try {
    sessionTtlMs = parseDuration(e.LG_SESSION_TTL);
  } catch (err) {
    throw new Error(`LG_SESSION_TTL: ${(err as Error).message}`);
  }
  if (sessionTtlMs < 60_000) throw new Error("LG_SESSION_TTL: at least 1m");
  return {
    rateLimit: e.LG_RATE_LIMIT,
    maxConcurrent: e.LG_MAX_CONCURRENT,
    targetBudget: e.LG_TARGET_BUDGET,
    optOut: cidrs("LG_OPT_OUT", e.LG_OPT_OUT),
    optOutText: e.LG_OPT_OUT,
    limitsExempt: cidrs("LG_LIMITS_EXEMPT", e.LG_LIMITS_EXEMPT),
    trustedProxies: cidrs("LG_TRUSTED_PROXIES", e.LG_TRUSTED_PROXIES),
    auditRetentionMs,
    maxBodyBytes,
    webhookAllow: cidrs("LG_WEBHOOK_ALLOW", e.LG_WEBHOOK_ALLOW),
    cacheMs,
    sessionTtlMs,
  };
}
