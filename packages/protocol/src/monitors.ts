import { z } from "zod";
import { MeasurementRequest } from "./api";
import { PathTestRequest } from "./path-tests";

/**
 * Alert rules of a monitor. Each rule is optional; a monitor without rules only records its series.
 * `runs` is how many consecutive runs a condition must hold to fire, and how many consecutive
 * clear runs resolve it (hysteresis, so a flapping path does not page twice a minute).
 */
export const MonitorRules = z
  .object({
    /** Loss at the destination, or a `real-loss` finding, above `pct` %. */
    loss: z
      .object({
        pct: z.number().min(0).max(100),
        runs: z.number().int().min(1).max(100).default(3),
      })
      .strict()
      .optional(),
    /** The destination's average RTT rose by `ms` or more over its baseline. */
    latency: z
      .object({
        ms: z.number().positive().max(60_000),
        runs: z.number().int().min(1).max(100).default(3),
      })
      .strict()
      .optional(),
    /**
     * The path's routers differ from the last stable path: compared through the router identity of
     * a path test (the addresses both directions showed a router answering from), an ECMP hop's
     * known responders counting as one place; the AS path where no router can be compared. A
     * path-test monitor fires per direction (`evidence.direction`) with the segment that changed.
     */
    pathChange: z
      .object({ runs: z.number().int().min(1).max(100).default(2) })
      .strict()
      .optional(),
    /** A PoP of the monitor is offline. */
    popOffline: z.object({}).strict().optional(),
  })
  .strict();
export type MonitorRules = z.infer<typeof MonitorRules>;
export type MonitorRuleName = keyof MonitorRules;

const common = {
  name: z.string().trim().min(1).max(100).optional(),
  /** Seconds between runs. */
  every: z.number().int().min(5).max(86_400),
  rules: MonitorRules.default({}),
  /** Receives a POST with JSON when an alert fires and when it resolves. */
  webhook: z
    .url({ protocol: /^https?$/, error: "webhook must be an http(s) URL" })
    .max(2_000)
    .optional(),
};

/** `POST /api/v1/monitors`: a measurement (target from PoPs) or a path test, every N seconds. */
export const MonitorRequest = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("trace"), ...common, measurement: MeasurementRequest }).strict(),
  z.object({ kind: z.literal("path-test"), ...common, pathTest: PathTestRequest }).strict(),
]);
export type MonitorRequest = z.infer<typeof MonitorRequest>;
export type MonitorRequestInput = z.input<typeof MonitorRequest>;

export const MonitorView = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["trace", "path-test"]),
  every: z.number(),
  rules: MonitorRules,
  webhook: z.string().nullable(),
  measurement: z.record(z.string(), z.unknown()).optional(),
  pathTest: z.record(z.string(), z.unknown()).optional(),
  runs: z.number(),
  lastRunAt: z.string().nullable(),
  nextRun: z.string(),
  /** Permalink of the last run. */
  lastLink: z.string().nullable(),
  firing: z.number(),
  created: z.string(),
});
export type MonitorView = z.infer<typeof MonitorView>;

export const AlertView = z.object({
  id: z.string(),
  monitorId: z.string(),
  rule: z.string(),
  subject: z.string(),
  status: z.enum(["firing", "resolved"]),
  firedAt: z.string(),
  resolvedAt: z.string().nullable(),
  evidence: z.record(z.string(), z.unknown()),
  resolveEvidence: z.record(z.string(), z.unknown()).nullable(),
  link: z.string().nullable(),
  resolveLink: z.string().nullable(),
  delivery: z.string().nullable(),
});
export type AlertView = z.infer<typeof AlertView>;

/** The body of a webhook POST. */
export const AlertWebhook = z.object({
  event: z.enum(["alert.fired", "alert.resolved"]),
  alert: AlertView,
  monitor: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
  /** Human summary, one line. */
  summary: z.string(),
});
export type AlertWebhook = z.infer<typeof AlertWebhook>;

export const MonitorSample = z.object({
  at: z.string(),
  subject: z.string(),
  traceId: z.string(),
  ttl: z.number(),
  host: z.string().nullable(),
  asn: z.number().nullable(),
  lossPct: z.number(),
  avg: z.number(),
  best: z.number(),
  worst: z.number(),
  /** The run's RTT standard deviation at the hop (null in samples stored before it was kept). */
  stdev: z.number().nullable().optional(),
  sent: z.number(),
});
export type MonitorSample = z.infer<typeof MonitorSample>;

/** The time ranges a monitor's history is read over. */
export const HistoryRange = z.enum(["1h", "1d", "7d", "30d"]);
export type HistoryRange = z.infer<typeof HistoryRange>;

/**
 * One interval of a monitor's history at one hop, SmokePing-style: the latency distribution of the
 * runs in the interval and the share of probes they lost.
 */
export const HistoryBucket = z.object({
  /** Start of the interval (ISO). */
  at: z.string(),
  /** Runs (traces) in the interval that reached the hop's TTL. */
  runs: z.number().int(),
  /** Probes sent to the hop in those runs, and the share lost (%). */
  sent: z.number().int(),
  lossPct: z.number(),
  /** Median of the runs' average RTTs (ms); null when nothing answered. */
  median: z.number().nullable(),
  /** The spread: 25th percentile of (avg − stdev) to 75th percentile of (avg + stdev) over the runs, ms. */
  band: z.tuple([z.number(), z.number()]).nullable(),
  /** The extremes: the lowest Best and the highest Wrst of the runs, ms. */
  range: z.tuple([z.number(), z.number()]).nullable(),
});
export type HistoryBucket = z.infer<typeof HistoryBucket>;

/** One subject's history (a PoP, or a path test's `forward`/`reverse`) at one hop. */
export const HistorySeries = z.object({
  subject: z.string(),
  /** TTLs that have samples in the range (for reading another hop). */
  hops: z.array(z.number().int()),
  buckets: z.array(HistoryBucket),
});
export type HistorySeries = z.infer<typeof HistorySeries>;

/** `GET /api/v1/monitors/{id}/history`: the latency distribution and loss over a range, per subject. */
export const MonitorHistory = z.object({
  monitorId: z.string(),
  range: HistoryRange,
  from: z.string(),
  to: z.string(),
  /** Length of one interval, seconds. */
  bucketSeconds: z.number().int(),
  /** The hop (TTL) read; null: each run's last hop (the far end when it answered). */
  hop: z.number().int().nullable(),
  series: z.array(HistorySeries),
});
export type MonitorHistory = z.infer<typeof MonitorHistory>;
