import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  auditProxy,
  auditServerSubscriptions,
  auditSpy,
  type BridgeLab,
  closesWithin,
  connectLine,
  joinSession,
  openRaw,
  type RawJoin,
  settle,
  startBridgeLab,
} from "./join-bridge-kit";

/**
 * Attacks on the reverse-session NATS bridge, each as a stranger with one session token would
 * send it, against a real nats-server that trusts every client (as `lg up` runs it): the bridge is
 * the only guard. After each attack three oracles must be clean: the bytes nats-server received
 * are canonical and allowed, nothing was routed outside the agent's subjects, and nats-server holds
 * no subscription outside them. And the attacker never sees another agent's job.
 */
const A = "join-atk";
const AGENTS = [A];

/**
 * A PUB whose control line ends in a bare LF (nats-server's line end) with `smuggled` right after
 * its 2-byte payload: a reader that ends lines only at CRLF takes the digits for the size and the
 * smuggled command for the payload.
 */
function bareLf(smuggled: string, op: "PUB" | "HPUB" = "PUB"): string {
  const digits = String(smuggled.length - 2);
  const sizes = op === "PUB" ? `${digits.length}` : `${digits.length} ${digits.length}`;
  return `${op} lg.presence.${A} _INBOX_${A}.a ${sizes}\n${digits}\r\n${smuggled}`;
}

describe("reverse-session bridge under attack (nats-server with no auth behind it)", () => {
  let lab: BridgeLab;
  let victimJobs = 0;
  /** Where this test's connections and routed messages start; its connections. */
  let mark = { proxied: 0, spy: 0 };
  const open: RawJoin[] = [];

  beforeAll(async () => {
    lab = await startBridgeLab();
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });
  beforeEach(() => {
    mark = { proxied: lab.proxied.length, spy: lab.spy.length };
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
  });

  /** Sends `input` on a fresh session connection (subscribed to its own jobs), then settles. */
  async function attack(input: string | Buffer, cuts?: number[]): Promise<RawJoin> {
    const c = await joinSession(lab, A, { subscribe: true });
    open.push(c);
    c.send(input, cuts);
    await settle(lab, c);
    // Another agent's job, sent while the attacker is still connected.
    lab.request("victim", `_INBOX.victim.${++victimJobs}`);
    await settle(lab, c);
    return c;
  }

  async function expectClean(c: RawJoin) {
    expect(c.received()).not.toMatch(/MSG lg\.agent\.victim/);
    expect(await auditServerSubscriptions(lab, AGENTS)).toEqual([]);
    expect(auditProxy(lab, AGENTS, mark.proxied).violations).toEqual([]);
    expect(auditSpy(lab, AGENTS, mark.spy).violations).toEqual([]);
  }

  it("a SUB hidden behind a PUB line ending in a bare LF is refused, and the PUB itself goes through", async () => {
    const c = await attack(bareLf("SUB lg.> 99\r\n"));
    await expectClean(c);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Subscription to "lg.>"'`);
    // nats-server's reading of the bytes: a 2-byte presence message, then the SUB.
    expect(lab.spy.some((m) => m.subject === `lg.presence.${A}` && m.data.toString() === "11")).toBe(true);
  });

  it("a forged final result in another agent's name hidden the same way never reaches NATS", async () => {
    const c = await attack(bareLf("PUB lg.result.victim.final.t1 5\r\nforge\r\n"));
    await expectClean(c);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Publish to "lg.result.victim.final.t1"'`);
    expect(lab.spy.some((m) => m.subject.startsWith("lg.result.victim"))).toBe(false);
  });

  it("the same smuggling behind an HPUB is refused", async () => {
    const c = await attack(bareLf("SUB lg.agent.*.job 98\r\n", "HPUB"));
    await expectClean(c);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Subscription to "lg.agent.*.job"'`);
  });

  it("the smuggling split into one WebSocket message per byte is refused the same", async () => {
    const input = bareLf("SUB _INBOX.> 97\r\n");
    const c = await attack(
      input,
      [...input].map((_, i) => i + 1),
    );
    await expectClean(c);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Subscription to "_INBOX.>"'`);
  });

  it("a carriage return alone inside a control line ends the connection, and nothing of it reaches NATS", async () => {
    for (const input of [
      "PING\rSUB lg.> 1\r\n",
      `PUB lg.result.${A}.x\r 2\r\nhi\r\n`,
      `SUB lg.agent.${A}.\r> 1\r\n`,
    ]) {
      const c = await attack(input);
      await expectClean(c);
      expect(c.received()).toContain("-ERR 'Unknown Protocol Operation'");
      expect(await closesWithin(c)).toBe(true);
    }
  });

  it("tabs separate fields as in nats-server; other JavaScript whitespace does not", async () => {
    const ok = await attack(`PUB\tlg.presence.${A}\t\t2\r\nhi\r\nSUB\tlg.>\t9\r\n`);
    await expectClean(ok);
    expect(ok.received()).toContain(`-ERR 'Permissions Violation for Subscription to "lg.>"'`);
    expect(lab.spy.some((m) => m.subject === `lg.presence.${A}` && m.data.toString() === "hi")).toBe(true);
    // Vertical tab, form feed, NBSP: JavaScript's \s, not nats-server's separators.
    for (const sep of ["\x0b", "\x0c", "\xa0"]) {
      const c = await attack(`SUB lg.agent.${A}.x${sep}lg.> 1\r\nPUB lg.presence.${A}${sep}x 1\r\nz\r\n`);
      await expectClean(c);
      expect(c.received()).toMatch(/-ERR '(Unknown Protocol Operation|Invalid Subject)'/);
    }
  });

  it("sizes nats-server would not read as sizes end the connection; oversize ones too", async () => {
    for (const [input, error] of [
      [`PUB lg.presence.${A} 1e1\r\n0123456789\r\n`, "Unknown Protocol Operation"],
      [`PUB lg.presence.${A} 0x4\r\nabcd\r\n`, "Unknown Protocol Operation"],
      [`PUB lg.presence.${A} +2\r\nab\r\n`, "Unknown Protocol Operation"],
      [`PUB lg.presence.${A} 9999999999\r\n`, "Unknown Protocol Operation"],
      [`PUB lg.presence.${A} 1048577\r\n`, "Maximum Payload Violation"],
      [`HPUB lg.presence.${A} 12 10\r\nNATS/1.0\r\n\r\n\r\n`, "Unknown Protocol Operation"],
      [`PUB lg.presence.${A} 1\r\nhSUB lg.> 1\r\n`, "Unknown Protocol Operation"],
    ] as const) {
      const c = await attack(input);
      await expectClean(c);
      expect(c.received(), input).toContain(`-ERR '${error}'`);
      expect(await closesWithin(c)).toBe(true);
    }
  });

  it("an answer to a request the agent never received is refused", async () => {
    // `_INBOX.victim.*` requests went to another agent; `_INBOX.x` to nobody.
    lab.request("victim", "_INBOX.victim.unseen");
    const c = await attack(`PUB _INBOX.x 2\r\nok\r\nPUB _INBOX.victim.unseen 2\r\nok\r\n`);
    await expectClean(c);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Publish to "_INBOX.x"'`);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Publish to "_INBOX.victim.unseen"'`);
    expect(lab.spy.some((m) => m.subject === "_INBOX.x" || m.subject === "_INBOX.victim.unseen")).toBe(false);
  });

  it("a request the agent received may be answered once; the second answer is refused", async () => {
    const c = await joinSession(lab, A, { subscribe: true });
    open.push(c);
    lab.request(A, "_INBOX.coord.42");
    expect(await c.waitFor(/MSG lg\.agent\.join-atk\.job 1 _INBOX\.coord\.42 \d+\r\n/)).toBe(true);
    c.send("PUB _INBOX.coord.42 5\r\nfirst\r\nPUB _INBOX.coord.42 6\r\nsecond\r\n");
    await settle(lab, c);
    const answers = lab.spy.filter((m) => m.subject === "_INBOX.coord.42").map((m) => m.data.toString());
    expect(answers).toEqual(["first"]);
    await expectClean(c);
    expect(c.received()).toContain(`-ERR 'Permissions Violation for Publish to "_INBOX.coord.42"'`);
  });

  it("unknown operations, a second CONNECT and an over-long control line end the connection", async () => {
    for (const [input, error] of [
      ["MSG lg.agent.victim.job 1 2\r\nhi\r\n", "Unknown Protocol Operation"],
      ["INFO {}\r\n", "Unknown Protocol Operation"],
      [connectLine(A, "whatever"), "Authorization Violation"],
      [`SUB lg.agent.${A}.${"x".repeat(5_000)} 1\r\n`, "maximum control line exceeded"],
    ] as const) {
      const c = await attack(input);
      await expectClean(c);
      expect(c.received(), input).toContain(`-ERR '${error}'`);
      expect(await closesWithin(c)).toBe(true);
    }
  });

  it("a wrong token, or anything before CONNECT, is refused before nats-server hears of it", async () => {
    const s = lab.addSession(A);
    for (const input of [connectLine(A, "wrong"), "SUB lg.> 1\r\n"]) {
      const before = lab.proxied.length;
      const c = await openRaw(lab.wsUrl(s.id));
      open.push(c);
      c.send(input);
      expect(await closesWithin(c)).toBe(true);
      expect(c.received()).toContain("-ERR 'Authorization Violation'");
      for (const rec of lab.proxied.slice(before))
        expect(Buffer.concat(rec.c2s.map((x) => x.data)).toString("latin1")).toBe("");
    }
  });
});
