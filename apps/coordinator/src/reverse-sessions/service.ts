import { createHash, timingSafeEqual } from "node:crypto";
import type { Repository, ReverseSessionRow } from "@lg/db";
import {
  type JoinGrant,
  joinAgentId,
  type PathTestRequest,
  type ReverseSessionCreated,
  type ReverseSessionRequest,
  type ReverseSessionView,
  TraceOptions,
} from "@lg/protocol";
import { nanoid } from "nanoid";
import { ApiError, DependencyError, notFound } from "../errors";
import { database } from "../http/kit";
import type { Logger } from "../logger";
import type { MeasurementService } from "../measurements/service";
import type { PathTestService } from "../path-tests/service";
import type { BridgeSession } from "./bridge";
import { createCustomerLink, plainAddress } from "./customer";
import { joinCommand } from "./script";

export interface ReverseSessionServiceDeps {
  repo: Repository;
  pathTests: PathTestService;
  measurements: MeasurementService;
  logger: Logger;
  /** The coordinator's allow list as text, handed to join agents with their grant. */
  allowTargets: string;
  /** Stops a running trace on its agent (the session ended before the trace did). */
  cancelTrace?: (agentId: string, traceId: string) => void;
  /** Called when a session ends or expires (the bridge cuts its connections). */
  onEnded?: (sessionId: string, status: "done" | "expired") => void;
}

const ACTIVE: ReverseSessionRow["status"][] = ["waiting", "joined", "running"];
const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

export { plainAddress };

/** The options part of a request: everything but the endpoints and the expiry. */
function optionsOf(request: ReverseSessionRequest): TraceOptions {
  const { server: _s, via: _v, expiresIn: _e, ...fields } = request;
  return TraceOptions.parse(fields);
}

/**
 * Reverse sessions for customers behind NAT. A session is created with a join token (only its hash
 * is stored) and an expiry; the customer's join agent registers over HTTP (its request's source is
 * the customer's public address), connects through the join bridge, and once it is online the
 * session's legs run as path tests:
 *   server is an agent: customer <-> server (the reverse direction traces the public address);
 *   server is a host:   customer <-> neutral agent, and neutral agent -> server host.
 * States: waiting -> joined -> running -> done (every leg finished, or the customer left: the legs'
 * traces still running are cancelled), or expired when the expiry passes first.
 */
export function createReverseSessionService(deps: ReverseSessionServiceDeps) {
  const log = deps.logger.child({ module: "reverse-sessions" });

  async function load(id: string): Promise<ReverseSessionRow> {
    const row = await database("read reverse session", () => deps.repo.getReverseSession(id));
    if (!row) throw notFound("reverse session", id);
    return row;
  }

  function tokenMatches(row: ReverseSessionRow, token: string | undefined): boolean {
    return !!token && sameHash(hashToken(token), row.tokenHash);
  }

  /** The session, if `token` is its token, whatever its state (its customer may read an ended one). */
  async function withToken(id: string, token: string | undefined): Promise<ReverseSessionRow> {
    const row = await load(id);
    if (!tokenMatches(row, token))
      throw new ApiError(401, "invalid_token", "the join token is missing or wrong");
    return row;
  }

  /** The session, if `token` is its join token and it may still be joined or used. */
  async function authorize(id: string, token: string | undefined): Promise<ReverseSessionRow> {
    const row = await load(id);
    if (!tokenMatches(row, token))
      throw new ApiError(401, "invalid_token", "the join token is missing or wrong");
    if (row.status === "expired" || row.expiresAt.getTime() <= Date.now())
      throw new ApiError(410, "session_expired", `reverse session '${id}' has expired`);
    if (row.status === "done") throw new ApiError(410, "session_ended", `reverse session '${id}' has ended`);
    return row;
  }

  async function view(row: ReverseSessionRow): Promise<ReverseSessionView> {
    const legs = await database("read session legs", () => deps.repo.listPathTestsOfSession(row.id));
    return {
      id: row.id,
      status: row.status,
      created: row.created.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      server: row.server,
      via: row.via,
      customer: {
        publicAddress: row.customerAddress,
        agentId: row.customerAgentId,
        linkOpenedAt: row.linkOpenedAt?.toISOString() ?? null,
        uploadTraceId: row.uploadTraceId,
      },
      legs: await Promise.all(legs.map((l) => deps.pathTests.viewOf(l))),
    };
  }

  async function end(row: ReverseSessionRow, status: "done" | "expired", why = ""): Promise<void> {
    const changed = await deps.repo.advanceReverseSession(row.id, ACTIVE, { status, endedAt: new Date() });
    if (!changed) return;
    // Nothing of an ended session keeps probing: stop the legs' traces still running.
    const legs = await deps.repo.listPathTestsOfSession(row.id);
    for (const leg of legs) {
      for (const t of [leg.forward, leg.reverse]) {
        if (t?.agentId && (t.status === "running" || t.status === "queued"))
          deps.cancelTrace?.(t.agentId, t.id);
      }
    }
    // A customer trace still awaited will not come: its measurement ends, saying so.
    if (row.uploadTraceId) {
      await deps.repo.failUploadTrace(row.uploadTraceId, {
        source: "agent",
        message: `the customer uploaded no trace before the session ${status === "expired" ? "expired" : "ended"}`,
      });
    }
    log.info({ sessionId: row.id, status, why }, "reverse session ended");
    deps.onEnded?.(row.id, status);
  }

  /** Starts the legs once the customer's agent is online; the first replica to move the state does it. */
  async function startLegs(row: ReverseSessionRow): Promise<void> {
    const moved = await deps.repo.advanceReverseSession(row.id, ["joined"], { status: "running" });
    if (!moved) return;
    const customer = row.customerAgentId as string;
    const aAddress = row.customerAddress as string;
    const options = row.options;
    const context = { sessionId: row.id };
    try {
      if (typeof row.server === "string") {
        await deps.pathTests.create({ ...options, a: customer, b: row.server } as PathTestRequest, null, {
          ...context,
          aAddress,
        });
      } else {
        const via = row.via as string;
        await Promise.all([
          deps.pathTests.create({ ...options, a: customer, b: via } as PathTestRequest, null, {
            ...context,
            aAddress,
          }),
          deps.pathTests.create({ ...options, a: via, b: row.server } as PathTestRequest, null, context),
        ]);
      }
      log.info({ sessionId: row.id, customer: aAddress }, "reverse session legs started");
    } catch (err) {
      log.error({ err, sessionId: row.id }, "the session's legs could not start; ending the session");
      await end(row, "done");
    }
  }

  const customerLink = createCustomerLink(deps, { authorize, withToken, load });

  return {
    /** The customer's link: open (records its address), start (the reverse leg), upload (its trace). */
    customer: customerLink,

    /** The session's view as the API shows it. */
    view,

    /** The session's row (404 when there is none). */
    load,

    /**
     * Creates a session; it counts against the client's rate limit like any request that starts
     * probes. A server host is checked against the target policy now, but its probe budget is
     * reserved only when the legs start (an unjoined session holds none of it).
     */
    async create(request: ReverseSessionRequest, baseUrl: string): Promise<ReverseSessionCreated> {
      await deps.measurements.admit();
      const options = optionsOf(request);
      const { server, via } = request;
      const agents = await database("list agents", () => deps.repo.listAgents());
      if (typeof server === "string") {
        const agent = agents.find((a) => a.id === server);
        if (!agent) throw new ApiError(400, "unknown_agent", `there is no agent '${server}'`, "server");
        if (!agent.online) throw new ApiError(409, "agent_offline", `agent '${server}' is offline`, "server");
        if (via !== undefined)
          throw new ApiError(
            400,
            "invalid_field",
            "'via' is only used when the server is a host without an agent",
            "via",
          );
      } else {
        if (via === undefined)
          throw new ApiError(
            400,
            "missing_field",
            "'via' is required when the server has no agent: name a neutral agent to trace through",
            "via",
          );
        const agent = agents.find((a) => a.id === via);
        if (!agent) throw new ApiError(400, "unknown_agent", `there is no agent '${via}'`, "via");
        if (agent.role !== "neutral")
          throw new ApiError(
            400,
            "invalid_field",
            `agent '${via}' is a ${agent.role} agent, not a neutral one`,
            "via",
          );
        // The server host must pass the target policy from the neutral agent (checked now, not at
        // join); its budget is reserved by the legs, when they start.
        try {
          await deps.measurements.check({ ...options, target: server.host, from: [via] });
        } catch (err) {
          if (err instanceof ApiError && !(err instanceof DependencyError) && err.field === "target")
            throw new ApiError(err.status, err.code, err.message, "server.host", { cause: err });
          if (err instanceof ApiError && err.field === "from")
            throw new ApiError(err.status, err.code, err.message, "via", { cause: err });
          throw err;
        }
      }
      const id = nanoid();
      const token = nanoid(32);
      const expiresAt = new Date(Date.now() + request.expiresIn * 1_000);
      await database("create reverse session", () =>
        deps.repo.createReverseSession({
          id,
          tokenHash: hashToken(token),
          server,
          via: via ?? null,
          options,
          expiresAt,
        }),
      );
      const session = `${baseUrl}/api/v1/reverse-sessions/${id}`;
      const q = `?token=${encodeURIComponent(token)}`;
      log.info({ sessionId: id, server, via, expiresAt }, "reverse session created");
      return {
        id,
        expiresAt: expiresAt.toISOString(),
        command: joinCommand(`${session}/join.sh${q}`),
        joinUrl: `${session}/join${q}`,
        customerUrl: `${session}/customer${q}`,
        uploadUrl: `${session}/upload${q}`,
      };
    },

    async get(id: string): Promise<ReverseSessionView> {
      return view(await load(id));
    },

    authorize,

    /** The customer's join: records its public address (first join wins) and grants the NATS bridge. */
    async join(
      id: string,
      token: string | undefined,
      remote: string | null,
      baseUrl: string,
    ): Promise<JoinGrant> {
      const row = await authorize(id, token);
      if (!remote) throw new ApiError(400, "no_client_address", "the coordinator cannot tell your address");
      const publicAddress = plainAddress(remote);
      const agentId = joinAgentId(id);
      if (row.status !== "waiting" && !row.customerAgentId)
        throw new ApiError(
          409,
          "started_from_link",
          `reverse session '${id}' was started from the customer's link; upload the customer's trace instead`,
        );
      if (row.status === "waiting") {
        const joined = await database("join reverse session", () =>
          deps.repo.joinReverseSession(id, { address: publicAddress, agentId, at: new Date() }),
        );
        if (joined) log.info({ sessionId: id, publicAddress }, "customer joined");
      } else if (row.customerAddress !== publicAddress) {
        throw new ApiError(409, "already_joined", `reverse session '${id}' was joined from another address`);
      }
      const ws = baseUrl.replace(/^http/, "ws");
      return {
        v: 1,
        sessionId: id,
        agentId,
        region: "customer",
        natsWsUrl: `${ws}/api/v1/reverse-sessions/${id}/nats`,
        token: token as string,
        allowTargets: deps.allowTargets,
        publicAddress,
        expiresAt: row.expiresAt.toISOString(),
      };
    },

    /** The bridge's view of a session a join agent may connect to now. */
    async bridgeSession(id: string): Promise<BridgeSession | undefined> {
      const row = await deps.repo.getReverseSession(id);
      if (!row || !ACTIVE.includes(row.status)) return undefined;
      return {
        agentId: joinAgentId(id),
        expiresAt: row.expiresAt,
        tokenOk: (t) => tokenMatches(row, t),
      };
    },

    /** One pass over the active sessions: expire, start legs, finish. */
    async tick(now = new Date()): Promise<void> {
      const active = await deps.repo.listActiveReverseSessions();
      if (active.length === 0) return;
      const agents = await deps.repo.listAgents();
      for (const row of active) {
        if (row.expiresAt.getTime() <= now.getTime()) {
          await end(row, "expired");
          continue;
        }
        if (row.status === "joined") {
          const agent = agents.find((a) => a.id === row.customerAgentId);
          if (agent?.online) await startLegs(row);
        } else if (row.status === "running") {
          const legs = await deps.repo.listPathTestsOfSession(row.id);
          const views = await Promise.all(legs.map((l) => deps.pathTests.viewOf(l)));
          const customer = agents.find((a) => a.id === row.customerAgentId);
          if (views.length > 0 && views.every((v) => v.status === "done"))
            await end(row, "done", "every leg finished");
          // A session run from the customer's link has no agent to leave: it waits for the upload.
          else if (row.customerAgentId && !customer?.online) await end(row, "done", "the customer left");
        }
      }
    },
  };
}

export type ReverseSessionService = ReturnType<typeof createReverseSessionService>;
