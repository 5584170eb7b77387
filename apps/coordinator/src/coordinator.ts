import { readFile } from "node:fs/promises";
import type { Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createDb, createRepository, type DbHandle } from "@lg/db";
import { createTargetResolver, subjects } from "@lg/protocol";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Context } from "hono";
import type { CoordinatorConfig } from "./config";
import { startAsnEnrichment, startPlaceEnrichment } from "./enrich";
import { type AppDeps, createApp } from "./http/app";
import { LiveHub } from "./live/hub";
import { createLogger, type Logger } from "./logger";
import { startLoop } from "./loop";
import { createMeasurementService } from "./measurements/service";
import { createMetrics } from "./metrics/metrics";
import { startMonitorRunner } from "./monitors/runner";
import { createMonitorStore } from "./monitors/store";
import { connectNats } from "./nats";
import { createPathTestService } from "./path-tests/service";
import { startPresence } from "./presence/presence";
import { announcedRoles, credentialRoles, type RoleSource } from "./presence/roles";
import { createPrivacy } from "./privacy";
import { diagnoseFinal } from "./results/diagnose";
import { type Diagnose, startResultIngest } from "./results/ingest";
import { startRetention } from "./retention/retention";
import { createJoinBridge, type JoinBridge } from "./reverse-sessions/bridge";
import { bridgeNatsAuth } from "./reverse-sessions/join-credentials";
import { createReverseSessionService } from "./reverse-sessions/service";
import { startSecurity } from "./security";
import { currentPrincipal } from "./security/context";

export interface StartOptions {
  logger?: Logger;
  /** More addresses to serve HTTP on, with the same port (e.g. the lab's host-side address). */
  extraHosts?: string[];
  /** Diagnosis of each finished trace; default: @lg/analysis's rules. */
  diagnose?: Diagnose;
  jobTimeoutMs?: number;
  offlineAfterMs?: number;
  sweepEveryMs?: number;
  reconcileEveryMs?: number;
  /** How often reverse sessions are moved on (join, legs, expiry); default 1 s. */
  sessionEveryMs?: number;
  /** Path of the bundled join agent (default: found beside the code or in apps/agent/dist). */
  joinBundle?: string;
  /** How often due monitors are looked for; default 1 s. */
  monitorTickMs?: number;
  /** Told of every response whose status /openapi.json does not document for its route (tests). */
  onUndocumentedStatus?: AppDeps["onUndocumentedStatus"];
}

export interface RunningCoordinator {
  /** `http://host:port` of the main listener. */
  url: string;
  /** URLs of every listener, main first. */
  urls: string[];
  port: number;
  /** The Hono app (tests drive it with `app.request()`). */
  app: ReturnType<typeof createApp>;
  nc: NatsConnection;
  db: DbHandle;
  logger: Logger;
  /** Stops HTTP, the consumers and the connections; idempotent. */
  stop(): Promise<void>;
}

type Server = ReturnType<typeof serve>;

function listen(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
  hostname: string,
  port: number,
  tls?: { cert: Buffer; key: Buffer },
) {
  return new Promise<Server>((resolve, reject) => {
    const https = tls
      ? { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } }
      : {};
    const server = serve({ fetch, hostname, port, ...https }, () => resolve(server));
    server.once("error", reject);
  });
}

const urlOf = (host: string, port: number, scheme = "http") =>
  `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;

/**
 * Where agents' roles come from: with NATS_CREDS (operator mode) the credentials agents send, signed
 * within the coordinator's own account; without NATS auth, what they announce (see presence/roles.ts).
 */
async function roleSource(config: CoordinatorConfig, logger: Logger): Promise<RoleSource> {
  const log = logger.child({ module: "presence" });
  if (!config.natsCreds) {
    log.info("no NATS auth: agents' roles are taken as announced (except join- ids)");
    return announcedRoles();
  }
  const source = credentialRoles(await readFile(config.natsCreds, "utf8"), config.roleIssuers);
  if (source.kind === "credential")
    log.info(
      { account: source.account, issuers: [...source.issuers.keys()] },
      "operator mode: agents' roles come from their NATS credentials",
    );
  return source;
}

/**
 * Runs a coordinator: database (migrated), NATS, result ingest, presence, and the HTTP API.
 *
 * @example
 *   const c = await startCoordinator(loadConfig(process.env));
 *   console.log(c.url);
 *   await c.stop();
 */
export async function startCoordinator(
  config: CoordinatorConfig,
  opts: StartOptions = {},
): Promise<RunningCoordinator> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const cleanup: (() => Promise<unknown>)[] = [];
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
    cleanup.length = 0;
  };
  try {
    const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    cleanup.push(() => db.close());
    const nc = await connectNats({
      url: config.natsUrl,
      credsFile: config.natsCreds,
      name: "lg-coordinator",
      tls: config.tls.nats,
    });
    cleanup.push(() => nc.drain());
    const repo = createRepository(db.db);
    const security = startSecurity({
      db: db.db,
      settings: config.security,
      logger,
      publicUrl: config.publicUrl,
    });
    cleanup.push(async () => security.stop());

    const enrich = startAsnEnrichment(config.asn, (err) =>
      logger
        .child({ module: "enrich" })
        .warn({ err }, "an origin-AS table could not be loaded; hops go without it"),
    );
    const place = startPlaceEnrichment(
      config.geo,
      async (agentId) => (await repo.listAgents()).find((a) => a.id === agentId)?.location ?? undefined,
      (err) =>
        logger
          .child({ module: "enrich" })
          .warn({ err }, "a place table or database could not be loaded; hops go without its places"),
    );
    const ingest = await startResultIngest({
      nc,
      repo,
      logger,
      diagnose: opts.diagnose ?? diagnoseFinal,
      enrich,
      place,
      replicas: config.resultsReplicas,
    });
    cleanup.push(() => ingest.stop());
    // Target names: c-ares with a deadline, at most a few lookups at once per client (its limit
    // key); work without a client (monitor runs, session legs) is bounded per name instead.
    const targetNames = createTargetResolver({ servers: config.dnsServers });
    const resolver = targetNames.forClient(() => {
      const who = currentPrincipal();
      return who?.address ? who.clientKey : undefined;
    });
    const metrics = createMetrics({ db: db.db, nc, listAgents: () => repo.listAgents() });
    const presence = startPresence({
      nc,
      repo,
      logger,
      offlineAfterMs: opts.offlineAfterMs,
      sweepEveryMs: opts.sweepEveryMs,
      roles: await roleSource(config, logger),
      onRefused: (reason) => metrics.presenceRefused(reason),
    });
    cleanup.push(() => presence.stop());

    const hub = new LiveHub(nc);
    cleanup.push(async () => hub.close());
    const measurements = metrics.instrument(
      security.guard(
        createMeasurementService({
          repo,
          nc,
          allowList: config.allowList,
          resolver,
          logger,
          jobTimeoutMs: opts.jobTimeoutMs,
        }),
      ),
    );
    const pathTests = createPathTestService({ repo, measurements, logger });
    let bridge: JoinBridge | undefined;
    const reverseSessions = createReverseSessionService({
      repo,
      pathTests,
      measurements,
      logger,
      allowTargets: config.allowTargets,
      cancelTrace: (agentId, traceId) => {
        if (!nc.isClosed()) nc.publish(subjects.cancel(agentId), JSON.stringify({ v: 1, traceId }));
      },
      // An expired session is cut at once; a finished one gives its join agent time to see the
      // result and leave by itself.
      onEnded: (id, status) => {
        if (status === "expired") bridge?.closeSession(id);
        else setTimeout(() => bridge?.closeSession(id), 30_000).unref();
      },
    });
    bridge = createJoinBridge({
      natsUrl: config.natsUrl,
      natsTls: config.tls.nats,
      // Operator mode: a NATS user per join connection, so nats-server enforces the filter's rules.
      natsAuth: await bridgeNatsAuth(config),
      session: (id) => reverseSessions.bridgeSession(id),
      logger,
    });
    const sessionLoop = startLoop(
      "reverse session",
      () => reverseSessions.tick(),
      logger,
      opts.sessionEveryMs,
    );
    cleanup.push(() => sessionLoop.stop());
    const pathTestLoop = startLoop("path test", () => pathTests.tick(), logger, opts.sessionEveryMs);
    cleanup.push(() => pathTestLoop.stop());

    const monitorStore = createMonitorStore(db.db);
    const app = createApp({
      logger,
      monitors: {
        store: monitorStore,
        repo,
        allowList: config.allowList,
        resolver,
        webhookAllow: config.security.webhookAllow,
      },
      metrics,
      repo,
      measurements,
      pathTests,
      reverseSessions,
      security,
      publicUrl: config.publicUrl,
      privacy: createPrivacy({ policy: config.privateHops, listAgents: () => repo.listAgents() }),
      bodyLimit: { maxBytes: config.security.maxBodyBytes },
      ...(opts.joinBundle ? { joinBundle: opts.joinBundle } : {}),
      ...(opts.onUndocumentedStatus ? { onUndocumentedStatus: opts.onUndocumentedStatus } : {}),
      watch: { nc, repo, hub, reconcileEveryMs: opts.reconcileEveryMs },
      health: {
        nats: async () => {
          if (nc.isClosed()) return false;
          await nc.flush();
          return true;
        },
        database: async () => {
          await repo.ping();
          return true;
        },
      },
      clientAddress: (c) => {
        try {
          return getConnInfo(c as Context).remote.address ?? null;
        } catch {
          return null;
        }
      },
    });

    const main = await listen(app.fetch, config.host, config.port, config.tls.http);
    const port = (main.address() as AddressInfo).port;
    const servers = [main];
    for (const host of opts.extraHosts ?? [])
      servers.push(await listen(app.fetch, host, port, config.tls.http));
    // HTTP goes first on stop, so no request reaches a closed connection.
    cleanup.push(async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              (s as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        ),
      );
    });
    // Join agents reach NATS over WebSocket on every HTTP listener; cut them first on stop.
    const joinBridge = bridge;
    for (const s of servers) joinBridge.attach(s as HttpServer);
    cleanup.push(async () => joinBridge.stop());
    const urls = [config.host, ...(opts.extraHosts ?? [])].map((h) =>
      urlOf(h, port, config.tls.http ? "https" : "http"),
    );
    const monitorRunner = startMonitorRunner({
      webhookAllow: config.security.webhookAllow,
      store: monitorStore,
      repo,
      measurements,
      pathTests,
      logger,
      publicUrl: config.publicUrl ?? (urls[0] as string),
      tickMs: opts.monitorTickMs,
      onRun: metrics.monitorRun,
      onAlert: metrics.alertEvent,
    });
    cleanup.push(() => monitorRunner.stop());
    const retention = startRetention({
      db: db.db,
      policy: { ...config.retention, auditMs: config.security.auditRetentionMs },
      everyMs: config.retention.everyMs,
      logger,
      onDeleted: metrics.retentionDeleted,
    });
    cleanup.push(() => retention.stop());
    logger.info({ urls, database: db.kind, nats: config.natsUrl }, "coordinator listening");
    let stopping: Promise<void> | undefined;
    return {
      url: urls[0] as string,
      urls,
      port,
      app,
      nc,
      db,
      logger,
      stop: () => {
        stopping ??= unwind();
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
