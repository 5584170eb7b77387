import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TracerError } from "../errors";
import { Tracer } from "../tracer";
import { MtrPacketPort } from "./helper-pool";
import type { ProbeOutcome, ProbeSpec } from "./types";

// Real mtr-packet, real packets, loopback only.
const ports: MtrPacketPort[] = [];
afterEach(async () => {
  await Promise.all(ports.splice(0).map((p) => p.close()));
});

function sendAll(port: MtrPacketPort, probes: ProbeSpec[]): Promise<Map<number, ProbeOutcome>> {
  const outcomes = new Map<number, ProbeOutcome>();
  return new Promise((resolve) => {
    port.onOutcome((token, outcome) => {
      outcomes.set(token, outcome);
      if (outcomes.size === probes.length) resolve(outcomes);
    });
    for (const [i, p] of probes.entries()) port.send(i + 1, p);
  });
}

/** How many outcomes of each kind (failures by reason), so a failed assertion says what happened. */
function kindsOf(out: Map<number, ProbeOutcome>): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const o of out.values()) {
    const kind = o.kind === "failure" ? `failure:${o.reason}` : o.kind;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

const loop4: ProbeSpec = { family: 4, address: "127.0.0.1", ttl: 5, protocol: "icmp", timeoutSec: 2 };

describe("MtrPacketPort on loopback", () => {
  it("gets an echo reply from 127.0.0.1 and from ::1", async () => {
    const port = new MtrPacketPort();
    ports.push(port);
    const out = await sendAll(port, [loop4, { ...loop4, family: 6, address: "::1" }]);
    expect(out.get(1)).toMatchObject({ kind: "reply", family: 4, address: "127.0.0.1" });
    expect(out.get(2)).toMatchObject({ kind: "reply", family: 6, address: "::1" });
  });

  it("answers all of 3,000 probes sent at once: the pool paces them so no answer is dropped", async () => {
    const port = new MtrPacketPort();
    ports.push(port);
    const out = await sendAll(
      port,
      Array.from({ length: 3000 }, () => loop4),
    );
    const kinds = new Map<string, number>();
    for (const o of out.values()) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    expect(Object.fromEntries(kinds)).toEqual({ reply: 3000 });
  });

  it("opens a second process when the first is full and queues what neither can take", async () => {
    const port = new MtrPacketPort({
      maxProcesses: 2,
      maxInFlightPerProcess: 50,
      spreadThreshold: 50,
      burst: 1000,
      maxProbesPerSecond: 1e6,
    });
    ports.push(port);
    // A generous timeout (and a test timeout above it): the 200 queued probes leave late on a loaded
    // machine, and this test is about the pool, not about how fast loopback answers (seen: 1 of 300
    // past 2 s in CI, and the whole test past vitest's 5 s with five other jobs on 2 cores).
    const pending = sendAll(
      port,
      Array.from({ length: 300 }, () => ({ ...loop4, timeoutSec: 10 })),
    );
    expect(port.processCount).toBe(2);
    expect(port.queued).toBe(200);
    const out = await pending;
    expect(kindsOf(out)).toEqual({ reply: 300 });
  }, 30_000);

  it("gives up a probe that waited too long for a slot with probes-exhausted, and says when others left", async () => {
    const port = new MtrPacketPort({ maxProcesses: 1, maxInFlightPerProcess: 1, maxQueueMs: 1 });
    ports.push(port);
    const sent = new Set<number>();
    port.onSent((token) => sent.add(token));
    const out = await sendAll(
      port,
      Array.from({ length: 200 }, () => loop4),
    );
    const kinds = new Set([...out.values()].map((o) => (o.kind === "failure" ? o.reason : o.kind)));
    expect(kinds).toEqual(new Set(["reply", "probes-exhausted"]));
    for (const [token, o] of out) expect(sent.has(token)).toBe(o.kind === "reply");
  });

  it("keeps TCP probes per process under its limit and still answers them all", async () => {
    const port = new MtrPacketPort({ maxProcesses: 1, maxTcpInFlightPerProcess: 4 });
    ports.push(port);
    const probes = Array.from({ length: 40 }, (): ProbeSpec => ({ ...loop4, protocol: "tcp", port: 9 }));
    const out = await sendAll(port, probes);
    expect(kindsOf(out)).toEqual({ reply: 40 });
  });

  it("reports a missing helper with how to install it", async () => {
    const port = new MtrPacketPort({ command: "/nonexistent/mtr-packet" });
    ports.push(port);
    const out = await sendAll(port, [loop4]);
    expect(out.get(1)).toMatchObject({ kind: "failure", reason: "helper-failed" });
    expect((out.get(1) as { detail: string }).detail).toContain("apt-get install mtr-tiny");
  });

  it("turns a helper that cannot open raw sockets into permission-denied", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lg-tracer-"));
    let err: unknown;
    try {
      const fake = join(dir, "mtr-packet");
      // Prints what mtr-packet prints without cap_net_raw, and exits the same way.
      await writeFile(
        fake,
        '#!/bin/sh\necho "$0: Failure to open IPv4 sockets: Permission denied" >&2\nexit 1\n',
      );
      await chmod(fake, 0o755);
      const tracer = new Tracer({ mtrPacketPath: fake, resolveNames: false });
      err = await tracer.run({ target: "127.0.0.1", options: { count: 1 } }).catch((e: unknown) => e);
      await tracer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(err).toBeInstanceOf(TracerError);
    expect((err as TracerError).code).toBe("no-permission");
    expect((err as TracerError).message).toContain("setcap cap_net_raw+ep");
  });
});

describe("Tracer with mtr-packet on loopback", () => {
  it.each([
    ["127.0.0.1", "icmp"],
    ["127.0.0.1", "udp"],
    ["127.0.0.1", "tcp"],
    ["::1", "icmp"],
    ["::1", "udp"],
    ["::1", "tcp"],
  ] as const)("traces %s with %s probes: one hop, no loss", async (target, protocol) => {
    const tracer = new Tracer({ resolveNames: false });
    const result = await tracer.run({ target, options: { protocol, count: 3, interval: 0.05 } });
    await tracer.close();
    expect(result.stoppedBy).toBe("destination");
    expect(result.hops).toHaveLength(1);
    expect(result.hops[0]).toMatchObject({ ttl: 1, host: target, sent: 3, recv: 3, lossPct: 0 });
  });

  it("a pinned UDP flow over IPv4 reaches the target", async () => {
    const tracer = new Tracer({ resolveNames: false });
    const result = await tracer.run({
      target: "127.0.0.1",
      options: { protocol: "udp", port: 33434, localPort: 40001, count: 2, interval: 0.05 },
    });
    await tracer.close();
    expect(result.hops[0]).toMatchObject({ recv: 2, lossPct: 0 });
  });
});
