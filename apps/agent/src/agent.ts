import path from "node:path";
import {
  type AgentCounters,
  type AgentDescriptor,
  agentInboxPrefix,
  createTargetResolver,
  DEFAULT_RESOLVE_TIMEOUT_MS,
  type FlowControl,
  type JobReply,
  type Resolver,
  subjects,
  zeroAgentCounters,
} from "@lg/protocol";
import { jetstream } from "@nats-io/jetstream";
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type Msg,
  type NatsConnection,
} from "@nats-io/transport-node";
import { type InterfaceTable, localAddresses } from "./addresses";
import { checkTarget } from "./admission";
import type { AgentConfig } from "./config";
import { AgentCredentials } from "./credential";
import { createAgentTracer, freeFlowsHelper, type TraceEngine } from "./engine";
import { parseCancel } from "./inbound";
import { createJobDesk } from "./jobs";
import { createLogger, type Logger } from "./logger";
import { Outbox } from "./outbox";
import { agentDescriptor, Presence } from "./presence";
import { countFinal, runTrace } from "./run-trace";
import { createShutdown } from "./shutdown";
import { detectFlowControl } from "./support";
import { TraceRegistry } from "./traces";

export interface AgentDeps {
  tracer?: TraceEngine;
  logger?: Logger;
  /** Period of heartbeats; default HEARTBEAT_INTERVAL_MS (5 s). */
  heartbeatIntervalMs?: number;
  /** Smallest gap between two progress snapshots of one trace; default 500 ms. */
  progressIntervalMs?: number;
  /** Target name resolution (default: c-ares, `LG_DNS_SERVERS` or /etc/resolv.conf, then /etc/hosts). */
  resolver?: Resolver;
  /**
   * Longest wait for resolving a job's target before refusing it; default 2 s
   * (DEFAULT_RESOLVE_TIMEOUT_MS), so the refusal reaches the coordinator within its 3 s job timeout.
   */
  resolveTimeoutMs?: number;
  /** The host's interfaces (default: os.networkInterfaces()). */
  interfaces?: InterfaceTable;
  /** Backoff of final-result retries; default 500 ms doubling up to 15 s. */
  outboxRetry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** How long the start waits for results left by an earlier run before announcing; default 10 s. */
  startupFlushTimeoutMs?: number;
  /** How long shutdown waits for unacknowledged results before giving up on them; default 15 s. */
  outboxFlushTimeoutMs?: number;
  /** Opens the NATS connection (default: TCP; the join agent passes NATS over WebSocket). */
  connect?: (opts: ConnectionOptions) => Promise<NatsConnection>;
  /**
   * Which flows this agent announces it can hold; default: asked of lg-probe at start
   * (`detectFlowControl`). Tests pass it so the answer does not depend on the host.
   */
  flowControl?: FlowControl;
}

export interface RunningAgent {
  readonly descriptor: AgentDescriptor;
  readonly connection: NatsConnection;
  /** Trace ids currently running. */
  running(): string[];
  counters(): AgentCounters;
  /** Final results not yet acknowledged by JetStream. */
  unsentResults(): number;
  /**
   * Stops taking jobs (announcing `leaving`), lets running traces finish (cancelling those still
   * running after the drain timeout), waits for their results to be stored, then disconnects.
   * Idempotent; resolves when the agent is closed.
   */
  shutdown(): Promise<void>;
  /** Cancels every running trace now; each still publishes a final result (stoppedBy "cancelled"). */
  cancelAll(): void;
  /**
   * Resolves when the NATS connection is closed for good: after shutdown(), or on its own (e.g.
   * credentials refused), in which case it resolves with the reason.
   */
  closed: Promise<Error | undefined>;
}

/**
 * Runs a probe agent: connects to NATS (reconnecting forever), announces itself and heartbeats on
 * `lg.presence.<id>`, answers jobs on `lg.agent.<id>.job` at once, runs accepted traces with the
 * tracer, streams progress snapshots, and publishes each final result through JetStream with the
 * trace id as message id, retrying until it is acknowledged.
 *
 * This function only wires: NATS subscriptions to the handlers (`jobs.ts`, `inbound.ts`), and the
 * handlers' outputs (replies, progress, presence, final results) to NATS publishes.
 *
 * @example
 * const agent = await runAgent(parseAgentConfig(process.env));
 * process.once("SIGTERM", () => void agent.shutdown());
 */
export async function runAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<RunningAgent> {
  const log = deps.logger ?? createLogger(config.logLevel, { agent: config.id });
  const jobsLog = log.child({ module: "jobs" });
  const presenceLog = log.child({ module: "presence" });
  const outboxLog = log.child({ module: "outbox" });
  const natsLog = log.child({ module: "nats" });

  const resolveTimeoutMs = deps.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  // c-ares, not dns.lookup: a name that never answers holds a socket until its deadline, not one
  // of libuv's four threads. Lookups are bounded per name; LG_MAX_TRACES bounds them all.
  const targetNames = createTargetResolver({ servers: config.dnsServers, timeoutMs: resolveTimeoutMs });
  const resolver: Resolver = deps.resolver ?? ((name, family) => targetNames.lookup(name, family));
  const ownAddresses = localAddresses(deps.interfaces);
  const flowControl = deps.flowControl ?? (await detectFlowControl(config.probeHelper));
  const descriptor = agentDescriptor(config, deps.interfaces, flowControl);

  const creds = config.natsCreds
    ? new AgentCredentials(config.natsCreds, descriptor, {
        roleGiven: config.roleGiven,
        warn: (fields, message) => presenceLog.warn(fields, message),
      })
    : undefined;
  if (creds) {
    try {
      creds.read();
    } catch (err) {
      throw new Error(`NATS_CREDS: cannot read ${config.natsCreds}`, { cause: err });
    }
  }

  const tracer =
    deps.tracer ??
    createAgentTracer({
      freeFlows: freeFlowsHelper(config.maxTraces),
      ...(config.probeHelper ? { lgProbePath: config.probeHelper } : {}),
    });
  natsLog.info({ servers: config.natsUrl }, "connecting to NATS");
  const nc = await (deps.connect ?? connect)({
    servers: config.natsUrl.split(",").map((s) => s.trim()),
    name: `lg-agent ${config.id}`,
    inboxPrefix: agentInboxPrefix(config.id),
    // An agent outlives any NATS outage: keep trying, also for the first connection.
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 1_000,
    // Read the creds file on every (re)connect so rotated credentials are picked up.
    authenticator: creds ? credsAuthenticator(() => creds.read()) : undefined,
    ...(config.natsTls ? { tls: config.natsTls } : {}),
  });
  natsLog.info({ server: nc.getServer() }, "connected to NATS");
  const js = jetstream(nc);

  /** While disconnected, heartbeats and progress are skipped rather than queued: stale ones help nobody. */
  let connected = true;
  const publishLive = (subject: string, message: unknown): boolean => {
    if (nc.isClosed() || !connected) return false;
    nc.publish(subject, JSON.stringify(message));
    return true;
  };

  const counters: AgentCounters = zeroAgentCounters();
  const traces = new TraceRegistry();

  const outbox = new Outbox(
    async (result) => {
      const ack = await js.publish(subjects.final(config.id, result.traceId), JSON.stringify(result), {
        msgID: result.traceId,
        timeout: 5_000,
      });
      return { duplicate: ack.duplicate };
    },
    {
      file: config.dataDir ? path.join(config.dataDir, `agent-${config.id}-unsent-results.json`) : undefined,
      ...deps.outboxRetry,
      onStored: (traceId, duplicate) => outboxLog.info({ traceId, duplicate }, "final result stored"),
      onRetry: (traceId, err, retryInMs) =>
        outboxLog.warn(
          { traceId, err: (err as Error).message, retryInMs },
          "final result not acknowledged; retrying",
        ),
      onFileError: (err) => outboxLog.error({ err }, "unsent-results file failed"),
    },
  );
  const reloaded = outbox.load();
  if (reloaded > 0) outboxLog.info({ count: reloaded }, "publishing results left unsent by an earlier run");

  const presence = new Presence({
    state: () => ({ descriptor, running: traces.running, counters, userJwt: creds?.userJwt }),
    draining: () => traces.draining,
    send: (message) => {
      if (publishLive(subjects.presence(config.id), message)) {
        presenceLog.debug({ kind: message.kind, running: message.running }, "presence");
      }
    },
    heartbeatIntervalMs: deps.heartbeatIntervalMs,
  });

  const takeJob = createJobDesk({
    traces,
    counters,
    maxTraces: config.maxTraces,
    capabilities: descriptor.capabilities,
    isLocalAddress: (a) => ownAddresses.has(a),
    isUnsent: (traceId) => outbox.has(traceId),
    checkTarget: (job) =>
      checkTarget(job, { allow: config.allowList, resolver, here: config.id, timeoutMs: resolveTimeoutMs }),
    run: async (job, target, signal) => {
      const final = await runTrace(job, target, signal, {
        agentId: config.id,
        engine: tracer,
        publishProgress: (message) => publishLive(subjects.progress(config.id, job.traceId), message),
        progressIntervalMs: deps.progressIntervalMs ?? 500,
        log: jobsLog,
      });
      countFinal(counters, final);
      outbox.add(final);
      jobsLog.info(
        { traceId: job.traceId, status: final.status, stoppedBy: final.stoppedBy, hops: final.hops.length },
        "trace finished",
      );
    },
    log: jobsLog,
  });

  const reply = (msg: Msg, answer: JobReply) => {
    if (!msg.reply) {
      jobsLog.warn({ traceId: answer.traceId }, "job arrived without a reply subject; answer dropped");
      return;
    }
    try {
      msg.respond(JSON.stringify(answer));
    } catch (err) {
      jobsLog.warn({ err, traceId: answer.traceId }, "could not answer a job");
    }
  };

  const onCancel = (msg: Msg): void => {
    const parsed = parseCancel(msg.string());
    if ("dropped" in parsed) {
      if (parsed.dropped === "not-json")
        jobsLog.warn({ subject: msg.subject }, "cancel message is not JSON; dropped");
      else jobsLog.warn({ issues: parsed.issues }, "malformed cancel message; dropped");
      return;
    }
    const { traceId } = parsed;
    if (traces.cancel(traceId)) jobsLog.info({ traceId }, "cancelling trace");
    else jobsLog.info({ traceId }, "cancel for a trace that is not running");
  };

  const subscribe = (subject: string, handle: (msg: Msg) => void | Promise<void>) =>
    nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          natsLog.error({ err, subject }, "subscription failed");
          return;
        }
        // Whatever arrives, the process stays up: a handler's failure is logged, never thrown.
        try {
          const pending = handle(msg);
          if (pending)
            pending.catch((e: unknown) => jobsLog.error({ err: e, subject }, "message handling failed"));
        } catch (e) {
          jobsLog.error({ err: e, subject }, "message handling failed");
        }
      },
    });
  subscribe(subjects.job(config.id), async (msg) => reply(msg, await takeJob(msg.string())));
  subscribe(subjects.cancel(config.id), onCancel);

  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        connected = false;
        natsLog.warn({ server: status.server }, "disconnected from NATS");
      } else if (status.type === "reconnect") {
        connected = true;
        natsLog.info({ server: status.server }, "reconnected to NATS");
        // Tell the coordinator at once that we are back. Not "announce": that means a fresh process
        // running nothing, and the coordinator fails such an agent's unfinished traces.
        presence.beat();
        outbox.retryNow();
      } else if (status.type === "error") natsLog.error({ err: status.error }, "NATS error");
    }
  })().catch(() => {});

  if (reloaded > 0) {
    // Results of the previous run go first: the announcement makes the coordinator fail the
    // traces the previous process left unfinished, and these are finished.
    await outbox.whenEmpty(deps.startupFlushTimeoutMs ?? 10_000);
  }
  presence.announce();
  await nc.flush().catch(() => {});
  presence.startHeartbeat();
  log.info({ descriptor }, "agent ready");

  const shutdown = createShutdown({
    traces,
    presence,
    outbox,
    connection: nc,
    closeEngine: () => tracer.close(),
    drainTimeoutMs: config.drainTimeoutSec * 1_000,
    outboxFlushTimeoutMs: deps.outboxFlushTimeoutMs,
    unsentKept: config.dataDir ? "in the unsent-results file" : "nowhere (no LG_DATA_DIR)",
    log,
  });

  const closed = nc.closed().then((err) => {
    if (!shutdown.started) {
      natsLog.fatal({ err }, "NATS connection closed; the agent cannot go on");
      presence.stopHeartbeat();
      outbox.stop();
      traces.cancelAll();
    }
    return err ?? undefined;
  });

  return {
    descriptor,
    connection: nc,
    closed,
    running: () => traces.ids(),
    counters: () => ({ ...counters }),
    unsentResults: () => outbox.size,
    shutdown: () => shutdown.run(),
    cancelAll: () => traces.cancelAll(),
  };
}
