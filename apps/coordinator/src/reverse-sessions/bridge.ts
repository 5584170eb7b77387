import type { IncomingMessage, Server } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { Logger } from "../logger";
import { ClientOpFilter } from "./nats-filter";

/** What the bridge needs to know about a session before it lets a join agent in. */
export interface BridgeSession {
  agentId: string;
  expiresAt: Date;
  tokenOk(token: string | undefined): boolean;
}

export interface BridgeDeps {
  /** The NATS server the coordinator uses (first URL of a list). */
  natsUrl: string;
  /** The session if a join agent may connect to it now (waiting, joined or running, not expired). */
  session(id: string): Promise<BridgeSession | undefined>;
  logger: Logger;
}

const PATH = /^\/api\/v1\/reverse-sessions\/([A-Za-z0-9_-]+)\/nats$/;

function natsAddress(natsUrl: string): { host: string; port: number } {
  const first = natsUrl.split(",")[0]?.trim() ?? "";
  const url = new URL(first.includes("://") ? first : `nats://${first}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 4222) };
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * NATS over WebSocket on the coordinator's own HTTP port, for join agents on networks that block
 * NATS's port: `GET /api/v1/reverse-sessions/{id}/nats` upgrades to a WebSocket whose binary
 * frames carry the NATS protocol to and from a TCP connection to nats-server. What the client sends
 * goes through {@link ClientOpFilter} (session token, own subjects only); the connection is cut when
 * the session expires or ends.
 */
export function createJoinBridge(deps: BridgeDeps) {
  const log = deps.logger.child({ module: "join-bridge" });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * 1_048_576 });
  const open = new Map<string, Set<() => void>>();

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
    const s = session;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const filter = new ClientOpFilter({ agentId: s.agentId, tokenOk: (t) => s.tokenOk(t) });
      const { host, port } = natsAddress(deps.natsUrl);
      const tcp = net.connect({ host, port });
      let closed = false;
      /** `graceful`: let what the client sent last (its leaving message, its drain) reach NATS first. */
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

      tcp.on("data", (d: Buffer) => ws.send(d, { binary: true }));
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
        const out = filter.push(chunk);
        for (const b of out.forward) tcp.write(b);
        for (const r of out.replies) ws.send(Buffer.from(`${r}\r\n`), { binary: true });
        if (out.replies.length > 0)
          log.warn({ sessionId, refused: out.replies }, "join agent refused an operation");
        if (out.close) setTimeout(cut, 50);
      });
      ws.on("close", () => close(true));
      ws.on("error", cut);
      log.info({ sessionId, agentId: s.agentId }, "join agent connected over WebSocket");
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
