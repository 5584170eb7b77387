import type { AgentRow, MeasurementWithTraces, TraceRow } from "@lg/db";
import { recheckPlaces } from "@lg/geo";
import type { AgentRole, AgentView, MeasurementView, TraceView } from "@lg/protocol";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Database rows to the API's views (one mapping, used by HTTP, SSE and live messages). */
export function traceView(row: TraceRow): TraceView {
  return {
    id: row.id,
    measurementId: row.measurementId,
    ...(row.agentId !== null ? { agentId: row.agentId } : {}),
    origin: row.origin,
    ...(row.upload ? { upload: row.upload } : {}),
    target: row.target,
    address: row.address,
    status: row.status,
    failure: row.failure ?? null,
    hops: row.hops,
    diagnosis: row.diagnosis ?? null,
    followUps: row.followUps ?? [],
    ...(row.adaptive ? { adaptive: row.adaptive } : {}),
    ...(row.nat ? { nat: row.nat } : {}),
    ...(row.recordRoute ? { recordRoute: row.recordRoute } : {}),
    stoppedBy: row.stoppedBy,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  };
}

export function measurementView(m: MeasurementWithTraces): MeasurementView {
  return {
    id: m.measurement.id,
    target: m.measurement.target,
    status: m.measurement.status,
    options: m.measurement.options,
    created: m.measurement.created.toISOString(),
    traces: withPlacesRechecked(...m.traces.map(traceView)).filter((t): t is TraceView => t !== null),
  };
}

/**
 * Traces shown together, each hop's place judged against every PoP among them that measured its
 * address (a trace stored alone was checked against its own PoP only). Absent traces stay absent.
 */
export function withPlacesRechecked(...traces: (TraceView | null)[]): (TraceView | null)[] {
  const shown = traces.filter((t): t is TraceView => t !== null);
  if (!shown.some((t) => t.hops.some((h) => h.geo))) return traces;
  const rechecked = recheckPlaces(shown.map((t) => t.hops));
  let i = 0;
  return traces.map((t) => (t === null ? t : { ...t, hops: rechecked[i++] ?? t.hops }));
}

export function agentView(row: AgentRow): AgentView {
  return {
    id: row.id,
    region: row.region,
    role: row.role as AgentRole,
    version: row.version,
    online: row.online,
    lastSeen: row.lastSeen.toISOString(),
    addresses: row.addresses,
    capabilities: row.capabilities,
    running: row.running,
    counters: row.counters ?? null,
    ...(row.location ? { location: row.location } : {}),
  };
}
