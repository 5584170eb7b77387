import { readFileSync } from "node:fs";
import type { IncomingMessage, Server } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { WebSocketServer } from "ws";
import type { Logger } from "../logger";
import { type JoinUser, type JoinUserMinter, joinPermissions } from "./join-credentials";
import { type FilterOutput, JoinProtocolFilter } from "./nats-filter";
import { MAX_PAYLOAD } from "./nats-protocol";

/** What the bridge needs to know about a session before it lets a join agent in. */
export interface BridgeSession {
  agentId: string;
  expiresAt: Date;
  tokenOk(token: string | undefined): boolean;
}

/**
 * How the bridge authenticates to nats-server:
 * - `none`: the server has no auth (`lg up`, the demo); it trusts every client and the bridge's
 *   filter is the only guard;
 * - `minted`: operator mode; every connection gets its own user JWT from the join template,
 *   expiring with its session, so nats-server enforces the same permissions as the filter;
 * - `unavailable`: the server needs credentials the bridge cannot make; join connections are
 *   refused (503) rather than dialled anonymously.
 */
export type BridgeNatsAuth =
  | { kind: "none" }
  | { kind: "minted"; minter: JoinUserMinter }
  | { kind: "unavailable"; reason: string };

export interface BridgeDeps {
  /** The NATS servers the coordinator uses (`NATS_URL`: a comma-separated list, tried in order). */
  natsUrl: string;
  /** TLS towards NATS (`LG_TLS_*`); used for `tls://` URLs and servers that require TLS. */
  natsTls?: { caFile?: string; certFile?: string; keyFile?: string } | undefined;
  /** Default `none`. */
  natsAuth?: BridgeNatsAuth;
  /** The session if a join agent may connect to it now (waiting, joined or running, not expired). */
  session(id: string): Promise<BridgeSession | undefined>;
  logger: Logger;
}

const PATH = /^\/api\/v1\/reverse-sessions\/([A-Za-z0-9_-]+)\/nats$/;
/** How long to wait for a NATS server to answer with its INFO before trying the next one. */
const DIAL_TIMEOUT_MS = 5_000;
/** Refused commands logged per WebSocket message (a hostile client may send thousands). */
const LOGGED_REFUSALS = 5;

interface NatsAddress {
  host: string;
  port: number;
  tls: boolean;
}

function natsAddresses(natsUrl: string): NatsAddress[] {
  return natsUrl
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const url = new URL(s.includes("://") ? s : `nats://${s}`);
      return {
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: Number(url.port || 4222),
        tls: url.protocol === "tls:",
      };
    });
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Opens a connection to one NATS server and reads its INFO line; switches to TLS when the URL says
 * `tls://`, the server requires it, or TLS settings are given (nats-server 2.9 greets in plain text
 * first, then expects the handshake).
 */
function dialOne(
  address: NatsAddress,
  tlsFiles: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined,
): Promise<{ socket: net.Socket; greeting: Buffer }> {
  return new Promise((resolve, reject) => {
    const tcp = net.connect({ host: address.host, port: address.port });
    let buffered = Buffer.alloc(0);
    const fail = (err: Error) => {
      clearTimeout(timer);
      tcp.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error("no INFO from the server in time")), DIAL_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      const lf = buffered.indexOf(10);
      if (lf < 0) {
        if (buffered.length > MAX_PAYLOAD) fail(new Error("the server's greeting is too long"));
        return;
      }
      tcp.off("data", onData);
      tcp.pause();
      const greeting = buffered.subarray(0, lf + 1);
      let info: { tls_required?: unknown };
      try {
        info = JSON.parse(greeting.toString("utf8").replace(/^INFO\s+/i, "")) as typeof info;
      } catch {
        return fail(new Error("the server did not greet with INFO"));
      }
      if (!address.tls && info.tls_required !== true && !tlsFiles) {
        clearTimeout(timer);
        tcp.off("error", fail);
        // Anything after the INFO line belongs to the protocol: give it back.
        const rest = buffered.subarray(lf + 1);
        if (rest.length > 0) tcp.unshift(rest);
        return resolve({ socket: tcp, greeting });
      }
      const secure = tls.connect({
        socket: tcp,
        host: address.host,
        ...(net.isIP(address.host) ? {} : { servername: address.host }),
        ...tlsFiles,
      });
      secure.once("secureConnect", () => {
        clearTimeout(timer);
        tcp.off("error", fail);
        secure.off("error", fail);
        resolve({ socket: secure, greeting });
      });
      secure.once("error", fail);
    };
    tcp.on("data", onData);
    tcp.once("error", fail);
  });
}

/**
 * NATS over WebSocket on the coordinator's own HTTP port, for join agents on networks that block
 * NATS's port: `GET /api/v1/reverse-sessions/{id}/nats` upgrades to a WebSocket whose binary
 * frames carry the NATS protocol to and from a connection to nats-server. Both directions go through
 * {@link JoinProtocolFilter}: the client's commands are parsed by nats-server's rules, checked
 * against the session's permissions and re-encoded; the server's INFO is rewritten and the reply
 * subjects it delivers are noted. In operator mode each connection authenticates as its own user
 * (`natsAuth`). The connection is cut when the session expires or ends.
 */
export function createJoinBridge(deps: BridgeDeps) {
  const log = deps.logger.child({ module: "join-bridge" });
  // A WebSocket message carries at most one payload and its control line, or a few small commands.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * MAX_PAYLOAD });
  const open = new Map<string, Set<() => void>>();
  const addresses = natsAddresses(deps.natsUrl);
  const auth = deps.natsAuth ?? { kind: "none" };
  const tlsFiles = deps.natsTls
    ? {
        ...(deps.natsTls.caFile ? { ca: readFileSync(deps.natsTls.caFile) } : {}),
        ...(deps.natsTls.certFile ? { cert: readFileSync(deps.natsTls.certFile) } : {}),
        ...(deps.natsTls.keyFile ? { key: readFileSync(deps.natsTls.keyFile) } : {}),
      }
    : undefined;
  if (auth.kind === "unavailable") log.error({ reason: auth.reason }, "join agents cannot connect");

  async function dial(): Promise<{ socket: net.Socket; greeting: Buffer }> {
    let last: unknown;
    for (const address of addresses) {
      try {
        return await dialOne(address, tlsFiles);
      } catch (err) {
        last = err;
        log.warn({ err: (err as Error).message, host: address.host, port: address.port }, "NATS dial failed");
      }
    }
    throw last ?? new Error("NATS_URL lists no server");
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const m = PATH.exec(path);
    if (!m) return refuse(socket, 404, "Not Found");
    const sessionId = m[1] as string;
    let session: BridgeSession | undefined;
    try {
      session = await deps.session(sessionId);
    } catch (err) {
      log.error({ err, sessionId }, "could not read the session for a join connection");
      return refuse(socket, 503, "Service Unavailable");
    }
    if (!session || session.expiresAt.getTime() <= Date.now()) return refuse(socket, 410, "Gone");
    if (auth.kind === "unavailable") {
      log.error({ sessionId, reason: auth.reason }, "join connection refused: no NATS credentials for it");
      return refuse(socket, 503, "Service Unavailable");
    }
    const s = session;
    let user: JoinUser | undefined;
    let permissions: ReturnType<typeof joinPermissions>;
    let nats: { socket: net.Socket; greeting: Buffer };
    try {
      permissions = joinPermissions(s.agentId);
      if (auth.kind === "minted") user = await auth.minter.mint(s.agentId, s.expiresAt);
      nats = await dial();
    } catch (err) {
      log.error({ err: (err as Error).message, sessionId }, "join connection refused: NATS not reachable");
      return refuse(socket, 503, "Service Unavailable");
    }
    const tcp = nats.socket;
    // Until the connection is wired below, an error must not go unhandled.
    tcp.on("error", () => {});
    if (socket.destroyed) {
      tcp.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const filter = new JoinProtocolFilter({
        agentId: s.agentId,
        permissions,
        tokenOk: (t) => s.tokenOk(t),
        credentials: user ? (nonce) => (user as JoinUser).connectFields(nonce) : undefined,
      });
      let closed = false;
      /** `graceful`: let what was already passed on (a last result, a leaving message) reach NATS. */
      const close = (graceful = false) => {
        if (closed) return;
        closed = true;
        clearTimeout(expiry);
        open.get(sessionId)?.delete(cut);
        if (graceful) tcp.end();
        else tcp.destroy();
        ws.close();
      };
      const cut = () => close(false);
      const expiry = setTimeout(() => {
        log.info({ sessionId }, "session expired; closing the join connection");
        cut();
      }, s.expiresAt.getTime() - Date.now());
      const set = open.get(sessionId) ?? new Set<() => void>();
      open.set(sessionId, set);
      set.add(cut);

      const apply = (out: FilterOutput) => {
        if (closed) return;
        for (const b of out.toServer) tcp.write(b);
        for (const b of out.toClient) ws.send(b, { binary: true });
        if (out.refused.length > 0)
          log.warn(
            { sessionId, refused: out.refused.slice(0, LOGGED_REFUSALS), count: out.refused.length },
            "join agent refused an operation",
          );
        // The -ERR goes out first (ws sends in order, its close frame last).
        if (out.close) close(true);
      };
      tcp.on("data", (d: Buffer) => apply(filter.fromServer(d)));
      tcp.on("error", (err) => {
        log.warn({ err: err.message, sessionId }, "NATS side of a join connection failed");
        cut();
      });
      tcp.on("close", cut);
      ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
        const chunk = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        apply(filter.fromClient(chunk));
      });
      ws.on("close", () => close(true));
      ws.on("error", cut);
      apply(filter.fromServer(nats.greeting));
      tcp.resume();
      log.info(
        { sessionId, agentId: s.agentId, ...(user ? { natsUser: user.publicKey } : {}) },
        "join agent connected over WebSocket",
      );
    });
  }

  return {
    /** Serves the bridge on an HTTP server's upgrade requests. */
    attach(server: Server): void {
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        void onUpgrade(req, socket, head).catch((err) => {
          log.error({ err }, "join upgrade failed");
          socket.destroy();
        });
      });
    },
    /** Cuts every join connection of a session (it ended or expired). */
    closeSession(id: string): void {
      for (const close of [...(open.get(id) ?? [])]) close();
      open.delete(id);
    },
    /** Cuts every join connection. */
    stop(): void {
      for (const id of [...open.keys()]) this.closeSession(id);
      wss.close();
    },
  };
}

export type JoinBridge = ReturnType<typeof createJoinBridge>;
