/**
 * Reads the NATS client protocol a join agent sends through the coordinator's WebSocket bridge and
 * lets through only what the session's agent may do, as a NATS permission set would:
 *   CONNECT must carry the session token (checked here, removed before it reaches nats-server);
 *   publish `lg.result.<id>.>`, `lg.presence.<id>`, and answers to the coordinator's requests
 *   (`_INBOX.>`), with reply subjects only in its own inbox `_INBOX_<id>.>`;
 *   subscribe `lg.agent.<id>.>` and `_INBOX_<id>.>`.
 * Anything else is answered with the `-ERR` nats-server would send, and not forwarded.
 */

export interface FilterRules {
  agentId: string;
  /** Is this the session's token? */
  tokenOk(token: string | undefined): boolean;
}

export interface FilterOutput {
  /** Bytes to pass on to nats-server, in order. */
  forward: Buffer[];
  /** Protocol lines to send back to the client (`-ERR ...`). */
  replies: string[];
  /** The client broke the rules in a way that ends the connection. */
  close: boolean;
}

const CRLF = Buffer.from("\r\n");
/** Longest control line accepted (nats-server's default max_control_line is 4 KiB). */
const MAX_LINE = 4_096;
/** Largest payload accepted (nats-server's default max_payload is 1 MiB). */
const MAX_PAYLOAD = 1_048_576;

export class ClientOpFilter {
  private buffer: Buffer = Buffer.alloc(0);
  private authorized = false;

  constructor(private readonly rules: FilterRules) {}

  private canPublish(subject: string, reply: string | undefined): boolean {
    const id = this.rules.agentId;
    const own =
      subject.startsWith(`lg.result.${id}.`) ||
      subject === `lg.presence.${id}` ||
      subject.startsWith("_INBOX.");
    return own && (reply === undefined || reply.startsWith(`_INBOX_${id}.`));
  }

  private canSubscribe(subject: string): boolean {
    const id = this.rules.agentId;
    return subject.startsWith(`lg.agent.${id}.`) || subject.startsWith(`_INBOX_${id}.`);
  }

  /** Feeds bytes from the client; returns what to forward and what to answer. */
  push(chunk: Buffer): FilterOutput {
    const out: FilterOutput = { forward: [], replies: [], close: false };
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf(CRLF);
      if (end < 0) {
        if (this.buffer.length > MAX_LINE) {
          out.replies.push("-ERR 'Maximum Control Line Exceeded'");
          out.close = true;
        }
        return out;
      }
      const line = this.buffer.subarray(0, end).toString("latin1");
      const words = line.trim().split(/\s+/);
      const op = (words[0] ?? "").toUpperCase();
      let size = end + 2;
      if (op === "PUB" || op === "HPUB") {
        const total = Number(words[words.length - 1]);
        if (!Number.isInteger(total) || total < 0 || total > MAX_PAYLOAD) {
          out.replies.push("-ERR 'Unknown Protocol Operation'");
          out.close = true;
          return out;
        }
        if (this.buffer.length < end + 2 + total + 2) return out; // wait for the payload
        size = end + 2 + total + 2;
      }
      const whole = this.buffer.subarray(0, size);
      this.buffer = this.buffer.subarray(size);

      if (!this.authorized) {
        if (op !== "CONNECT") {
          out.replies.push("-ERR 'Authorization Violation'");
          out.close = true;
          return out;
        }
        let options: Record<string, unknown>;
        try {
          options = JSON.parse(line.slice("CONNECT".length)) as Record<string, unknown>;
        } catch {
          out.replies.push("-ERR 'Authorization Violation'");
          out.close = true;
          return out;
        }
        if (!this.rules.tokenOk(typeof options.auth_token === "string" ? options.auth_token : undefined)) {
          out.replies.push("-ERR 'Authorization Violation'");
          out.close = true;
          return out;
        }
        for (const k of ["auth_token", "user", "pass", "jwt", "sig", "nkey"]) delete options[k];
        this.authorized = true;
        out.forward.push(Buffer.from(`CONNECT ${JSON.stringify(options)}\r\n`));
        continue;
      }

      if (op === "PUB" || op === "HPUB") {
        // PUB <subject> [reply] <size> · HPUB <subject> [reply] <header size> <total size>
        const fixed = op === "PUB" ? 2 : 3;
        const subject = words[1] ?? "";
        const reply = words.length > fixed + 1 ? words[2] : undefined;
        if (this.canPublish(subject, reply)) out.forward.push(Buffer.from(whole));
        else out.replies.push(`-ERR 'Permissions Violation for Publish to "${subject}"'`);
      } else if (op === "SUB") {
        const subject = words[1] ?? "";
        if (this.canSubscribe(subject)) out.forward.push(Buffer.from(whole));
        else out.replies.push(`-ERR 'Permissions Violation for Subscription to "${subject}"'`);
      } else if (op === "PING" || op === "PONG" || op === "UNSUB") {
        out.forward.push(Buffer.from(whole));
      } else if (op === "CONNECT") {
        out.replies.push("-ERR 'Authorization Violation'");
        out.close = true;
        return out;
      } else {
        out.replies.push("-ERR 'Unknown Protocol Operation'");
        out.close = true;
        return out;
      }
    }
  }
}
