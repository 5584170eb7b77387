import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ClientOp,
  ClientProtocolParser,
  ERR,
  encodeClientOp,
  MAX_CONTROL_LINE,
  parseSize,
  ServerProtocolReader,
  subjectWithin,
  validSubject,
} from "./nats-protocol";

const parse = (text: string | Buffer, maxPayload?: number) =>
  new ClientProtocolParser(maxPayload === undefined ? undefined : () => maxPayload).push(
    typeof text === "string" ? Buffer.from(text, "latin1") : text,
  );
const pub = (subject: string, payload: string, reply?: string): ClientOp => ({
  op: "PUB",
  subject,
  reply,
  payload: Buffer.from(payload, "latin1"),
});

describe("NATS client protocol parser (nats-server 2.9's rules)", () => {
  it("a bare LF ends a control line, as in nats-server", () => {
    expect(parse("PUB a 2\nhi\r\nPING\n")).toEqual({ ops: [pub("a", "hi"), { op: "PING" }] });
  });

  it("operations are case-insensitive; space and tab both separate fields, repeated or not", () => {
    expect(parse("pub\ta \t _r\t\t2\r\nhi\r\nSuB  x.*\tq 7\r\nunsub 7 3\r\nPiNg\r\npong\r\n").ops).toEqual([
      pub("a", "hi", "_r"),
      { op: "SUB", subject: "x.*", queue: "q", sid: "7" },
      { op: "UNSUB", sid: "7", max: 3 },
      { op: "PING" },
      { op: "PONG" },
    ]);
  });

  it("PING and PONG ignore what follows them on the line, as nats-server does", () => {
    expect(parse("PINGpong\r\nPONG x\r\n").ops).toEqual([{ op: "PING" }, { op: "PONG" }]);
  });

  it("HPUB carries its header size; the payload is the whole message", () => {
    const msg = "HPUB s r 12 17\r\nNATS/1.0\r\n\r\nhello\r\n";
    expect(parse(msg).ops).toEqual([
      { op: "HPUB", subject: "s", reply: "r", headerSize: 12, payload: Buffer.from("NATS/1.0\r\n\r\nhello") },
    ]);
  });

  it("CONNECT takes a JSON object, with or without a space before it", () => {
    expect(parse('CONNECT {"a":1}\r\nconnect{"b":2}\r\n').ops).toEqual([
      { op: "CONNECT", options: { a: 1 } },
      { op: "CONNECT", options: { b: 2 } },
    ]);
    for (const bad of ["CONNECT [1]\r\n", "CONNECT null\r\n", "CONNECT {\r\n", 'CONNECT {"a":1} x\r\n'])
      expect(parse(bad).error, bad).toBe(ERR.unknown);
  });

  it("sizes are 1 to 9 decimal digits, as nats-server's parseSize reads them", () => {
    expect([parseSize("0"), parseSize("007"), parseSize("999999999")]).toEqual([0, 7, 999_999_999]);
    for (const bad of ["", "1e3", "0x10", "+5", "-1", " 5", "5 ", "1234567890", "١"])
      expect(parseSize(bad), bad).toBe(-1);
    expect(parse("PUB a 1e1\r\n0123456789\r\n").error).toBe(ERR.unknown);
    expect(parse("PUB a 9999999999\r\n").error).toBe(ERR.unknown);
  });

  it("a payload larger than the limit ends the connection with nats-server's error", () => {
    expect(parse("PUB a 1048577\r\n").error).toBe(ERR.payload);
    expect(parse("PUB a 101\r\n", 100).error).toBe(ERR.payload);
    expect(parse("HPUB a 1 101\r\n", 100).error).toBe(ERR.payload);
    expect(parse("PUB a 100\r\n", 100).error).toBeUndefined();
  });

  it("HPUB with a header larger than the message, wrong argument counts and unknown operations are errors", () => {
    for (const bad of [
      "HPUB a 5 3\r\n",
      "HPUB a 3\r\n",
      "PUB a\r\n",
      "PUB a b c 1\r\n",
      "PUB\r\n",
      "SUB a\r\n",
      "SUB a b c d\r\n",
      "UNSUB\r\n",
      "UNSUB a b c\r\n",
      "MSG a 1 2\r\n",
      "INFO {}\r\n",
      "+OK\r\n",
      "-ERR 'x'\r\n",
      "PUBX a 1\r\n",
      "\r\n",
      " PING\r\n",
    ])
      expect(parse(bad).error, JSON.stringify(bad)).toBe(ERR.unknown);
  });

  it("a payload not followed by CRLF is an error (the size was wrong)", () => {
    expect(parse("PUB a 1\r\nhello\r\n").error).toBe(ERR.unknown);
    expect(parse("PUB a 5\r\nhi\r\n\r\nxx").error).toBe(ERR.unknown);
    expect(parse("PUB a 2\r\nhi\n\n").error).toBe(ERR.unknown);
  });

  it("a CR anywhere but before the LF, and other control bytes, are errors", () => {
    for (const bad of [
      "PING\rSUB a 1\r\n",
      "PUB a\r 1\r\nx\r\n",
      "PUB a 1\r\r\nx\r\n",
      "SUB a\x0b 1\r\n",
      "SUB a\x00 1\r\n",
      "SUB a\x7f 1\r\n",
    ])
      expect(parse(bad).error, JSON.stringify(bad)).toBe(ERR.unknown);
  });

  it("a control line over 4096 bytes is an error, even before its LF arrives", () => {
    const long = `SUB ${"a".repeat(MAX_CONTROL_LINE - 6)} 1`;
    expect(long.length).toBe(MAX_CONTROL_LINE);
    expect(parse(`${long}\r\n`).error).toBeUndefined();
    expect(parse(`${long}x\r\n`).error).toBe(ERR.controlLine);
    expect(parse(`SUB ${"a".repeat(MAX_CONTROL_LINE)}`).error).toBe(ERR.controlLine);
  });

  it("a 1 MiB payload in 16-byte pieces is read in linear time, whole and once", () => {
    const p = new ClientProtocolParser();
    const payload = Buffer.alloc(1_048_576, 0x61);
    expect(p.push(Buffer.from("PUB a 1048576\r\n"))).toEqual({ ops: [] });
    const started = performance.now();
    let early = 0;
    for (let at = 0; at < payload.length; at += 16) early += p.push(payload.subarray(at, at + 16)).ops.length;
    expect(early).toBe(0);
    const done = p.push(Buffer.from("\r\n"));
    // Copying the whole buffer on every piece (65,536 pieces) took 46 s here.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(done.ops).toHaveLength(1);
    expect((done.ops[0] as { payload: Buffer }).payload.equals(payload)).toBe(true);
  });

  it("after an error the parser reads nothing more", () => {
    const p = new ClientProtocolParser();
    expect(p.push(Buffer.from("FOO\r\n")).error).toBe(ERR.unknown);
    expect(p.push(Buffer.from("PING\r\n"))).toEqual({ ops: [] });
  });

  it("the canonical encoding reads back as the same command", () => {
    const ops: ClientOp[] = [
      { op: "CONNECT", options: { verbose: false, name: "x" } },
      pub("a.b", "x\r\ny", "_INBOX_a.1"),
      pub("a", ""),
      {
        op: "HPUB",
        subject: "a",
        reply: undefined,
        headerSize: 12,
        payload: Buffer.from("NATS/1.0\r\n\r\nhi"),
      },
      { op: "SUB", subject: "a.>", queue: undefined, sid: "1" },
      { op: "SUB", subject: "a.*", queue: "q", sid: "2" },
      { op: "UNSUB", sid: "1", max: undefined },
      { op: "UNSUB", sid: "2", max: 5 },
      { op: "PING" },
      { op: "PONG" },
    ];
    const bytes = Buffer.concat(ops.map(encodeClientOp));
    expect(bytes.toString("latin1")).toContain("PUB a.b _INBOX_a.1 4\r\nx\r\ny\r\n");
    expect(parse(bytes)).toEqual({ ops });
  });

  it("any split of a stream into chunks gives the same commands as the whole stream", () => {
    const stream =
      'CONNECT {"headers":true}\r\nPUB a 2\nhi\r\nHPUB b r 12 14\r\nNATS/1.0\r\n\r\nyo\r\nSUB\tc.> 1\nUNSUB 1\r\nPING\r\n';
    const whole = parse(stream);
    expect(whole.error).toBeUndefined();
    expect(whole.ops).toHaveLength(6);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }),
        (cuts) => {
          const p = new ClientProtocolParser();
          const ops: ClientOp[] = [];
          let at = 0;
          for (const cut of [...cuts.sort((x, y) => x - y), stream.length]) {
            const r = p.push(Buffer.from(stream.slice(at, cut), "latin1"));
            expect(r.error).toBeUndefined();
            ops.push(...r.ops);
            at = cut;
          }
          expect(ops).toEqual(whole.ops);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("subjects", () => {
  it("a valid subject has non-empty printable tokens; wildcards only where allowed and whole", () => {
    for (const s of ["a", "a.b", "_INBOX_x.y", "lg.result.join-1.final.t_2"]) {
      expect(validSubject(s, false), s).toBe(true);
      expect(validSubject(s, true), s).toBe(true);
    }
    for (const s of ["a.*", "a.>", "*.b", ">", "a.*.>"]) {
      expect(validSubject(s, true), s).toBe(true);
      expect(validSubject(s, false), s).toBe(false);
    }
    for (const s of [
      "",
      ".",
      "a.",
      ".a",
      "a..b",
      "a.>.b",
      "a b",
      "a\tb",
      "a\x00",
      "é",
      "a*",
      "a.b>",
      "a.\x7f",
    ]) {
      expect(validSubject(s, true), JSON.stringify(s)).toBe(false);
    }
  });

  it("a subject is within a permission only if everything it matches is", () => {
    const within: [string, string][] = [
      ["lg.agent.a.job", "lg.agent.a.>"],
      ["lg.agent.a.*", "lg.agent.a.>"],
      ["lg.agent.a.>", "lg.agent.a.>"],
      ["lg.agent.a.x.*.y", "lg.agent.a.>"],
      ["lg.presence.a", "lg.presence.a"],
      ["a.b", "a.*"],
      ["a.*", "a.*"],
    ];
    const outside: [string, string][] = [
      ["lg.agent.a", "lg.agent.a.>"],
      ["lg.agent.*.job", "lg.agent.a.>"],
      ["lg.agent.>", "lg.agent.a.>"],
      ["lg.>", "lg.agent.a.>"],
      [">", "lg.agent.a.>"],
      ["lg.agent.b.job", "lg.agent.a.>"],
      ["lg.presence.a.x", "lg.presence.a"],
      ["lg.presence.*", "lg.presence.a"],
      ["a.>", "a.*"],
      ["a.b.c", "a.*"],
    ];
    for (const [s, p] of within) expect(subjectWithin(s, p), `${s} in ${p}`).toBe(true);
    for (const [s, p] of outside) expect(subjectWithin(s, p), `${s} in ${p}`).toBe(false);
  });
});

describe("NATS server protocol reader", () => {
  it("passes control lines whole, notes reply subjects before the line that carries them, and skips payloads", () => {
    const stream = Buffer.from(
      'INFO {"nonce":"n"}\r\nMSG a 1 _INBOX.r1 5\r\nMSG x\r\nHMSG b 2 _INBOX.r2 12 14\r\nNATS/1.0\r\n\r\nhi\r\nMSG c 3 2\r\nok\r\nPING\r\n',
    );
    const items = new ServerProtocolReader().push(stream);
    const replies = items.filter((i) => i.kind === "reply").map((i) => (i as { subject: string }).subject);
    // "MSG x" was the payload of the first message, not a message of its own.
    expect(replies).toEqual(["_INBOX.r1", "_INBOX.r2"]);
    expect(items[0]).toEqual({ kind: "info", info: { nonce: "n" } });
    expect(items[1]).toEqual({ kind: "reply", subject: "_INBOX.r1" });
    const bytes = Buffer.concat(items.flatMap((i) => (i.kind === "bytes" ? [i.data] : [])));
    expect(bytes.toString()).toBe(stream.toString().replace(/^INFO[^\n]*\n/, ""));
  });

  it("a control line split across chunks is held until it is whole", () => {
    const r = new ServerProtocolReader();
    expect(r.push(Buffer.from("MSG a 1 _IN"))).toEqual([]);
    const items = r.push(Buffer.from("BOX.q 2\r\nhi\r\n"));
    expect(items[0]).toEqual({ kind: "reply", subject: "_INBOX.q" });
  });
});
