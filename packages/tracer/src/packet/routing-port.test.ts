import type { TraceOptionsInput } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { TracerError } from "../errors";
import { ManualClock } from "../testing/manual-clock";
import { linearPath, ScriptedPort } from "../testing/scripted-port";
import { Tracer } from "../tracer";
import { lgProbeNeed, RoutingPort } from "./routing-port";
import type { ProbeSpec } from "./types";

const TARGET = "198.18.0.9";
const PATH = ["198.18.0.1", "198.18.0.2", TARGET];
const TARGET6 = "2001:2::9";
const PATH6 = ["2001:2::1", TARGET6];

/** A tracer over a routing port whose two helpers are scripted networks, the same path. */
function routed(opts: { lgProbe: boolean; freeFlows?: "mtr-packet" | "lg-probe" }) {
  const clock = new ManualClock();
  const made: string[] = [];
  const mtr = new ScriptedPort(clock, (p, n) => linearPath(p.family === 6 ? PATH6 : PATH)(p, n));
  const lg = new ScriptedPort(clock, (p, n) => linearPath(p.family === 6 ? PATH6 : PATH)(p, n));
  const port = new RoutingPort({
    mtrPacket: () => {
      made.push("mtr-packet");
      return mtr;
    },
    lgProbe: opts.lgProbe
      ? () => {
          made.push("lg-probe");
          return lg;
        }
      : null,
    lgProbeSearched: ["/usr/local/libexec/lg/lg-probe"],
    ...(opts.freeFlows ? { freeFlows: opts.freeFlows } : {}),
  });
  const tracer = new Tracer({ port, clock, resolveNames: false });
  const run = (options: TraceOptionsInput, target = TARGET) =>
    clock.runUntil(tracer.run({ target, options: { count: 2, interval: 0.1, ...options } }));
  return { run, mtr, lg, made, port };
}

const probe = (p: Partial<ProbeSpec>): ProbeSpec => ({
  family: 4,
  address: TARGET,
  ttl: 1,
  protocol: "udp",
  timeoutSec: 1,
  ...p,
});

describe("lgProbeNeed", () => {
  it("leaves to mtr-packet what it sends as asked, IPv4 UDP with a source port included", () => {
    expect(lgProbeNeed(probe({}))).toBeNull();
    expect(lgProbeNeed(probe({ port: 33434, localPort: 33433 }))).toBeNull();
    expect(lgProbeNeed(probe({ protocol: "tcp", port: 443 }))).toBeNull();
    expect(lgProbeNeed(probe({ family: 6, address: TARGET6, protocol: "icmp" }))).toBeNull();
    expect(lgProbeNeed(probe({ timestamps: [] }))).toBeNull();
  });
  it.each<[Partial<ProbeSpec>, string]>([
    [{ protocol: "icmp", flowId: 1 }, "a fixed ICMP flow id"],
    [{ family: 6, address: TARGET6, flowLabel: 0 }, "an IPv6 flow label"],
    [{ recordRoute: true }, "the Record Route option"],
    [{ timestamps: [TARGET] }, "the Timestamp option"],
    [{ protocol: "tcp", localPort: 40000 }, "a fixed TCP source port"],
    [{ family: 6, address: TARGET6, localPort: 40000 }, "a fixed IPv6 source port"],
  ])("sends %o through lg-probe (%s)", (fields, need) => {
    expect(lgProbeNeed(probe(fields))).toBe(need);
  });
});

describe("RoutingPort under the tracer", () => {
  it("with freeFlows lg-probe, a free ICMP trace goes through lg-probe alone", async () => {
    const { run, made, lg, mtr } = routed({ lgProbe: true, freeFlows: "lg-probe" });
    const result = await run({});
    expect(result.reachedDestination).toBe(true);
    expect(made).toEqual(["lg-probe"]);
    expect(lg.sent.length).toBeGreaterThan(0);
    expect(mtr.sent).toHaveLength(0);
  });

  it("with freeFlows lg-probe but no lg-probe installed, free flows still go through mtr-packet", async () => {
    const { run, made } = routed({ lgProbe: false, freeFlows: "lg-probe" });
    const result = await run({});
    expect(result.reachedDestination).toBe(true);
    expect(made).toEqual(["mtr-packet"]);
  });

  it("keeps a pinned IPv4 UDP flow on mtr-packet and never starts lg-probe", async () => {
    const { run, mtr, lg, made } = routed({ lgProbe: true });
    const result = await run({ protocol: "udp", pinFlow: true });
    expect(result.reachedDestination).toBe(true);
    expect(mtr.sent.length).toBeGreaterThan(0);
    expect(lg.sent).toHaveLength(0);
    expect(made).toEqual(["mtr-packet"]);
  });

  it.each([
    [
      "--pin-flow -T -P 443 -L 40000",
      { protocol: "tcp", port: 443, localPort: 40000, pinFlow: true },
      TARGET,
    ],
    ["ICMP --pin-flow", { pinFlow: true }, TARGET],
    ["ICMP --mda", { mda: true }, TARGET],
    ["-6 -u --pin-flow", { protocol: "udp", pinFlow: true }, TARGET6],
    ["-6 -u -L 40000 (a free flow)", { protocol: "udp", localPort: 40000 }, TARGET6],
  ] as const)("sends every probe of %s through lg-probe", async (_, options, target) => {
    const { run, mtr, lg, made } = routed({ lgProbe: true });
    const result = await run(options, target);
    expect(result.reachedDestination).toBe(true);
    expect(lg.sent.length).toBeGreaterThan(0);
    expect(mtr.sent).toHaveLength(0);
    expect(made).toEqual(["lg-probe"]);
  });

  it("sends the follow-ups of a pinned ICMP trace (TCP and UDP without a flow) through mtr-packet", async () => {
    const clock = new ManualClock();
    // The destination ignores ICMP echo: the trace ends silent and asks it over TCP and UDP.
    const silentEnd = (p: ProbeSpec, n: number) =>
      p.ttl >= 3 ? ({ kind: "silent" } as const) : linearPath(PATH)(p, n);
    const mtr = new ScriptedPort(clock, silentEnd);
    const lg = new ScriptedPort(clock, silentEnd);
    const port = new RoutingPort({ mtrPacket: () => mtr, lgProbe: () => lg });
    const tracer = new Tracer({ port, clock, resolveNames: false });
    const result = await clock.runUntil(
      tracer.run({ target: TARGET, options: { pinFlow: true, count: 1, interval: 0.1, maxUnknown: 2 } }),
    );
    expect(result.followUps?.length).toBeGreaterThan(0);
    expect(lg.sent.every((s) => s.probe.protocol === "icmp" && s.probe.flowId === 33433)).toBe(true);
    expect(mtr.sent.map((s) => s.probe.protocol).sort()).toEqual([
      "tcp",
      "tcp",
      "tcp",
      "tcp",
      "tcp",
      "tcp",
      "udp",
      "udp",
      "udp",
    ]);
  });

  it.each([
    [
      { protocol: "tcp", port: 443, localPort: 40000 },
      TARGET,
      /^-L\/--localport over IPv4 TCP: a fixed TCP source port needs lg-probe/,
    ],
    [{ pinFlow: true }, TARGET, /^--pin-flow over IPv4 ICMP: a fixed ICMP flow id needs lg-probe/],
    [{ protocol: "udp", mda: true }, TARGET6, /^--mda over IPv6 UDP: an IPv6 flow label needs lg-probe/],
  ] as const)(
    "without lg-probe refuses %o as unsupported, saying what to run, and sends nothing",
    async (options, target, message) => {
      const { run, mtr, made } = routed({ lgProbe: false });
      const err = await run(options, target).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TracerError);
      expect((err as TracerError).code).toBe("unsupported");
      expect((err as TracerError).message).toMatch(message);
      expect((err as TracerError).message).toContain("run ./scripts/setup");
      expect((err as TracerError).message).toContain("/usr/local/libexec/lg/lg-probe");
      expect(mtr.sent).toHaveLength(0);
      expect(made).toEqual([]);
    },
  );

  it("without lg-probe still runs a pinned IPv4 UDP flow on mtr-packet", async () => {
    const { run, mtr } = routed({ lgProbe: false });
    const result = await run({ protocol: "udp", pinFlow: true });
    expect(result.reachedDestination).toBe(true);
    expect(new Set(mtr.sent.map((s) => `${s.probe.port}/${s.probe.localPort}`))).toEqual(
      new Set(["33434/33433"]),
    );
  });

  it("fails a probe that needs the missing lg-probe instead of sending it another way", async () => {
    const clock = new ManualClock();
    const mtr = new ScriptedPort(clock, linearPath(PATH));
    const port = new RoutingPort({ mtrPacket: () => mtr, lgProbe: null });
    const outcome = await new Promise((resolve) => {
      port.onOutcome((_, o) => resolve(o));
      port.send(1, probe({ protocol: "tcp", localPort: 40000 }));
    });
    expect(outcome).toMatchObject({ kind: "failure", reason: "helper-failed", helper: "lg-probe" });
    expect(mtr.sent).toHaveLength(0);
  });

  it("the default port refuses a flow that needs lg-probe when LG_PROBE_HELPER names a missing file", async () => {
    const tracer = new Tracer({ resolveNames: false, lgProbePath: "/nonexistent/lg-probe" });
    const err = await tracer
      .run({ target: "127.0.0.1", options: { protocol: "tcp", pinFlow: true, count: 1 } })
      .catch((e: unknown) => e);
    await tracer.close();
    expect((err as TracerError).code).toBe("unsupported");
    expect((err as TracerError).message).toContain("(looked for /nonexistent/lg-probe)");
    expect((err as TracerError).message).toContain("LG_PROBE_HELPER");
  });
});
