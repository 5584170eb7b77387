import type { AlertRow, MonitorRow, MonitorSampleRow } from "@lg/db";
import type { AlertView, MonitorRules, MonitorSample, MonitorView } from "@lg/protocol";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function monitorView(row: MonitorRow, firing = 0): MonitorView {
  const state = row.state as { lastLink?: string };
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    every: row.everySeconds,
    rules: row.rules as MonitorRules,
    webhook: row.webhook,
    ...(row.kind === "trace" ? { measurement: row.spec } : { pathTest: row.spec }),
    runs: row.runs,
    lastRunAt: iso(row.lastRunAt),
    nextRun: row.nextRun.toISOString(),
    lastLink: state.lastLink ?? null,
    firing,
    created: row.created.toISOString(),
  };
}

export function alertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    monitorId: row.monitorId,
    rule: row.rule,
    subject: row.subject,
    status: row.status,
    firedAt: row.firedAt.toISOString(),
    resolvedAt: iso(row.resolvedAt),
    evidence: row.evidence,
    resolveEvidence: row.resolveEvidence ?? null,
    link: row.link,
    resolveLink: row.resolveLink,
    delivery: row.delivery,
  };
}

export function sampleView(row: MonitorSampleRow): MonitorSample {
  return {
    at: row.at.toISOString(),
    subject: row.subject,
    traceId: row.traceId,
    ttl: row.ttl,
    host: row.host,
    asn: row.asn,
    lossPct: row.lossPct,
    avg: row.avg,
    best: row.best,
    worst: row.worst,
    stdev: row.stdev,
    sent: row.sent,
  };
}
