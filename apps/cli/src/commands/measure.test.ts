import { lossInterval, TraceOptions, type TraceView } from "@lg/protocol";
import { hopOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { measurementRequest, popReport } from "./measure";

describe("lg measure", () => {
  it("sends the service port and --until-sure as the API's servicePort and adaptive", () => {
    expect(measurementRequest("198.18.40.2", { servicePort: "8080", untilSure: true })).toEqual({
      target: "198.18.40.2",
      servicePort: 8080,
      adaptive: true,
    });
    expect(measurementRequest("198.18.40.2", {})).toEqual({ target: "198.18.40.2" });
  });

  it("sends --record-route as recordRoute, and prints a PoP's NAT and Record Route lines under its report", () => {
    expect(measurementRequest("198.18.171.2", { recordRoute: true })).toEqual({
      target: "198.18.171.2",
      recordRoute: true,
    });
    const trace: TraceView = {
      id: "t2",
      measurementId: "m2",
      agentId: "fra",
      target: "198.18.171.2",
      address: "198.18.171.2",
      status: "done",
      failure: null,
      hops: [hopOf(1, "198.18.150.2"), hopOf(2, "198.18.171.2")],
      diagnosis: null,
      followUps: [],
      nat: { afterTtl: 1, beforeTtl: 2, rewrote: ["checksum"], quotes: { asSent: 10, rewritten: 10 } },
      recordRoute: {
        status: "stripped",
        forward: [],
        back: [],
        sent: 3,
        answered: 3,
        plainSent: 3,
        plainAnswered: 3,
      },
      stoppedBy: "destination",
      startedAt: "2026-11-23T07:00:00.000Z",
      finishedAt: "2026-11-23T07:00:02.000Z",
    };
    const lines = popReport(trace, trace.hops, TraceOptions.parse({ recordRoute: true }))
      .trimEnd()
      .split("\n");
    expect(lines.slice(-2)).toEqual([
      "   NAT between hop 1 and hop 2: hops up to 1 quote the probes as sent (10 quotes), hops from 2 on quote them rewritten (10 quotes: checksum).",
      "   Record Route: the target's echo replies (3 of 3) came back without the option: stripped on the way, or not returned by the target. No hints.",
    ]);
  });

  it("prints each PoP's loss interval, its follow-up probes and what --until-sure added under its report", () => {
    const hops = [hopOf(1, "198.18.0.1"), hopOf(2, "198.18.0.2"), hopOf(3, null)].map((h) => ({
      ...h,
      lossCi: lossInterval(h.sent, h.recv),
    }));
    const purpose =
      "the ICMP trace ends in silence after hop 2 (198.18.0.2): is 198.18.40.2 there, ignoring ICMP echo?";
    const trace: TraceView = {
      id: "t1",
      measurementId: "m1",
      agentId: "fra",
      target: "198.18.40.2",
      address: "198.18.40.2",
      status: "done",
      failure: null,
      hops,
      diagnosis: null,
      followUps: [
        {
          kind: "tcp-syn",
          target: "198.18.40.2",
          port: 8080,
          answered: true,
          rtt: 0.2,
          purpose,
          result: "198.18.40.2 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms",
        },
        // a path test's alias trace is lg path's to read, not this report's
        { kind: "alias-trace", target: "198.18.5.2", answered: true, purpose: "is it on fra's path?" },
      ],
      adaptive: { extraCycles: 0, extraProbes: 0, maxExtraCycles: 30, decided: true },
      stoppedBy: "max-unknown",
      startedAt: "2026-11-23T07:00:00.000Z",
      finishedAt: "2026-11-23T07:00:12.000Z",
    };
    const lines = popReport(trace, hops, TraceOptions.parse({})).trimEnd().split("\n");
    expect(lines[2]).toMatch(/StDev {5}Loss%CI$/);
    expect(lines[3]).toMatch(/ 0\.0-27\.8$/);
    expect(lines[5]).toMatch(/ 72\.2-100\.0$/);
    expect(lines.slice(6)).toEqual([
      `   Follow-up probes: ${purpose}`,
      "     TCP SYN     198.18.40.2:8080  198.18.40.2 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms",
      "   Until sure: decided with the requested probes; no more were needed.",
    ]);
  });

  it("with --geo prints each hop's city and country and the check under the PoP's report", () => {
    const hop = hopOf(1, "198.18.3.2", 3);
    const geo = {
      lat: -33.8688,
      lon: 151.2093,
      city: "Sydney",
      country: "AU",
      source: "table" as const,
      plausible: false,
      reason: "0.04 ms from fra (Frankfurt) allows at most 4 km; the table says Sydney",
    };
    const trace: TraceView = {
      id: "t1",
      measurementId: "m1",
      agentId: "fra",
      target: "198.18.9.2",
      address: "198.18.9.2",
      status: "done",
      failure: null,
      hops: [{ ...hop, geo }],
      diagnosis: null,
      followUps: [],
      stoppedBy: "destination",
      startedAt: "2026-11-23T07:00:00.000Z",
      finishedAt: "2026-11-23T07:00:12.000Z",
    };
    const options = TraceOptions.parse({});
    expect(popReport(trace, trace.hops, options)).not.toContain("Places");
    expect(popReport(trace, trace.hops, options, true).trimEnd().split("\n").slice(-2)).toEqual([
      "   Places (--geo; a best RTT of r ms allows at most r/2 x 200 km):",
      "     1. 198.18.3.2  Sydney, AU  table  RULED OUT: 0.04 ms from fra (Frankfurt) allows at most 4 km; the table says Sydney",
    ]);
  });
});
