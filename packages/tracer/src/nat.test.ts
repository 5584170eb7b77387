import type { TraceOptionsInput } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { formatReadings } from "./format/report";
import { type HopQuotes, natReading, type QuoteReading, readQuote } from "./nat";
import type { ProbeSpec, QuotedProbe } from "./packet/types";
import { ManualClock } from "./testing/manual-clock";
import { type Script, ScriptedPort } from "./testing/scripted-port";
import { Tracer } from "./tracer";

const SRC = "198.18.150.1";
const OUTSIDE = "198.18.161.1";
const own = (a: string) => a === SRC;
const udp: ProbeSpec = {
  family: 4,
  address: "198.18.162.2",
  ttl: 3,
  protocol: "udp",
  port: 33434,
  localPort: 40000,
  timeoutSec: 2,
};

describe("readQuote: one router's quote against the probe sent", () => {
  it("a quote of the probe as sent rewrote nothing", () => {
    const quoted = {
      source: SRC,
      ports: [40000, 33434],
      checksum: 0x2844,
      sentChecksum: 0x2844,
    } as QuotedProbe;
    expect(readQuote(udp, quoted, own)).toEqual({ rewrote: [] });
  });
  it("a NAT's rewrite shows as the source address, the source port and the checksum", () => {
    const quoted = {
      source: OUTSIDE,
      ports: [61000, 33434],
      checksum: 0x1d44,
      sentChecksum: 0x2844,
    } as QuotedProbe;
    expect(readQuote(udp, quoted, own)).toEqual({ rewrote: ["source", "port", "checksum"], source: OUTSIDE });
  });
  it("with -a, the source is as sent only when it is that address", () => {
    const probe = { ...udp, sourceAddress: "198.18.150.3" };
    expect(readQuote(probe, { source: SRC }, own)).toEqual({ rewrote: ["source"], source: SRC });
    expect(readQuote(probe, { source: "198.18.150.3" }, own)).toEqual({ rewrote: [] });
  });
  it("ports the helper chose (not fixed by the probe) are not compared; a quote with nothing to compare is no reading", () => {
    const free: ProbeSpec = { family: 4, address: udp.address, ttl: 3, protocol: "udp", timeoutSec: 2 };
    expect(readQuote(free, { ports: [33500, 33501] }, own)).toBeNull();
    expect(readQuote(free, { ttl: 1 }, own)).toBeNull();
  });
});

const asSent = (ttl: number, n: number): HopQuotes => ({ ttl, asSent: n, rewritten: [] });
const rewritten = (ttl: number, quotes: QuoteReading[], n = 0): HopQuotes => ({
  ttl,
  asSent: n,
  rewritten: quotes,
});
const nat: QuoteReading = { rewrote: ["source", "checksum"], source: OUTSIDE };

describe("natReading: where the quotes change", () => {
  it("hops up to 2 quote as sent and hops 3 and 4 rewritten: a NAT between hop 2 and hop 3, with its outside address", () => {
    expect(
      natReading([asSent(1, 3), asSent(2, 3), rewritten(3, [nat, nat, nat]), rewritten(4, [nat])], "udp"),
    ).toEqual({
      afterTtl: 2,
      beforeTtl: 3,
      rewrote: ["source", "checksum"],
      publicSource: OUTSIDE,
      quotes: { asSent: 6, rewritten: 4 },
    });
  });
  it("a single odd quote is not a NAT", () => {
    expect(natReading([asSent(1, 3), asSent(2, 3), rewritten(3, [nat])], "udp")).toBeNull();
  });
  it("an odd quote among as-sent ones at a hop does not move the NAT, nor does a silent hop between", () => {
    const reading = natReading(
      [asSent(1, 3), rewritten(2, [nat], 2), rewritten(4, [nat, nat]), rewritten(5, [nat, nat])],
      "icmp",
    );
    expect(reading).toMatchObject({ afterTtl: 2, beforeTtl: 4, quotes: { asSent: 5, rewritten: 4 } });
  });
  it("a hop quoting as sent beyond rewritten ones is no NAT reading", () => {
    expect(natReading([asSent(1, 3), rewritten(2, [nat, nat]), asSent(3, 3)], "udp")).toBeNull();
  });
  it("a hop whose quotes split evenly is no NAT reading", () => {
    expect(
      natReading([asSent(1, 3), rewritten(2, [nat, nat], 2), rewritten(3, [nat, nat])], "udp"),
    ).toBeNull();
  });
  it("rewritten from the first hop on: a NAT before hop 1 (afterTtl 0)", () => {
    expect(natReading([rewritten(1, [nat, nat]), rewritten(2, [nat, nat])], "udp")).toMatchObject({
      afterTtl: 0,
      beforeTtl: 1,
    });
  });
  it("a TCP quote changed only in its checksum is an MSS clamp, not a NAT; UDP's is", () => {
    const checksumOnly: QuoteReading = { rewrote: ["checksum"] };
    const hops = [asSent(1, 3), rewritten(2, [checksumOnly, checksumOnly, checksumOnly])];
    expect(natReading(hops, "tcp")).toBeNull();
    expect(natReading(hops, "udp")).toMatchObject({ afterTtl: 1, beforeTtl: 2, rewrote: ["checksum"] });
    expect(natReading(hops, "udp")).not.toHaveProperty("publicSource");
  });
  it("no quotes at all (mtr-packet reports none) is no NAT reading", () => {
    expect(natReading([], "udp")).toBeNull();
  });
  it("reads in the report as one line under the table", () => {
    const reading = natReading([asSent(1, 3), asSent(2, 3), rewritten(3, [nat, nat, nat])], "udp");
    expect(formatReadings(reading ?? undefined)).toBe(
      "NAT between hop 2 and hop 3: hops up to 2 quote the probes as sent (6 quotes), hops from 3 on quote them rewritten (3 quotes: source address 198.18.161.1, checksum).\n",
    );
  });
});

const TARGET = "198.18.162.2";
const PATH = ["198.18.150.2", "198.18.160.2", "198.18.161.2", TARGET];

/**
 * The lab's NAT leg as lg-probe reports it for a pinned UDP flow: each router and the target (port
 * unreachable) quote the probe, rewritten where `rewrites(ttl, n)` says (n: earlier probes to that TTL).
 */
function natPath(rewrites: (ttl: number, n: number) => boolean, quotes = true): Script {
  return (probe, n) => {
    const ttl = Math.min(probe.ttl, PATH.length);
    const address = PATH[ttl - 1] as string;
    const ports: [number, number] = [probe.localPort ?? 0, probe.port ?? 0];
    const quoted: QuotedProbe = rewrites(ttl, n)
      ? { ttl: 1, source: OUTSIDE, ports, checksum: 0x1d44, sentChecksum: 0x2844 }
      : { ttl: 1, source: SRC, ports, checksum: 0x2844, sentChecksum: 0x2844 };
    return {
      kind: address === TARGET ? "reply" : "ttl-expired",
      address,
      rttMs: ttl,
      ...(quotes ? { quoted } : {}),
    };
  };
}

async function trace(script: Script, options: TraceOptionsInput = {}) {
  const clock = new ManualClock();
  const port = new ScriptedPort(clock, script);
  const tracer = new Tracer({ port, clock, resolveNames: false, ownAddress: own });
  return clock.runUntil(
    tracer.run({
      target: TARGET,
      options: { count: 3, interval: 1, protocol: "udp", pinFlow: true, ...options },
    }),
  );
}

describe("the NAT reading of a trace", () => {
  it("a trace whose quotes change between hop 2 and hop 3 carries the NAT, and says where", async () => {
    const result = await trace(natPath((ttl) => ttl > 2));
    expect(result.nat).toEqual({
      afterTtl: 2,
      beforeTtl: 3,
      rewrote: ["source", "checksum"],
      publicSource: OUTSIDE,
      quotes: { asSent: 6, rewritten: 6 },
    });
  });
  it("a trace without quotes (sent by mtr-packet) says nothing about NAT", async () => {
    const result = await trace(natPath((ttl) => ttl > 2, false));
    expect(result).not.toHaveProperty("nat");
  });
  it("one odd quote in a path that otherwise quotes as sent is not a NAT", async () => {
    const oddOnce = await trace(natPath((ttl, n) => ttl === 4 && n === 0));
    expect(oddOnce).not.toHaveProperty("nat");
    const oddLastHop = await trace(
      natPath((ttl) => ttl === 4),
      { count: 1 },
    );
    expect(oddLastHop).not.toHaveProperty("nat");
  });
});
