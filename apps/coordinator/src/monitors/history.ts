import type { MonitorRow } from "@lg/db";
import type { HistoryBucket, HistoryRange, MonitorHistory } from "@lg/protocol";
import type { MonitorStore } from "./store";

/** Each range's length, and about how many intervals it is cut into (SmokePing draws ~ this many columns). */
export const RANGES: Record<HistoryRange, { seconds: number; intervals: number; words: string }> = {
  "1h": { seconds: 3_600, intervals: 60, words: "the last hour" },
  "1d": { seconds: 86_400, intervals: 144, words: "the last day" },
  "7d": { seconds: 7 * 86_400, intervals: 168, words: "the last 7 days" },
  "30d": { seconds: 30 * 86_400, intervals: 180, words: "the last 30 days" },
};

/** An interval is never shorter than the monitor's own period: each holds at least one run. */
export function bucketSeconds(range: HistoryRange, everySeconds: number): number {
  const r = RANGES[range];
  return Math.max(Math.ceil(r.seconds / r.intervals), everySeconds);
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

/**
 * A monitor's history over a range from its stored series (`monitor_samples`): per subject (a PoP,
 * or a path test's `forward`/`reverse`) and interval, the runs' latency distribution at the hop —
 * median, spread band, extremes — and the share of probes lost. `hop` null reads each run's last
 * hop (the far end when it answered). Intervals without a run are left out.
 */
export async function readHistory(
  store: Pick<MonitorStore, "history" | "historyHops">,
  monitor: Pick<MonitorRow, "id" | "everySeconds">,
  range: HistoryRange,
  hop: number | null,
  now = new Date(),
): Promise<MonitorHistory> {
  const seconds = bucketSeconds(range, monitor.everySeconds);
  const from = new Date(now.getTime() - RANGES[range].seconds * 1000);
  const [rows, hops] = await Promise.all([
    store.history(monitor.id, from, seconds, hop),
    store.historyHops(monitor.id, from),
  ]);
  const bySubject = new Map<string, HistoryBucket[]>();
  for (const r of rows) {
    const bucket: HistoryBucket = {
      at: new Date(r.bucket * seconds * 1000).toISOString(),
      runs: r.runs,
      sent: r.sent,
      lossPct: r.sent > 0 ? Math.round((r.lost / r.sent) * 1000) / 10 : 0,
      median: round(r.median),
      band:
        r.low !== null && r.high !== null && r.best !== null && r.worst !== null
          ? [round(Math.max(r.low, r.best)) as number, round(Math.min(r.high, r.worst)) as number]
          : null,
      range: r.best !== null && r.worst !== null ? [round(r.best) as number, round(r.worst) as number] : null,
    };
    bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), bucket]);
  }
  const subjects = [...new Set([...hops.keys(), ...bySubject.keys()])].sort();
  return {
    monitorId: monitor.id,
    range,
    from: from.toISOString(),
    to: now.toISOString(),
    bucketSeconds: seconds,
    hop,
    series: subjects.map((subject) => ({
      subject,
      hops: hops.get(subject) ?? [],
      buckets: bySubject.get(subject) ?? [],
    })),
  };
}
