import type { Database } from "@lg/db";
import { type SQL, sql } from "drizzle-orm";
import type { Logger } from "../logger";
import { rowsOf } from "../monitors/store";

export type RetentionKind = "measurements" | "path_tests" | "series" | "alerts" | "audit";

export interface RetentionPolicy {
  tracesMs: number;
  seriesMs: number;
  auditMs: number;
  batch: number;
}

/** Chunks per kind and pass: a large backlog is worked off over several passes, not in one burst. */
const MAX_CHUNKS_PER_PASS = 50;

/**
 * One DELETE of at most `batch` rows older than `cutoff`. Each statement picks its rows through
 * an index (`created`/`at`) and stops at the limit, so a pass costs a bounded amount of work and
 * locks, however much is due.
 */
function chunk(kind: RetentionKind, before: Date, batch: number): SQL {
  // postgres.js takes no Date in a raw statement: the cutoff goes as text, cast.
  const cutoff = sql`${before.toISOString()}::timestamptz`;
  switch (kind) {
    // Traces go with their measurement (ON DELETE CASCADE).
    case "measurements":
      return sql`delete from measurements where id in (select id from measurements where created < ${cutoff} order by created limit ${batch}) returning 1 as x`;
    case "path_tests":
      return sql`delete from path_tests where id in (select id from path_tests where created < ${cutoff} order by created limit ${batch}) returning 1 as x`;
    // The series has no key of its own: rows are picked by their physical address.
    case "series":
      return sql`delete from monitor_samples where ctid = any(array(select ctid from monitor_samples where at < ${cutoff} limit ${batch})) returning 1 as x`;
    case "alerts":
      return sql`delete from alerts where id in (select id from alerts where status = 'resolved' and resolved_at < ${cutoff} limit ${batch}) returning 1 as x`;
    case "audit":
      return sql`delete from audit_log where id in (select id from audit_log where at < ${cutoff} order by at limit ${batch}) returning 1 as x`;
  }
}

/**
 * Deletes everything past its retention, in chunks. Replicas take turns through an advisory
 * lock held for one chunk's transaction: a replica that does not get it skips the chunk (the
 * other is at work). Returns the rows deleted per kind.
 */
export async function enforceRetention(
  db: Database,
  policy: RetentionPolicy,
  now = new Date(),
): Promise<Record<RetentionKind, number>> {
  const deleted: Record<RetentionKind, number> = {
    measurements: 0,
    path_tests: 0,
    series: 0,
    alerts: 0,
    audit: 0,
  };
  const plan: [RetentionKind, number][] = [
    ["path_tests", policy.tracesMs],
    ["measurements", policy.tracesMs],
    ["series", policy.seriesMs],
    ["alerts", policy.seriesMs],
    ["audit", policy.auditMs],
  ];
  for (const [kind, keepMs] of plan) {
    if (keepMs <= 0) continue;
    const cutoff = new Date(now.getTime() - keepMs);
    for (let i = 0; i < MAX_CHUNKS_PER_PASS; i++) {
      const n = await db.transaction(async (tx) => {
        const lock = rowsOf(
          await tx.execute(sql`select pg_try_advisory_xact_lock(hashtext('lg-retention')) as ok`),
        );
        if (lock[0]?.ok !== true) return -1;
        return rowsOf(await tx.execute(chunk(kind, cutoff, policy.batch))).length;
      });
      if (n < 0) break;
      deleted[kind] += n;
      if (n < policy.batch) break;
    }
  }
  return deleted;
}

/** Enforces retention now and then every `everyMs`; stop() waits for a pass in progress. */
export function startRetention(deps: {
  db: Database;
  policy: RetentionPolicy;
  everyMs: number;
  logger: Logger;
  onDeleted?: (kind: RetentionKind, n: number) => void;
}) {
  const log = deps.logger.child({ module: "retention" });
  let pass: Promise<void> = Promise.resolve();
  const run = () => {
    pass = pass.then(async () => {
      try {
        const started = performance.now();
        const deleted = await enforceRetention(deps.db, deps.policy);
        const total = Object.values(deleted).reduce((a, b) => a + b, 0);
        for (const [kind, n] of Object.entries(deleted))
          if (n > 0) deps.onDeleted?.(kind as RetentionKind, n);
        if (total > 0)
          log.info(
            { deleted, ms: Math.round(performance.now() - started) },
            "data past its retention deleted",
          );
      } catch (err) {
        log.warn({ err }, "retention pass failed; it runs again later");
      }
    });
  };
  // The first pass waits a little, so a starting coordinator serves first.
  const first = setTimeout(run, Math.min(deps.everyMs, 30_000));
  first.unref();
  const timer = setInterval(run, deps.everyMs);
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await pass;
    },
  };
}
