import type { TraceOptionsInput } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { TracerError } from "./errors";
import { ReverseNames } from "./names";
import type { PacketPort } from "./packet/types";
import { ManualClock } from "./testing/manual-clock";
import { linearPath, type Script, ScriptedPort } from "./testing/scripted-port";
import { type TraceEvent, Tracer } from "./tracer";

const TARGET = "198.18.0.9";
const PATH = ["198.18.0.1", "198.18.0.2", "198.18.0.3", TARGET];

async function trace(script: Script, options: TraceOptionsInput, target = TARGET, followUps = true) {
  const clock = new ManualClock();
  const port = new ScriptedPort(clock, script);
  const tracer = new Tracer({ port, clock, resolveNames: false });
  const events: TraceEvent[] = [];
  const result = await clock.runUntil(tracer.run({ target, options, followUps }, (e) => events.push(e)));
  return { result, port, clock, events };
}

describe("statistics through the engine", () => {
  it("hop 3 answering 7 of 10 probes shows Loss% 30.0 exactly", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) => (p.ttl === 3 && [2, 5, 8].includes(n) ? { kind: "silent" } : base(p, n));
    const { result } = await trace(script, { count: 10, interval: 1, timeout: 2 });
    const hop3 = result.hops[2];
    expect(hop3).toMatchObject({ ttl: 3, host: "198.18.0.3", sent: 10, recv: 7, drop: 3, lossPct: 30 });
    expect(result.hops.map((h) => h.lossPct)).toEqual([0, 0, 30, 0]);
  });

  it("computes Avg, StDev and jitter exactly from the RTTs the helper reports", async () => {
    const rtts = [10, 12, 11, 15];
    const script: Script = (p, n) =>
      p.ttl === 1 ? { kind: "reply", address: "198.18.0.1", rttMs: rtts[n] ?? 1 } : { kind: "silent" };
    const { result } = await trace(script, { count: 4, interval: 1 }, "198.18.0.1");
    const [hop] = result.hops;
    expect(hop).toMatchObject({ sent: 4, recv: 4, last: 15, best: 10, worst: 15, avg: 12 });
    // squared deviations from 12: 4 + 0 + 1 + 9 = 14, sample variance 14 / 3
    expect(hop?.stdev).toBeCloseTo(Math.sqrt(14 / 3), 12);
    // jitters 0, 2, 1, 4: Jttr 4, Jmax 4, Javg 7 / 4
    expect(hop?.jitter).toBeCloseTo(4, 9);
    expect(hop?.jitterMax).toBeCloseTo(4, 9);
    expect(hop?.jitterAvg).toBeCloseTo(1.75, 9);
  });

  it("lists every responder of a load-balanced hop with its count", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) =>
      p.ttl === 2
        ? { kind: "ttl-expired", address: n % 3 === 0 ? "198.18.2.1" : "198.18.2.2", rttMs: 2 }
        : base(p, n);
    const { result } = await trace(script, { count: 6, interval: 1 });
    expect(result.hops[1]?.host).toBe("198.18.2.2");
    expect(result.hops[1]?.responders).toEqual([
      { address: "198.18.2.2", count: 4 },
      { address: "198.18.2.1", count: 2 },
    ]);
  });

  it("carries MPLS labels reported with a router's answer", async () => {
    const base = linearPath(PATH);
    const mpls = [{ label: 24005, tc: 0, bottom: true, ttl: 1 }];
    const script: Script = (p, n) =>
      p.ttl === 2 ? { kind: "ttl-expired", address: "198.18.0.2", rttMs: 2, mpls } : base(p, n);
    const { result } = await trace(script, { count: 2, interval: 1 });
    expect(result.hops[1]?.mpls).toEqual(mpls);
  });
});

describe("schedule", () => {
  it("sends one probe per TTL per cycle, spread evenly over the interval once the path is known", async () => {
    const { port, result } = await trace(linearPath(PATH), { count: 3, interval: 1 });
    for (let ttl = 1; ttl <= 4; ttl++) expect(port.sentTo(ttl)).toHaveLength(3);
    expect(port.sent.some((s) => s.probe.ttl > 4)).toBe(false);
    expect(result.stoppedBy).toBe("destination");
    expect(result.reachedDestination).toBe(true);
    // cycles 2 and 3 space their 4 probes by interval / 4
    const later = port.sent.slice(4).map((s) => s.at);
    const gaps = later.slice(1).map((t, i) => t - (later[i] as number));
    expect(gaps.every((g) => Math.abs(g - 250) < 1e-9)).toBe(true);
  });

  it("stops each cycle after max-unknown consecutive silent hops and shows one silent hop", async () => {
    const script = linearPath(["198.18.0.1", "198.18.0.2", null, null, null, null, null, null, null, null]);
    const { port, result } = await trace(script, { count: 2, interval: 1, maxUnknown: 3, timeout: 1 });
    expect(result.stoppedBy).toBe("max-unknown");
    const traceProbes = port.sent.filter((s) => s.probe.protocol === "icmp");
    expect(Math.max(...traceProbes.map((s) => s.probe.ttl))).toBe(5);
    expect(result.hops.map((h) => h.host)).toEqual(["198.18.0.1", "198.18.0.2", null]);
    expect(result.reachedDestination).toBe(false);
  });

  it("stops at the max TTL", async () => {
    const { port, result } = await trace(linearPath(PATH), { count: 2, interval: 1, maxTtl: 2 });
    expect(result.stoppedBy).toBe("max-ttl");
    expect(result.hops).toHaveLength(2);
    expect(Math.max(...port.sent.map((s) => s.probe.ttl))).toBe(2);
  });

  it("starts at the first TTL", async () => {
    const { port, result } = await trace(linearPath(PATH), { count: 2, interval: 1, firstTtl: 3 });
    expect(Math.min(...port.sent.map((s) => s.probe.ttl))).toBe(3);
    expect(result.hops.map((h) => h.ttl)).toEqual([3, 4]);
  });

  it("ends at a router that answers no-route", async () => {
    const script: Script = (p) =>
      p.ttl === 1
        ? { kind: "ttl-expired", address: "198.18.0.1", rttMs: 1 }
        : { kind: "no-route", address: "198.18.0.2", rttMs: 2 };
    const { result } = await trace(script, { count: 3, interval: 1 });
    expect(result.stoppedBy).toBe("unreachable");
    expect(result.hops.map((h) => h.host)).toEqual(["198.18.0.1", "198.18.0.2"]);
  });

  it("a fully answering path ends when the last reply arrives, not after a grace period", async () => {
    const { clock, result } = await trace(
      linearPath(PATH, () => 3),
      { count: 10, interval: 0.1, gracePeriod: 5 },
    );
    expect(result.hops.every((h) => h.lossPct === 0)).toBe(true);
    // last probe leaves before C x I, its reply 3 ms later
    expect(clock.now()).toBeLessThanOrEqual(10 * 100 + 3);
  });

  it("does not wait for a hop that was silent in every earlier cycle", async () => {
    const script = linearPath(["198.18.0.1", null, "198.18.0.3", TARGET], () => 2);
    const { clock, result } = await trace(script, { count: 5, interval: 0.1, timeout: 10 });
    expect(result.hops[1]).toMatchObject({ host: null, sent: 5, recv: 0, lossPct: 100 });
    expect(clock.now()).toBeLessThanOrEqual(5 * 100 + 2);
  });

  it("waits at most one adapted timeout for a hop that answered before", async () => {
    const base = linearPath(PATH, () => 2);
    // hop 2 answers all but its last probe
    const script: Script = (p, n) => (p.ttl === 2 && n === 4 ? { kind: "silent" } : base(p, n));
    const { clock, result } = await trace(script, { count: 5, interval: 0.1, timeout: 10 });
    expect(result.hops[1]).toMatchObject({ sent: 5, recv: 4, lossPct: 20 });
    expect(clock.now()).toBeGreaterThan(500);
    expect(clock.now()).toBeLessThanOrEqual(500 + 2 + 200 + 1);
  });

  it("a first cycle longer than the interval (silent tail) is made up by the next cycles", async () => {
    const script = linearPath(
      ["198.18.0.1", "198.18.0.2", "198.18.0.3", ...Array<null>(30).fill(null)],
      () => 1,
    );
    // mtr's schedule alone: the follow-ups of the silent end would add their own second
    const { clock, port, result } = await trace(script, { count: 5, interval: 1 }, TARGET, false);
    expect(result.stoppedBy).toBe("max-unknown");
    expect(port.sentTo(15)).toHaveLength(5);
    // the first cycle alone takes 1.5 s (15 TTLs at interval / 10); the whole trace C x I
    expect(clock.now()).toBeLessThanOrEqual(5000);
    expect(clock.now()).toBeGreaterThan(4500);
  });

  it("never waits longer than mtr's grace period after the last cycle", async () => {
    const base = linearPath(PATH, () => 2);
    const script: Script = (p, n) => (p.ttl === 2 && n === 4 ? { kind: "silent" } : base(p, n));
    const { clock, result } = await trace(script, {
      count: 5,
      interval: 0.1,
      timeout: 10,
      gracePeriod: 0.05,
    });
    expect(result.hops[1]).toMatchObject({ sent: 5, recv: 4 });
    expect(clock.now()).toBeLessThanOrEqual(500 + 50 + 1);
  });

  it("gives probes to a hop silent in every earlier cycle a short timeout, others the full one", async () => {
    const script = linearPath(["198.18.0.1", null, "198.18.0.3", TARGET], () => 2);
    const { port } = await trace(script, { count: 3, interval: 1, timeout: 10 });
    expect(port.sentTo(2).map((s) => s.probe.timeoutSec)).toEqual([10, 1, 1]);
    expect(port.sentTo(3).map((s) => s.probe.timeoutSec)).toEqual([10, 10, 10]);
  });

  it("times a probe held back by a full port from when it left, not from when it was queued", async () => {
    const clock = new ManualClock();
    const inner = new ScriptedPort(
      clock,
      linearPath(PATH, () => 1),
    );
    const sentListeners: ((token: number) => void)[] = [];
    // A port whose probes wait 3 s for a slot before leaving.
    const held: PacketPort = {
      send: (token, probe) =>
        clock.setTimer(() => {
          for (const l of sentListeners) l(token);
          inner.send(token, probe);
        }, 3000),
      onOutcome: (l) => inner.onOutcome(l),
      onSent: (l) => sentListeners.push(l),
      close: () => inner.close(),
    };
    const tracer = new Tracer({ port: held, clock, resolveNames: false });
    const result = await clock.runUntil(
      tracer.run({ target: TARGET, options: { count: 2, interval: 1, timeout: 1 } }),
    );
    expect(result.hops.map((h) => h.lossPct)).toEqual([0, 0, 0, 0]);
  });

  it("after a stalled event loop the schedule slides instead of sending a burst", async () => {
    class StallingClock extends ManualClock {
      private stalled = false;
      override setTimer(fn: () => void, ms: number): unknown {
        // One scheduling timer, a second into the trace, fires 600 ms late.
        if (!this.stalled && this.now() >= 1000 && ms >= 50) {
          this.stalled = true;
          return super.setTimer(fn, ms + 600);
        }
        return super.setTimer(fn, ms);
      }
    }
    const clock = new StallingClock();
    const port = new ScriptedPort(
      clock,
      linearPath(PATH, () => 1),
    );
    const tracer = new Tracer({ port, clock, resolveNames: false });
    await clock.runUntil(tracer.run({ target: TARGET, options: { count: 5, interval: 1 } }));
    const times = port.sent.map((s) => s.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(99);
    expect(port.sent).toHaveLength(20);
  });

  it("discards a reply later than the probe timeout", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) =>
      p.ttl === 2 && n === 1 ? { kind: "ttl-expired", address: "198.18.0.2", rttMs: 1500 } : base(p, n);
    const { result } = await trace(script, { count: 3, interval: 1, timeout: 1 });
    expect(result.hops[1]).toMatchObject({ sent: 3, recv: 2, lossPct: (100 * 1) / 3, worst: 2 });
  });

  it("counts a probe the helper gave up on (no-reply) as lost", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) =>
      p.ttl === 1 && n === 0 ? { kind: "no-reply", afterMs: 50 } : base(p, n);
    const { result } = await trace(script, { count: 2, interval: 1 });
    expect(result.hops[0]).toMatchObject({ sent: 2, recv: 1, lossPct: 50 });
  });

  it("emits hop updates and one cycle event per cycle", async () => {
    const { events } = await trace(linearPath(PATH), { count: 3, interval: 1 });
    expect(events.filter((e) => e.type === "cycle").map((e) => (e.type === "cycle" ? e.cycle : 0))).toEqual([
      1, 2, 3,
    ]);
    expect(events.filter((e) => e.type === "hop").length).toBe(12);
  });

  it("closing the tracer ends a running trace with a packet-helper error", async () => {
    const clock = new ManualClock();
    const port = new ScriptedPort(clock, linearPath([...PATH.slice(0, 3), null]));
    const tracer = new Tracer({ port, clock, resolveNames: false });
    const run = tracer.run({ target: TARGET, options: { count: 100, interval: 1 } }, (e) => {
      if (e.type === "cycle" && e.cycle === 2) void tracer.close();
    });
    const err = (await clock.runUntil(run).catch((e: unknown) => e)) as TracerError;
    expect(err).toBeInstanceOf(TracerError);
    expect(err.code).toBe("packet-helper");
    expect(err.message).toBe("the tracer was closed while the trace ran");
  });

  it("stops when cancelled and says so", async () => {
    const clock = new ManualClock();
    const port = new ScriptedPort(clock, linearPath(PATH));
    const tracer = new Tracer({ port, clock, resolveNames: false });
    const ac = new AbortController();
    const run = tracer.run(
      { target: TARGET, options: { count: 100, interval: 1 }, signal: ac.signal },
      (e) => {
        if (e.type === "cycle" && e.cycle === 2) ac.abort();
      },
    );
    const result = await clock.runUntil(run);
    expect(result.stoppedBy).toBe("cancelled");
    expect(result.hops[0]?.sent).toBeLessThan(5);
  });
});

describe("flow control", () => {
  it("pins the flow: every probe carries the same ports", async () => {
    const { port } = await trace(linearPath(PATH), { protocol: "udp", pinFlow: true, count: 3, interval: 1 });
    const ports = new Set(port.sent.map((s) => `${s.probe.port}/${s.probe.localPort}`));
    expect(ports).toEqual(new Set(["33434/33433"]));
  });

  it("--mda keeps probing a two-way hop until 11 probes, with a new flow each cycle", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) =>
      p.ttl === 2
        ? {
            kind: "ttl-expired",
            address: (p.localPort ?? 0) % 2 === 0 ? "198.18.2.1" : "198.18.2.2",
            rttMs: 2,
          }
        : base(p, n);
    const { result, port } = await trace(script, { protocol: "udp", mda: true, count: 3, interval: 0.1 });
    expect(result.hops[1]?.responders.map((r) => r.address).sort()).toEqual(["198.18.2.1", "198.18.2.2"]);
    expect(result.hops[1]?.sent).toBe(11);
    expect(new Set(port.sentTo(2).map((s) => s.probe.localPort)).size).toBe(11);
  });

  it("--mda on a path without load balancing stops each hop at the 6 probes the rule asks for one next hop", async () => {
    const { result } = await trace(linearPath(PATH), { protocol: "udp", mda: true, count: 3, interval: 0.1 });
    expect(result.hops.every((h) => h.sent === 6)).toBe(true);
  });

  it.each([
    ["ICMP over IPv4", { protocol: "icmp" }, TARGET, { flowId: 33433 }],
    ["ICMP over IPv6", { protocol: "icmp" }, "2001:2::9", { flowId: 33433, flowLabel: 33433 }],
    ["UDP over IPv6", { protocol: "udp" }, "2001:2::9", { port: 33434, localPort: 33433, flowLabel: 33433 }],
    ["TCP over IPv4", { protocol: "tcp", port: 443 }, TARGET, { port: 443, localPort: 33433 }],
    ["TCP over IPv6", { protocol: "tcp" }, "2001:2::9", { port: 80, localPort: 33433, flowLabel: 33433 }],
  ] as const)(
    "--pin-flow with %s holds every flow field of every probe",
    async (_, options, target, flow) => {
      const path = target === TARGET ? PATH : ["2001:2::1", target];
      const { port } = await trace(
        linearPath(path),
        { ...options, pinFlow: true, count: 3, interval: 1 },
        target,
      );
      const flows = new Set(
        port.sent.map(({ probe: p }) =>
          JSON.stringify({ port: p.port, localPort: p.localPort, flowId: p.flowId, flowLabel: p.flowLabel }),
        ),
      );
      expect([...flows].map((f) => JSON.parse(f))).toEqual([flow]);
    },
  );

  it("-T -P 443 -L 40000 is a pinned TCP flow without --pin-flow", async () => {
    const { port } = await trace(linearPath(PATH), {
      protocol: "tcp",
      port: 443,
      localPort: 40000,
      count: 2,
    });
    expect(new Set(port.sent.map((s) => `${s.probe.port}/${s.probe.localPort}`))).toEqual(
      new Set(["443/40000"]),
    );
  });

  it("--mda over ICMP keeps probing a two-way hop until 11 probes, one flow id per cycle", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) =>
      p.ttl === 2
        ? { kind: "ttl-expired", address: (p.flowId ?? 0) % 2 === 0 ? "198.18.2.1" : "198.18.2.2", rttMs: 2 }
        : base(p, n);
    const { result, port } = await trace(script, { mda: true, count: 3, interval: 0.1 });
    expect(result.hops[1]?.responders.map((r) => r.address).sort()).toEqual(["198.18.2.1", "198.18.2.2"]);
    expect(result.hops[1]?.sent).toBe(11);
    expect(port.sentTo(2).map((s) => s.probe.flowId)).toEqual(
      Array.from({ length: 11 }, (_, i) => 40000 + i),
    );
  });

  it("--mda over IPv6 TCP gives each cycle one source port and flow label, the same at every TTL", async () => {
    const target = "2001:2::9";
    const { port } = await trace(
      linearPath(["2001:2::1", target]),
      { protocol: "tcp", port: 443, mda: true, count: 2, interval: 0.1 },
      target,
    );
    for (const { probe } of port.sent) {
      expect(probe.port).toBe(443);
      expect(probe.flowLabel).toBe(probe.localPort);
    }
    expect(port.sentTo(1).map((s) => s.probe.localPort)).toEqual(
      port.sentTo(2).map((s) => s.probe.localPort),
    );
    expect(port.sentTo(1).map((s) => s.probe.localPort)).toEqual(
      Array.from({ length: 6 }, (_, i) => 40000 + i),
    );
  });

  it.each([
    [{ localPort: 40000 }, /-L\/--localport sets the source port of UDP and TCP probes; ICMP has none/],
    [{ protocol: "udp" as const, mda: true, pinFlow: true }, /use one of them/],
    [{ protocol: "tcp" as const, mda: true, localPort: 40000 }, /--mda chooses the source port/],
  ])("refuses %o as an invalid argument", async (options, message) => {
    const err = await trace(linearPath(PATH), options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TracerError);
    expect((err as TracerError).code).toBe("invalid-argument");
    expect((err as TracerError).message).toMatch(message);
  });
});

describe("errors from the packet helper", () => {
  const failing =
    (reason: "permission-denied" | "invalid-argument" | "helper-failed", detail?: string): Script =>
    () =>
      detail === undefined ? { kind: "failure", reason } : { kind: "failure", reason, detail };

  it("no raw-socket permission says how to grant it", async () => {
    const err = (await trace(failing("permission-denied"), { count: 1 }).catch(
      (e: unknown) => e,
    )) as TracerError;
    expect(err.code).toBe("no-permission");
    expect(err.message).toContain("setcap cap_net_raw+ep /usr/bin/mtr-packet");
  });

  it("an invalid argument names the arguments it could be", async () => {
    const err = (await trace(failing("invalid-argument"), { count: 1, size: 100, tos: 8 }).catch(
      (e: unknown) => e,
    )) as TracerError;
    expect(err.code).toBe("invalid-argument");
    expect(err.message).toContain("size 100 (-s)");
    expect(err.message).toContain("tos 8 (-Q)");
  });

  it("a dead helper is a packet-helper error with its reason", async () => {
    const err = (await trace(failing("helper-failed", "mtr-packet exited with code 1"), { count: 1 }).catch(
      (e: unknown) => e,
    )) as TracerError;
    expect(err.code).toBe("packet-helper");
    expect(err.message).toBe("mtr-packet exited with code 1");
  });

  it("probes-exhausted is back-pressure: the probe is not counted and the trace goes on", async () => {
    const base = linearPath(PATH);
    const script: Script = (p, n) =>
      p.ttl === 1 && n === 0 ? { kind: "failure", reason: "probes-exhausted" } : base(p, n);
    const { result } = await trace(script, { count: 3, interval: 1 });
    expect(result.hops[0]).toMatchObject({ sent: 2, recv: 2, lossPct: 0 });
    expect(result.unsentProbes).toBe(1);
  });

  it("bad options are refused before any probe with the field's name", async () => {
    const err = (await trace(linearPath(PATH), { count: 0 }).catch((e: unknown) => e)) as TracerError;
    expect(err.code).toBe("invalid-argument");
    expect(err.message).toMatch(/^count:/);
    const err2 = (await trace(linearPath(PATH), { firstTtl: 5, maxTtl: 3 }).catch(
      (e: unknown) => e,
    )) as TracerError;
    expect(err2.message).toMatch(/first TTL 5 is above max TTL 3/);
  });

  it("a source address this host does not have is refused before any probe", async () => {
    const err = (await trace(linearPath(PATH), { sourceAddress: "198.19.255.254" }).catch(
      (e: unknown) => e,
    )) as TracerError;
    expect(err.code).toBe("invalid-argument");
    expect(err.message).toBe("-a/--address 198.19.255.254 is not an address of this host");
    const ok = await trace(linearPath(PATH), { sourceAddress: "127.0.0.1", count: 1 });
    expect(ok.port.sent[0]?.probe.sourceAddress).toBe("127.0.0.1");
  });

  it("an address of the other family than -4/-6 asks for is refused", async () => {
    const err = (await trace(linearPath(PATH), { ipVersion: 6 }).catch((e: unknown) => e)) as TracerError;
    expect(err.code).toBe("invalid-argument");
  });
});

describe("reverse DNS", () => {
  it("names responders without holding back RTTs, and caches each name", async () => {
    let lookups = 0;
    const names = new ReverseNames({
      reverse: async (a) => {
        lookups++;
        return a === "198.18.0.1" ? ["r1.lab.example"] : [];
      },
    });
    const clock = new ManualClock();
    const port = new ScriptedPort(clock, linearPath(PATH));
    const tracer = new Tracer({ port, clock, names, nameWaitMs: 50 });
    const result = await clock.runUntil(tracer.run({ target: TARGET, options: { count: 3, interval: 1 } }));
    expect(result.hops[0]).toMatchObject({ host: "198.18.0.1", name: "r1.lab.example" });
    expect(result.hops[0]?.responders[0]?.name).toBe("r1.lab.example");
    expect(result.hops[1]?.name).toBeUndefined();
    expect(lookups).toBe(4);
  });
});
