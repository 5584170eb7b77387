import fs from "node:fs";
import path from "node:path";
import {
  type AgentCounters,
  type AgentDescriptor,
  agentInboxPrefix,
  createTargetResolver,
  DEFAULT_RESOLVE_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  type JobRejectReason,
  type JobReply,
  type JobRequest,
  PROTOCOL_VERSION,
  type PresenceMessage,
  type ResolvedTarget,
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
import { detectPublicAddresses, type InterfaceTable, localAddresses } from "./addresses";
import { type AdmissionState, admit, checkTarget, type TargetCheck } from "./admission";
import type { AgentConfig } from "./config";
import { roleOfUserJwt, userJwtOf } from "./credential";
import { createAgentTracer, type TraceEngine } from "./engine";
import { parseCancel, parseJob } from "./inbound";
import { createLogger, type Logger } from "./logger";
import { Outbox } from "./outbox";
import { countFinal, runTrace } from "./run-trace";
import { agentCapabilities } from "./support";
import { withTimeout } from "./timeout";
import { AGENT_VERSION } from "./version";

export type { TraceEngine } from "./engine";

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

interface ActiveTrace {
  controller: AbortController;
  /** Settles when the trace's final result has been handed to the outbox. */
  done: Promise<void>;
}

const RECENT_LIMIT = 1_000;

/**
 * Runs a probe agent: connects to NATS (reconnecting forever), announces itself and heartbeats on
 * `lg.presence.<id>`, answers jobs on `lg.agent.<id>.job` at once, runs accepted traces with the
 * tracer, streams progress snapshots, and publishes each final result through JetStream with the
 * trace id as message id, retrying until it is acknowledged.
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

  const interfaces = deps.interfaces;
  const resolveTimeoutMs = deps.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  // c-ares, not dns.lookup: a name that never answers holds a socket until its deadline, not one
  // of libuv's four threads. Lookups are bounded per name; LG_MAX_TRACES bounds them all.
  const targetNames = createTargetResolver({ servers: config.dnsServers, timeoutMs: resolveTimeoutMs });
  const resolver: Resolver = deps.resolver ?? ((name, family) => targetNames.lookup(name, family));
  const ownAddresses = localAddresses(interfaces);
  const hasIpv6 = [...config.publicAddresses, ...detectPublicAddresses(interfaces)].some((a) =>
    a.includes(":"),
  );
  const descriptor: AgentDescriptor = {
    id: config.id,
    region: config.region,
    role: config.role,
    version: AGENT_VERSION,
    addresses: config.publicAddresses,
    capabilities: agentCapabilities({ maxTraces: config.maxTraces, ipv6: hasIpv6, mda: true }),
  };

  /** The user JWT the agent last authenticated with: sent with presence, so the coordinator can read the role in it. */
  let userJwt: string | undefined;
  let roleWarned = false;
  const readCreds = (file: string): Uint8Array => {
    const creds = fs.readFileSync(file);
    userJwt = userJwtOf(creds);
    const credentialRole = userJwt ? roleOfUserJwt(userJwt) : undefined;
    if (credentialRole && credentialRole !== descriptor.role) {
      if (config.roleGiven && !roleWarned) {
        presenceLog.warn(
          { configured: config.role, credential: credentialRole },
          "LG_ROLE differs from the role in the NATS credentials; the credentials decide",
        );
        roleWarned = true;
      }
      descriptor.role = credentialRole;
    }
    return creds;
  };

  let readCredsError: unknown;
  if (config.natsCreds) {
    try {
      readCreds(config.natsCreds);
    } catch (err) {
      readCredsError = err;
    }
    if (readCredsError)
      throw new Error(`NATS_CREDS: cannot read ${config.natsCreds}`, { cause: readCredsError });
  }
  const credsFile = config.natsCreds;

  const tracer = deps.tracer ?? createAgentTracer();
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
    authenticator: credsFile ? credsAuthenticator(() => readCreds(credsFile)) : undefined,
    ...(config.natsTls ? { tls: config.natsTls } : {}),
  });
  natsLog.info({ server: nc.getServer() }, "connected to NATS");
  const js = jetstream(nc);

  const counters: AgentCounters = zeroAgentCounters();
  const active = new Map<string, ActiveTrace>();
  /** Ids of jobs being checked (reserved slots) before they are accepted or rejected. */
  const checking = new Set<string>();
  const recent = new Set<string>();
  let draining = false;
  /** While disconnected, heartbeats and progress are skipped rather than queued: stale ones help nobody. */
  let connected = true;

  const remember = (traceId: string) => {
    recent.add(traceId);
    if (recent.size > RECENT_LIMIT) recent.delete(recent.values().next().value as string);
  };

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

  const publishPresence = (kind: PresenceMessage["kind"]) => {
    if (nc.isClosed() || !connected) return;
    const message: PresenceMessage = {
      v: PROTOCOL_VERSION,
      kind,
      agent: descriptor,
      running: active.size,
      counters: { ...counters },
      sentAt: new Date().toISOString(),
      ...(userJwt ? { userJwt } : {}),
    };
    nc.publish(subjects.presence(config.id), JSON.stringify(message));
    presenceLog.debug({ kind, running: active.size }, "presence");
  };

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
  const reject = (msg: Msg, traceId: string, reason: JobRejectReason, message: string) => {
    counters.jobsRejected++;
    jobsLog.info({ traceId, reason, message }, "job rejected");
    reply(msg, { v: PROTOCOL_VERSION, traceId, accepted: false, reason, message });
  };

  async function onJob(msg: Msg): Promise<void> {
    const parsed = parseJob(msg.string());
    if ("invalid" in parsed) return reject(msg, parsed.invalid.traceId, "invalid", parsed.invalid.message);
    const job = parsed.job;
    const traceId = job.traceId;
    const state = (target?: TargetCheck): AdmissionState => ({
      draining,
      maxTraces: config.maxTraces,
      inFlight: active.size + checking.size,
      alreadyAccepted: active.has(traceId) || recent.has(traceId) || outbox.has(traceId),
      beingChecked: checking.has(traceId),
      capabilities: descriptor.capabilities,
      isLocalAddress: (a) => ownAddresses.has(a),
      ...(target ? { target } : {}),
    });
    const first = admit(job, state());
    if (first.verdict === "confirm") {
      // A retried request for a job already taken: confirm it, but never run it twice.
      jobsLog.info({ traceId }, "job already accepted; confirming again");
      return reply(msg, { v: PROTOCOL_VERSION, traceId, accepted: true });
    }
    if (first.verdict === "reject") return reject(msg, traceId, first.reason, first.message);
    checking.add(traceId);
    let checked: TargetCheck;
    try {
      checked = await checkTarget(job, {
        allow: config.allowList,
        resolver,
        here: config.id,
        timeoutMs: resolveTimeoutMs,
      });
    } finally {
      checking.delete(traceId);
    }
    const decision = admit(job, state(checked));
    if (decision.verdict === "reject") return reject(msg, traceId, decision.reason, decision.message);
    if (decision.verdict !== "accept") throw new Error(`unexpected admission ${decision.verdict}`);
    const resolved = decision.target;

    counters.jobsAccepted++;
    const controller = new AbortController();
    const done = runJob(job, resolved, controller.signal).catch((err) =>
      jobsLog.error({ err, traceId }, "trace bookkeeping failed"),
    );
    active.set(traceId, { controller, done });
    reply(msg, { v: PROTOCOL_VERSION, traceId, accepted: true });
    jobsLog.info({ traceId, target: job.target, address: resolved.address }, "job accepted");
  }

  async function runJob(job: JobRequest, target: ResolvedTarget, signal: AbortSignal): Promise<void> {
    const traceId = job.traceId;
    const final = await runTrace(job, target, signal, {
      agentId: config.id,
      engine: tracer,
      publishProgress: (message) => {
        if (nc.isClosed() || !connected) return;
        nc.publish(subjects.progress(config.id, traceId), JSON.stringify(message));
      },
      progressIntervalMs: deps.progressIntervalMs ?? 500,
      log: jobsLog,
    });
    countFinal(counters, final);
    outbox.add(final);
    remember(traceId);
    active.delete(traceId);
    jobsLog.info(
      { traceId, status: final.status, stoppedBy: final.stoppedBy, hops: final.hops.length },
      "trace finished",
    );
  }

  function onCancel(msg: Msg): void {
    const parsed = parseCancel(msg.string());
    if ("dropped" in parsed) {
      if (parsed.dropped === "not-json")
        jobsLog.warn({ subject: msg.subject }, "cancel message is not JSON; dropped");
      else jobsLog.warn({ issues: parsed.issues }, "malformed cancel message; dropped");
      return;
    }
    const trace = active.get(parsed.traceId);
    if (!trace) {
      jobsLog.info({ traceId: parsed.traceId }, "cancel for a trace that is not running");
      return;
    }
    jobsLog.info({ traceId: parsed.traceId }, "cancelling trace");
    trace.controller.abort();
  }

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
  subscribe(subjects.job(config.id), onJob);
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
        publishPresence(draining ? "leaving" : "heartbeat");
        outbox.retryNow();
      } else if (status.type === "error") natsLog.error({ err: status.error }, "NATS error");
    }
  })().catch(() => {});

  if (reloaded > 0) {
    // Results of the previous run go first: the announcement makes the coordinator fail the
    // traces the previous process left unfinished, and these are finished.
    await outbox.whenEmpty(deps.startupFlushTimeoutMs ?? 10_000);
  }
  publishPresence("announce");
  await nc.flush().catch(() => {});
  const heartbeat = setInterval(
    () => publishPresence(draining ? "leaving" : "heartbeat"),
    deps.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
  );
  log.info({ descriptor }, "agent ready");

  const cancelAll = () => {
    for (const trace of active.values()) trace.controller.abort();
  };

  let shuttingDown: Promise<void> | undefined;
  const shutdown = () => {
    shuttingDown ??= (async () => {
      draining = true;
      log.info({ running: active.size }, "shutting down: no new jobs, draining running traces");
      publishPresence("leaving");
      await withTimeout(nc.flush(), 2_000).catch(() => {});
      const runningNow = () => Promise.all([...active.values()].map((t) => t.done));
      if ((await withTimeout(runningNow(), config.drainTimeoutSec * 1_000)) === "timeout") {
        log.warn({ running: active.size }, "drain timeout: cancelling the traces still running");
        cancelAll();
        await withTimeout(runningNow(), 10_000);
      }
      const flushed = await outbox.whenEmpty(deps.outboxFlushTimeoutMs ?? 15_000);
      if (!flushed) {
        outboxLog.error(
          {
            unsent: outbox.size,
            kept: config.dataDir ? "in the unsent-results file" : "nowhere (no LG_DATA_DIR)",
          },
          "shutting down with final results JetStream has not acknowledged",
        );
      }
      outbox.stop();
      clearInterval(heartbeat);
      publishPresence("leaving");
      if ((await withTimeout(nc.drain(), 5_000).catch(() => "timeout")) === "timeout") await nc.close();
      await tracer.close();
      log.info("agent stopped");
    })();
    return shuttingDown;
  };

  const closed = nc.closed().then((err) => {
    if (!shuttingDown) {
      natsLog.fatal({ err }, "NATS connection closed; the agent cannot go on");
      clearInterval(heartbeat);
      outbox.stop();
      cancelAll();
    }
    return err ?? undefined;
  });

  return {
    descriptor,
    connection: nc,
    closed,
    running: () => [...active.keys()],
    counters: () => ({ ...counters }),
    unsentResults: () => outbox.size,
    shutdown,
    cancelAll,
  };
}
