import { TraceOptions } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { agentCapabilities, unsupportedReason } from "./support";

const caps = agentCapabilities({ maxTraces: 10, ipv6: false, mda: true });
const local = (a: string) => a === "198.18.1.2";
const opts = (o: Record<string, unknown>) => TraceOptions.parse(o);

describe("unsupportedReason", () => {
  it("accepts plain ICMP, UDP and TCP traces over IPv4", () => {
    for (const protocol of ["icmp", "udp", "tcp"]) {
      expect(unsupportedReason(opts({ protocol }), 4, caps, local)).toBeNull();
    }
  });

  it("accepts flow pinning and multipath enumeration with IPv4 UDP", () => {
    expect(unsupportedReason(opts({ protocol: "udp", pinFlow: true }), 4, caps, local)).toBeNull();
    expect(unsupportedReason(opts({ protocol: "udp", mda: true }), 4, caps, local)).toBeNull();
  });

  it("refuses flow pinning of TCP and ICMP, which mtr-packet cannot keep constant", () => {
    expect(unsupportedReason(opts({ protocol: "tcp", pinFlow: true }), 4, caps, local)).toMatch(
      /flow pinning needs IPv4 UDP probes: mtr-packet cannot keep TCP/,
    );
    expect(unsupportedReason(opts({ protocol: "icmp", mda: true }), 4, caps, local)).toMatch(
      /multipath enumeration needs IPv4 UDP/,
    );
  });

  it("refuses flow pinning over IPv6", () => {
    const v6 = agentCapabilities({ maxTraces: 1, ipv6: true, mda: true });
    expect(unsupportedReason(opts({ protocol: "udp", pinFlow: true }), 6, v6, local)).toMatch(/IPv4 UDP/);
  });

  it("refuses IPv6 targets on an agent without IPv6", () => {
    expect(unsupportedReason(opts({}), 6, caps, local)).toMatch(/no IPv6 address/);
  });

  it("refuses a source address that is not the agent's", () => {
    expect(unsupportedReason(opts({ sourceAddress: "192.0.2.9" }), 4, caps, local)).toMatch(
      /192.0.2.9 is not an address of this agent/,
    );
    expect(unsupportedReason(opts({ sourceAddress: "198.18.1.2" }), 4, caps, local)).toBeNull();
  });

  it("refuses multipath enumeration on an agent that cannot do it", () => {
    const noMda = agentCapabilities({ maxTraces: 1, ipv6: false, mda: false });
    expect(unsupportedReason(opts({ protocol: "udp", mda: true }), 4, noMda, local)).toMatch(
      /cannot enumerate/,
    );
  });
});
