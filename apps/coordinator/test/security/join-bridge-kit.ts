/**
 * A test bench for the reverse-session NATS bridge: a real nats-server (no auth: it trusts every
 * client, so the bridge is the only guard), a recording TCP proxy between the bridge and that
 * server, the bridge on its own HTTP server with sessions made up by the test, a trusted NATS
 * client that sends the "coordinator's" job requests and spies on every message (`>`), and a raw
 * WebSocket client that writes whatever bytes a test gives it.
 *
 * Two oracles, written independently of the bridge's own parser:
 * - {@link auditProxy} reads every byte nats-server received from the bridge and requires it to
 *   be canonical NATS (one space between fields, CRLF, exact sizes, printable subjects) and each
 *   command to be allowed for the session's agent; a reply subject may be published to once, and
 *   only after nats-server delivered it to that connection.
 * - {@link auditSpy} checks every message nats-server actually routed: only the agents' own
 *   subjects, and each received reply subject at most once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findFreePort, type NatsServer, startNatsServer } from "@lg/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import WebSocket from "ws";
import { type BridgeDeps, createJoinBridge, type JoinBridge } from "../../src/reverse-sessions/bridge";

/** Payload of the trusted client's job requests; nothing a test generates looks like it. */
export const REQUEST_MARK = "trusted-request-7f3c9a1e5b";

export interface Recorded {
  id: number;
  /** Chunks with a global sequence number, in both directions. */
  c2s: { seq: number; data: Buffer }[];
  s2c: { seq: number; data: Buffer }[];
  /** Resolves when nats-server's side of the connection has closed. */
  closed: Promise<void>;
}

export interface SpyMessage {
  subject: string;
  reply: string | undefined;
  data: Buffer;
}

export interface BridgeLab {
  nats: NatsServer;
  monitorUrl: string;
  /** `ws://…/api/v1/reverse-sessions/<id>/nats` for a session id. */
  wsUrl(sessionId: string): string;
  /** Every connection the bridge made through the proxy, in order. */
  proxied: Recorded[];
  bridge: JoinBridge;
  /** A session whose join agent is `agentId`; returns its id and token. */
  addSession(agentId: string, opts?: { expiresInMs?: number }): { id: string; token: string };
  trusted: NatsConnection;
  spy: SpyMessage[];
  /** Reply subjects the trusted client sent requests with, and to which agent. */
  requested: Map<string, string>;
  /** Sends a job request to `agentId` with reply subject `reply` (as the coordinator would). */
  request(agentId: string, reply: string): void;
  /** The subjects nats-server lists as subscribed, per connection name. */
  serverSubscriptions(): Promise<Map<string, string[]>>;
  stop(): Promise<void>;
}

let sessionCounter = 0;

export async function startBridgeLab(
  opts: {
    /** Bridge settings over the lab's (e.g. `natsUrl` straight to the server, `natsTls`). */
    bridge?: Partial<BridgeDeps>;
    /** More nats-server configuration (e.g. a `tls` block). */
    natsConfig?: string;
    /** TLS for the trusted client, when the server requires it. */
    trustedTls?: { caFile: string };
    /** The bridge's `NATS_URL` given nats-server's port; default: the recording proxy. */
    natsUrl?: (natsPort: number) => string;
  } = {},
): Promise<BridgeLab> {
  const dir = await mkdtemp(join(tmpdir(), "lg-bridge-"));
  const monitorPort = await findFreePort();
  const nats = await startNatsServer({
    dataDir: join(dir, "nats"),
    jetstream: false,
    config: [`http: "127.0.0.1:${monitorPort}"`, opts.natsConfig ?? ""].join("\n"),
  });

  // The recording proxy.
  let seq = 0;
  const proxied: Recorded[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((inbound) => {
    const outbound = net.connect({ host: "127.0.0.1", port: nats.port });
    const rec: Recorded = {
      id: proxied.length,
      c2s: [],
      s2c: [],
      closed: new Promise<void>((resolve) => outbound.once("close", () => resolve())),
    };
    proxied.push(rec);
    sockets.add(inbound).add(outbound);
    inbound.on("data", (d: Buffer) => {
      rec.c2s.push({ seq: seq++, data: Buffer.from(d) });
      outbound.write(d);
    });
    outbound.on("data", (d: Buffer) => {
      rec.s2c.push({ seq: seq++, data: Buffer.from(d) });
      inbound.write(d);
    });
    // The bridge hanging up: nats-server still reads everything sent before (end, not destroy).
    inbound.on("end", () => outbound.end());
    inbound.on("error", () => outbound.destroy());
    inbound.on("close", () => sockets.delete(inbound));
    outbound.on("error", () => inbound.destroy());
    outbound.on("close", () => {
      sockets.delete(outbound);
      inbound.destroy();
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const proxyPort = (proxy.address() as net.AddressInfo).port;

  const sessions = new Map<string, { agentId: string; expiresAt: Date; token: string }>();
  const bridge = createJoinBridge({
    natsUrl: opts.natsUrl ? opts.natsUrl(nats.port) : `nats://127.0.0.1:${proxyPort}`,
    session: async (id) => {
      const s = sessions.get(id);
      return s && { agentId: s.agentId, expiresAt: s.expiresAt, tokenOk: (t) => t === s.token };
    },
    logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
    ...opts.bridge,
  });
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  bridge.attach(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const httpPort = (server.address() as net.AddressInfo).port;

  const trusted = await connect({
    servers: nats.url,
    name: "trusted",
    ...(opts.trustedTls ? { tls: opts.trustedTls } : {}),
  });
  const spy: SpyMessage[] = [];
  trusted.subscribe(">", {
    callback: (_err, m) => {
      spy.push({ subject: m.subject, reply: m.reply || undefined, data: Buffer.from(m.data) });
    },
  });
  await trusted.flush();
  const requested = new Map<string, string>();
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;

  return {
    nats,
    monitorUrl,
    wsUrl: (id) => `ws://127.0.0.1:${httpPort}/api/v1/reverse-sessions/${id}/nats`,
    proxied,
    bridge,
    addSession(agentId, o = {}) {
      const id = `s${++sessionCounter}`;
      const token = `tok-${id}-${Math.random().toString(36).slice(2)}`;
      sessions.set(id, { agentId, token, expiresAt: new Date(Date.now() + (o.expiresInMs ?? 600_000)) });
      return { id, token };
    },
    trusted,
    spy,
    requested,
    request(agentId, reply) {
      requested.set(reply, agentId);
      trusted.publish(`lg.agent.${agentId}.job`, REQUEST_MARK, { reply });
    },
    async serverSubscriptions() {
      const res = await fetch(`${monitorUrl}/connz?subs=1&limit=10000`);
      const body = (await res.json()) as {
        connections: { name?: string; subscriptions_list?: string[] }[];
      };
      const out = new Map<string, string[]>();
      for (const c of body.connections) {
        const name = c.name ?? "";
        out.set(name, [...(out.get(name) ?? []), ...(c.subscriptions_list ?? [])]);
      }
      return out;
    },
    async stop() {
      bridge.stop();
      await trusted.close().catch(() => {});
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A WebSocket client that sends raw bytes and collects what comes back. */
export interface RawJoin {
  ws: WebSocket;
  received(): string;
  /** Sends `bytes`, cut into WebSocket messages at `cuts` (offsets), or whole. */
  send(bytes: Buffer | string, cuts?: number[]): void;
  /** Resolves true when the received text matches `pattern`, false on timeout or close. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<boolean>;
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

export function openRaw(url: string): Promise<RawJoin> {
  const ws = new WebSocket(url);
  const chunks: Buffer[] = [];
  let text = "";
  let isClosed = false;
  const watchers = new Set<() => void>();
  const closed = new Promise<void>((resolve) => {
    ws.on("close", () => {
      isClosed = true;
      for (const w of watchers) w();
      resolve();
    });
  });
  ws.on("error", () => {});
  ws.on("message", (d: Buffer) => {
    chunks.push(Buffer.from(d));
    text += Buffer.from(d).toString("latin1");
    for (const w of watchers) w();
  });
  const join: RawJoin = {
    ws,
    received: () => text,
    send(bytes, cuts) {
      if (isClosed || ws.readyState !== WebSocket.OPEN) return;
      const b = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      let at = 0;
      for (const cut of [...(cuts ?? []), b.length]) {
        if (cut <= at || cut > b.length) continue;
        ws.send(b.subarray(at, cut), { binary: true });
        at = cut;
      }
    },
    waitFor(pattern, timeoutMs = 5_000) {
      return new Promise((resolve) => {
        const check = () => {
          if (pattern.test(text)) done(true);
          else if (isClosed) done(false);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        const done = (v: boolean) => {
          clearTimeout(timer);
          watchers.delete(check);
          resolve(v);
        };
        watchers.add(check);
        check();
      });
    },
    closed,
    isClosed: () => isClosed,
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(join));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** The CONNECT a join agent sends (nats.js over WebSocket), with the session token. */
export const connectLine = (agentId: string, token: string, extra: Record<string, unknown> = {}) =>
  `CONNECT ${JSON.stringify({
    verbose: false,
    pedantic: false,
    lang: "nats.js",
    version: "3.4.0",
    protocol: 1,
    headers: true,
    no_responders: true,
    name: agentId,
    auth_token: token,
    ...extra,
  })}\r\n`;

/** Opens a session's bridge connection and completes the CONNECT handshake (PING answered). */
export async function joinSession(
  lab: BridgeLab,
  agentId: string,
  opts: { subscribe?: boolean } = {},
): Promise<RawJoin> {
  const s = lab.addSession(agentId);
  const c = await openRaw(lab.wsUrl(s.id));
  c.send(
    `${connectLine(agentId, s.token)}${opts.subscribe ? `SUB lg.agent.${agentId}.> 1\r\n` : ""}PING\r\n`,
  );
  if (!(await c.waitFor(/PONG\r\n/))) throw new Error(`handshake failed: ${c.received()}`);
  return c;
}

/**
 * Waits until nats-server has handled everything this connection sent so far (a PING answered
 * after it) or the connection is closed, then until the spy has seen everything routed.
 */
export async function settle(lab: BridgeLab, c: RawJoin): Promise<void> {
  const pongs = (c.received().match(/PONG\r\n/g) ?? []).length;
  c.send("PING\r\n");
  const re = new RegExp(`(?:[\\s\\S]*PONG\\r\\n){${pongs + 1}}`);
  await c.waitFor(re, 5_000);
  await lab.trusted.flush();
}

// ---------- the oracles ----------

/** Printable ASCII except `.`, `*`, `>`: one literal subject token. */
const LIT = "[!-)+\\-/-=?-~]+";
const literal = `${LIT}(?:\\.${LIT})*`;
const wild = `(?:(?:${LIT}|\\*)(?:\\.(?:${LIT}|\\*))*(?:\\.>)?|>)`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

/** What an agent may do on NATS, written out as expressions (the join template's rules). */
export function permissionsOf(agentId: string) {
  const a = esc(agentId);
  return {
    pub: new RegExp(`^(?:lg\\.result\\.${a}\\.${literal}|lg\\.presence\\.${a})$`),
    reply: new RegExp(`^_INBOX_${a}\\.${literal}$`),
    sub: new RegExp(`^(?:lg\\.agent\\.${a}\\.${wild}|_INBOX_${a}\\.${wild})$`),
    literal: new RegExp(`^${literal}$`),
    token: new RegExp(`^${LIT}$`),
  };
}

export interface Audit {
  violations: string[];
  /** Commands seen, by kind. */
  counts: Record<string, number>;
}

/** Reply subjects nats-server delivered on a connection, with the sequence of the chunk. */
function deliveredReplies(rec: Recorded): Map<string, number> {
  const out = new Map<string, number>();
  let buf = Buffer.alloc(0);
  let skip = 0;
  for (const { seq, data } of rec.s2c) {
    buf = Buffer.concat([buf, data]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        buf = buf.subarray(n);
        skip -= n;
        if (skip > 0) break;
      }
      const lf = buf.indexOf(10);
      if (lf < 0) break;
      const line = buf.subarray(0, lf).toString("latin1").replace(/\r$/, "");
      buf = buf.subarray(lf + 1);
      const m = /^(H?MSG) (.+)$/.exec(line);
      if (!m) continue;
      const args = (m[2] as string).split(" ");
      const hdr = m[1] === "HMSG";
      const n = args.length - (hdr ? 4 : 3);
      const reply = n === 1 ? args[2] : undefined;
      if (reply && !out.has(reply)) out.set(reply, seq);
      skip = Number(args[args.length - 1]) + 2;
    }
  }
  return out;
}

/**
 * Reads everything one proxied connection carried to nats-server as canonical NATS and checks
 * each command against the agent's permissions (the agent named in its CONNECT).
 */
export function auditProxied(rec: Recorded, agents: readonly string[]): Audit {
  const violations: string[] = [];
  const counts: Record<string, number> = {};
  const replies = deliveredReplies(rec);
  const used = new Set<string>();
  const bad = (what: string) => violations.push(`connection ${rec.id}: ${what}`);
  // Concatenate, remembering which chunk each byte came in.
  const ends: { end: number; seq: number }[] = [];
  let total = 0;
  for (const c of rec.c2s) {
    total += c.data.length;
    ends.push({ end: total, seq: c.seq });
  }
  const seqAt = (offset: number) => ends.find((e) => e.end > offset)?.seq ?? Number.POSITIVE_INFINITY;
  const buf = Buffer.concat(rec.c2s.map((c) => c.data));
  let at = 0;
  let agent: string | undefined;
  let perms: ReturnType<typeof permissionsOf> | undefined;
  while (at < buf.length) {
    const lf = buf.indexOf("\r\n", at);
    if (lf < 0) {
      // A command cut off by the connection's end never ran; it must still be a canonical prefix.
      if (/[^\x20-\x7e]/.test(buf.subarray(at).toString("latin1")))
        bad(`unfinished non-canonical bytes ${JSON.stringify(buf.subarray(at, at + 80).toString("latin1"))}`);
      break;
    }
    const line = buf.subarray(at, lf).toString("latin1");
    const show = JSON.stringify(line.slice(0, 120));
    if (/[^\x20-\x7e]/.test(line)) {
      bad(`control line with a byte outside printable ASCII: ${show}`);
      break;
    }
    let next = lf + 2;
    const op = line.split(" ")[0] as string;
    counts[op] = (counts[op] ?? 0) + 1;
    if (agent === undefined) {
      const m = /^CONNECT (\{.*\})$/.exec(line);
      let options: Record<string, unknown> | undefined;
      try {
        options = m ? (JSON.parse(m[1] as string) as Record<string, unknown>) : undefined;
      } catch {
        options = undefined;
      }
      if (!options) {
        bad(`first command is not a canonical CONNECT: ${show}`);
        break;
      }
      if ("auth_token" in options) bad("the session token reached nats-server");
      const name = options.name;
      if (typeof name !== "string" || !agents.includes(name)) {
        bad(`CONNECT names no agent of this test: ${show}`);
        break;
      }
      agent = name;
      perms = permissionsOf(agent);
      at = next;
      continue;
    }
    const p = perms as ReturnType<typeof permissionsOf>;
    const pubM = /^PUB (\S+)(?: (\S+))? (0|[1-9][0-9]{0,8})$/.exec(line);
    const hpubM = /^HPUB (\S+)(?: (\S+))? (0|[1-9][0-9]{0,8}) (0|[1-9][0-9]{0,8})$/.exec(line);
    const subM = /^SUB (\S+)(?: (\S+))? (\S+)$/.exec(line);
    if (pubM) {
      const m = pubM;
      const [, subject, reply, size] = m as unknown as [string, string, string | undefined, string];
      const n = Number(size);
      if (buf.length < next + n + 2) break; // cut off by the close: never ran
      if (buf.subarray(next + n, next + n + 2).toString("latin1") !== "\r\n")
        bad(`PUB payload not followed by CRLF: ${show}`);
      next += n + 2;
      checkPub(subject, reply, next);
    } else if (hpubM) {
      const m = hpubM;
      const [, subject, reply, hdr, size] = m as unknown as [
        string,
        string,
        string | undefined,
        string,
        string,
      ];
      const n = Number(size);
      if (Number(hdr) > n) bad(`HPUB header larger than the message: ${show}`);
      if (buf.length < next + n + 2) break;
      if (buf.subarray(next + n, next + n + 2).toString("latin1") !== "\r\n")
        bad(`HPUB payload not followed by CRLF: ${show}`);
      next += n + 2;
      checkPub(subject, reply, next);
    } else if (subM) {
      const m = subM;
      const [, subject, queue] = m as unknown as [string, string, string | undefined];
      if (!p.sub.test(subject)) bad(`SUB outside the agent's subjects: ${show}`);
      if (queue !== undefined && !p.token.test(queue)) bad(`SUB with a queue that is not a token: ${show}`);
    } else if (/^UNSUB \S+(?: [1-9][0-9]{0,8})?$/.test(line)) {
      // Always allowed.
    } else if (line === "PING" || line === "PONG") {
      // Always allowed.
    } else {
      bad(`not a canonical command: ${show}`);
      break;
    }
    at = next;
  }
  return { violations, counts };

  function checkPub(subject: string, reply: string | undefined, end: number) {
    const p = perms as ReturnType<typeof permissionsOf>;
    const show = `PUB ${subject}${reply ? ` ${reply}` : ""}`;
    if (reply !== undefined && !p.reply.test(reply)) bad(`reply outside the agent's inbox: ${show}`);
    if (p.pub.test(subject)) return;
    const deliveredAt = replies.get(subject);
    if (deliveredAt === undefined) return void bad(`publish outside the agent's subjects: ${show}`);
    if (deliveredAt > seqAt(end - 1)) bad(`reply published before it was delivered: ${show}`);
    if (used.has(subject)) bad(`second reply to the same subject: ${show}`);
    used.add(subject);
  }
}

/**
 * The proxied connection (from the `from`th on) whose CONNECT named `agent` (the bridge names each
 * connection after its session's agent); the last one if several.
 */
export function proxiedFor(lab: BridgeLab, agent: string, from = 0): Recorded | undefined {
  const marker = `"name":${JSON.stringify(agent)}`;
  return lab.proxied
    .slice(from)
    .filter((r) => r.c2s[0]?.data.toString("latin1").startsWith("CONNECT ") && r.c2s[0].data.includes(marker))
    .at(-1);
}

/** Every proxied connection (from the `from`th on), audited. */
export function auditProxy(lab: BridgeLab, agents: readonly string[], from = 0): Audit {
  const all: Audit = { violations: [], counts: {} };
  for (const rec of lab.proxied.slice(from)) {
    const a = auditProxied(rec, agents);
    all.violations.push(...a.violations);
    for (const [k, v] of Object.entries(a.counts)) all.counts[k] = (all.counts[k] ?? 0) + v;
  }
  return all;
}

/**
 * Every message nats-server routed: the trusted requests, the agents' own subjects, and replies
 * to requests the agent was sent, each at most once.
 */
export function auditSpy(lab: BridgeLab, agents: readonly string[], from = 0): Audit {
  const violations: string[] = [];
  const counts: Record<string, number> = {};
  const perms = agents.map(permissionsOf);
  const replied = new Set<string>();
  for (const m of lab.spy.slice(from)) {
    const trustedRequest =
      /^lg\.agent\.[^.]+\.job$/.test(m.subject) && m.data.toString("latin1") === REQUEST_MARK;
    if (trustedRequest) {
      counts.request = (counts.request ?? 0) + 1;
      continue;
    }
    if (perms.some((p) => p.pub.test(m.subject))) {
      counts.own = (counts.own ?? 0) + 1;
      continue;
    }
    if (lab.requested.has(m.subject)) {
      counts.reply = (counts.reply ?? 0) + 1;
      if (replied.has(m.subject)) violations.push(`second reply routed to ${m.subject}`);
      replied.add(m.subject);
      continue;
    }
    violations.push(`message routed on ${JSON.stringify(m.subject)} (${m.data.length} bytes)`);
  }
  return { violations, counts };
}

/** Resolves whether the connection closes within `ms`. */
export function closesWithin(c: RawJoin, ms = 5_000): Promise<boolean> {
  return Promise.race([
    c.closed.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

/** Subscriptions nats-server holds for the agents' connections, outside their own subjects. */
export async function auditServerSubscriptions(lab: BridgeLab, agents: readonly string[]): Promise<string[]> {
  const subs = await lab.serverSubscriptions();
  const out: string[] = [];
  for (const [name, list] of subs) {
    if (name === "trusted") continue;
    const p = agents.includes(name) ? permissionsOf(name) : undefined;
    for (const s of list) if (!p?.sub.test(s)) out.push(`${name || "(unnamed)"} subscribed to ${s}`);
  }
  return out;
}
