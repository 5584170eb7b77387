import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * A scheduled measurement (`kind` "trace": a target from PoPs) or path test ("path-test": a to b).
 * `spec` and `rules` are the validated API documents. Every replica runs the same scheduler: a
 * monitor is taken by the replica whose `UPDATE ... WHERE next_run <= now() AND lease expired
 * ... RETURNING` wins, and stays its own until `lease_until`, so one run happens at a time.
 */
export const monitors = pgTable(
  "monitors",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    kind: text("kind").$type<"trace" | "path-test">().notNull(),
    spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
    rules: jsonb("rules").$type<Record<string, unknown>>().notNull(),
    everySeconds: integer("every_seconds").notNull(),
    webhook: text("webhook"),
    nextRun: ts("next_run").notNull(),
    leaseOwner: text("lease_owner"),
    leaseUntil: ts("lease_until"),
    /** What the rules remember between runs (streaks, baselines, last path), per subject. */
    state: jsonb("state").$type<Record<string, unknown>>().notNull().default({}),
    lastRunAt: ts("last_run_at"),
    runs: integer("runs").notNull().default(0),
    created: ts("created").notNull().defaultNow(),
  },
  (t) => [index("monitors_next_run_idx").on(t.nextRun)],
);

/**
 * The compact per-hop series of monitors: one row per hop per trace of a run. The full trace
 * stays in `traces` (which has its own, usually shorter, retention).
 */
export const monitorSamples = pgTable(
  "monitor_samples",
  {
    monitorId: text("monitor_id").notNull(),
    at: ts("at").notNull(),
    /** The agent (or `forward`/`reverse` direction) the trace belongs to. */
    subject: text("subject").notNull(),
    traceId: text("trace_id").notNull(),
    ttl: integer("ttl").notNull(),
    host: text("host"),
    asn: integer("asn"),
    lossPct: real("loss_pct").notNull(),
    avg: real("avg").notNull(),
    best: real("best").notNull(),
    worst: real("worst").notNull(),
    /** The RTTs' sample standard deviation in the run (null in rows older than the column). */
    stdev: real("stdev"),
    sent: integer("sent").notNull(),
  },
  (t) => [
    index("monitor_samples_monitor_at_idx").on(t.monitorId, t.at),
    index("monitor_samples_at_idx").on(t.at),
  ],
);

/**
 * Alerts: one row from firing to resolving. At most one firing alert per monitor, rule and
 * subject (a partial unique index), so two replicas can never open the same alert twice.
 */
export const alerts = pgTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    monitorId: text("monitor_id").notNull(),
    rule: text("rule").notNull(),
    subject: text("subject").notNull(),
    status: text("status").$type<"firing" | "resolved">().notNull(),
    firedAt: ts("fired_at").notNull(),
    resolvedAt: ts("resolved_at"),
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
    resolveEvidence: jsonb("resolve_evidence").$type<Record<string, unknown>>(),
    /** The permalink of the run that fired it (and of the one that resolved it). */
    link: text("link"),
    resolveLink: text("resolve_link"),
    /** Last webhook delivery: `ok 200`, `failed: ...`, or null without a webhook. */
    delivery: text("delivery"),
  },
  (t) => [
    index("alerts_monitor_idx").on(t.monitorId, t.firedAt),
    index("alerts_fired_idx").on(t.firedAt),
    uniqueIndex("alerts_one_firing_idx")
      .on(t.monitorId, t.rule, t.subject)
      .where(sql`${t.status} = 'firing'`),
  ],
);

export type MonitorRow = typeof monitors.$inferSelect;
export type MonitorSampleRow = typeof monitorSamples.$inferSelect;
export type AlertRow = typeof alerts.$inferSelect;
