/**
 * The NATS client protocol as nats-server 2.9 reads it (`server/parser.go`, `client.go`), for the
 * reverse-session bridge: a parser of what a client sends, a canonical encoder, a reader of what
 * the server sends, and subject rules.
 *
 * nats-server's rules followed here: a control line ends at LF, with an optional CR before it;
 * operation names are case-insensitive; arguments are split on space and tab only; `PUB subject
 * [reply] size`, `HPUB subject [reply] header-size total-size` (header ≤ total), `SUB subject
 * [queue] sid`, `UNSUB sid [max]`, `PING`, `PONG` (anything after them up to the line end is
 * ignored), `CONNECT <json>`; a size is 1 to 9 decimal digits; a payload is followed by CRLF.
 *
 * Stricter than nats-server, where its reading is surprising: a CR anywhere else in a control line
 * (nats-server then drops the line's last byte, or not, depending on how the bytes were split into
 * reads), any other control byte, a control line over {@link MAX_CONTROL_LINE} bytes including its
 * operation, and subjects outside printable ASCII are refused.
 */

/** nats-server's default `max_control_line` (4 KiB). */
export const MAX_CONTROL_LINE = 4_096;
/** nats-server's default `max_payload` (1 MiB); the bridge uses the smaller of this and the server's. */
export const MAX_PAYLOAD = 1_048_576;
/** nats-server's `parseSize` reads at most 9 digits ("999M"). */
const MAX_SIZE_DIGITS = 9;

/** The texts nats-server sends in `-ERR '…'` for the errors the bridge raises itself. */
export const ERR = {
  unknown: "Unknown Protocol Operation",
  controlLine: "maximum control line exceeded",
  payload: "Maximum Payload Violation",
  auth: "Authorization Violation",
  subject: "Invalid Subject",
  publishSubject: "Invalid Publish Subject",
} as const;

export type ClientOp =
  | { op: "CONNECT"; options: Record<string, unknown> }
  | { op: "PUB"; subject: string; reply: string | undefined; payload: Buffer }
  | { op: "HPUB"; subject: string; reply: string | undefined; headerSize: number; payload: Buffer }
  | { op: "SUB"; subject: string; queue: string | undefined; sid: string }
  | { op: "UNSUB"; sid: string; max: number | undefined }
  | { op: "PING" }
  | { op: "PONG" };

export interface ParseResult {
  ops: ClientOp[];
  /** Set when the input broke the protocol: the `-ERR` text; the parser reads nothing more. */
  error?: string;
}

const LF = 0x0a;
const CR = 0x0d;

/** nats-server's `parseSize`: 1 to 9 decimal digits, else -1. */
export function parseSize(text: string): number {
  if (text.length === 0 || text.length > MAX_SIZE_DIGITS || !/^[0-9]+$/.test(text)) return -1;
  return Number(text);
}

/** Space and tab only, as nats-server splits arguments; empty fields vanish. */
const splitArgs = (text: string) => text.split(/[ \t]+/).filter((s) => s.length > 0);

/** A control line may hold printable ASCII, tab and bytes ≥ 0x80 (inside CONNECT's JSON). */
function hasControlByte(line: Buffer): boolean {
  for (const b of line) if ((b < 0x20 && b !== 0x09) || b === 0x7f) return true;
  return false;
}

interface PendingPayload {
  op: "PUB" | "HPUB";
  subject: string;
  reply: string | undefined;
  headerSize: number;
  size: number;
}

/**
 * Reads the client side of the NATS protocol from chunks in any split, and yields whole commands.
 * After an error it yields nothing more (the connection is to be closed).
 */
export class ClientProtocolParser {
  private buffer: Buffer = Buffer.alloc(0);
  /** Chunks of a payload still incomplete, kept apart so a payload in tiny pieces costs linear time. */
  private waiting: Buffer[] = [];
  private waitingLength = 0;
  private pending: PendingPayload | undefined;
  private failed = false;

  /** `maxPayload`: the largest payload accepted now (the server's limit, at most {@link MAX_PAYLOAD}). */
  constructor(private readonly maxPayload: () => number = () => MAX_PAYLOAD) {}

  push(chunk: Buffer): ParseResult {
    const out: ParseResult = { ops: [] };
    if (this.failed) return out;
    if (this.pending && this.buffer.length + this.waitingLength + chunk.length < this.pending.size + 2) {
      this.waiting.push(chunk);
      this.waitingLength += chunk.length;
      return out;
    }
    this.buffer =
      this.buffer.length === 0 && this.waiting.length === 0
        ? chunk
        : Buffer.concat([this.buffer, ...this.waiting, chunk]);
    this.waiting = [];
    this.waitingLength = 0;
    const fail = (error: string) => {
      this.failed = true;
      this.buffer = Buffer.alloc(0);
      out.error = error;
      return out;
    };
    for (;;) {
      const p = this.pending;
      if (p) {
        if (this.buffer.length < p.size + 2) return out;
        if (this.buffer[p.size] !== CR || this.buffer[p.size + 1] !== LF) return fail(ERR.unknown);
        const payload = Buffer.from(this.buffer.subarray(0, p.size));
        this.buffer = this.buffer.subarray(p.size + 2);
        this.pending = undefined;
        out.ops.push(
          p.op === "PUB"
            ? { op: "PUB", subject: p.subject, reply: p.reply, payload }
            : { op: "HPUB", subject: p.subject, reply: p.reply, headerSize: p.headerSize, payload },
        );
        continue;
      }
      const lf = this.buffer.indexOf(LF);
      if (lf < 0) {
        // Room for the longest line and its CR; anything more can never become a valid line.
        if (this.buffer.length > MAX_CONTROL_LINE + 1) return fail(ERR.controlLine);
        return out;
      }
      const end = lf > 0 && this.buffer[lf - 1] === CR ? lf - 1 : lf;
      if (end > MAX_CONTROL_LINE) return fail(ERR.controlLine);
      const bytes = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(lf + 1);
      if (hasControlByte(bytes)) return fail(ERR.unknown);
      const line = bytes.toString("latin1");
      const result = this.readLine(line);
      if (typeof result === "string") return fail(result);
      if (result) out.ops.push(result);
    }
  }

  /** One control line: a command, a payload to wait for (undefined), or an error text. */
  private readLine(line: string): ClientOp | string | undefined {
    const head = line.slice(0, 7).toUpperCase();
    if (head === "CONNECT") {
      let options: unknown;
      try {
        options = JSON.parse(line.slice(7).replace(/^[ \t]+/, ""));
      } catch {
        return ERR.unknown;
      }
      if (typeof options !== "object" || options === null || Array.isArray(options)) return ERR.unknown;
      return { op: "CONNECT", options: options as Record<string, unknown> };
    }
    // nats-server reads PING and PONG up to the line end, whatever follows the four letters.
    if (head.startsWith("PING")) return { op: "PING" };
    if (head.startsWith("PONG")) return { op: "PONG" };
    const m = /^([A-Za-z]+)[ \t]+(.*)$/.exec(line);
    if (!m) return ERR.unknown;
    const op = (m[1] as string).toUpperCase();
    const args = splitArgs(m[2] as string);
    switch (op) {
      case "PUB": {
        if (args.length !== 2 && args.length !== 3) return ERR.unknown;
        const size = parseSize(args[args.length - 1] as string);
        if (size < 0) return ERR.unknown;
        if (size > this.maxPayload()) return ERR.payload;
        this.pending = {
          op: "PUB",
          subject: args[0] as string,
          reply: args.length === 3 ? args[1] : undefined,
          headerSize: 0,
          size,
        };
        return undefined;
      }
      case "HPUB": {
        if (args.length !== 3 && args.length !== 4) return ERR.unknown;
        const headerSize = parseSize(args[args.length - 2] as string);
        const size = parseSize(args[args.length - 1] as string);
        if (headerSize < 0 || size < 0 || headerSize > size) return ERR.unknown;
        if (size > this.maxPayload()) return ERR.payload;
        this.pending = {
          op: "HPUB",
          subject: args[0] as string,
          reply: args.length === 4 ? args[1] : undefined,
          headerSize,
          size,
        };
        return undefined;
      }
      case "SUB":
        if (args.length !== 2 && args.length !== 3) return ERR.unknown;
        return {
          op: "SUB",
          subject: args[0] as string,
          queue: args.length === 3 ? args[1] : undefined,
          sid: args[args.length - 1] as string,
        };
      case "UNSUB": {
        if (args.length !== 1 && args.length !== 2) return ERR.unknown;
        // nats-server: a max that is not a size (-1) or 0 means "unsubscribe now".
        const max = args.length === 2 ? parseSize(args[1] as string) : -1;
        return { op: "UNSUB", sid: args[0] as string, max: max > 0 ? max : undefined };
      }
      default:
        return ERR.unknown;
    }
  }
}

/** A command in nats-server's canonical form: single spaces, CRLF, exact sizes. */
export function encodeClientOp(op: ClientOp): Buffer {
  const reply = (r: string | undefined) => (r === undefined ? "" : ` ${r}`);
  switch (op.op) {
    case "CONNECT":
      return Buffer.from(`CONNECT ${JSON.stringify(op.options)}\r\n`, "utf8");
    case "PUB":
      return Buffer.concat([
        Buffer.from(`PUB ${op.subject}${reply(op.reply)} ${op.payload.length}\r\n`, "latin1"),
        op.payload,
        Buffer.from("\r\n"),
      ]);
    case "HPUB":
      return Buffer.concat([
        Buffer.from(
          `HPUB ${op.subject}${reply(op.reply)} ${op.headerSize} ${op.payload.length}\r\n`,
          "latin1",
        ),
        op.payload,
        Buffer.from("\r\n"),
      ]);
    case "SUB":
      return Buffer.from(`SUB ${op.subject}${reply(op.queue)} ${op.sid}\r\n`, "latin1");
    case "UNSUB":
      return Buffer.from(`UNSUB ${op.sid}${op.max === undefined ? "" : ` ${op.max}`}\r\n`, "latin1");
    case "PING":
      return Buffer.from("PING\r\n");
    case "PONG":
      return Buffer.from("PONG\r\n");
  }
}

// ---------- subjects ----------

/** One subject token: printable ASCII without `.`; `*` and `>` only as whole tokens (wildcards). */
const TOKEN = /^[!-~]+$/;

/**
 * Is `subject` a valid subject: tokens separated by single dots, none empty, printable ASCII only;
 * with `wildcards`, `*` as a whole token anywhere and `>` as the whole last token; without, none.
 * A token holding `*` or `>` beside other characters is refused (nats-server reads it literally,
 * which no client of ours means).
 */
export function validSubject(subject: string, wildcards: boolean): boolean {
  if (subject.length === 0) return false;
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (!TOKEN.test(t)) return false;
    if (t === "*" || t === ">") {
      if (!wildcards || (t === ">" && i !== tokens.length - 1)) return false;
    } else if (t.includes("*") || t.includes(">")) return false;
  }
  return true;
}

/**
 * Does `pattern` (a permission, possibly with wildcards) cover every subject `subject` can match?
 * For a literal subject that is plain matching; a subscription's own wildcards must fall under
 * wildcards of the pattern (`lg.agent.a.*` is within `lg.agent.a.>`; `lg.agent.*.job` is not within
 * `lg.agent.a.>`). Both must be valid subjects.
 */
export function subjectWithin(subject: string, pattern: string): boolean {
  const s = subject.split(".");
  const p = pattern.split(".");
  for (let i = 0; i < p.length; i++) {
    const pt = p[i] as string;
    if (pt === ">") return i < s.length; // one token or more left
    const st = s[i];
    if (st === undefined) return false;
    if (pt === "*") {
      if (st === ">") return false; // `>` spans more than the one token `*` allows
      continue;
    }
    if (st !== pt) return false; // a literal matches only itself, not a wildcard
  }
  return s.length === p.length;
}

// ---------- the server side ----------

export type ServerItem =
  /** Bytes to pass to the client as they are. */
  | { kind: "bytes"; data: Buffer }
  /** An INFO line (its JSON), for the bridge to rewrite. */
  | { kind: "info"; info: Record<string, unknown> }
  /** A message was delivered with this reply subject (its control line is in the next bytes item). */
  | { kind: "reply"; subject: string };

/**
 * Reads what nats-server sends a client (INFO, MSG, HMSG, PING, PONG, +OK, -ERR), in any split, so
 * the bridge can rewrite INFO and see the reply subjects of delivered messages before the client
 * does. Control lines are passed on whole; payloads as they come.
 */
export class ServerProtocolReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** Payload bytes (and their CRLF) still to pass through. */
  private payloadLeft = 0;

  push(chunk: Buffer): ServerItem[] {
    const out: ServerItem[] = [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.payloadLeft > 0) {
        if (this.buffer.length === 0) return out;
        const n = Math.min(this.payloadLeft, this.buffer.length);
        out.push({ kind: "bytes", data: this.buffer.subarray(0, n) });
        this.buffer = this.buffer.subarray(n);
        this.payloadLeft -= n;
        continue;
      }
      const lf = this.buffer.indexOf(LF);
      if (lf < 0) return out;
      const raw = this.buffer.subarray(0, lf + 1);
      this.buffer = this.buffer.subarray(lf + 1);
      const line = raw.toString("utf8").replace(/\r?\n$/, "");
      const m = /^([A-Za-z+-]+)[ \t]*(.*)$/.exec(line);
      const op = (m?.[1] ?? "").toUpperCase();
      const rest = m?.[2] ?? "";
      if (op === "INFO") {
        try {
          const info = JSON.parse(rest) as unknown;
          if (typeof info === "object" && info !== null && !Array.isArray(info)) {
            out.push({ kind: "info", info: info as Record<string, unknown> });
            continue;
          }
        } catch {
          // Not JSON: pass it on as it is.
        }
      } else if (op === "MSG" || op === "HMSG") {
        // MSG subject sid [reply] size · HMSG subject sid [reply] header-size total-size
        const args = splitArgs(rest);
        const fixed = op === "MSG" ? 3 : 4;
        if (args.length === fixed + 1) out.push({ kind: "reply", subject: args[2] as string });
        const size = parseSize(args[args.length - 1] ?? "");
        if (size >= 0) this.payloadLeft = size + 2;
      }
      out.push({ kind: "bytes", data: raw });
    }
  }
}
