import { describe, expect, it } from "vitest";
import { ClientOpFilter } from "./nats-filter";

const filter = () => new ClientOpFilter({ agentId: "join-s1", tokenOk: (t) => t === "secret" });
const text = (bufs: Buffer[]) => Buffer.concat(bufs).toString("latin1");
const connect = (token?: string) =>
  Buffer.from(`CONNECT ${JSON.stringify({ verbose: false, auth_token: token })}\r\n`);

describe("join bridge protocol filter", () => {
  it("a CONNECT with the session token passes, without the token", () => {
    const out = filter().push(connect("secret"));
    expect(out.close).toBe(false);
    expect(text(out.forward)).toBe('CONNECT {"verbose":false}\r\n');
  });

  it("a wrong or missing token ends the connection with an authorization error", () => {
    for (const token of ["nope", undefined]) {
      const out = filter().push(connect(token));
      expect(out.close).toBe(true);
      expect(out.forward).toEqual([]);
      expect(out.replies).toEqual(["-ERR 'Authorization Violation'"]);
    }
  });

  it("nothing but CONNECT is accepted before the token is checked", () => {
    const out = filter().push(Buffer.from("SUB lg.agent.join-s1.job 1\r\n"));
    expect(out.close).toBe(true);
    expect(out.forward).toEqual([]);
  });

  it("the agent's own subjects pass; another agent's are refused like a NATS permission", () => {
    const f = filter();
    f.push(connect("secret"));
    const ok = f.push(
      Buffer.from(
        "SUB lg.agent.join-s1.job 1\r\nSUB _INBOX_join-s1.abc.* 2\r\nPUB lg.presence.join-s1 2\r\nhi\r\nPUB _INBOX.xyz.1 2\r\nok\r\nPING\r\n",
      ),
    );
    expect(ok.replies).toEqual([]);
    expect(text(ok.forward)).toBe(
      "SUB lg.agent.join-s1.job 1\r\nSUB _INBOX_join-s1.abc.* 2\r\nPUB lg.presence.join-s1 2\r\nhi\r\nPUB _INBOX.xyz.1 2\r\nok\r\nPING\r\n",
    );
    const bad = f.push(
      Buffer.from("SUB lg.agent.fra.job 3\r\nSUB > 4\r\nPUB lg.result.fra.final.t 1\r\nx\r\n"),
    );
    expect(bad.forward).toEqual([]);
    expect(bad.close).toBe(false);
    expect(bad.replies).toEqual([
      `-ERR 'Permissions Violation for Subscription to "lg.agent.fra.job"'`,
      `-ERR 'Permissions Violation for Subscription to ">"'`,
      `-ERR 'Permissions Violation for Publish to "lg.result.fra.final.t"'`,
    ]);
  });

  it("a publish whose reply goes to someone else's inbox is refused", () => {
    const f = filter();
    f.push(connect("secret"));
    const out = f.push(Buffer.from("PUB lg.result.join-s1.final.t _INBOX.coordinator.1 1\r\nx\r\n"));
    expect(out.forward).toEqual([]);
    expect(out.replies).toHaveLength(1);
  });

  it("a payload split across chunks is forwarded once it is whole, headers included", () => {
    const f = filter();
    f.push(connect("secret"));
    const msg = "HPUB lg.result.join-s1.final.t _INBOX_join-s1.r.1 12 17\r\nNATS/1.0\r\n\r\nhello\r\n";
    const a = f.push(Buffer.from(msg.slice(0, 30)));
    expect(a.forward).toEqual([]);
    const b = f.push(Buffer.from(msg.slice(30, 60)));
    expect(b.forward).toEqual([]);
    const c = f.push(Buffer.from(msg.slice(60)));
    expect(text(c.forward)).toBe(msg);
  });

  it("a second CONNECT, an unknown operation or an oversized line ends the connection", () => {
    for (const input of [connect("secret"), Buffer.from("FOO bar\r\n"), Buffer.alloc(5_000, 65)]) {
      const f = filter();
      f.push(connect("secret"));
      expect(f.push(input).close).toBe(true);
    }
  });
});
