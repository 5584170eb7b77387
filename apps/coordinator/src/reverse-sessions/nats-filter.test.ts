import { describe, expect, it } from "vitest";
import { joinPermissions } from "./join-credentials";
import { type FilterRules, JoinProtocolFilter, MAX_PENDING_REPLIES, REPLY_TTL_MS } from "./nats-filter";

const AGENT = "join-s1";
const text = (bufs: Buffer[]) => Buffer.concat(bufs).toString("latin1");
const INFO = Buffer.from(
  'INFO {"server_id":"S","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576,"nonce":"abc","host":"10.0.0.5","port":4222,"client_ip":"10.0.0.9","connect_urls":["10.0.0.6:4222"],"tls_required":false}\r\n',
);
const connect = (token?: string, extra: Record<string, unknown> = {}) =>
  Buffer.from(
    `CONNECT ${JSON.stringify({ verbose: false, headers: true, auth_token: token, ...extra })}\r\n`,
  );

function filter(rules: Partial<FilterRules> = {}) {
  const f = new JoinProtocolFilter({
    agentId: AGENT,
    permissions: joinPermissions(AGENT),
    tokenOk: (t) => t === "secret",
    ...rules,
  });
  f.fromServer(INFO);
  return f;
}
/** A filter past CONNECT. */
function connected(rules: Partial<FilterRules> = {}) {
  const f = filter(rules);
  expect(f.fromClient(connect("secret")).close).toBe(false);
  return f;
}
const send = (f: JoinProtocolFilter, s: string) => f.fromClient(Buffer.from(s, "latin1"));

describe("join bridge protocol filter", () => {
  it("a CONNECT with the session token goes on without it, named after the agent, verbose off", () => {
    const f = filter();
    const out = f.fromClient(
      connect("secret", { verbose: true, user: "u", pass: "p", name: "other", lang: "nats.js" }),
    );
    expect(out.close).toBe(false);
    const sent = JSON.parse(text(out.toServer).replace(/^CONNECT /, "")) as Record<string, unknown>;
    expect(sent).toMatchObject({ verbose: false, name: AGENT, headers: true, lang: "nats.js" });
    for (const k of ["auth_token", "user", "pass", "jwt", "sig", "nkey"]) expect(sent).not.toHaveProperty(k);
  });

  it("in operator mode the CONNECT carries the session user's credentials for the server's nonce", () => {
    const seen: (string | undefined)[] = [];
    const f = filter({
      credentials: (nonce) => {
        seen.push(nonce);
        return { jwt: "JWT", sig: `signed:${nonce}` };
      },
    });
    const sent = text(f.fromClient(connect("secret")).toServer);
    expect(seen).toEqual(["abc"]);
    expect(sent).toContain('"jwt":"JWT","sig":"signed:abc"');
  });

  it("the client is shown the server's INFO without addresses, cluster URLs, nonce or TLS flags", () => {
    const f = new JoinProtocolFilter({
      agentId: AGENT,
      permissions: joinPermissions(AGENT),
      tokenOk: () => true,
    });
    const shown = JSON.parse(text(f.fromServer(INFO).toClient).replace(/^INFO /, "")) as Record<
      string,
      unknown
    >;
    expect(shown).toEqual({
      server_id: "S",
      version: "2.9.10",
      proto: 1,
      headers: true,
      max_payload: 1048576,
      auth_required: true,
    });
  });

  it("what the client sends before the server's INFO waits for it (the CONNECT needs the nonce)", () => {
    const f = new JoinProtocolFilter({
      agentId: AGENT,
      permissions: joinPermissions(AGENT),
      tokenOk: (t) => t === "secret",
      credentials: (nonce) => ({ sig: String(nonce) }),
    });
    expect(f.fromClient(Buffer.concat([connect("secret"), Buffer.from("PING\r\n")]))).toEqual({
      toServer: [],
      toClient: [],
      refused: [],
      close: false,
    });
    const out = f.fromServer(INFO);
    expect(text(out.toClient)).toMatch(/^INFO /);
    expect(text(out.toServer)).toMatch(/^CONNECT .*"sig":"abc".*\r\nPING\r\n$/);
  });

  it("a wrong or missing token, or any command before CONNECT, ends the connection", () => {
    for (const input of [
      connect("nope"),
      connect(undefined),
      Buffer.from("SUB lg.agent.join-s1.job 1\r\n"),
    ]) {
      const out = filter().fromClient(input);
      expect(out.close).toBe(true);
      expect(out.toServer).toEqual([]);
      expect(text(out.toClient)).toBe("-ERR 'Authorization Violation'\r\n");
    }
  });

  it("the agent's own subjects pass re-encoded; another agent's are refused like a NATS permission", () => {
    const f = connected();
    const ok = send(
      f,
      "sub\tlg.agent.join-s1.job  1\nSUB _INBOX_join-s1.abc.* 2\r\nPUB lg.presence.join-s1 2\nhi\r\nPUB lg.result.join-s1.final.t _INBOX_join-s1.r.1 1\r\nx\r\nPING\r\n",
    );
    expect(ok.refused).toEqual([]);
    expect(text(ok.toServer)).toBe(
      "SUB lg.agent.join-s1.job 1\r\nSUB _INBOX_join-s1.abc.* 2\r\nPUB lg.presence.join-s1 2\r\nhi\r\nPUB lg.result.join-s1.final.t _INBOX_join-s1.r.1 1\r\nx\r\nPING\r\n",
    );
    const bad = send(
      f,
      "SUB lg.agent.fra.job 3\r\nSUB > 4\r\nSUB lg.agent.*.job 5\r\nSUB _INBOX_join-s1.x q.> 6\r\nPUB lg.result.fra.final.t 1\r\nx\r\nPUB lg.presence.join-s1.x 1\r\nx\r\n",
    );
    expect(bad.toServer).toEqual([]);
    expect(bad.close).toBe(false);
    expect(bad.refused).toEqual([
      `Permissions Violation for Subscription to "lg.agent.fra.job"`,
      `Permissions Violation for Subscription to ">"`,
      `Permissions Violation for Subscription to "lg.agent.*.job"`,
      "Invalid Subject",
      `Permissions Violation for Publish to "lg.result.fra.final.t"`,
      `Permissions Violation for Publish to "lg.presence.join-s1.x"`,
    ]);
  });

  it("invalid subjects are refused before any permission check, and the connection stays", () => {
    const f = connected();
    const out = send(
      f,
      "PUB lg.result.join-s1..x 1\r\nx\r\nPUB lg.result.join-s1.* 1\r\nx\r\nSUB lg.agent.join-s1.>.x 1\r\nSUB lg.agent.join-s1.a* 2\r\nPUB lg.presence.join-s1 _INBOX_join-s1.> 1\r\nx\r\n",
    );
    expect(out.toServer).toEqual([]);
    expect(out.close).toBe(false);
    expect(out.refused).toEqual([
      "Invalid Publish Subject",
      "Invalid Publish Subject",
      "Invalid Subject",
      "Invalid Subject",
      "Invalid Publish Subject",
    ]);
  });

  it("a publish whose reply goes to someone else's inbox is refused", () => {
    const out = send(connected(), "PUB lg.result.join-s1.final.t _INBOX.coordinator.1 1\r\nx\r\n");
    expect(out.toServer).toEqual([]);
    expect(out.refused).toEqual([`Permissions Violation for Publish with Reply of "_INBOX.coordinator.1"`]);
  });

  it("a request delivered to the client may be answered once, and only within the time limit", () => {
    let now = 1_000;
    const f = connected({ now: () => now });
    send(f, "SUB lg.agent.join-s1.> 1\r\n");
    // Split across chunks, with a message before it whose payload looks like a request.
    const delivered = f.fromServer(
      Buffer.from(
        "MSG lg.agent.join-s1.job 1 24\r\nMSG x 1 _INBOX.fake 1\r\nx\r\nMSG lg.agent.join-s1.job 1 _INB",
      ),
    );
    expect(text(delivered.toClient)).toBe("MSG lg.agent.join-s1.job 1 24\r\nMSG x 1 _INBOX.fake 1\r\nx\r\n");
    f.fromServer(
      Buffer.from("OX.c.1 2\r\nhi\r\nHMSG lg.agent.join-s1.job 1 _INBOX.c.2 12 12\r\nNATS/1.0\r\n\r\n\r\n"),
    );
    expect(send(f, "PUB _INBOX.fake 1\r\nx\r\n").refused).toHaveLength(1);
    const first = send(f, "PUB _INBOX.c.1 2\r\nok\r\n");
    expect(text(first.toServer)).toBe("PUB _INBOX.c.1 2\r\nok\r\n");
    expect(send(f, "PUB _INBOX.c.1 2\r\nok\r\n").refused).toEqual([
      `Permissions Violation for Publish to "_INBOX.c.1"`,
    ]);
    now += REPLY_TTL_MS + 1;
    expect(send(f, "PUB _INBOX.c.2 2\r\nok\r\n").refused).toEqual([
      `Permissions Violation for Publish to "_INBOX.c.2"`,
    ]);
  });

  it("at most MAX_PENDING_REPLIES reply subjects are remembered; the oldest go first", () => {
    const f = connected();
    const msgs = Array.from(
      { length: MAX_PENDING_REPLIES + 1 },
      (_, i) => `MSG lg.agent.join-s1.job 1 _INBOX.r.${i} 0\r\n\r\n`,
    );
    f.fromServer(Buffer.from(msgs.join("")));
    expect(send(f, "PUB _INBOX.r.0 0\r\n\r\n").refused).toHaveLength(1);
    expect(send(f, "PUB _INBOX.r.1 0\r\n\r\n").refused).toEqual([]);
    expect(send(f, `PUB _INBOX.r.${MAX_PENDING_REPLIES} 0\r\n\r\n`).refused).toEqual([]);
  });

  it("a payload split across chunks is passed on once it is whole, headers included", () => {
    const f = connected();
    const msg = "HPUB lg.result.join-s1.final.t _INBOX_join-s1.r.1 12 17\r\nNATS/1.0\r\n\r\nhello\r\n";
    expect(send(f, msg.slice(0, 30)).toServer).toEqual([]);
    expect(send(f, msg.slice(30, 60)).toServer).toEqual([]);
    expect(text(send(f, msg.slice(60)).toServer)).toBe(msg);
  });

  it("HPUB from a client that did not ask for headers ends the connection", () => {
    const f = filter();
    f.fromClient(connect("secret", { headers: false }));
    const out = send(f, "HPUB lg.presence.join-s1 12 12\r\nNATS/1.0\r\n\r\n\r\n");
    expect(out.close).toBe(true);
    expect(out.toServer).toEqual([]);
  });

  it("a payload over the server's own max_payload ends the connection", () => {
    const f = new JoinProtocolFilter({
      agentId: AGENT,
      permissions: joinPermissions(AGENT),
      tokenOk: () => true,
    });
    f.fromServer(Buffer.from('INFO {"max_payload":100}\r\n'));
    f.fromClient(connect("x"));
    const out = send(f, "PUB lg.presence.join-s1 101\r\n");
    expect(out.close).toBe(true);
    expect(text(out.toClient)).toBe("-ERR 'Maximum Payload Violation'\r\n");
  });

  it("commands before a protocol error still go on; nothing after it does", () => {
    const out = send(connected(), "PUB lg.presence.join-s1 2\r\nhi\r\nFOO\r\nPING\r\n");
    expect(text(out.toServer)).toBe("PUB lg.presence.join-s1 2\r\nhi\r\n");
    expect(out.close).toBe(true);
    expect(text(out.toClient)).toBe("-ERR 'Unknown Protocol Operation'\r\n");
  });

  it("a second CONNECT, an unknown operation or an oversized line ends the connection", () => {
    for (const input of [connect("secret"), Buffer.from("FOO bar\r\n"), Buffer.alloc(5_000, 65)]) {
      const f = connected();
      expect(f.fromClient(input).close).toBe(true);
    }
  });
});
