import { describe, expect, it } from "vitest";
import { formatProbeCommand, parseMplsList, parseReplyLine } from "./command";

// Lines below were printed by mtr-packet 0.95 on this project's machines (loopback and the lab),
// plus the man page's own examples.
describe("parseReplyLine", () => {
  it("reads an IPv4 echo reply with its round-trip time in microseconds", () => {
    expect(parseReplyLine("1 reply ip-4 127.0.0.1 round-trip-time 218")).toEqual({
      token: 1,
      outcome: { kind: "reply", family: 4, address: "127.0.0.1", rttUs: 218, mpls: [] },
    });
  });
  it("reads an IPv6 reply", () => {
    expect(parseReplyLine("2 reply ip-6 ::1 round-trip-time 180")?.outcome).toMatchObject({
      kind: "reply",
      family: 6,
      address: "::1",
    });
  });
  it("reads a router's ttl-expired answer", () => {
    expect(parseReplyLine("11 ttl-expired ip-4 192.168.254.254 round-trip-time 1634")).toEqual({
      token: 11,
      outcome: { kind: "ttl-expired", family: 4, address: "192.168.254.254", rttUs: 1634, mpls: [] },
    });
  });
  it("reads an MPLS label stack of two labels", () => {
    const parsed = parseReplyLine(
      "40 ttl-expired ip-4 198.18.3.1 round-trip-time 2210 mpls 24005,0,0,254,16,0,1,254",
    );
    expect(parsed?.outcome).toMatchObject({
      kind: "ttl-expired",
      mpls: [
        { label: 24005, tc: 0, bottom: false, ttl: 254 },
        { label: 16, tc: 0, bottom: true, ttl: 254 },
      ],
    });
  });
  it("reads no-route with the router that said so", () => {
    expect(parseReplyLine("9 no-route ip-4 198.18.5.1 round-trip-time 95")?.outcome).toMatchObject({
      kind: "no-route",
      address: "198.18.5.1",
      rttUs: 95,
    });
  });
  it("reads a timeout", () => {
    expect(parseReplyLine("7 no-reply")).toEqual({ token: 7, outcome: { kind: "no-reply" } });
  });
  it("reads errors with and without a reason", () => {
    expect(parseReplyLine("14 invalid-argument")?.outcome).toEqual({
      kind: "failure",
      reason: "invalid-argument",
    });
    expect(parseReplyLine("18 invalid-argument reason ip-version-not-supported")?.outcome).toEqual({
      kind: "failure",
      reason: "invalid-argument",
      detail: "ip-version-not-supported",
    });
    expect(parseReplyLine("5 probes-exhausted")?.outcome).toEqual({
      kind: "failure",
      reason: "probes-exhausted",
    });
    expect(parseReplyLine("6 permission-denied")?.outcome).toEqual({
      kind: "failure",
      reason: "permission-denied",
    });
    expect(parseReplyLine("19 unknown-command")?.outcome).toEqual({
      kind: "failure",
      reason: "unknown-command",
    });
  });
  it("ignores lines that are not probe outcomes", () => {
    expect(parseReplyLine("8 feature-support support 0.95")).toBeNull();
    expect(parseReplyLine("")).toBeNull();
    expect(parseReplyLine("garbage here")).toBeNull();
    expect(parseReplyLine("3 reply ip-4 127.0.0.1")).toBeNull();
  });
  it("survives a malformed MPLS list by dropping the labels", () => {
    expect(
      parseReplyLine("4 ttl-expired ip-4 198.18.0.1 round-trip-time 5 mpls 1,2,3")?.outcome,
    ).toMatchObject({
      kind: "ttl-expired",
      mpls: [],
    });
    expect(parseMplsList("1,2")).toBeNull();
  });
});

describe("formatProbeCommand", () => {
  it("writes every option mtr-packet knows, with a whole-second timeout", () => {
    expect(
      formatProbeCommand(7, {
        family: 4,
        address: "198.18.0.1",
        ttl: 3,
        protocol: "udp",
        port: 33434,
        localPort: 40000,
        size: 100,
        tos: 16,
        timeoutSec: 1.5,
        sourceAddress: "198.18.0.2",
      }),
    ).toBe(
      "7 send-probe ip-4 198.18.0.1 ttl 3 protocol udp port 33434 local-port 40000 size 100 tos 16 local-ip-4 198.18.0.2 timeout 2",
    );
  });
  it("uses the IPv6 argument names for IPv6", () => {
    expect(
      formatProbeCommand(1, {
        family: 6,
        address: "2001:2::1",
        ttl: 1,
        protocol: "icmp",
        timeoutSec: 0.2,
        sourceAddress: "2001:2::2",
      }),
    ).toBe("1 send-probe ip-6 2001:2::1 ttl 1 protocol icmp local-ip-6 2001:2::2 timeout 1");
  });
});
