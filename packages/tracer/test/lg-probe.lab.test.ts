import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildLab, type LabHandle, numberedLink as link, type Topology } from "@lg/netlab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * lg-probe (helper/lg-probe.c) against real routers. Topology (link N is 198.18.N.0/24 and
 * 2001:2:0:N::/64, .1 on the left end):
 *
 * ```
 *  src --1-- r1 --2-- r2 --3-- tgt        the way there: src r1 r2 tgt
 *             \               /
 *              +--4-- r3 --5-+            the way back from tgt: tgt r3 r1 src
 * ```
 * tgt runs a TCP listener on 8080; r1 silently drops 198.18.99.0/24 (a destination that never
 * answers). The helper runs in src and is driven over its stdin/stdout like the tracer does.
 */

const HELPER_DIR = resolve(import.meta.dirname, "../helper");
const LG_PROBE = resolve(HELPER_DIR, "build/lg-probe");

const TOPOLOGY: Topology = {
  autoRoutes: true,
  nodes: {
    src: { routes: [{ to: "198.18.99.0/24", via: "198.18.1.2" }] },
    r1: { router: true, routes: [{ to: "198.18.99.0/24", type: "blackhole" }] },
    r2: { router: true },
    r3: { router: true },
    tgt: {
      // The way back avoids r2.
      routes: [
        { to: "198.18.1.0/24", via: "198.18.5.1" },
        { to: "2001:2:0:1::/64", via: "2001:2:0:5::1" },
      ],
      processes: [{ name: "listen", helper: "tcp-listen.py", argv: ["8080"], readyText: "listening" }],
    },
  },
  links: [
    link(1, "src", "r1"),
    link(2, "r1", "r2"),
    link(3, "r2", "tgt"),
    link(4, "r1", "r3"),
    link(5, "r3", "tgt"),
  ],
};

const FAMILIES = [
  { family: "ip-4", source: "198.18.1.1", target: "198.18.3.2", r1: "198.18.1.2", r2: "198.18.2.2" },
  {
    family: "ip-6",
    source: "2001:2:0:1::1",
    target: "2001:2:0:3::2",
    r1: "2001:2:0:1::2",
    r2: "2001:2:0:2::2",
  },
] as const;
const SILENT = "198.18.99.1";
const LISTENING_PORT = 8080;
const CLOSED_PORT = 9;

/** One answer line: token, kind, then name/value pairs (`ip-4 A`, `round-trip-time N`, ...). */
interface Answer {
  line: string;
  kind: string;
  address: string | undefined;
  fields: Map<string, string>;
}

function parseAnswer(line: string): Answer {
  const words = line.split(" ");
  const fields = new Map<string, string>();
  for (let i = 2; i + 1 < words.length; i += 2) fields.set(words[i] as string, words[i + 1] as string);
  return { line, kind: words[1] ?? "", address: fields.get("ip-4") ?? fields.get("ip-6"), fields };
}

/** A probe helper (lg-probe or mtr-packet) running in a lab node, driven over its pipes. */
class HelperProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = "";
  private readonly answers = new Map<string, Answer>();
  private readonly untokened: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(ns: string, program: string) {
    this.child = spawn("ip", ["netns", "exec", ns, program]);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => {
      const lines = (this.partial + chunk).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        const token = line.split(" ")[0] ?? "";
        if (token === "0") this.untokened.push(line);
        else this.answers.set(token, parseAnswer(line));
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  write(lines: string[]): void {
    this.child.stdin.write(`${lines.join("\n")}\n`);
  }

  /** Waits until every token has its answer (or fails after `timeoutMs`). */
  async answersTo(tokens: string[], timeoutMs = 20_000): Promise<Map<string, Answer>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = tokens.filter((t) => !this.answers.has(t));
      if (missing.length === 0) return new Map(tokens.map((t) => [t, this.answers.get(t) as Answer]));
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no answer to ${missing.length} requests, e.g. ${missing.slice(0, 5).join(" ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends request lines ("TOKEN ...") and returns their answers by token. */
  async ask(lines: string[], timeoutMs?: number): Promise<Map<string, Answer>> {
    this.write(lines);
    return this.answersTo(
      lines.map((l) => l.split(" ")[0] as string),
      timeoutMs,
    );
  }

  async untokenedLines(count: number): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    while (this.untokened.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return [...this.untokened];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

let lab: LabHandle;
let probe: HelperProcess;
let nextToken = 1;
const token = () => String(nextToken++);

/** Sends one request per spec (without token) and returns the answers in the same order. */
async function send(specs: string[], helper = probe, timeoutMs?: number): Promise<Answer[]> {
  const lines = specs.map((s) => `${token()} ${s}`);
  const answers = await helper.ask(lines, timeoutMs);
  return lines.map((l) => answers.get(l.split(" ")[0] as string) as Answer);
}

beforeAll(async () => {
  execFileSync("flock", ["/tmp/lg-probe-build.lock", "nice", "-n", "19", "make", "-s", "-C", HELPER_DIR]);
  lab = await buildLab(TOPOLOGY);
  probe = new HelperProcess(lab.ns("src"), LG_PROBE);
}, 120_000);

afterAll(async () => {
  await probe?.stop();
  await lab?.down();
});

describe("lg-probe in a lab: src — r1 — r2 — tgt, back over r3", { timeout: 60_000 }, () => {
  for (const f of FAMILIES) {
    it(`${f.family}: TTL 1 and 2 expire at r1 and r2 and TTL 3 reaches the target, for icmp, udp and tcp`, async () => {
      for (const protocol of ["icmp", "udp", `tcp port ${LISTENING_PORT}`, `tcp port ${CLOSED_PORT}`]) {
        const answers = await send(
          [1, 2, 3].map(
            (ttl) => `send-probe ${f.family} ${f.target} ttl ${ttl} protocol ${protocol} timeout 5`,
          ),
        );
        expect(
          answers.map((a) => [a.kind, a.address]),
          protocol,
        ).toEqual([
          ["ttl-expired", f.r1],
          ["ttl-expired", f.r2],
          ["reply", f.target],
        ]);
        // The quote shows the probe as r1 and r2 received it: TTL 1, from our own address.
        for (const a of answers.slice(0, 2)) {
          expect(a.fields.get("quoted-ttl")).toBe("1");
          expect(a.fields.get("quoted-source")).toBe(f.source);
          expect(a.fields.get("quoted-checksum")).toBe(a.fields.get("sent-checksum"));
        }
      }
    });

    it(`${f.family}: a pinned UDP or TCP flow is quoted with exactly the requested ports at every TTL`, async () => {
      for (const [protocol, port, localPort] of [
        ["udp", 33434, 40000],
        ["tcp", LISTENING_PORT, 40001],
      ] as const) {
        const answers = await send(
          [1, 2, 1, 2].map(
            (ttl) =>
              `send-probe ${f.family} ${f.target} ttl ${ttl} protocol ${protocol} port ${port} local-port ${localPort} timeout 5`,
          ),
        );
        expect(answers.map((a) => a.fields.get("quoted-ports"))).toEqual(
          new Array(4).fill(`${localPort},${port}`),
        );
        const [last] = await send([
          `send-probe ${f.family} ${f.target} ttl 3 protocol ${protocol} port ${port} local-port ${localPort} timeout 5`,
        ]);
        expect(last?.kind).toBe("reply");
      }
    });

    it(`${f.family}: an ICMP flow-id holds the echo checksum at its value at every sequence number`, async () => {
      const flowId = 4242;
      const answers = await send(
        [1, 2, 1, 2, 1, 2].map(
          (ttl) => `send-probe ${f.family} ${f.target} ttl ${ttl} flow-id ${flowId} timeout 5`,
        ),
      );
      for (const a of answers) {
        expect(a.kind).toBe("ttl-expired");
        expect(a.fields.get("quoted-checksum")).toBe(String(flowId));
        expect(a.fields.get("sent-checksum")).toBe(String(flowId));
      }
      // The target accepts the compensated checksum and answers.
      const [reply] = await send([`send-probe ${f.family} ${f.target} ttl 3 flow-id ${flowId} timeout 5`]);
      expect(reply?.kind).toBe("reply");
    });
  }

  it("ip-6: the flow label of a probe is quoted back by every router", async () => {
    const answers = await send(
      ["icmp", "udp", "tcp"].flatMap((protocol) =>
        [1, 2].map(
          (ttl) =>
            `send-probe ip-6 2001:2:0:3::2 ttl ${ttl} protocol ${protocol} flow-label 703710 timeout 5`,
        ),
      ),
    );
    expect(answers.map((a) => a.fields.get("quoted-flow-label"))).toEqual(new Array(6).fill("703710"));
  });

  it("record-route to the target records the way there and the different way back", async () => {
    const [reply, atR1, atR2] = await send([
      "send-probe ip-4 198.18.3.2 ttl 3 record-route on timeout 5",
      "send-probe ip-4 198.18.3.2 ttl 1 record-route on timeout 5",
      "send-probe ip-4 198.18.3.2 ttl 2 record-route on timeout 5",
    ]);
    expect(reply?.kind).toBe("reply");
    // r1 and r2 record the interfaces they forward from; the target records its own address
    // (as it receives, and as it answers); on the way back r3 and r1 record theirs, and src
    // records its own as the reply arrives.
    expect(reply?.fields.get("record-route")).toBe(
      "198.18.2.1,198.18.3.1,198.18.3.2,198.18.3.2,198.18.4.2,198.18.1.2,198.18.1.1",
    );
    // A time exceeded quotes the option as far as the probe got.
    expect(atR1?.fields.get("record-route")).toBe("198.18.1.2");
    expect(atR2?.fields.get("record-route")).toBe("198.18.2.1,198.18.2.2");
  });

  it("prespecified timestamps: each router on the way there or back stamps the next address if it is its own", async () => {
    const [bothOfR1, bothOfR2, r3ThenR2] = await send([
      // r1 stamps its first address on the way there and its second on the way back.
      "send-probe ip-4 198.18.3.2 timestamp 198.18.1.2,198.18.2.1 timeout 5",
      // r2 is only on the way there and stamps one entry per pass: the second stays unstamped.
      "send-probe ip-4 198.18.3.2 timestamp 198.18.2.2,198.18.3.1 timeout 5",
      // r3 is only on the way back: it stamps there, after which r2 is never reached.
      "send-probe ip-4 198.18.3.2 timestamp 198.18.4.2,198.18.2.2 timeout 5",
    ]);
    const stamps = (a: Answer | undefined) =>
      a?.fields
        .get("timestamp")
        ?.split(",")
        .map((item) => item.replace(/=\d+$/, "=T"));
    expect(stamps(bothOfR1)).toEqual(["198.18.1.2=T", "198.18.2.1=T"]);
    expect(stamps(bothOfR2)).toEqual(["198.18.2.2=T", "198.18.3.1=-"]);
    expect(stamps(r3ThenR2)).toEqual(["198.18.4.2=T", "198.18.2.2=-"]);
    // Milliseconds since midnight UT, as the routers' clocks (the lab's) read them.
    const ms = Number(bothOfR1?.fields.get("timestamp")?.split(",")[0]?.split("=")[1]);
    const now = Date.now() % 86_400_000;
    expect(Math.abs(ms - now) < 60_000 || Math.abs(ms - now) > 86_400_000 - 60_000).toBe(true);
  });

  it("names the same responders as mtr-packet for the same requests", async () => {
    const mtr = new HelperProcess(lab.ns("src"), "mtr-packet");
    try {
      const specs = FAMILIES.flatMap((f) =>
        ["icmp", "udp", `tcp port ${LISTENING_PORT}`, `tcp port ${CLOSED_PORT}`, "udp port 33434"].flatMap(
          (protocol) =>
            [1, 2, 3].map(
              (ttl) => `send-probe ${f.family} ${f.target} ttl ${ttl} protocol ${protocol} timeout 5`,
            ),
        ),
      );
      specs.push("send-probe ip-4 198.18.3.2 ttl 2 protocol udp port 33434 local-port 40000 timeout 5");
      const ours = await send(specs);
      const theirs = await send(specs, mtr);
      const responders = (answers: Answer[]) => answers.map((a) => `${a.kind} ${a.address}`);
      expect(responders(ours)).toEqual(responders(theirs));
    } finally {
      await mtr.stop();
    }
  });

  it("answers 2,000 probes written at once on loopback, none lost", async () => {
    const specs = Array.from({ length: 2000 }, (_, i) =>
      i % 2 === 0 ? "send-probe ip-4 127.0.0.1 timeout 10" : "send-probe ip-6 ::1 protocol udp timeout 10",
    );
    const answers = await send(specs, probe, 30_000);
    expect(answers.filter((a) => a.kind === "reply")).toHaveLength(2000);
  });

  it("holds 16,384 probes in flight, refuses one more with probes-exhausted, and times each out", async () => {
    const lines = Array.from({ length: 16_384 }, () => `${token()} send-probe ip-4 ${SILENT} timeout 4`);
    const extra = `${token()} send-probe ip-4 ${SILENT} timeout 4`;
    probe.write([...lines, extra]);
    const refused = await probe.answersTo([extra.split(" ")[0] as string]);
    expect([...refused.values()][0]?.kind).toBe("probes-exhausted");
    const answers = await probe.answersTo(
      lines.map((l) => l.split(" ")[0] as string),
      30_000,
    );
    expect([...answers.values()].filter((a) => a.kind === "no-reply")).toHaveLength(16_384);
    const [after] = await send(["send-probe ip-4 198.18.3.2 timeout 5"]);
    expect(after?.kind).toBe("reply");
  });

  it("answers garbage with invalid-argument, unknown-command or command-parse-error and stays up", async () => {
    const garbage = [
      "send-probe ip-4 198.18.3.2 ttl 0",
      "send-probe ip-4 198.18.3.2 ttl 256",
      "send-probe ip-4 198.18.3.2 protocol sctp",
      "send-probe ip-4 198.18.3.999",
      "send-probe ip-6 198.18.3.2",
      "send-probe ip-4 198.18.3.2 frobnicate 1",
      "send-probe ip-4 198.18.3.2 ttl",
      "send-probe ip-4 224.0.0.1",
      "send-probe ip-4 255.255.255.255",
      "send-probe ip-4 198.18.1.255",
      "send-probe ip-6 ff02::1",
      "send-probe ip-4 198.18.3.2 flow-id 65536",
      "send-probe ip-4 198.18.3.2 protocol udp flow-id 1",
      "send-probe ip-4 198.18.3.2 flow-label 1",
      "send-probe ip-6 2001:2:0:3::2 record-route on",
      "send-probe ip-4 198.18.3.2 timestamp 1.2.3.4,1.2.3.5,1.2.3.6,1.2.3.7,1.2.3.8",
      "send-probe ip-4 198.18.3.2 record-route on timestamp 198.18.1.2",
      "send-probe ip-4 198.18.3.2 local-port 80 protocol udp",
      "send-probe ip-4 198.18.3.2 ttl 1 ttl 2",
      "check-support",
    ];
    const answers = await send(garbage);
    expect(answers.map((a) => a.kind)).toEqual(new Array(garbage.length).fill("invalid-argument"));
    expect(answers.every((a) => /^[a-z0-9-]+$/.test(a.fields.get("reason") ?? ""))).toBe(true);
    const [unknown] = await send(["launch-missiles now"]);
    expect(unknown?.kind).toBe("unknown-command");
    // Blank lines are skipped; lines without a token answer with token 0, as mtr-packet does.
    probe.write(["not-a-token send-probe", "", " \t ", `\u0000\u00ff${"x".repeat(20_000)}`]);
    const [support, stillUp] = await send([
      "check-support feature flow-id",
      "send-probe ip-4 198.18.3.2 timeout 5",
    ]);
    expect(support?.line).toMatch(/ feature-support support ok$/);
    expect(stillUp?.kind).toBe("reply");
    expect(await probe.untokenedLines(2)).toEqual(["0 command-parse-error", "0 command-buffer-overflow"]);
    expect(probe.child.exitCode).toBeNull();
  });

  it("sends from a requested source address only if it is this host's", async () => {
    const [own, notOwn, v6] = await send([
      "send-probe ip-4 198.18.3.2 local-ip-4 198.18.1.1 protocol udp timeout 5",
      "send-probe ip-4 198.18.3.2 local-ip-4 198.18.2.1 timeout 5",
      "send-probe ip-6 2001:2:0:3::2 local-ip-6 2001:2:0:1::1 protocol tcp port 8080 timeout 5",
    ]);
    expect(own?.kind).toBe("reply");
    expect(own?.fields.get("quoted-source")).toBe("198.18.1.1");
    expect(notOwn?.kind).toBe("address-not-available");
    expect(v6?.kind).toBe("reply");
  });

  it("holds no capability once started (and may never gain one)", async () => {
    await send(["check-support feature version"]);
    const status = readFileSync(`/proc/${probe.child.pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1];
    expect(field("Name")).toBe("lg-probe");
    expect(field("CapEff")).toBe("0000000000000000");
    expect(field("CapPrm")).toBe("0000000000000000");
    expect(field("CapAmb")).toBe("0000000000000000");
    expect(field("NoNewPrivs")).toBe("1");
  });

  it("exits on end of input once its last probe is answered, and at once on SIGTERM", async () => {
    const draining = new HelperProcess(lab.ns("src"), LG_PROBE);
    draining.write(["1 send-probe ip-4 198.18.99.1 timeout 1"]);
    draining.child.stdin.end();
    expect((await draining.answersTo(["1"])).get("1")?.kind).toBe("no-reply");
    expect(await draining.exited).toEqual({ code: 0, signal: null });

    const stopped = new HelperProcess(lab.ns("src"), LG_PROBE);
    // The answer to the second line shows the first probe was sent and is in flight.
    stopped.write(["1 send-probe ip-4 198.18.99.1 timeout 60", "2 check-support feature version"]);
    await stopped.answersTo(["2"]);
    const started = Date.now();
    stopped.child.kill("SIGTERM");
    expect(await stopped.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
