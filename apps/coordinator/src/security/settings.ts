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
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

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
  return {
    rateLimit: e.LG_RATE_LIMIT,
    maxConcurrent: e.LG_MAX_CONCURRENT,
    targetBudget: e.LG_TARGET_BUDGET,
    optOut: cidrs("LG_OPT_OUT", e.LG_OPT_OUT),
    optOutText: e.LG_OPT_OUT,
    limitsExempt: cidrs("LG_LIMITS_EXEMPT", e.LG_LIMITS_EXEMPT),
    trustedProxies: cidrs("LG_TRUSTED_PROXIES", e.LG_TRUSTED_PROXIES),
    auditRetentionMs,
  };
}
