import { path } from "@lg/analysis/testing";
import type { Hop, TraceView } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import {
  emptyHiddenSet,
  hiddenHop,
  type PrivacyContext,
  redactLiveHop,
  redactMeasurement,
  redactPathTest,
} from "./redact";
import { parsePrivateHops } from "./settings";
import { lab, measurement, pathTest, trace } from "./testing";

const ctx = (text: string): PrivacyContext => ({
  policy: parsePrivateHops(text),
  // fra's and sin's own addresses (the lab's PoPs).
  ourAddresses: new Set([lab.a, lab.b]),
});

const text = (v: unknown) => JSON.stringify(v);

describe("LG_PRIVATE_HOPS", () => {
  it("reads a number of leading hops, CIDRs, or both, and names a wrong entry", () => {
    expect(parsePrivateHops("2")).toMatchObject({ leading: 2, ranges: [] });
    expect(parsePrivateHops(" 198.18.1.0/24 , 2001:2::/48 ").ranges).toHaveLength(2);
    expect(parsePrivateHops("1,198.18.1.0/24")).toMatchObject({ leading: 1 });
    expect(parsePrivateHops("")).toMatchObject({ leading: 0, ranges: [] });
    expect(() => parsePrivateHops("2,3")).toThrow("LG_PRIVATE_HOPS: give one number of leading hops");
    expect(() => parsePrivateHops("0")).toThrow("LG_PRIVATE_HOPS: '0' leading hops: give 1 to 16");
    expect(() => parsePrivateHops("efra")).toThrow(
      "LG_PRIVATE_HOPS: 'efra' is neither a number of leading hops nor a CIDR",
    );
  });
});

describe("hop privacy: what the public sees", () => {
  it("the first N hops of a PoP's trace lose address, name, AS and responders, keep their counts, and are marked hidden", () => {
    const view = redactMeasurement(measurement(), ctx("2"));
    const [h1, h2, h3, h4] = view.traces[0]?.hops ?? [];
    const original = measurement().traces[0]?.hops[0] as Hop;
    expect(h1).toEqual({ ...hiddenHop(original), hidden: true });
    expect(h1).toMatchObject({
      host: null,
      responders: [],
      hidden: true,
      sent: 20,
      recv: 20,
      avg: original.avg,
    });
    expect(h1).not.toHaveProperty("name");
    expect(h1).not.toHaveProperty("asn");
    expect(h2).toMatchObject({ host: null, hidden: true });
    expect(h3).toMatchObject({ host: "198.18.3.2" });
    expect(h3).not.toHaveProperty("hidden");
    expect(h4).toMatchObject({ host: "198.18.9.2" });
    const json = text(view);
    for (const secret of [/198\.18\.1\.2(?!\d)/, /198\.18\.2\.2/, /efra\.pop\.example/, /PoP-NET/])
      expect(json).not.toMatch(secret);
    // Text is scrubbed token by token: another address that merely starts alike is left alone.
    expect(view.traces[0]?.diagnosis?.findings[0]?.evidence).toMatch(
      /^hop 1 \(hidden-\d+, hidden-\d+\) answered 9 of 10; 198\.18\.1\.23 is another router\.$/,
    );
  });

  it("the destination is never hidden, even inside the leading hops or a private range", () => {
    const m = measurement();
    const short = { ...m, traces: [trace("t1", "fra", "198.18.2.2", path(["198.18.1.2", "198.18.2.2"]))] };
    const view = redactMeasurement(short, ctx("2,198.18.0.0/16"));
    expect(view.traces[0]?.hops.map((h) => h.host)).toEqual([null, "198.18.2.2"]);
  });

  it("CIDRs hide every hop answering from them, wherever it is on the path", () => {
    const view = redactMeasurement(measurement(), ctx("198.18.3.0/24"));
    expect(view.traces[0]?.hops.map((h) => h.host)).toEqual(["198.18.1.2", "198.18.2.2", null, "198.18.9.2"]);
  });

  it("a customer's own trace (a join agent) keeps its leading hops: they are the customer's network, not ours", () => {
    const m = measurement();
    const joined = { ...m, traces: [{ ...(m.traces[0] as TraceView), agentId: "join-abc" }] };
    expect(redactMeasurement(joined, ctx("2")).traces[0]?.hops[0]?.host).toBe("198.18.1.2");
  });

  it("a path test hides each PoP's own routers in both directions: fra's leading hop, and the same router at the end of sin's trace, found through the router identity", () => {
    const view = redactPathTest(pathTest(), ctx("1"));
    // efra answers fra from 198.18.1.2 (hop 1 of fra -> sin) and sin from 198.18.2.1 (hop 3 of sin -> fra);
    // esin is sin's first hop (198.18.7.1) and the last before sin on the way there (198.18.5.1).
    expect(view.forward.hops.map((h) => h.host)).toEqual([null, "198.18.2.2", "198.18.3.2", null, lab.b]);
    expect(view.reverse?.hops.map((h) => h.host)).toEqual([null, "198.18.5.2", null, lab.a]);
    const json = text(view);
    for (const secret of ["198.18.1.2", "198.18.2.1", "198.18.7.1", "198.18.5.1"])
      expect(json).not.toContain(secret);
    // The ends the visitor named stay, and so do the routers in between.
    expect(view.aAddress).toBe(lab.a);
    expect(json).toContain("198.18.3.2");
    const efra = view.comparison?.routers.find((r) => r.forwardTtl === 1);
    expect(efra).toMatchObject({ hidden: true, addresses: [], identity: "shared" });
    // Router ids stay consistent between hops and routers, without the address in them.
    expect(efra?.id).toMatch(/^r:hidden-\d+$/);
    expect(view.forward.hops[0]?.routerId).toBe(efra?.id);
    expect(view.reverse?.hops[2]?.routerId).toBe(efra?.id);
    const segmentHops =
      view.comparison?.segments.flatMap((s) => [...s.forward.hops, ...s.reverse.hops]) ?? [];
    expect(segmentHops.filter((h) => h.hidden).map((h) => h.address)).toEqual([null, null, null, null]);
  });

  it("a live hop of a PoP's trace is hidden within the first N; of a trace towards a PoP, every hop but the end until the trace is done", () => {
    const c = ctx("1");
    const known = emptyHiddenSet();
    const hop = (ttl: number, host: string): Hop => ({ ...(path([host])[0] as Hop), ttl });
    const fromFra = { agentId: "fra", address: "198.18.9.2", status: "running" as const };
    expect(redactLiveHop(hop(1, "198.18.1.2"), fromFra, c, known)).toMatchObject({
      host: null,
      hidden: true,
    });
    expect(redactLiveHop(hop(2, "198.18.2.2"), fromFra, c, known)).toMatchObject({ host: "198.18.2.2" });
    const towardsFra = { agentId: "sin", address: lab.a, status: "running" as const };
    expect(redactLiveHop(hop(2, "198.18.5.2"), towardsFra, c, known)).toMatchObject({
      host: null,
      hidden: true,
    });
    expect(redactLiveHop(hop(4, lab.a), towardsFra, c, known)).toMatchObject({ host: lab.a });
  });

  it("without a policy nothing changes", () => {
    const m = measurement();
    expect(redactMeasurement(m, ctx(""))).toBe(m);
  });
});
