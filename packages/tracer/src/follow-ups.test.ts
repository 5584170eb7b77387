import { diagnose } from "@lg/analysis";
import { FOLLOW_UP_TTL, type FollowUp, type TraceOptionsInput } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./testing/manual-clock";
import { linearPath, type Script, type ScriptedAnswer, ScriptedPort } from "./testing/scripted-port";
import { Tracer } from "./tracer";

const TARGET = "198.18.0.9";
/** Two routers answer, then silence: the destination (or a node before it) says nothing to ICMP. */
const SILENT_END = linearPath(["198.18.0.1", "198.18.0.2", null, null, null, null]);
const OPTIONS: TraceOptionsInput = { count: 10, interval: 1, maxUnknown: 3, timeout: 2 };

/** The silent-end path, with the destination answering TCP and UDP as `answer` says. */
function withDestination(answer: (protocol: "tcp" | "udp", port: number) => ScriptedAnswer): Script {
  return (probe, n) =>
    probe.protocol === "icmp" ? SILENT_END(probe, n) : answer(probe.protocol, probe.port ?? 0);
}

async function trace(script: Script, options: TraceOptionsInput = OPTIONS, target = TARGET) {
  const clock = new ManualClock();
  const port = new ScriptedPort(clock, script);
  const tracer = new Tracer({ port, clock, resolveNames: false });
  const result = await clock.runUntil(tracer.run({ target, options }));
  const followUpProbes = port.sent.filter((s) => s.probe.protocol !== "icmp");
  return { result, port, clock, followUpProbes };
}

const PURPOSE = `the ICMP trace ends in silence after hop 2 (198.18.0.2): is ${TARGET} there, ignoring ICMP echo?`;

describe("follow-up probes of a silent end", () => {
  it("ask the destination with 3 TCP SYN to 443, 3 to 80 and 3 UDP to 33434, at TTL 64", async () => {
    const { followUpProbes } = await trace(withDestination(() => ({ kind: "silent" })));
    const asked = followUpProbes.map((s) => `${s.probe.protocol}:${s.probe.port}@${s.probe.ttl}`);
    expect(asked.sort()).toEqual(
      [
        ...Array(3).fill("tcp:443@64"),
        ...Array(3).fill("tcp:80@64"),
        ...Array(3).fill("udp:33434@64"),
      ].sort(),
    );
    expect(followUpProbes.every((s) => s.probe.address === TARGET && s.probe.ttl === FOLLOW_UP_TTL)).toBe(
      true,
    );
  });

  it("a destination that answers TCP is recorded as answered with its best RTT, and reads as filtering ICMP", async () => {
    const rtt = { 443: 0.2, 80: 0.3 } as Record<number, number>;
    const { result } = await trace(
      withDestination((protocol, port) =>
        protocol === "tcp"
          ? { kind: "reply", address: TARGET, rttMs: rtt[port] ?? 1 }
          : { kind: "reply", address: TARGET, rttMs: 0.4 },
      ),
    );
    expect(result.reachedDestination).toBe(false);
    expect(result.followUps).toEqual<FollowUp[]>([
      {
        kind: "tcp-syn",
        target: TARGET,
        port: 443,
        ttl: 64,
        answered: true,
        sent: 3,
        recv: 3,
        rtt: 0.2,
        purpose: PURPOSE,
        result: `${TARGET} answered 3 of 3 (SYN-ACK or RST), best 0.2 ms`,
      },
      {
        kind: "tcp-syn",
        target: TARGET,
        port: 80,
        ttl: 64,
        answered: true,
        sent: 3,
        recv: 3,
        rtt: 0.3,
        purpose: PURPOSE,
        result: `${TARGET} answered 3 of 3 (SYN-ACK or RST), best 0.3 ms`,
      },
      {
        kind: "udp",
        target: TARGET,
        port: 33434,
        ttl: 64,
        answered: true,
        sent: 3,
        recv: 3,
        rtt: 0.4,
        purpose: PURPOSE,
        result: `${TARGET} answered 3 of 3 (port unreachable), best 0.4 ms`,
      },
    ]);
    const diagnosis = diagnose(result.hops, { destination: TARGET, followUps: result.followUps ?? [] });
    const finding = diagnosis.findings.find((f) => f.code === "destination-filters-icmp");
    expect(finding?.evidence).toContain("Proof that it is there: TCP SYN to 443 answered in 0.2 ms");
    expect(diagnosis.findings.some((f) => f.code === "node-interruption")).toBe(false);
  });

  it("with a service port asks only that TCP port (and UDP)", async () => {
    const { result, followUpProbes } = await trace(
      withDestination((protocol) =>
        protocol === "tcp" ? { kind: "reply", address: TARGET, rttMs: 0.2 } : { kind: "silent" },
      ),
      { ...OPTIONS, servicePort: 8080 },
    );
    expect(followUpProbes).toHaveLength(6);
    expect(result.followUps?.map((f) => [f.kind, f.port, f.answered])).toEqual([
      ["tcp-syn", 8080, true],
      ["udp", 33434, false],
    ]);
  });

  it("silence to every follow-up keeps node-interruption and lists what was tried", async () => {
    const { result } = await trace(withDestination(() => ({ kind: "silent" })));
    expect(result.followUps?.map((f) => [f.kind, f.port, f.answered, f.sent, f.recv, f.result])).toEqual([
      ["tcp-syn", 443, false, 3, 0, "no answer to 3 probes within 1 s"],
      ["tcp-syn", 80, false, 3, 0, "no answer to 3 probes within 1 s"],
      ["udp", 33434, false, 3, 0, "no answer to 3 probes within 1 s"],
    ]);
    const diagnosis = diagnose(result.hops, { destination: TARGET, followUps: result.followUps ?? [] });
    const finding = diagnosis.findings.find((f) => f.code === "node-interruption");
    expect(finding?.evidence).toContain(
      "Follow-up probes to the destination: TCP SYN to 443: no answer; TCP SYN to 80: no answer; UDP to 33434: no answer.",
    );
  });

  it("counts one answer of three as answered", async () => {
    let n = 0;
    const { result } = await trace(
      withDestination((protocol) =>
        protocol === "tcp" && n++ === 1 ? { kind: "reply", address: TARGET, rttMs: 5 } : { kind: "silent" },
      ),
    );
    expect(result.followUps?.[0]).toMatchObject({ port: 443, answered: true, sent: 3, recv: 1, rtt: 5 });
  });

  it("a router answering instead of the destination (TTL expired) is not an answer, and is named", async () => {
    const { result } = await trace(
      withDestination(() => ({ kind: "ttl-expired", address: "198.18.0.2", rttMs: 1 })),
    );
    expect(result.followUps?.every((f) => !f.answered)).toBe(true);
    expect(result.followUps?.[0]?.result).toBe(
      `no answer from ${TARGET}; 198.18.0.2 answered instead (ttl-expired)`,
    );
  });

  it("probes the mtr-packet refuses are not counted as sent and say why", async () => {
    const { result } = await trace(
      withDestination((protocol) =>
        protocol === "tcp"
          ? { kind: "failure", reason: "permission-denied" }
          : { kind: "reply", address: TARGET, rttMs: 1 },
      ),
    );
    expect(result.followUps?.[0]).toMatchObject({
      answered: false,
      sent: 0,
      result: "not sent: mtr-packet refused the probes (permission-denied)",
    });
    expect(result.followUps?.[2]).toMatchObject({ kind: "udp", answered: true });
  });

  it("wait three times the worst RTT on a slow path, but never past the trace's timeout", async () => {
    const slow = linearPath(["198.18.0.1", "198.18.0.2", null, null, null, null], () => 700);
    const silent = (p: Parameters<Script>[0], n: number): ScriptedAnswer =>
      p.protocol === "icmp" ? slow(p, n) : { kind: "silent" };
    const long = await trace(silent, { ...OPTIONS, timeout: 5 });
    expect(long.followUpProbes.every((s) => s.probe.timeoutSec === 3)).toBe(true);
    const capped = await trace(silent, { ...OPTIONS, timeout: 2 });
    expect(capped.followUpProbes.every((s) => s.probe.timeoutSec === 2)).toBe(true);
  });

  it("the whole confirmation takes about one timeout: all probes wait together", async () => {
    const without = await (async () => {
      const clock = new ManualClock();
      const port = new ScriptedPort(
        clock,
        withDestination(() => ({ kind: "silent" })),
      );
      const tracer = new Tracer({ port, clock, resolveNames: false });
      await clock.runUntil(tracer.run({ target: TARGET, options: OPTIONS, followUps: false }));
      return clock.now();
    })();
    const { clock } = await trace(withDestination(() => ({ kind: "silent" })));
    // 1 s timeout + 0.5 s slack for mtr-packet's own no-reply, once for all nine probes
    expect(clock.now() - without).toBe(1500);
  });

  it("are not sent when the destination answered, for UDP or TCP traces, after 'unreachable', or when nothing answered", async () => {
    const reached = await trace(linearPath(["198.18.0.1", TARGET]));
    expect(reached.result.followUps).toBeUndefined();
    expect(reached.followUpProbes).toHaveLength(0);

    const udp = await trace(SILENT_END, { ...OPTIONS, protocol: "udp" });
    expect(udp.result.followUps).toBeUndefined();
    expect(udp.port.sent.every((s) => s.probe.ttl <= 6)).toBe(true);

    const unreachable: Script = (p) =>
      p.ttl === 1
        ? { kind: "ttl-expired", address: "198.18.0.1", rttMs: 1 }
        : { kind: "no-route", address: "198.18.0.2", rttMs: 1 };
    const noRoute = await trace(unreachable);
    expect(noRoute.result.stoppedBy).toBe("unreachable");
    expect(noRoute.result.followUps).toBeUndefined();

    const nothing = await trace(() => ({ kind: "silent" }));
    expect(nothing.result.followUps).toBeUndefined();
    expect(nothing.followUpProbes).toHaveLength(0);
  });

  it("are not sent when the trace is cancelled", async () => {
    const clock = new ManualClock();
    const port = new ScriptedPort(
      clock,
      withDestination(() => ({ kind: "reply", address: TARGET, rttMs: 1 })),
    );
    const tracer = new Tracer({ port, clock, resolveNames: false });
    const controller = new AbortController();
    clock.setTimer(() => controller.abort(), 3_500);
    const result = await clock.runUntil(
      tracer.run({ target: TARGET, options: OPTIONS, signal: controller.signal }),
    );
    expect(result.stoppedBy).toBe("cancelled");
    expect(result.followUps).toBeUndefined();
    expect(port.sent.filter((s) => s.probe.protocol !== "icmp")).toHaveLength(0);
  });

  it("ask an IPv6 destination the same way", async () => {
    const v6 = "2001:2::9";
    const path = linearPath(["2001:2::1", "2001:2::2", null, null, null, null]);
    const script: Script = (p, n) =>
      p.protocol === "icmp" ? path(p, n) : { kind: "reply", address: v6, rttMs: 0.2 };
    const { result, followUpProbes } = await trace(script, OPTIONS, v6);
    expect(followUpProbes.every((s) => s.probe.family === 6)).toBe(true);
    expect(result.followUps?.map((f) => f.answered)).toEqual([true, true, true]);
  });
});
