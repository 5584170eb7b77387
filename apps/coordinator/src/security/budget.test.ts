import { TraceOptions } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { probeRate, probingMs } from "./budget";

describe("the probe budget a request reserves", () => {
  it("an ICMP request counts the 9 follow-up probes its silent end may send, per PoP", () => {
    // 30 hops x 10 cycles + 3 TCP SYN to 443, 3 to 80 and 3 UDP
    expect(probeRate(TraceOptions.parse({}), 1)).toBe(309);
    expect(probeRate(TraceOptions.parse({}), 2)).toBe(618);
  });

  it("a service port replaces 443 and 80: 6 follow-up probes; UDP and TCP traces send none", () => {
    expect(probeRate(TraceOptions.parse({ servicePort: 8080 }), 1)).toBe(306);
    expect(probeRate(TraceOptions.parse({ protocol: "tcp" }), 1)).toBe(300);
    expect(probeRate(TraceOptions.parse({ protocol: "udp", servicePort: 8080 }), 1)).toBe(300);
  });

  it("a recordRoute request reserves its 3 echo probes with the option and 3 plain ones, and their wait", () => {
    expect(probeRate(TraceOptions.parse({ protocol: "tcp", recordRoute: true }), 1)).toBe(306);
    expect(probeRate(TraceOptions.parse({ recordRoute: true }), 2)).toBe(2 * (300 + 9 + 6));
    const tcp = TraceOptions.parse({ protocol: "tcp" });
    expect(probingMs({ ...tcp, recordRoute: true })).toBeGreaterThan(probingMs(tcp));
  });

  it("an adaptive request reserves every cycle --until-sure may add (4 x count, at most +200)", () => {
    // 40 cycles in the first minute at 1 s: 30 x 40 + 9
    expect(probeRate(TraceOptions.parse({ adaptive: true }), 1)).toBe(1209);
    // 100 requested, 300 at most, but only 60 fit in a minute at 1 s
    expect(probeRate(TraceOptions.parse({ adaptive: true, count: 100 }), 1)).toBe(30 * 60 + 9);
    expect(probeRate(TraceOptions.parse({ adaptive: true, count: 100, interval: 0.1 }), 1)).toBe(
      30 * 300 + 9,
    );
  });

  it("an mda request reserves the 64 cycles multipath enumeration may add, and their time", () => {
    // 74 cycles at 1 s, 60 of them in the first minute: 30 x 60; UDP sends no follow-ups
    expect(probeRate(TraceOptions.parse({ protocol: "udp", mda: true }), 1)).toBe(30 * 60);
    expect(probeRate(TraceOptions.parse({ protocol: "udp", mda: true, interval: 0.5 }), 2)).toBe(30 * 74 * 2);
    // 74 cycles + timeout 10 + grace 5, no rounds of --until-sure
    expect(probingMs(TraceOptions.parse({ protocol: "udp", mda: true }))).toBe((74 + 10 + 5) * 1000);
  });

  it("holds the reservation for the cycles, the waits after each round and the follow-ups", () => {
    // 10 cycles + timeout 10 + grace 5 + follow-ups (10 s timeout + 0.5 s)
    expect(probingMs(TraceOptions.parse({}))).toBe(35_500);
    expect(probingMs(TraceOptions.parse({ protocol: "udp" }))).toBe(25_000);
    // 40 cycles + timeout 10 + grace 5 after the requested cycles and after each of 6 rounds of 5 + follow-ups
    expect(probingMs(TraceOptions.parse({ adaptive: true }))).toBe((40 + 10 + 5 * 7 + 10.5) * 1000);
  });
});
