import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MtrParseError, mtrArgv, parseMtrJson, parseMtrReport } from "./mtr";

// Saved output of mtr 0.95 run in the reference lab (see fixtures/).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

describe("parseMtrReport", () => {
  it("lists every responder of an ECMP hop, first one first", () => {
    const run = parseMtrReport(fixture("report-ecmp-udp.txt"));
    expect(run.source).toBe("vm");
    expect(run.hops.map((h) => h.ttl)).toEqual([1, 2, 3, 4, 5]);
    expect(run.hops[2]?.responders).toEqual(["198.18.71.2", "198.18.70.2"]);
    expect(run.hops[2]?.host).toBe("198.18.71.2");
    expect(run.hops[3]?.responders).toEqual(["198.18.72.2"]);
  });

  it("reads a silent hop as host null with 100% loss (the column has no % sign then)", () => {
    const run = parseMtrReport(fixture("report-filtered.txt"));
    expect(run.hops[3]).toMatchObject({ ttl: 4, host: null, responders: [], lossPct: 100, sent: 10 });
  });

  it("reads loss, counts and times of each hop", () => {
    const run = parseMtrReport(fixture("report-loss.txt"));
    expect(run.hops[2]).toEqual({
      ttl: 3,
      host: "198.18.30.2",
      responders: ["198.18.30.2"],
      lossPct: 30,
      sent: 10,
      last: 0.1,
      avg: 0.1,
      best: 0,
      worst: 0.1,
      stdev: 0,
    });
  });

  it("reads IPv6 responders", () => {
    const run = parseMtrReport(fixture("report-clean6.txt"));
    expect(run.hops.map((h) => h.host)).toEqual([
      "2001:2:0:1::2",
      "2001:2:0:2::2",
      "2001:2:0:3::2",
      "2001:2:0:9::2",
    ]);
  });

  it("reads two-digit hop numbers", () => {
    const text = `${fixture("report-clean6.txt").trimEnd()}\n 10.|-- 2001:2:0:9::2  0.0%    10    0.1   0.1   0.1   0.1   0.0\n`;
    expect(parseMtrReport(text).hops.at(-1)?.ttl).toBe(10);
  });

  it("rejects text that is not an mtr report", () => {
    expect(() => parseMtrReport("mtr: Failure to start mtr-packet: Invalid argument")).toThrow(MtrParseError);
  });
});

describe("parseMtrJson", () => {
  it("reads the figures of every hop", () => {
    const run = parseMtrJson(fixture("json-delay.json"));
    expect(run.destination).toBe("198.18.82.2");
    expect(run.hops.map((h) => h.avg)).toEqual([0.038, 0.044, 0.044, 50.38, 50.449]);
    expect(run.hops[4]).toMatchObject({ ttl: 5, host: "198.18.82.2", lossPct: 0, sent: 10 });
  });

  it("reads loss and silent hops", () => {
    expect(parseMtrJson(fixture("json-loss.json")).hops.map((h) => h.lossPct)).toEqual([0, 0, 20, 20, 20]);
    const hole = parseMtrJson(fixture("json-blackhole.json"));
    expect(hole.hops.at(-1)).toMatchObject({ ttl: 4, host: null, lossPct: 100 });
  });

  it("reads IPv6 hops", () => {
    expect(parseMtrJson(fixture("json-clean6.json")).hops[0]?.host).toBe("2001:2:0:1::2");
  });

  it("rejects invalid or foreign JSON with a specific error", () => {
    expect(() => parseMtrJson("{")).toThrow(/not JSON/);
    expect(() => parseMtrJson('{"report": {}}')).toThrow(/unexpected mtr JSON/);
  });
});

describe("mtrArgv", () => {
  it("builds numeric report and JSON runs with protocol, port and TTL limit", () => {
    expect(
      mtrArgv({ target: "198.18.40.2", format: "report", protocol: "tcp", port: 8080, count: 5 }),
    ).toEqual([
      "mtr",
      "-n",
      "-c",
      "5",
      "-i",
      "0.1",
      "-G",
      "0.5",
      "-T",
      "-P",
      "8080",
      "-r",
      "-w",
      "198.18.40.2",
    ]);
    expect(mtrArgv({ target: "2001:2:0:9::2", format: "json", family: 6, maxTtl: 8 })).toEqual([
      "mtr",
      "-n",
      "-c",
      "10",
      "-i",
      "0.1",
      "-G",
      "0.5",
      "-6",
      "-m",
      "8",
      "--json",
      "2001:2:0:9::2",
    ]);
  });
});
