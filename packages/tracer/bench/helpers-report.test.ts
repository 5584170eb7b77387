import { describe, expect, it } from "vitest";
import {
  buffersText,
  dropsText,
  lostByTtlText,
  parseBenchArgs,
  type RawRun,
  rawTable,
  type TracesRun,
  tracesTable,
} from "./helpers-report";
import {
  commandOf,
  cpuTicksOf,
  parentPidOf,
  parseSocketBuffers,
  peakRssKbOf,
  rawSocketDrops,
} from "./proc-stats";
import { tallyTraces } from "./tally";

// Saved from this kernel (6.18): an mtr-packet process, its command name with a space in it to
// show the parser reads from the last parenthesis.
const STAT =
  "4242 (mtr packet) S 4200 4242 4200 0 -1 4194560 120 0 0 0 37 12 0 0 20 0 1 0 5519 2859008 430 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0";
const STATUS = "Name:\tmtr-packet\nVmPeak:\t    2792 kB\nVmHWM:\t    1748 kB\nVmRSS:\t    1748 kB\n";
const NET_RAW6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  157: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 432657 2 00000000dbfcc097 0
  157: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00034200 00:00000000 00000000     0        0 432659 2 0000000067728a76 9744
  158: 00000000000000000000000000000000:0011 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999999 2 0000000067728a77 5
`;

describe("bench arguments", () => {
  it("--quick picks one round, 10,000 raw probes and 100 and 1,000 traces", () => {
    expect(parseBenchArgs(["--quick"])).toEqual({
      quick: true,
      rounds: 1,
      probes: 10_000,
      window: 1000,
      traces: [100, 1000],
      count: 5,
      interval: 1,
      user: null,
      ramp: 0,
      maxProcesses: null,
    });
  });

  it("the full run measures 1,000, 2,000 and 5,000 traces three times each", () => {
    const args = parseBenchArgs([]);
    expect([args.rounds, args.probes, args.traces]).toEqual([3, 50_000, [1000, 2000, 5000]]);
  });

  it("each flag overrides its default", () => {
    const args = parseBenchArgs([
      "--quick",
      "--traces",
      "10,20",
      "--rounds",
      "2",
      "--interval",
      "0.5",
      "--user",
      "nobody",
      "--max-processes",
      "1",
      "--ramp",
      "2.5",
    ]);
    expect([args.traces, args.rounds, args.interval, args.user, args.maxProcesses, args.ramp]).toEqual([
      [10, 20],
      2,
      0.5,
      "nobody",
      1,
      2.5,
    ]);
  });

  it("refuses a window mtr-packet would refuse, a count that is not a positive integer and unknown flags", () => {
    expect(() => parseBenchArgs(["--window", "2000"])).toThrow(/at most 1,024/);
    expect(() => parseBenchArgs(["--count", "0"])).toThrow(/--count must be a positive integer/);
    expect(() => parseBenchArgs(["--traces", "100,x"])).toThrow(/--traces/);
    expect(() => parseBenchArgs(["--ramp", "-1"])).toThrow(/--ramp/);
    expect(() => parseBenchArgs(["--fast"])).toThrow();
  });
});

describe("reading /proc", () => {
  it("reads CPU ticks (utime + stime), the parent and the name from /proc/PID/stat", () => {
    expect([cpuTicksOf(STAT), parentPidOf(STAT), commandOf(STAT)]).toEqual([49, 4200, "mtr packet"]);
  });

  it("reads the peak RSS from VmHWM", () => {
    expect(peakRssKbOf(STATUS)).toBe(1748);
    expect(peakRssKbOf("Name:\tkthreadd\n")).toBe(0);
  });

  it("reads each raw socket's protocol and drop counter", () => {
    expect(rawSocketDrops(NET_RAW6, 6)).toEqual([
      { family: 6, protocol: 58, drops: 0 },
      { family: 6, protocol: 58, drops: 9744 },
      { family: 6, protocol: 17, drops: 5 },
    ]);
  });

  it("reads the receive buffer lines the python helper prints", () => {
    expect(parseSocketBuffers("2 255 212992\n10 58 16777216\nTraceback\n")).toEqual([
      { family: 4, protocol: 255, bytes: 212992 },
      { family: 6, protocol: 58, bytes: 16777216 },
    ]);
  });
});

const rawRun = (over: Partial<RawRun>): RawRun => ({
  probes: 10_000,
  wallMs: 500,
  counts: { reply: 10_000 },
  helperCpuMs: 150,
  nodeCpuMs: 70,
  helperPeakRssKb: 1740,
  nodePeakRssKb: 53_000,
  rawDrops: [],
  socketBuffers: [],
  uid: 0,
  ...over,
});

const tracesRun = (over: Partial<TracesRun>): TracesRun => ({
  traces: 1000,
  wallMs: 4340,
  nodeCpuMs: 1130,
  helperCpuMs: 370,
  nodePeakRssKb: 107_930,
  helperPeakRssKb: [1843],
  rawDrops: [],
  socketBuffers: [],
  sent: 20_000,
  recv: 20_000,
  unsent: 0,
  reached: 1000,
  lostByTtl: {},
  loopDelayP99Ms: 21.4,
  loopDelayMaxMs: 180.2,
  uid: 0,
  ...over,
});

/** The trimmed cells of a markdown table row. */
const cells = (line: string | undefined) =>
  (line ?? "")
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());

describe("tables", () => {
  it("puts both helpers' raw throughput side by side: probes/s and CPU per 1,000 probes as medians", () => {
    const text = rawTable([
      {
        name: "target",
        runs: {
          "mtr-packet": [rawRun({ wallMs: 500 }), rawRun({ wallMs: 400 }), rawRun({ wallMs: 1000 })],
          "lg-probe": [rawRun({ wallMs: 250, helperCpuMs: 90, counts: { reply: 9_990, "no-reply": 10 } })],
        },
      },
    ]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(4);
    expect(cells(lines[2])).toEqual([
      "target",
      "mtr-packet",
      "20,000",
      "10,000/10,000",
      "0",
      "0",
      "0.015",
      "0.007",
      "1.7",
      "51.8",
      "0",
    ]);
    expect(cells(lines[3])).toEqual([
      "target",
      "lg-probe",
      "40,000",
      "9,990/10,000",
      "10",
      "0",
      "0.009",
      "0.007",
      "1.7",
      "51.8",
      "0",
    ]);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  it("shows the worst run's false loss with its TTLs, the pool's helper RSS summed and its process count", () => {
    const text = tracesTable([
      {
        traces: 1000,
        runs: {
          "mtr-packet": [tracesRun({ helperPeakRssKb: [1024, 2048] })],
          "lg-probe": [tracesRun({}), tracesRun({ recv: 19_990, lostByTtl: { 3: 6, 1: 4 } })],
        },
      },
    ]);
    const [, , mtr, lg] = text.split("\n");
    expect(cells(mtr)).toEqual([
      "1,000",
      "mtr-packet",
      "4.34",
      "105.4",
      "3.0 (2)",
      "1.13",
      "0.37",
      "75.0",
      "20,000",
      "0",
      "0",
      "-",
      "0",
      "21/180",
      "1,000/1,000",
    ]);
    expect(cells(lg).slice(8)).toEqual(["20,000", "0", "10", "1: 4, 3: 6", "0", "21/180", "1,000/1,000"]);
  });

  it("names the sockets that dropped in the worst run", () => {
    expect(
      dropsText([
        {
          rawDrops: [
            { family: 6, protocol: 58, drops: 9744 },
            { family: 4, protocol: 1, drops: 0 },
          ],
        },
      ]),
    ).toBe("9,744 (ICMPv6)");
    expect(
      dropsText([
        { rawDrops: [] },
        {
          rawDrops: [
            { family: 4, protocol: 1, drops: 42 },
            { family: 4, protocol: 1, drops: 40 },
          ],
        },
      ]),
    ).toBe("82 (ICMP)");
    expect(lostByTtlText({})).toBe("-");
  });

  it("gives one receive buffer size when all sockets have it, else each socket's", () => {
    expect(
      buffersText([
        { family: 4, protocol: 1, bytes: 212_992 },
        { family: 6, protocol: 58, bytes: 212_992 },
      ]),
    ).toBe("212,992 B");
    expect(
      buffersText([
        { family: 4, protocol: 1, bytes: 16_777_216 },
        { family: 4, protocol: 255, bytes: 212_992 },
      ]),
    ).toBe("ICMP 16,777,216 B, raw 4/255 212,992 B");
    expect(buffersText(null)).toBe("?");
  });
});

describe("tallying the concurrent traces", () => {
  it("sums probes over every hop of every trace and counts losses by TTL, unsent probes and traces that got there", () => {
    const tally = tallyTraces([
      {
        hops: [
          { ttl: 1, sent: 10, recv: 10 },
          { ttl: 2, sent: 10, recv: 8 },
        ],
        unsentProbes: 3,
        reachedDestination: true,
      },
      {
        hops: [
          { ttl: 1, sent: 10, recv: 10 },
          { ttl: 2, sent: 10, recv: 9 },
        ],
        reachedDestination: false,
      },
      { hops: [{ ttl: 1, sent: 5, recv: 5 }], reachedDestination: true },
    ]);
    expect(tally).toEqual({
      sent: 45,
      recv: 42,
      unsent: 3,
      reached: 2,
      tracesWithLoss: 2,
      lostByTtl: { 2: 3 },
    });
  });
});
