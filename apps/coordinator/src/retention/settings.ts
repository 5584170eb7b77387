import { z } from "zod";
import { parseDuration } from "../security/settings";

/** How long each kind of data is kept, and how the deletes are paced. `0` (or `off`) keeps forever. */
export interface RetentionSettings {
  /** Measurements with their traces, and path tests (`LG_RETENTION_TRACES`, default 30d). */
  tracesMs: number;
  /** Monitors' per-hop series and resolved alerts (`LG_RETENTION_SERIES`, default 90d). */
  seriesMs: number;
  /** Rows per DELETE statement (`LG_RETENTION_BATCH`, default 5000). */
  batch: number;
  /** Time between passes (`LG_RETENTION_EVERY`, default 10m). */
  everyMs: number;
}

const Env = z.object({
  LG_RETENTION_TRACES: z.string().default("30d"),
  LG_RETENTION_SERIES: z.string().default("90d"),
  LG_RETENTION_BATCH: z.coerce
    .number({ error: "LG_RETENTION_BATCH must be a whole number" })
    .int({ error: "LG_RETENTION_BATCH must be a whole number" })
    .min(100, { error: "LG_RETENTION_BATCH must be at least 100" })
    .max(1_000_000, { error: "LG_RETENTION_BATCH must be at most 1000000" })
    .default(5_000),
  LG_RETENTION_EVERY: z.string().default("10m"),
});

function duration(name: string, text: string, allowOff: boolean): number {
  if (allowOff && (text.trim() === "0" || text.trim() === "off")) return 0;
  try {
    return parseDuration(text);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}${allowOff ? " (or 'off')" : ""}`);
  }
}

/** Reads the retention settings; throws an Error whose message is one line naming the variable. */
export function parseRetentionSettings(env: Record<string, string | undefined>): RetentionSettings {
  const parsed = Env.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? "invalid retention setting");
  const e = parsed.data;
  const everyMs = duration("LG_RETENTION_EVERY", e.LG_RETENTION_EVERY, false);
  if (everyMs < 1_000) throw new Error("LG_RETENTION_EVERY must be at least 1s");
  return {
    tracesMs: duration("LG_RETENTION_TRACES", e.LG_RETENTION_TRACES, true),
    seriesMs: duration("LG_RETENTION_SERIES", e.LG_RETENTION_SERIES, true),
    batch: e.LG_RETENTION_BATCH,
    everyMs,
  };
}
