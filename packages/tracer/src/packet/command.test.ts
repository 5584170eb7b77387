import { describe, expect, it } from "vitest";
import { formatProbeCommand, parseFeatureSupport, parseMplsList, parseReplyLine } from "./command";

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
  it("writes lg-probe's flow and option fields only when the probe has them", () => {
    expect(
      formatProbeCommand(3, {
        family: 6,
        address: "2001:2::1",
        ttl: 4,
        protocol: "icmp",
        timeoutSec: 2,
        flowId: 33433,
        flowLabel: 0,
      }),
    ).toBe("3 send-probe ip-6 2001:2::1 ttl 4 protocol icmp flow-id 33433 flow-label 0 timeout 2");
    expect(
      formatProbeCommand(4, {
        family: 4,
        address: "198.18.0.1",
        ttl: 2,
        protocol: "udp",
        timeoutSec: 1,
        recordRoute: true,
        timestamps: ["198.18.0.1", "198.18.1.1"],
      }),
    ).toBe(
      "4 send-probe ip-4 198.18.0.1 ttl 2 protocol udp record-route on timestamp 198.18.0.1,198.18.1.1 timeout 1",
    );
    expect(
      formatProbeCommand(5, {
        family: 4,
        address: "198.18.0.1",
        ttl: 2,
        protocol: "tcp",
        timeoutSec: 1,
        timestamps: [],
      }),
    ).toBe("5 send-probe ip-4 198.18.0.1 ttl 2 protocol tcp timeout 1");
  });
});

// Lines in the answer format of helper/PROTOCOL.md (lg-probe's fields beyond mtr-packet's).
describe("parseReplyLine with lg-probe's answer fields", () => {
  it("reads what a router quoted of the probe: TTL, source, ports, checksums", () => {
    const parsed = parseReplyLine(
      "21 ttl-expired ip-4 198.18.2.1 round-trip-time 410 quoted-ttl 1 quoted-source 198.18.0.2 quoted-ports 33433,33434 quoted-checksum 4660 sent-checksum 4661",
    );
    expect(parsed).toEqual({
      token: 21,
      outcome: {
        kind: "ttl-expired",
        family: 4,
        address: "198.18.2.1",
        rttUs: 410,
        mpls: [],
        quoted: { ttl: 1, source: "198.18.0.2", ports: [33433, 33434], checksum: 4660, sentChecksum: 4661 },
      },
    });
  });
  it("reads the quoted IPv6 flow label beside an MPLS stack", () => {
    expect(
      parseReplyLine(
        "22 ttl-expired ip-6 2001:2::5 round-trip-time 77 mpls 16,0,1,1 quoted-flow-label 33433 quoted-ttl 1",
      )?.outcome,
    ).toMatchObject({
      kind: "ttl-expired",
      family: 6,
      mpls: [{ label: 16, tc: 0, bottom: true, ttl: 1 }],
      quoted: { flowLabel: 33433, ttl: 1 },
    });
  });
  it("reads Record Route addresses, Timestamp stamps (- for no stamp) and a refused option", () => {
    expect(
      parseReplyLine(
        "23 reply ip-4 198.18.9.2 round-trip-time 300 record-route 198.18.0.1,198.18.1.1,198.18.9.2 timestamp 198.18.1.1=3600000,198.18.9.2=-",
      )?.outcome,
    ).toMatchObject({
      recordRoute: ["198.18.0.1", "198.18.1.1", "198.18.9.2"],
      timestamps: [
        { address: "198.18.1.1", ms: 3600000 },
        { address: "198.18.9.2", ms: null },
      ],
    });
    expect(
      parseReplyLine("24 ttl-expired ip-4 198.18.1.1 round-trip-time 90 options refused")?.outcome,
    ).toMatchObject({ kind: "ttl-expired", optionsRefused: true });
  });
  it("leaves out a malformed extra field and keeps the rest of the answer", () => {
    const outcome = parseReplyLine(
      "25 ttl-expired ip-4 198.18.1.1 round-trip-time 90 quoted-ttl 300 quoted-ports 1 quoted-source nowhere record-route 198.18.0.1,x timestamp 198.18.0.1=soon quoted-checksum 65536",
    )?.outcome;
    expect(outcome).toEqual({ kind: "ttl-expired", family: 4, address: "198.18.1.1", rttUs: 90, mpls: [] });
  });
  it("skips fields it does not know, two words at a time", () => {
    expect(
      parseReplyLine("26 reply ip-4 198.18.9.2 round-trip-time 12 future-field 7 quoted-ttl 3")?.outcome,
    ).toEqual({ kind: "reply", family: 4, address: "198.18.9.2", rttUs: 12, mpls: [], quoted: { ttl: 3 } });
  });
});

describe("parseFeatureSupport", () => {
  it("reads lg-probe's version answer and mtr-packet's", () => {
    expect(parseFeatureSupport("1 feature-support support lg-probe-1")).toEqual({
      token: 1,
      support: "lg-probe-1",
    });
    expect(parseFeatureSupport("8 feature-support support 0.95")).toEqual({ token: 8, support: "0.95" });
  });
  it("is null for probe outcomes and garbage", () => {
    expect(parseFeatureSupport("1 reply ip-4 127.0.0.1 round-trip-time 3")).toBeNull();
    expect(parseFeatureSupport("x feature-support support ok")).toBeNull();
    expect(parseFeatureSupport("")).toBeNull();
  });
});
