import { describe, expect, it } from "vitest";
import { followUpProbeBound } from "./extra-probes";
import { hopOf } from "./testing";
import { Hop, lossInterval, NatReading, RecordRouteHint, TraceOptions } from "./trace";

describe("TraceOptions", () => {
  it("fills in mtr 0.95's defaults", () => {
    const o = TraceOptions.parse({});
    expect(o).toMatchObject({
      protocol: "icmp",
      count: 10,
      interval: 1,
      size: 64,
      maxTtl: 30,
      maxUnknown: 12,
    });
  });
  it("refuses a port outside 1-65535 and names the field", () => {
    const r = TraceOptions.safeParse({ port: 70000 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["port"]);
  });
});

describe("Hop", () => {
  it("refuses more than 8 responders, mtr's limit per hop", () => {
    const responders = Array.from({ length: 9 }, (_, i) => ({ address: `198.18.0.${i}`, count: 1 }));
    const hop = hopOf(1, "198.18.0.0", 9, { responders });
    expect(Hop.safeParse(hop).success).toBe(false);
    expect(Hop.safeParse({ ...hop, responders: responders.slice(0, 8) }).success).toBe(true);
  });
});

describe("the loss interval (Wilson, 95%)", () => {
  it("matches the published Wilson interval for 3 lost of 10", () => {
    expect(lossInterval(10, 7)).toEqual([10.8, 60.3]);
  });
  it("with no loss still allows up to 27.8% after 10 probes and 16.1% after 20", () => {
    expect(lossInterval(10, 10)).toEqual([0, 27.8]);
    expect(lossInterval(20, 20)).toEqual([0, 16.1]);
  });
  it("stays inside 0-100 when everything is lost, and is [0, 100] when nothing was sent", () => {
    expect(lossInterval(10, 0)).toEqual([72.2, 100]);
    expect(lossInterval(0, 0)).toEqual([0, 100]);
  });
});

describe("the readings of lg-probe's answers", () => {
  it("leaves recordRoute out of the options unless asked (mtr's defaults stay as they were)", () => {
    expect(TraceOptions.parse({})).not.toHaveProperty("recordRoute");
    expect(TraceOptions.parse({ recordRoute: true }).recordRoute).toBe(true);
  });
  it("recordRoute adds its 3 echo probes with the option and 3 plain ones to the probes a trace sends after its cycles", () => {
    expect(followUpProbeBound({ protocol: "udp" })).toBe(0);
    expect(followUpProbeBound({ protocol: "udp", recordRoute: true })).toBe(6);
    expect(followUpProbeBound({ protocol: "icmp", recordRoute: true })).toBe(9 + 6);
  });
  it("a NAT reading names at least one rewritten field", () => {
    const nat = { afterTtl: 2, beforeTtl: 3, rewrote: ["source"], quotes: { asSent: 6, rewritten: 3 } };
    expect(NatReading.safeParse(nat).success).toBe(true);
    expect(NatReading.safeParse({ ...nat, rewrote: [] }).success).toBe(false);
  });
  it("a Record Route hint holds at most the option's nine addresses each way", () => {
    const hint = {
      status: "ok",
      forward: [],
      back: [],
      sent: 3,
      answered: 3,
      plainSent: 3,
      plainAnswered: 3,
    };
    expect(RecordRouteHint.safeParse(hint).success).toBe(true);
    const ten = Array.from({ length: 10 }, (_, i) => `198.18.0.${i + 1}`);
    expect(RecordRouteHint.safeParse({ ...hint, back: ten }).success).toBe(false);
  });
});
