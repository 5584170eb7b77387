import type { Repository, TraceRow } from "@lg/db";
import { OFFLINE_AFTER_MS, PresenceMessage, subjects } from "@lg/protocol";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { publishTraceChange } from "../live/publish";
import type { Logger } from "../logger";

export interface PresenceDeps {
  nc: NatsConnection;
  repo: Repository;
  logger: Logger;
  offlineAfterMs?: number;
  sweepEveryMs?: number;
}

/** Queue group: each heartbeat is written by one replica. */
const PRESENCE_QUEUE = "lg-coordinator-presence";
const RESTART_MARGIN_MS = 2_000;

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
    const now = new Date();
    await deps.repo.upsertAgent(message, now);
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
