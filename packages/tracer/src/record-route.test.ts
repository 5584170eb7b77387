import type { TraceOptionsInput } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { TracerError } from "./errors";
import { formatReadings } from "./format/report";
import type { ProbeOutcome, ProbeSpec } from "./packet/types";
import { RECORD_ROUTE_PROBES, RECORD_ROUTE_TTL, recordRouteHint, splitRecordRoute } from "./record-route";
import { ManualClock } from "./testing/manual-clock";
import { linearPath, type Script, type ScriptedAnswer, ScriptedPort } from "./testing/scripted-port";
import { Tracer } from "./tracer";

// The flow lab's Record Route leg: src -> split -> rrthere -> trr, and back trr -> rrback -> split -> src.
const SRC = "198.18.150.1";
const TARGET = "198.18.171.2";
const RECORDED = [
  "198.18.170.1", // split, out towards rrthere
  "198.18.171.1", // rrthere, out towards trr
  TARGET, // trr, as the probe arrives
  TARGET, // trr, as it answers
  "198.18.173.1", // rrback, out towards split: only the way back crosses it
  "198.18.150.2", // split, out towards src
  SRC, // src itself, as the reply arrives
];
const own = (a: string) => a === SRC;

describe("splitRecordRoute: the list as Linux fills it", () => {
  it("puts what comes before the target's two entries on the way there, and what follows on the way back, without this host", () => {
    expect(splitRecordRoute(RECORDED, TARGET, own)).toEqual({
      forward: ["198.18.170.1", "198.18.171.1"],
      back: ["198.18.173.1", "198.18.150.2"],
    });
  });
  it("a list that ends before the target (nine slots full on the way there) is all way there", () => {
    const nine = Array.from({ length: 9 }, (_, i) => `198.18.${i}.1`);
    expect(splitRecordRoute(nine, TARGET, own)).toEqual({ forward: nine, back: [] });
  });
  it("a shorter list without the probed address (not Linux's layout) is not split", () => {
    expect(splitRecordRoute(["198.18.170.1", "198.18.171.9"], TARGET, own)).toEqual({
      forward: [],
      back: [],
    });
  });
});

const reply = (recordRoute?: string[]): ProbeOutcome => ({
  kind: "reply",
  family: 4,
  address: TARGET,
  rttUs: 300,
  mpls: [],
  ...(recordRoute ? { recordRoute } : {}),
});
const noReply: ProbeOutcome = { kind: "no-reply" };
const three = (o: ProbeOutcome) => [o, o, o];

describe("recordRouteHint: one status per way the option fares", () => {
  it("ok: the replies bring the option back, split into the way there and the way back", () => {
    expect(recordRouteHint(TARGET, three(reply(RECORDED)), three(reply()), own)).toEqual({
      status: "ok",
      forward: ["198.18.170.1", "198.18.171.1"],
      back: ["198.18.173.1", "198.18.150.2"],
      recorded: RECORDED,
      sent: 3,
      answered: 3,
      plainSent: 3,
      plainAnswered: 3,
    });
  });
  it("ok and full when the nine slots ran out", () => {
    const nine = [...RECORDED, "198.18.1.1", "198.18.1.2"];
    expect(recordRouteHint(TARGET, [reply(nine)], [reply()], own)).toMatchObject({
      status: "ok",
      full: true,
    });
  });
  it("stripped: the target's echo replies come without the option", () => {
    expect(recordRouteHint(TARGET, three(reply()), three(reply()), own)).toMatchObject({
      status: "stripped",
      forward: [],
      back: [],
      answered: 3,
    });
  });
  it("refused: a router answers the option with a parameter problem", () => {
    const problem: ProbeOutcome = {
      kind: "no-route",
      family: 4,
      address: "198.18.170.2",
      rttUs: 200,
      mpls: [],
      optionsRefused: true,
    };
    expect(recordRouteHint(TARGET, three(problem), three(reply()), own)).toMatchObject({
      status: "refused",
      refusedBy: "198.18.170.2",
      answered: 0,
    });
  });
  it("refused: probes with the option go unanswered while plain probes are answered", () => {
    const hint = recordRouteHint(TARGET, three(noReply), three(reply()), own);
    expect(hint).toMatchObject({ status: "refused", answered: 0, plainAnswered: 3 });
    expect(hint).not.toHaveProperty("refusedBy");
  });
  it("no-answer: neither kind of probe is answered", () => {
    expect(recordRouteHint(TARGET, three(noReply), three(noReply), own)).toMatchObject({
      status: "no-answer",
      sent: 3,
      plainSent: 3,
    });
  });
  it("reads in the report as hints, or says why there are none", () => {
    expect(formatReadings(undefined, recordRouteHint(TARGET, three(reply(RECORDED)), [], own))).toBe(
      "Way there (Record Route, hints): 198.18.170.1 198.18.171.1\n" +
        "Way back (Record Route, hints): 198.18.173.1 198.18.150.2\n",
    );
    expect(formatReadings(undefined, recordRouteHint(TARGET, three(noReply), three(reply()), own))).toBe(
      "Record Route: refused: none of 3 echo probes with the option was answered, while 3 of 3 plain ones were: the path drops IP options. No hints.\n",
    );
    expect(formatReadings(undefined, recordRouteHint(TARGET, three(reply()), three(reply()), own))).toContain(
      "came back without the option",
    );
  });
});

const PATH = ["198.18.150.2", "198.18.170.2", TARGET];

/** The trace's own probes follow PATH; the echoes at RECORD_ROUTE_TTL are answered by `rr`. */
function withRecordRoute(rr: (probe: ProbeSpec) => ScriptedAnswer): Script {
  const base = linearPath(PATH);
  return (probe, n) => (probe.ttl === RECORD_ROUTE_TTL ? rr(probe) : base(probe, n));
}

async function trace(script: Script, options: TraceOptionsInput, target = TARGET) {
  const clock = new ManualClock();
  const port = new ScriptedPort(clock, script);
  const tracer = new Tracer({ port, clock, resolveNames: false, ownAddress: own });
  const result = await clock.runUntil(tracer.run({ target, options: { count: 2, interval: 1, ...options } }));
  return { result, port };
}

describe("--record-route in a trace", () => {
  it("sends 3 echoes with the option and 3 plain ones to the target, and carries the hints", async () => {
    const { result, port } = await trace(
      withRecordRoute((p) =>
        p.recordRoute
          ? { kind: "reply", address: TARGET, rttMs: 3, recordRoute: RECORDED }
          : { kind: "reply", address: TARGET, rttMs: 3 },
      ),
      { recordRoute: true, protocol: "udp" },
    );
    const echoes = port.sentTo(RECORD_ROUTE_TTL).map((s) => s.probe);
    expect(echoes).toHaveLength(2 * RECORD_ROUTE_PROBES);
    expect(echoes.every((p) => p.protocol === "icmp" && p.address === TARGET)).toBe(true);
    expect(echoes.filter((p) => p.recordRoute)).toHaveLength(RECORD_ROUTE_PROBES);
    expect(result.recordRoute).toMatchObject({ status: "ok", back: ["198.18.173.1", "198.18.150.2"] });
  });

  it("sends none, and carries nothing, without --record-route", async () => {
    const { result, port } = await trace(
      withRecordRoute(() => ({ kind: "reply", address: TARGET, rttMs: 3 })),
      {},
    );
    expect(port.sentTo(RECORD_ROUTE_TTL)).toHaveLength(0);
    expect(result).not.toHaveProperty("recordRoute");
  });

  it("says the path refuses the option when only the plain echoes are answered", async () => {
    const { result } = await trace(
      withRecordRoute((p) =>
        p.recordRoute ? { kind: "silent" } : { kind: "reply", address: TARGET, rttMs: 3 },
      ),
      { recordRoute: true, timeout: 1 },
    );
    expect(result.recordRoute).toMatchObject({ status: "refused", answered: 0, plainAnswered: 3 });
  });

  it("is refused for an IPv6 target: Record Route is an IPv4 option", async () => {
    const run = trace(linearPath(["2001:2::1", "2001:2::9"]), { recordRoute: true }, "2001:2::9");
    await expect(run).rejects.toThrow(TracerError);
    await expect(run).rejects.toThrow(/Record Route is an IPv4 option/);
  });

  it("is refused before the trace starts when lg-probe is missing", async () => {
    const clock = new ManualClock();
    const port = new ScriptedPort(clock, linearPath(PATH));
    const refusing = Object.assign(port, {
      unsupportedReason: (p: ProbeSpec) => (p.recordRoute ? "the Record Route option needs lg-probe" : null),
    });
    const tracer = new Tracer({ port: refusing, clock, resolveNames: false });
    await expect(tracer.run({ target: TARGET, options: { recordRoute: true } })).rejects.toThrow(
      "--record-route: the Record Route option needs lg-probe",
    );
    expect(port.sent).toHaveLength(0);
  });
});
