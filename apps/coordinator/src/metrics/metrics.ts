import { type Database, traces } from "@lg/db";
import type { AgentCounters } from "@lg/protocol";
import { RESULTS_CONSUMER, RESULTS_STREAM } from "@lg/protocol";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { gt, sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MeasurementService } from "../measurements/service";

export interface MetricsDeps {
  db: Database;
  nc: NatsConnection;
  /** The agents as the database knows them (with the counters of their last heartbeat). */
  listAgents(): Promise<
    { id: string; region: string; online: boolean; running: number; counters: AgentCounters | null }[]
  >;
}

const AGENT_COUNTERS: [keyof AgentCounters, string, string][] = [
  ["jobsAccepted", "lg_agent_jobs_accepted_total", "jobs the agent accepted since it started"],
  ["jobsRejected", "lg_agent_jobs_rejected_total", "jobs the agent rejected since it started"],
  ["tracesDone", "lg_agent_traces_done_total", "traces the agent finished since it started"],
  ["tracesFailed", "lg_agent_traces_failed_total", "traces that failed on the agent since it started"],
  ["probesSent", "lg_agent_probes_sent_total", "probes the agent sent since it started"],
  ["probesAnswered", "lg_agent_probes_answered_total", "probes that were answered since it started"],
];

/** Traces counted by status over this window (an index range scan on `traces.created`). */
const TRACE_WINDOW_MS = 3_600_000;

/**
 * The coordinator's Prometheus metrics (prom-client, one registry per coordinator so several
 * can run in one process). What the coordinator does itself is counted as it happens; what
 * lives in the database or NATS (traces, agents and their heartbeat counters, the results
 * queue) is read when Prometheus scrapes, so every replica reports the same fleet-wide view.
 */
export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  const reg = { registers: [registry] };

  const jobs = new Counter({
    name: "lg_jobs_total",
    help: "jobs sent to agents by this replica, by the agent's answer",
    labelNames: ["outcome"],
    ...reg,
  });
  const dispatch = new Histogram({
    name: "lg_dispatch_seconds",
    help: "time from a measurement's start to every agent's answer",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
    ...reg,
  });
  const http = new Counter({
    name: "lg_http_requests_total",
    help: "HTTP requests answered, by method and status class",
    labelNames: ["method", "status"],
    ...reg,
  });
  let sse = 0;
  new Gauge({
    name: "lg_sse_clients",
    help: "live event streams (SSE) open on this replica",
    ...reg,
    collect() {
      this.set(sse);
    },
  });
  let connected = true;
  let reconnects = 0;
  new Gauge({
    name: "lg_nats_connected",
    help: "1 while this replica is connected to NATS",
    ...reg,
    collect() {
      this.set(connected && !deps.nc.isClosed() ? 1 : 0);
    },
  });
  new Counter({
    name: "lg_nats_reconnects_total",
    help: "times this replica reconnected to NATS",
    ...reg,
    collect() {
      this.reset();
      this.inc(reconnects);
    },
  });
  void (async () => {
    for await (const s of deps.nc.status()) {
      if (s.type === "disconnect") connected = false;
      if (s.type === "reconnect") {
        connected = true;
        reconnects += 1;
      }
    }
  })().catch(() => {});

  const dbLatency = new Histogram({
    name: "lg_db_latency_seconds",
    help: "round trip of a trivial query, measured at each scrape",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    ...reg,
  });
  new Gauge({
    name: "lg_traces",
    help: `traces created in the last ${TRACE_WINDOW_MS / 60_000} minutes, by status`,
    labelNames: ["status"],
    ...reg,
    async collect() {
      const started = performance.now();
      const rows = await deps.db
        .select({ status: traces.status, n: sql<number>`count(*)::int` })
        .from(traces)
        .where(gt(traces.created, new Date(Date.now() - TRACE_WINDOW_MS)))
        .groupBy(traces.status);
      dbLatency.observe((performance.now() - started) / 1000);
      this.reset();
      for (const s of ["queued", "running", "done", "failed"]) {
        this.set({ status: s }, Number(rows.find((r) => r.status === s)?.n ?? 0));
      }
    },
  });
  new Gauge({
    name: "lg_results_queue",
    help: "final results waiting in JetStream: pending (not yet delivered) and unacknowledged",
    labelNames: ["state"],
    ...reg,
    async collect() {
      try {
        const jsm = await jetstreamManager(deps.nc);
        const info = await jsm.consumers.info(RESULTS_STREAM, RESULTS_CONSUMER);
        this.set({ state: "pending" }, info.num_pending);
        this.set({ state: "unacknowledged" }, info.num_ack_pending);
        this.set({ state: "redelivered" }, info.num_redelivered);
      } catch {
        // NATS not answering is what lg_nats_connected says; no queue figures this time.
      }
    },
  });

  // Agent counters: one collection per scrape fills every per-agent metric.
  let agentRead: Promise<Awaited<ReturnType<MetricsDeps["listAgents"]>>> | undefined;
  const agentsOnce = () => {
    agentRead ??= deps.listAgents().finally(() => setTimeout(() => (agentRead = undefined), 250).unref());
    return agentRead;
  };
  new Gauge({
    name: "lg_agents",
    help: "agents known to the coordinator, by state",
    labelNames: ["state"],
    ...reg,
    async collect() {
      const agents = await agentsOnce();
      this.set({ state: "online" }, agents.filter((a) => a.online).length);
      this.set({ state: "offline" }, agents.filter((a) => !a.online).length);
    },
  });
  new Gauge({
    name: "lg_agent_running",
    help: "traces an agent reported running in its last heartbeat",
    labelNames: ["agent", "region"],
    ...reg,
    async collect() {
      this.reset();
      for (const a of await agentsOnce())
        this.set({ agent: a.id, region: a.region }, a.online ? a.running : 0);
    },
  });
  new Gauge({
    name: "lg_agent_up",
    help: "1 while the agent is online",
    labelNames: ["agent", "region"],
    ...reg,
    async collect() {
      this.reset();
      for (const a of await agentsOnce()) this.set({ agent: a.id, region: a.region }, a.online ? 1 : 0);
    },
  });
  for (const [field, name, help] of AGENT_COUNTERS) {
    new Counter({
      name,
      help: `${help} (from its last heartbeat)`,
      labelNames: ["agent", "region"],
      ...reg,
      async collect() {
        this.reset();
        for (const a of await agentsOnce()) {
          if (a.counters) this.inc({ agent: a.id, region: a.region }, a.counters[field]);
        }
      },
    });
  }

  const monitorRuns = new Counter({
    name: "lg_monitor_runs_total",
    help: "monitor runs on this replica, by outcome",
    labelNames: ["outcome"],
    ...reg,
  });
  const alertEvents = new Counter({
    name: "lg_alert_events_total",
    help: "alerts fired and resolved by this replica",
    labelNames: ["event"],
    ...reg,
  });
  const retentionDeleted = new Counter({
    name: "lg_retention_deleted_rows_total",
    help: "rows deleted by retention, by kind of data",
    labelNames: ["kind"],
    ...reg,
  });
  const presenceRefused = new Counter({
    name: "lg_presence_refused_total",
    help: "agent presence messages this replica ignored because they proved no role (operator mode), by reason",
    labelNames: ["reason"],
    ...reg,
  });

  /** Counts requests, and keeps the number of open event streams (their bodies end or are cancelled). */
  const middleware: MiddlewareHandler = async (c, next) => {
    await next();
    http.inc({ method: c.req.method, status: `${Math.floor(c.res.status / 100)}xx` });
    const body = c.res.body;
    if (!body || !(c.res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return;
    sse += 1;
    let open = true;
    const close = () => {
      if (open) sse -= 1;
      open = false;
    };
    const reader = body.getReader();
    const tracked = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            close();
            controller.close();
          } else controller.enqueue(value);
        } catch (err) {
          close();
          controller.error(err);
        }
      },
      async cancel(reason) {
        close();
        await reader.cancel(reason);
      },
    });
    c.res = new Response(tracked, c.res);
  };

  return {
    registry,
    middleware,
    /** Counts each measurement's jobs by the agents' answers, and the dispatch time. */
    instrument(inner: MeasurementService): MeasurementService {
      return {
        ...inner,
        async start(prepared, client) {
          const end = dispatch.startTimer();
          const accepted = await inner.start(prepared, client);
          end();
          for (const t of accepted.traces)
            jobs.inc({ outcome: t.status === "running" ? "accepted" : "rejected" });
          return accepted;
        },
        async submit(request, client) {
          return this.start(await this.prepare(request), client);
        },
      };
    },
    monitorRun: (outcome: "ok" | "error") => monitorRuns.inc({ outcome }),
    alertEvent: (event: "fire" | "resolve") => alertEvents.inc({ event }),
    retentionDeleted: (kind: string, n: number) => retentionDeleted.inc({ kind }, n),
    presenceRefused: (reason: string) => presenceRefused.inc({ reason }),
    async text(): Promise<{ body: string; contentType: string }> {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
