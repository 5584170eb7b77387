import type { Repository, TraceRow } from "@lg/db";
import { OFFLINE_AFTER_MS, PresenceMessage, subjects } from "@lg/protocol";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { publishTraceChange } from "../live/publish";
import type { Logger } from "../logger";
import { announcedRoles, decideRole, type RoleRefusal, type RoleSource } from "./roles";

export interface PresenceDeps {
  nc: NatsConnection;
  repo: Repository;
  logger: Logger;
  offlineAfterMs?: number;
  sweepEveryMs?: number;
  /** Where agents' roles come from (default: as announced, for a coordinator without NATS auth). */
  roles?: RoleSource;
  /** Called for each presence message dropped because it proved no role (operator mode). */
  onRefused?(reason: RoleRefusal): void;
}

/** Queue group: each heartbeat is written by one replica. */
const PRESENCE_QUEUE = "lg-coordinator-presence";
const RESTART_MARGIN_MS = 2_000;
/** A refused or overridden agent heartbeats every 5 s: warn about it once a minute, not each time. */
const ROLE_WARNING_EVERY_MS = 60_000;
/** Agents remembered for that (many more means an attack or a fleet-wide mistake: start over). */
const ROLE_WARNING_KEYS_MAX = 10_000;

/**
 * Keeps the agents table current from NATS presence messages, and sweeps: an agent silent for
 * `offlineAfterMs` is offline, and its unfinished traces fail with source `agent`.
 */
export function startPresence(deps: PresenceDeps): { stop(): Promise<void> } {
  const log = deps.logger.child({ module: "presence" });
  const offlineAfterMs = deps.offlineAfterMs ?? OFFLINE_AFTER_MS;

  const publish = (rows: TraceRow[]) => {
    for (const row of rows) publishTraceChange(deps.nc, row);
  };

  const roles = deps.roles ?? announcedRoles();
  const warnedAt = new Map<string, number>();
  /** True when this (agent, what) was not warned about in the last minute. */
  const shouldWarn = (key: string) => {
    const now = Date.now();
    const last = warnedAt.get(key);
    if (last !== undefined && now - last < ROLE_WARNING_EVERY_MS) return false;
    if (warnedAt.size >= ROLE_WARNING_KEYS_MAX) warnedAt.clear();
    warnedAt.set(key, now);
    return true;
  };

  async function onPresence(subject: string, payload: unknown): Promise<void> {
    const parsed = PresenceMessage.safeParse(payload);
    if (!parsed.success) {
      log.warn({ subject, issue: parsed.error.issues[0] }, "dropping a presence message that does not parse");
      return;
    }
    const message = parsed.data;
    if (subject !== subjects.presence(message.agent.id)) {
      log.warn(
        { subject, agentId: message.agent.id },
        "dropping a presence message for another agent's subject",
      );
      return;
    }
    // The role is the coordinator's to decide (see roles.ts): never what the agent announces
    // when its id or its credentials say otherwise.
    const decision = decideRole(roles, message.agent.id, message);
    if ("refused" in decision) {
      deps.onRefused?.(decision.refused);
      if (shouldWarn(`${message.agent.id} refused ${decision.refused}`))
        log.warn(
          { agentId: message.agent.id, reason: decision.refused, detail: decision.detail },
          "ignoring an agent whose presence proves no role (operator mode needs a valid lg-role credential)",
        );
      return;
    }
    if (decision.role !== message.agent.role && shouldWarn(`${message.agent.id} role ${message.agent.role}`))
      log.warn(
        { agentId: message.agent.id, announced: message.agent.role, role: decision.role },
        "agent announced a role it does not have; recording the role it has",
      );
    const recorded: PresenceMessage =
      decision.role === message.agent.role
        ? message
        : { ...message, agent: { ...message.agent, role: decision.role } };
    const now = new Date();
    await deps.repo.upsertAgent(recorded, now);
    if (message.kind === "announce" && message.running === 0) {
      // A fresh process runs nothing: traces its predecessor accepted (before a margin for
      // replies still in flight) will never report.
      const before = new Date(now.getTime() - RESTART_MARGIN_MS);
      const orphans = await deps.repo.failTracesOfRestartedAgent(message.agent.id, before, {
        source: "agent",
        message: `agent ${message.agent.id} restarted mid-trace`,
      });
      publish(orphans);
      log.info({ agentId: message.agent.id, region: message.agent.region }, "agent announced");
    }
  }

  // Heartbeats sent while this replica was down or cut off from NATS never reached it, so an
  // agent's silence counts only from when it started listening (again): a restarted
  // coordinator must not fail every running trace because it missed the last few heartbeats.
  let listeningSince = Date.now();
  void (async () => {
    for await (const s of deps.nc.status()) if (s.type === "reconnect") listeningSince = Date.now();
  })().catch(() => {});

  const sub: Subscription = deps.nc.subscribe(subjects.presenceAll, {
    queue: PRESENCE_QUEUE,
    callback: (err, msg) => {
      if (err) return;
      let payload: unknown;
      try {
        payload = msg.json();
      } catch {
        log.warn({ subject: msg.subject }, "dropping a presence message that is not JSON");
        return;
      }
      onPresence(msg.subject, payload).catch((e) => {
        // A heartbeat that could not be written (database down) is one this replica did not hear.
        listeningSince = Date.now();
        log.error({ err: e }, "could not record presence");
      });
    },
  });

  let sweeping: Promise<void> = Promise.resolve();
  const sweep = async () => {
    if (Date.now() - listeningSince < offlineAfterMs) return;
    const cutoff = new Date(Date.now() - offlineAfterMs);
    const offline = await deps.repo.markSilentAgentsOffline(cutoff);
    if (offline.length > 0) log.warn({ agents: offline }, "agents went offline");
    const failed = await deps.repo.failTracesOfSilentAgents(cutoff, {
      source: "agent",
      message: "agent went offline mid-trace",
    });
    if (failed.length > 0)
      log.warn({ traces: failed.map((t) => t.id) }, "traces failed: their agent went offline");
    publish(failed);
  };
  const timer = setInterval(() => {
    sweeping = sweep().catch((err) => log.error({ err }, "presence sweep failed"));
  }, deps.sweepEveryMs ?? 1_000);
  sweeping = sweep().catch((err) => log.error({ err }, "presence sweep failed"));

  return {
    async stop() {
      clearInterval(timer);
      sub.unsubscribe();
      await sweeping;
    },
  };
}
