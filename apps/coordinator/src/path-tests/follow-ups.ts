import {
  type AliasObservation,
  type AliasTarget,
  aliasFollowUp,
  aliasObservation,
  thresholds,
} from "@lg/analysis";
import type { PathTestFollowUpRow, PathTestRow, TraceRow } from "@lg/db";
import { type FollowUp, type Hop, lossInterval, type TraceOptions } from "@lg/protocol";
import { ApiError } from "../errors";
import type { Logger } from "../logger";
import type { MeasurementService } from "../measurements/service";
import { runAs, SYSTEM } from "../security/context";

/** Extra time an alias trace gets beyond its own probing time before the comparison stops waiting. */
const FOLLOW_UP_SLACK_SECONDS = 15;

/**
 * The options of a path test's alias traces: ICMP echo to a router's address (what "reached" means),
 * the path test's family and pace, and enough probes to see a loss on the way back
 * ({@link thresholds.ALIAS_TRACE_PROBES}).
 */
export function aliasTraceOptions(options: TraceOptions, round = 1): TraceOptions {
  return {
    ...options,
    protocol: "icmp",
    port: undefined,
    localPort: undefined,
    pinFlow: false,
    mda: false,
    count: Math.min(MAX_ALIAS_COUNT, Math.max(options.count, thresholds.ALIAS_TRACE_PROBES) * round),
    interval: Math.min(options.interval, ALIAS_MAX_INTERVAL),
  };
}

/**
 * The slowest pace of an alias trace, seconds: the public bounds' fastest interval, polite to
 * routers that rate-limit pings aimed at them, and 40 probes at the default 1 s pace would keep a
 * path test waiting 40 s for its follow-ups (20 s at this pace).
 */
const ALIAS_MAX_INTERVAL = 0.5;

/** The measurement API's largest count: a second round's alias traces stay within it. */
const MAX_ALIAS_COUNT = 300;

/** The last round of follow-ups sent (1 or 2). */
export const roundOf = (rows: PathTestFollowUpRow[]) => Math.max(1, ...rows.map((r) => r.round ?? 1));

/** Seconds after a round is sent until the comparison goes ahead without its follow-ups still out. */
export function followUpDeadlineSeconds(options: TraceOptions, round = 1): number {
  const o = aliasTraceOptions(options, round);
  // The measurement API's defaults for the timeout and grace period (10 s and 5 s) bound the tail.
  return o.count * o.interval + 15 + FOLLOW_UP_SLACK_SECONDS;
}

/**
 * Sends a path test's alias traces as the coordinator's own work (no client: no public limits, but
 * the target policy, the per-target budget and the audit log apply). A target the policy or the
 * budget refuses is recorded with the reason instead of being sent.
 */
export async function sendAliasTraces(
  deps: { measurements: MeasurementService; logger: Logger },
  pathTest: PathTestRow,
  targets: AliasTarget[],
  round = 1,
): Promise<PathTestFollowUpRow[]> {
  const agentOf = (from: "a" | "b") =>
    from === "a" ? pathTest.a : typeof pathTest.b === "string" ? pathTest.b : null;
  const options = aliasTraceOptions(pathTest.options, round);
  const sentAt = new Date().toISOString();
  const { protocol, count, interval, size, ipVersion, maxTtl } = options;
  return Promise.all(
    targets.map(async (t): Promise<PathTestFollowUpRow> => {
      const row: PathTestFollowUpRow = {
        from: t.from,
        target: t.target,
        seenAt: t.seenAt,
        purpose: t.purpose,
        measurementId: null,
        traceId: null,
        failure: null,
        round,
        sentAt,
      };
      const agent = agentOf(t.from);
      if (!agent) return { ...row, failure: "this end has no agent" };
      try {
        const accepted = await runAs(SYSTEM, async () => {
          const prepared = await deps.measurements.prepare({
            target: t.target,
            from: [agent],
            protocol,
            count,
            interval,
            size,
            maxTtl,
            pinFlow: false,
            mda: false,
            adaptive: false,
            ...(ipVersion ? { ipVersion } : {}),
          });
          return deps.measurements.start(prepared, null);
        });
        const trace = accepted.traces[0];
        return {
          ...row,
          measurementId: accepted.id,
          traceId: trace?.id ?? null,
          failure: trace?.failure?.message ?? null,
        };
      } catch (err) {
        const why = err instanceof ApiError ? err.message : "it could not be sent";
        if (!(err instanceof ApiError)) deps.logger.warn({ err, target: t.target }, "alias trace not sent");
        return { ...row, failure: why };
      }
    }),
  );
}

const finished = (t: TraceRow | undefined) => !!t && (t.status === "done" || t.status === "failed");

/** Follow-ups still probing (sent, and their trace not finished). */
export function pendingFollowUps(rows: PathTestFollowUpRow[], traces: Map<string, TraceRow>): number {
  return rows.filter((r) => r.traceId && !finished(traces.get(r.traceId))).length;
}

/** A round claimed but not yet recorded as sent (its sender may have died in between). */
export function unrecordedRound(rows: PathTestFollowUpRow[]): boolean {
  const last = rows.filter((r) => (r.round ?? 1) === roundOf(rows));
  return last.length > 0 && last.every((r) => !r.traceId && !r.failure);
}

/** The alias traces as the comparison reads them (finished ones only), and as each end's trace lists them. */
export function readFollowUps(
  rows: PathTestFollowUpRow[],
  traces: Map<string, TraceRow>,
): {
  observations: AliasObservation[];
  records: { a: FollowUp[]; b: FollowUp[] };
  /** Each end's retraces' hops (finished ones), to add to its own trace's counts. */
  retraced: { a: Hop[][]; b: Hop[][] };
} {
  const observations: AliasObservation[] = [];
  const records: { a: FollowUp[]; b: FollowUp[] } = { a: [], b: [] };
  const retraced: { a: Hop[][]; b: Hop[][] } = { a: [], b: [] };
  for (const row of rows) {
    if (row.kind === "retrace") {
      const trace = row.traceId ? traces.get(row.traceId) : undefined;
      const done = trace?.status === "done";
      if (done) retraced[row.from].push(trace.hops);
      const sent = done ? trace.hops.reduce((n, h) => n + h.sent, 0) : 0;
      records[row.from].push({
        kind: "retrace",
        target: row.target,
        answered: done,
        ...(done ? { sent } : {}),
        purpose: row.purpose,
        result: row.failure
          ? `not sent: ${row.failure}`
          : done
            ? `${trace.hops.length} hops, ${sent} probes, added to the trace's own counts for the comparison`
            : trace?.status === "failed"
              ? `failed: ${trace.failure?.message ?? "its trace failed"}`
              : "probing",
      });
      continue;
    }
    const target = { from: row.from, target: row.target, seenAt: row.seenAt, purpose: row.purpose };
    const trace = row.traceId ? traces.get(row.traceId) : undefined;
    if (row.failure || !trace) {
      records[row.from].push(aliasFollowUp(target, null, row.failure ?? "its trace was lost"));
      continue;
    }
    if (trace.status === "failed") {
      records[row.from].push(aliasFollowUp(target, null, trace.failure?.message ?? "its trace failed"));
      continue;
    }
    if (trace.status !== "done") {
      records[row.from].push({
        kind: "alias-trace",
        target: row.target,
        answered: false,
        purpose: row.purpose,
        result: "probing",
      });
      continue;
    }
    const observation = aliasObservation(row.from, row.target, trace.hops);
    records[row.from].push(aliasFollowUp(target, observation));
    // A second round to the same address adds its probes to the first's.
    const same = observations.find((o) => o.from === row.from && o.target === row.target);
    if (same && observation.reachedAt !== null) {
      same.sent += observation.sent;
      same.recv += observation.recv;
      if (same.reachedAt === null)
        Object.assign(same, { reachedAt: observation.reachedAt, path: observation.path });
    } else if (!same) observations.push(observation);
  }
  return { observations, records, retraced };
}

/**
 * A trace's hops with its retraces' counts added, TTL by TTL, where the same address answered
 * (sent, received and lost add up; Loss% and the interval are worked out again; times stay the
 * first trace's). A TTL where the retrace met another router keeps the trace's own counts.
 */
export function withRetraces(hops: Hop[], retraces: Hop[][]): Hop[] {
  if (retraces.length === 0) return hops;
  return hops.map((h) => {
    let sent = h.sent;
    let recv = h.recv;
    for (const again of retraces) {
      const same = again.find((x) => x.ttl === h.ttl && x.host === h.host);
      if (!same) continue;
      sent += same.sent;
      recv += same.recv;
    }
    if (sent === h.sent) return h;
    const lost = sent - recv;
    return {
      ...h,
      sent,
      recv,
      drop: lost,
      lossPct: Math.round((lost / sent) * 1000) / 10,
      lossCi: lossInterval(sent, recv),
    };
  });
}
