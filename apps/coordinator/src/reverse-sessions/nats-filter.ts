import {
  type ClientOp,
  ClientProtocolParser,
  ERR,
  encodeClientOp,
  MAX_PAYLOAD,
  ServerProtocolReader,
  subjectWithin,
  validSubject,
} from "./nats-protocol";

/**
 * The join agent's side of a reverse-session NATS connection, between the client (a WebSocket) and
 * nats-server. What the client sends is parsed by nats-server's rules ({@link ClientProtocolParser})
 * and only allowed commands are passed on, each **re-encoded** from its parsed fields, so
 * nats-server never reads a client byte the filter did not read the same way:
 *   CONNECT must come first and carry the session token (checked here; never passed on);
 *   publish and subscribe as the session's NATS permissions say ({@link JoinPermissions}, from the
 *   join user template); reply subjects only in the agent's own inbox;
 *   an answer to a request the client was delivered, once per reply subject, within
 *   {@link REPLY_TTL_MS} (nats-server's `resp: {max: 1}` with its default expiry).
 * A refused command gets the `-ERR` nats-server would send and the connection stays up; input that
 * breaks the protocol gets its `-ERR` and ends the connection.
 */

/** nats-server's default expiry of a response permission (`DEFAULT_ALLOW_RESPONSE_EXPIRATION`). */
export const REPLY_TTL_MS = 120_000;
/** Reply subjects remembered at once (nats-server's `replyPermLimit`); the oldest go first. */
export const MAX_PENDING_REPLIES = 4_096;
/**
 * Client bytes held while nats-server's INFO has not arrived (the CONNECT needs its nonce): a
 * CONNECT and a first payload. A client that sends more before it was greeted is cut off.
 */
const MAX_EARLY_BYTES = MAX_PAYLOAD + 16_384;
/** Longest client name, language or version passed on in CONNECT. */
const MAX_CONNECT_TEXT = 64;

/** Subjects a session's agent may use (the join user template's `pub`/`sub` allow lists). */
export interface JoinPermissions {
  publish: string[];
  subscribe: string[];
  /** Subjects the agent may ask answers on (its own inbox). */
  replyTo: string[];
}

export interface FilterRules {
  agentId: string;
  permissions: JoinPermissions;
  /** Is this the session's token? */
  tokenOk(token: string | undefined): boolean;
  /**
   * Fields to add to the CONNECT sent to nats-server, given the server's nonce: the session's
   * user JWT and the nonce's signature in operator mode; nothing for a server without auth.
   */
  credentials?: ((nonce: string | undefined) => Record<string, string>) | undefined;
  now?: () => number;
}

export interface FilterOutput {
  /** Canonical commands for nats-server, in order. */
  toServer: Buffer[];
  /** Bytes for the client, in order (the server's, and the filter's own `-ERR` lines). */
  toClient: Buffer[];
  /** The `-ERR` texts the filter sent (for the log). */
  refused: string[];
  /** End the connection (after sending what is here). */
  close: boolean;
}

const empty = (): FilterOutput => ({ toServer: [], toClient: [], refused: [], close: false });
const errLine = (text: string) => Buffer.from(`-ERR '${text}'\r\n`, "latin1");
const shortText = (v: unknown) =>
  typeof v === "string" && v.length <= MAX_CONNECT_TEXT && /^[ -~]*$/.test(v) ? v : undefined;

/** INFO fields a join client may see; addresses, cluster URLs, the nonce and TLS flags stay here. */
const INFO_FIELDS = ["server_id", "server_name", "version", "go", "proto", "headers", "jetstream", "ldm"];

export class JoinProtocolFilter {
  private readonly parser: ClientProtocolParser;
  private readonly reader = new ServerProtocolReader();
  private authorized = false;
  private headers = false;
  private greeted = false;
  private nonce: string | undefined;
  private maxPayload = MAX_PAYLOAD;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private ended = false;
  /** Reply subjects delivered to the client and not yet answered: subject -> time delivered. */
  private readonly replies = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly rules: FilterRules) {
    this.parser = new ClientProtocolParser(() => this.maxPayload);
    this.now = rules.now ?? Date.now;
  }

  /** Bytes from the client. */
  fromClient(chunk: Buffer): FilterOutput {
    if (this.ended) return empty();
    if (!this.greeted) {
      const out = empty();
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes > MAX_EARLY_BYTES) this.end(out, ERR.controlLine);
      return out;
    }
    const out = empty();
    const { ops, error } = this.parser.push(chunk);
    for (const op of ops) {
      this.handle(op, out);
      if (out.close) return out;
    }
    if (error) this.end(out, error);
    return out;
  }

  /** Bytes from nats-server. */
  fromServer(chunk: Buffer): FilterOutput {
    const out = empty();
    if (this.ended) return out;
    for (const item of this.reader.push(chunk)) {
      if (item.kind === "bytes") out.toClient.push(item.data);
      else if (item.kind === "reply") this.remember(item.subject);
      else out.toClient.push(this.greet(item.info));
    }
    if (!this.greeted || this.early.length === 0) return out;
    // The first INFO arrived: what the client sent before it can be read now.
    const early = Buffer.concat(this.early);
    this.early = [];
    const more = this.fromClient(early);
    out.toServer.push(...more.toServer);
    out.toClient.push(...more.toClient);
    out.refused.push(...more.refused);
    out.close = more.close;
    return out;
  }

  /** The server's INFO, rewritten for the client; the first one also sets the nonce and limits. */
  private greet(info: Record<string, unknown>): Buffer {
    if (!this.greeted) {
      this.greeted = true;
      this.nonce = typeof info.nonce === "string" ? info.nonce : undefined;
    }
    if (typeof info.max_payload === "number" && info.max_payload > 0)
      this.maxPayload = Math.min(info.max_payload, MAX_PAYLOAD);
    const shown: Record<string, unknown> = {};
    for (const k of INFO_FIELDS) if (k in info) shown[k] = info[k];
    shown.max_payload = this.maxPayload;
    // The bridge itself asks for the session token.
    shown.auth_required = true;
    return Buffer.from(`INFO ${JSON.stringify(shown)}\r\n`, "utf8");
  }

  private remember(subject: string): void {
    this.replies.delete(subject);
    this.replies.set(subject, this.now());
    if (this.replies.size > MAX_PENDING_REPLIES) {
      const oldest = this.replies.keys().next().value;
      if (oldest !== undefined) this.replies.delete(oldest);
    }
  }

  /** Takes the one answer allowed to `subject`, if it was delivered and has not expired. */
  private takeReply(subject: string): boolean {
    const at = this.replies.get(subject);
    if (at === undefined) return false;
    this.replies.delete(subject);
    return this.now() - at <= REPLY_TTL_MS;
  }

  private end(out: FilterOutput, error: string): void {
    out.toClient.push(errLine(error));
    out.refused.push(error);
    out.close = true;
    this.ended = true;
  }

  private refuse(out: FilterOutput, error: string): void {
    out.toClient.push(errLine(error));
    out.refused.push(error);
  }

  private handle(op: ClientOp, out: FilterOutput): void {
    const p = this.rules.permissions;
    if (!this.authorized) {
      if (op.op !== "CONNECT") {
        this.end(out, ERR.auth);
        return;
      }
      const token = op.options.auth_token;
      if (!this.rules.tokenOk(typeof token === "string" ? token : undefined)) {
        this.end(out, ERR.auth);
        return;
      }
      this.authorized = true;
      this.headers = op.options.headers === true;
      out.toServer.push(encodeClientOp({ op: "CONNECT", options: this.connectOptions(op.options) }));
      return;
    }
    switch (op.op) {
      case "CONNECT":
        this.end(out, ERR.auth);
        return;
      case "PUB":
      case "HPUB": {
        if (op.op === "HPUB" && !this.headers) {
          this.end(out, ERR.unknown);
          return;
        }
        if (!validSubject(op.subject, false)) {
          this.refuse(out, ERR.publishSubject);
          return;
        }
        if (op.reply !== undefined) {
          if (!validSubject(op.reply, false)) {
            this.refuse(out, ERR.publishSubject);
            return;
          }
          if (!p.replyTo.some((r) => subjectWithin(op.reply as string, r))) {
            this.refuse(out, `Permissions Violation for Publish with Reply of ${quote(op.reply)}`);
            return;
          }
        }
        const allowed = p.publish.some((s) => subjectWithin(op.subject, s)) || this.takeReply(op.subject);
        if (!allowed) {
          this.refuse(out, `Permissions Violation for Publish to ${quote(op.subject)}`);
          return;
        }
        out.toServer.push(encodeClientOp(op));
        return;
      }
      case "SUB": {
        if (!validSubject(op.subject, true) || !validSid(op.sid)) {
          this.refuse(out, ERR.subject);
          return;
        }
        if (op.queue !== undefined && !validSubject(op.queue, false)) {
          this.refuse(out, ERR.subject);
          return;
        }
        if (!p.subscribe.some((s) => subjectWithin(op.subject, s))) {
          const queue = op.queue === undefined ? "" : ` using queue ${quote(op.queue)}`;
          this.refuse(out, `Permissions Violation for Subscription to ${quote(op.subject)}${queue}`);
          return;
        }
        out.toServer.push(encodeClientOp(op));
        return;
      }
      case "UNSUB":
        if (!validSid(op.sid)) {
          this.end(out, ERR.unknown);
          return;
        }
        out.toServer.push(encodeClientOp(op));
        return;
      case "PING":
      case "PONG":
        out.toServer.push(encodeClientOp(op));
        return;
    }
  }

  /**
   * The CONNECT for nats-server: the client's protocol options that are safe to pass on, the
   * session's agent as the connection's name, and the session's credentials. Never the token.
   */
  private connectOptions(client: Record<string, unknown>): Record<string, unknown> {
    const o: Record<string, unknown> = {
      // The bridge answers nothing itself; +OK after every command would only confuse it.
      verbose: false,
      pedantic: client.pedantic === true,
      tls_required: false,
      name: this.rules.agentId,
      protocol: client.protocol === 0 ? 0 : 1,
      echo: client.echo !== false,
      headers: this.headers,
      no_responders: client.no_responders === true && this.headers,
    };
    const lang = shortText(client.lang);
    const version = shortText(client.version);
    if (lang !== undefined) o.lang = lang;
    if (version !== undefined) o.version = version;
    return { ...o, ...this.rules.credentials?.(this.nonce) };
  }
}

/** A subscription id: printable ASCII, as any client library makes them. */
const validSid = (sid: string) => sid.length <= MAX_CONNECT_TEXT && /^[!-~]+$/.test(sid);

/** Go's `%q` for the printable ASCII subjects that reach a permission check. */
const quote = (s: string) => JSON.stringify(s);
