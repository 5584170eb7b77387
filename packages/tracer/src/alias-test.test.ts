import { compare } from "@lg/analysis";
import { trace } from "@lg/analysis/testing";
import { describe, expect, it } from "vitest";
import { ALIAS_TEST_PROBES, type Prober, timestampAliasTest } from "./alias-test";
import { TracerError } from "./errors";
import type { ProbeOutcome, ProbeSpec } from "./packet/types";
import { ManualClock } from "./testing/manual-clock";
import { ScriptedPort } from "./testing/scripted-port";
import { Tracer } from "./tracer";

/**
 * A chain of Linux routers seen from this host: host -> r0 -> r1 -> r2, every route back the same
 * chain reversed. An echo to an address of router k passes r0..r(k-1), then router k twice (as the
 * request arrives and as it replies), then r(k-1)..r0. Each pass stamps the entry the pointer is at
 * when that address is the node's own, at most one entry per pass (the helper README's findings).
 */
const ROUTERS = [["198.18.1.1", "198.18.1.9"], ["198.18.2.1", "198.18.2.9"], ["198.18.3.1"]];

function linuxChain(opts: { stampsOwn?: boolean; answers?: boolean } = {}): Prober & { sent: ProbeSpec[] } {
  const sent: ProbeSpec[] = [];
  return {
    sent,
    probe: async (probe) => {
      sent.push(probe);
      const k = ROUTERS.findIndex((addresses) => addresses.includes(probe.address));
      if (k < 0 || opts.answers === false) return { kind: "no-reply" };
      const passes = [...ROUTERS.slice(0, k), ROUTERS[k], ROUTERS[k], ...ROUTERS.slice(0, k).reverse()];
      const order = probe.timestamps ?? [];
      const ms: (number | null)[] = order.map(() => null);
      let pointer = 0;
      passes.forEach((own, pass) => {
        const address = order[pointer];
        if (address !== undefined && own?.includes(address) && opts.stampsOwn !== false) {
          ms[pointer] = 1000 + pass;
          pointer++;
        }
      });
      const reply: ProbeOutcome = {
        kind: "reply",
        family: 4,
        address: probe.address,
        rttUs: 500,
        mpls: [],
        timestamps: order.map((address, i) => ({ address, ms: ms[i] ?? null })),
      };
      return reply;
    },
  };
}

describe("timestampAliasTest on Linux routers", () => {
  it("two addresses of one router both stamp in both directions: same-router", async () => {
    const result = await timestampAliasTest(linuxChain(), { a: "198.18.2.1", b: "198.18.2.9" });
    expect(result.verdict).toBe("same-router");
    expect(result.test).toBe("timestamp");
    expect(result.probings.map((p) => p.stamped)).toEqual(["both", "both"]);
    expect(result.evidence).toContain("one router holds both");
  });

  it("addresses of two routers are different, though the farther one's echo is stamped by the nearer one on its way back", async () => {
    const result = await timestampAliasTest(linuxChain(), { a: "198.18.3.1", b: "198.18.2.1" });
    // To 198.18.3.1 naming [3.1, 2.1]: r2 stamps 3.1, and r1 stamps 2.1 as the reply passes it.
    expect(result.probings[0]).toMatchObject({ to: "198.18.3.1", stamped: "both" });
    // To 198.18.2.1 naming [2.1, 3.1]: r1 stamps its own, and r2 is never passed.
    expect(result.probings[1]).toMatchObject({ to: "198.18.2.1", stamped: "first-only" });
    expect(result.verdict).toBe("different");
    expect(result.evidence).toContain("the router that answers 198.18.2.1 does not hold 198.18.3.1");
  });

  it("sends 3 echo probes each way, each naming the probed address first", async () => {
    const prober = linuxChain();
    await timestampAliasTest(prober, { a: "198.18.1.1", b: "198.18.2.1" });
    expect(prober.sent).toHaveLength(2 * ALIAS_TEST_PROBES);
    expect(prober.sent.every((p) => p.protocol === "icmp" && p.timestamps?.[0] === p.address)).toBe(true);
  });

  it("is unknown when the addresses do not answer", async () => {
    const result = await timestampAliasTest(linuxChain({ answers: false }), {
      a: "198.18.2.1",
      b: "198.18.2.9",
    });
    expect(result.verdict).toBe("unknown");
    expect(result.evidence).toContain("198.18.2.1 did not answer 3 echo probes with the option");
  });

  it("is unknown when routers do not stamp (timestamps stripped or unsupported)", async () => {
    const result = await timestampAliasTest(linuxChain({ stampsOwn: false }), {
      a: "198.18.2.1",
      b: "198.18.2.9",
    });
    expect(result.verdict).toBe("unknown");
    expect(result.probings.map((p) => p.stamped)).toEqual(["none", "none"]);
  });

  it("is unknown, naming who, when a router refuses the option with a parameter problem", async () => {
    const prober: Prober = {
      probe: async () => ({
        kind: "no-route",
        family: 4,
        address: "198.18.1.1",
        rttUs: 100,
        mpls: [],
        optionsRefused: true,
      }),
    };
    const result = await timestampAliasTest(prober, { a: "198.18.2.1", b: "198.18.2.9" });
    expect(result.verdict).toBe("unknown");
    expect(result.evidence).toContain("198.18.1.1 refused the Timestamp option");
  });

  it("takes IPv4 addresses only, and two of them", async () => {
    await expect(timestampAliasTest(linuxChain(), { a: "2001:2::1", b: "198.18.2.1" })).rejects.toThrow(
      /IPv4 addresses/,
    );
    await expect(timestampAliasTest(linuxChain(), { a: "198.18.2.1", b: "198.18.2.1" })).rejects.toThrow(
      TracerError,
    );
  });
});

describe("the test's result as router-identity evidence (@lg/analysis)", () => {
  it("feeds compare()'s addressAliases as it is: the two addresses become one shared router, by timestamp", async () => {
    const result = await timestampAliasTest(linuxChain(), { a: "198.18.2.1", b: "198.18.2.9" });
    // r1 answers the forward trace from 198.18.2.1 and the reverse trace from 198.18.2.9.
    const forward = trace(["198.18.1.1", "198.18.2.1", "198.18.3.9"]);
    const reverse = trace(["198.18.2.9", "198.18.1.9", "198.18.0.9"]);
    expect(compare(forward, reverse).shared).toEqual([]);
    const c = compare(forward, reverse, { addressAliases: [result] });
    expect(c.shared.map((s) => [s.match, s.forwardAddress, s.reverseAddress])).toEqual([
      ["timestamp", "198.18.2.1", "198.18.2.9"],
    ]);
  });
});

describe("Tracer.timestampAliasTest", () => {
  it("runs over the tracer's port: its probes carry the Timestamp option", async () => {
    const clock = new ManualClock();
    const port = new ScriptedPort(clock, (p) => ({
      kind: "reply",
      address: p.address,
      rttMs: 1,
      timestamps: (p.timestamps ?? []).map((address) => ({ address, ms: 5 })),
    }));
    const tracer = new Tracer({ port, clock, resolveNames: false });
    const result = await clock.runUntil(tracer.timestampAliasTest({ a: "198.18.2.1", b: "198.18.2.9" }));
    expect(result.verdict).toBe("same-router");
    expect(port.sent.map((s) => s.probe.timestamps)).toContainEqual(["198.18.2.9", "198.18.2.1"]);
  });

  it("is refused when the port cannot send the option (no lg-probe)", async () => {
    const clock = new ManualClock();
    const port = Object.assign(new ScriptedPort(clock, () => ({ kind: "silent" })), {
      unsupportedReason: () => "the Timestamp option needs lg-probe",
    });
    const tracer = new Tracer({ port, clock, resolveNames: false });
    await expect(tracer.timestampAliasTest({ a: "198.18.2.1", b: "198.18.2.9" })).rejects.toThrow(
      "the timestamp alias test: the Timestamp option needs lg-probe",
    );
    expect(port.sent).toHaveLength(0);
  });
});
