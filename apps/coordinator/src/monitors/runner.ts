import { randomUUID } from "node:crypto";
import type { AgentRow, AlertRow, MonitorRow, MonitorSampleRow, Repository } from "@lg/db";
import type {
  AllowList,
  MeasurementRequest,
  MonitorRules,
  PathTestRequest,
  PathTestView,
  TraceView,
} from "@lg/protocol";
import { nanoid } from "nanoid";
import type { Logger } from "../logger";
import type { MeasurementService } from "../measurements/service";
import type { PathTestService } from "../path-tests/service";
import { evaluateRun, type Observation, type RulesState, type Transition } from "./rules";
import type { MonitorStore } from "./store";
import { alertView } from "./views";
import { deliverWebhook, type HostLookup } from "./webhook";

export interface MonitorRunnerDeps {
  store: MonitorStore;
  repo: Repository;
  measurements: MeasurementService;
  pathTests: PathTestService;
  logger: Logger;
  /** Base of the permalinks in alerts (`LG_PUBLIC_URL`). */
  publicUrl: string;
  /** Internal networks webhooks may reach (`LG_WEBHOOK_ALLOW`); default none. */
  webhookAllow?: AllowList;
  /** How webhook hosts are resolved (default: the system's resolver). */
  webhookLookup?: HostLookup;
  /** How often due monitors are looked for; default 1 s. */
  tickMs?: number;
  /** Longest a run may take before its lease lapses and another replica may take the monitor. */
  runTimeoutMs?: number;
  /** Called after every finished run (metrics). */
  onRun?: (outcome: "ok" | "error") => void;
  onAlert?: (event: "fire" | "resolve") => void;
}

/** What a monitor stores in `state` besides the rules' streaks. */
interface MonitorState {
  rules?: RulesState;
  lastLink?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The PoPs a trace monitor names: its agent ids, and the agents of its `region:` selectors. */
export function popsOf(from: string[] | undefined, agents: AgentRow[]): AgentRow[] {
  if (!from) return agents.filter((a) => a.role === "pop");
  const chosen = new Map<string, AgentRow>();
  for (const selector of from) {
    const matches = selector.startsWith("region:")
      ? agents.filter((a) => a.region === selector.slice("region:".length))
      : agents.filter((a) => a.id === selector);
    for (const a of matches) chosen.set(a.id, a);
  }
  return [...chosen.values()];
}

const observation = (subject: string, t: TraceView, pathTest?: PathTestView): Observation => ({
  subject,
  traceId: t.id,
  status: t.status,
  hops: t.hops,
  diagnosis: t.diagnosis,
  address: t.address ?? t.target,
  ...(pathTest
    ? {
        direction: subject as "forward" | "reverse",
        // The router identity of "both directions read together": each router's addresses, both ways.
        identity: new Map((pathTest.comparison?.routers ?? []).map((r) => [r.id, r.addresses])),
      }
    : {}),
});

/** "forward path changed: after 1:198.18.1.2, hops 2-3 … became hop 2 …", or that it is back. */
function pathChangeWords(t: Transition): string {
  const e = t.evidence as {
    path?: string;
    back?: boolean;
    adopted?: boolean;
    direction?: string;
    segment?: { words?: string };
  };
  const which = e.direction ? `${e.direction} path` : "path";
  if (e.back) return `${which} is back: ${e.path}`;
  if (e.adopted) return `${which} changed and held; it is the stable path now: ${e.path}`;
  return `${which} changed: ${e.segment?.words ?? e.path}`;
}

function summary(monitor: MonitorRow, t: Transition): string {
  const e = t.evidence;
  const what =
    t.rule === "loss"
      ? `loss ${e.lossPct}% at ${e.where} (threshold ${e.thresholdPct}%)`
      : t.rule === "latency"
        ? `average RTT ${e.avgMs} ms vs baseline ${e.baselineMs} ms (step threshold ${e.thresholdMs} ms)`
        : t.rule === "pathChange"
          ? pathChangeWords(t)
          : `PoP ${e.pop} is ${e.online ? "online" : "offline"}`;
  const verb = t.event === "fire" ? "FIRING" : "resolved";
  return `[${verb}] ${monitor.name} ${t.rule} on ${t.subject}: ${what}`;
}

/**
 * Runs due monitors. Every replica runs this loop; which one runs a monitor is decided in
 * PostgreSQL (see `claimDue`): the winner holds a lease until its run is evaluated, so runs of
 * one monitor never overlap and a crashed replica's monitors are picked up when its lease lapses.
 */
export function startMonitorRunner(deps: MonitorRunnerDeps) {
  const owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = deps.logger.child({ module: "monitors", owner });
  const tickMs = deps.tickMs ?? 1_000;
  const runTimeoutMs = deps.runTimeoutMs ?? 10 * 60_000;
  const running = new Set<Promise<void>>();
  let stopped = false;

  async function waitDone<T extends { status: string }>(
    read: () => Promise<T>,
    deadline: number,
  ): Promise<T> {
    for (;;) {
      const v = await read();
      if (v.status === "done" || stopped || Date.now() > deadline) return v;
      await sleep(500);
    }
  }

  /** Starts the run's traces and waits for them; returns what the rules read. */
  async function execute(m: MonitorRow, agents: AgentRow[], deadline: number) {
    const client = `monitor:${m.id}`;
    if (m.kind === "path-test") {
      const request = m.spec as PathTestRequest;
      const pops = agents.filter((a) => a.id === request.a || a.id === request.b);
      if (pops.some((p) => !p.online)) return { observations: [], pops, link: null };
      const { id } = await deps.pathTests.create(request, client);
      const v = await waitDone(() => deps.pathTests.get(id), deadline);
      const observations = [observation("forward", v.forward, v)];
      if (v.reverse) observations.push(observation("reverse", v.reverse, v));
      return { observations, pops, link: `${deps.publicUrl}/p/${id}` };
    }
    const request = m.spec as MeasurementRequest;
    const pops = popsOf(request.from, agents);
    const online = pops.filter((p) => p.online).map((p) => p.id);
    if (online.length === 0) return { observations: [], pops, link: null };
    const accepted = await deps.measurements.submit({ ...request, from: online }, client);
    const v = await waitDone(() => deps.measurements.get(accepted.id), deadline);
    const observations = v.traces.map((t) => observation(t.agentId ?? "", t));
    return { observations, pops, link: `${deps.publicUrl}/m/${accepted.id}` };
  }

  async function announce(m: MonitorRow, t: Transition, alert: AlertRow, event: "fire" | "resolve") {
    deps.onAlert?.(event);
    log.warn({ monitorId: m.id, rule: t.rule, subject: t.subject, event }, summary(m, t));
    if (!m.webhook) return;
    const delivery = await deliverWebhook(
      m.webhook,
      {
        event: event === "fire" ? "alert.fired" : "alert.resolved",
        alert: alertView(alert),
        monitor: { id: m.id, name: m.name, kind: m.kind },
        summary: summary(m, t),
      },
      { allow: deps.webhookAllow ?? [], lookup: deps.webhookLookup },
    );
    await deps.store.setDelivery(alert.id, delivery);
    if (!delivery.startsWith("ok")) log.warn({ monitorId: m.id, delivery }, "webhook not delivered");
  }

  async function runOnce(m: MonitorRow): Promise<void> {
    const started = new Date();
    const state = (m.state ?? {}) as MonitorState;
    const rulesState: RulesState = state.rules ?? {};
    const agents = await deps.repo.listAgents();
    const { observations, pops, link } = await execute(m, agents, started.getTime() + runTimeoutMs - 5_000);
    const at = new Date();
    const samples: MonitorSampleRow[] = observations.flatMap((o) =>
      o.status !== "done"
        ? []
        : o.hops.map((h) => ({
            monitorId: m.id,
            at,
            subject: o.subject,
            traceId: o.traceId,
            ttl: h.ttl,
            host: h.host,
            asn: h.asn ?? null,
            lossPct: h.lossPct,
            avg: h.avg,
            best: h.best,
            worst: h.worst,
            stdev: h.stdev,
            sent: h.sent,
          })),
    );
    await deps.store.insertSamples(samples);
    const transitions = evaluateRun(
      m.rules as MonitorRules,
      rulesState,
      observations,
      pops.map((p) => ({ id: p.id, online: p.online })),
    );
    // State first: if a webhook hangs, the next run still starts from what this one saw.
    const next: MonitorState = { rules: rulesState, ...(link ? { lastLink: link } : {}) };
    if (!next.lastLink && state.lastLink) next.lastLink = state.lastLink;
    const kept = await deps.store.finishRun(m.id, owner, next as Record<string, unknown>, at);
    if (!kept) {
      log.warn({ monitorId: m.id }, "the monitor's lease lapsed during its run; its result is not used");
      return;
    }
    for (const t of transitions) {
      if (t.event === "fire") {
        const alert = await deps.store.openAlert({
          id: nanoid(),
          monitorId: m.id,
          rule: t.rule,
          subject: t.subject,
          firedAt: at,
          evidence: t.evidence,
          link,
        });
        if (alert) await announce(m, t, alert, "fire");
      } else {
        const alert = await deps.store.resolveAlert(m.id, t.rule, t.subject, t.evidence, link);
        if (alert) await announce(m, t, alert, "resolve");
      }
    }
    log.debug({ monitorId: m.id, traces: observations.length, events: transitions.length }, "monitor ran");
  }

  async function run(m: MonitorRow): Promise<void> {
    try {
      await runOnce(m);
      deps.onRun?.("ok");
    } catch (err) {
      deps.onRun?.("error");
      log.warn({ err, monitorId: m.id }, "monitor run failed; it runs again at its next time");
      await deps.store.releaseLease(m.id, owner).catch(() => {});
    }
  }

  let ticking: Promise<void> = Promise.resolve();
  const tick = async () => {
    if (stopped) return;
    const due = await deps.store.claimDue(owner, runTimeoutMs, 20);
    for (const m of due) {
      const p = run(m).finally(() => running.delete(p));
      running.add(p);
    }
  };
  const timer = setInterval(() => {
    ticking = ticking.then(tick).catch((err) => log.warn({ err }, "could not look for due monitors"));
  }, tickMs);
  timer.unref();

  return {
    owner,
    /** Runs in progress on this replica. */
    active: () => running.size,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await ticking;
      await Promise.all([...running]);
    },
  };
}

export type MonitorRunner = ReturnType<typeof startMonitorRunner>;
