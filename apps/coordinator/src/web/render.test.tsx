/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { compare, diagnose } from "@lg/analysis";
import type {
  AgentView,
  Hop,
  MeasurementView,
  MonitorSample,
  MonitorView,
  PathTestView,
  ReverseSessionView,
  TraceView,
} from "@lg/protocol";
import { TraceOptions } from "@lg/protocol";
import { describe, expect, it } from "vitest";
import { ComparePage } from "./components/compare-page";
import { MeasurementPage } from "./components/measurement-page";
import { MeshPage } from "./components/mesh";
import { destinationSeries, MonitorsPage } from "./components/monitors";
import { PathTestPage } from "./components/path-test";
import { ReverseSessionPage } from "./components/reverse-session";
import { csvExport, textExport } from "./exports";
import { standaloneHtml } from "./standalone";

const SCRIPT_NAME = "<script>alert(1)</script>.evil";
const IMG_NAME = `"><img src=x onerror=alert(2)>`;

function hop(
  ttl: number,
  host: string | null,
  opts: { name?: string; loss?: number; avg?: number } = {},
): Hop {
  const sent = 10;
  const lossPct = host ? (opts.loss ?? 0) : 100;
  const recv = Math.round(sent * (1 - lossPct / 100));
  const avg = opts.avg ?? ttl;
  return {
    ttl,
    host,
    ...(opts.name ? { name: opts.name } : {}),
    lossPct,
    sent,
    recv,
    drop: sent - recv,
    last: recv ? avg : 0,
    avg: recv ? avg : 0,
    best: recv ? avg * 0.9 : 0,
    worst: recv ? avg * 1.2 : 0,
    stdev: recv ? 0.1 : 0,
    jitter: 0,
    jitterAvg: 0,
    jitterMax: 0,
    responders: host ? [{ address: host, ...(opts.name ? { name: opts.name } : {}), count: recv }] : [],
  };
}

function trace(id: string, agentId: string, target: string, hops: Hop[]): TraceView {
  return {
    id,
    measurementId: "m1",
    followUps: [],
    agentId,
    target,
    address: target,
    status: "done",
    failure: null,
    hops,
    diagnosis: diagnose(hops, { destination: target }),
    stoppedBy: "destination",
    startedAt: "2026-11-23T07:00:00.000Z",
    finishedAt: "2026-11-23T07:00:12.000Z",
  };
}

const options = TraceOptions.parse({});
const agents = new Map<string, AgentView>();

// The way there loses 30% from hop 3 on; the way back is clean and takes another router.
const forwardHops = [
  hop(1, "198.18.1.1", { name: SCRIPT_NAME }),
  hop(2, "198.18.2.1"),
  hop(3, "198.18.3.1", { loss: 30, name: IMG_NAME }),
  hop(4, "198.18.9.2", { loss: 30 }),
];
const reverseHops = [hop(1, "198.18.9.1"), hop(2, "198.18.5.1"), hop(3, "198.18.2.2"), hop(4, "198.18.1.2")];

function pathTest(): PathTestView {
  const forward = trace("tf", "fra", "198.18.9.2", forwardHops);
  const reverse = trace("tr", "sin", "198.18.1.2", reverseHops);
  return {
    id: "pt1",
    status: "done",
    a: "fra",
    b: "sin",
    aAddress: "198.18.1.2",
    bAddress: "198.18.9.2",
    options,
    created: "2026-11-23T07:00:00.000Z",
    forward,
    reverse,
    comparison: compare(forwardHops, reverseHops),
    note: null,
  };
}

const render = (node: unknown) => String(node);

/** No markup from a name survives: the dangerous characters only appear escaped. */
function expectEscaped(html: string) {
  expect(html).not.toContain("<script>alert");
  expect(html).not.toContain("<img src=x");
  expect(html).not.toMatch(/onerror=alert\(2\)>/);
}

describe("pages escape what they display", () => {
  it("a measurement page prints hostile reverse-DNS names as text", () => {
    const m: MeasurementView = {
      id: "m1",
      target: "198.18.9.2",
      status: "done",
      options,
      created: "2026-11-23T07:00:00.000Z",
      traces: [
        trace("t1", "fra", "198.18.9.2", forwardHops),
        trace("t2", "sin", "198.18.9.2", forwardHops.slice(1)),
      ],
    };
    for (const html of [
      render(<MeasurementPage measurement={m} agents={agents} />),
      render(<ComparePage measurement={m} agents={agents} />),
    ]) {
      expectEscaped(html);
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;.evil");
    }
    const exported = standaloneHtml(m, render(<MeasurementPage measurement={m} agents={agents} />));
    expectEscaped(exported);
    expect(exported).not.toMatch(/<script/i);
  });

  it("the text and CSV exports are the tracer's report and CSV, one block per PoP", () => {
    const m: MeasurementView = {
      id: "m1",
      target: "198.18.9.2",
      status: "done",
      options,
      created: "2026-11-23T07:00:00.000Z",
      traces: [trace("t1", "fra", "198.18.9.2", forwardHops)],
    };
    const text = textExport(m);
    expect(text).toContain("HOST: fra");
    expect(text).toMatch(/^ {2}3\.\|-- "><img src=x onerror=alert\(2\)> +30\.0%/m);
    const csv = csvExport(m).trimEnd().split("\n");
    expect(csv[0]).toMatch(/^Pop,Mtr_Version,/);
    expect(csv).toHaveLength(1 + forwardHops.length);
    // A name with quotes is quoted as CSV wants it.
    expect(csv[3]).toContain(`"""><img src=x onerror=alert(2)>"`);
  });

  it("a path test shows the verdict on top, the route map, both directions and hostile names as text", () => {
    const t = pathTest();
    const html = render(<PathTestPage test={t} agents={agents} />);
    expectEscaped(html);
    const comparison = t.comparison;
    expect(comparison?.faultDirection).toBe("forward");
    expect(html).toContain("The problem is on the way there (fra → sin)");
    expect(html.indexOf("verdict-box")).toBeLessThan(html.indexOf('class="segmap"'));
    expect(html).toContain(comparison?.verdict === "asymmetric" ? "Asymmetric" : "Symmetric");
    for (const kind of new Set(comparison?.segments.map((s) => s.kind)))
      expect(html).toContain(`segment-${kind}`);
    expect(html).toContain('id="trace-tf"');
    expect(html).toContain('id="trace-tr"');
  });

  it("a path test whose far end has no agent says only the way there was traced", () => {
    const t: PathTestView = {
      ...pathTest(),
      b: { host: IMG_NAME },
      reverse: null,
      comparison: null,
      note: "no agent at b",
    };
    const html = render(<PathTestPage test={t} agents={agents} />);
    expectEscaped(html);
    expect(html).toContain("Only the way there could be traced.");
    expect(html).not.toContain('class="segmap"');
  });

  it("a waiting reverse session shows the one command, escaped, and polls for the customer", () => {
    const s: ReverseSessionView = {
      id: "rs1",
      status: "waiting",
      created: "2026-11-23T07:00:00.000Z",
      expiresAt: "2026-11-23T07:15:00.000Z",
      server: "fra",
      via: null,
      customer: { publicAddress: null, agentId: null },
      legs: [],
    };
    const html = render(
      <ReverseSessionPage session={s} agents={agents} command={"lg join 'http://x/?a=1&b=<2>'"} />,
    );
    expect(html).toContain("lg join &#39;http://x/?a=1&amp;b=&lt;2&gt;&#39;");
    expect(html).toContain('data-live-poll="/api/v1/reverse-sessions/rs1"');
    const done = render(
      <ReverseSessionPage
        session={{
          ...s,
          status: "done",
          customer: { publicAddress: "198.18.50.1", agentId: "join-rs1" },
          legs: [pathTest()],
        }}
        agents={agents}
      />,
    );
    expect(done).not.toContain("data-live-poll");
    expect(done).toContain("Leg 1");
    expect(done).toContain('href="/p/pt1"');
    expectEscaped(done);
  });

  it("the mesh links each tested pair to its path test and marks asymmetry", () => {
    const pop = (id: string, region: string): AgentView => ({
      id,
      region,
      role: "pop",
      version: "0",
      online: true,
      lastSeen: "2026-11-23T07:00:00.000Z",
      addresses: [],
      capabilities: {
        protocols: ["icmp"],
        ipv4: true,
        ipv6: false,
        pinFlow: false,
        mda: false,
        maxTraces: 1,
      },
      running: 0,
      counters: null,
    });
    const t = pathTest();
    const html = render(<MeshPage pops={[pop("fra", "eu"), pop("sin", "ap")]} tests={[t]} />);
    expect(html).toContain('href="/p/pt1"');
    expect(html).toContain("30.0%");
    expect(html).toContain("not tested");
    if (t.comparison?.verdict === "asymmetric") expect(html).toContain('title="asymmetric');
    expect(html).toContain("cell-bad");
  });

  it("the monitors page draws the far end run after run per PoP and keeps only safe links", () => {
    const sample = (
      at: string,
      subject: string,
      traceId: string,
      ttl: number,
      avg: number,
      lossPct = 0,
    ): MonitorSample => ({
      at,
      subject,
      traceId,
      ttl,
      host: `198.18.0.${ttl}`,
      asn: null,
      lossPct,
      avg,
      best: avg,
      worst: avg,
      sent: 10,
    });
    const samples = [
      sample("2026-11-23T07:00:00.000Z", "fra", "t1", 1, 1),
      sample("2026-11-23T07:00:00.000Z", "fra", "t1", 3, 9),
      sample("2026-11-23T07:01:00.000Z", "fra", "t2", 3, 12, 20),
      sample("2026-11-23T07:00:00.000Z", "sin", "t3", 2, 30),
    ];
    const series = destinationSeries(samples);
    expect(series.get("fra")?.map((s) => [s.traceId, s.avg])).toEqual([
      ["t1", 9],
      ["t2", 12],
    ]);
    expect(series.get("sin")).toHaveLength(1);
    const monitor: MonitorView = {
      id: "mo1",
      name: SCRIPT_NAME,
      kind: "trace",
      every: 60,
      rules: {},
      webhook: null,
      measurement: { target: "198.18.9.2", from: ["fra"] },
      runs: 2,
      lastRunAt: "2026-11-23T07:01:00.000Z",
      nextRun: "2026-11-23T07:02:00.000Z",
      lastLink: "javascript:alert(1)",
      firing: 1,
      created: "2026-11-23T06:59:00.000Z",
    };
    const html = render(
      <MonitorsPage
        monitors={[monitor]}
        samples={new Map([["mo1", samples]])}
        alerts={[
          {
            id: "a1",
            monitorId: "mo1",
            rule: "loss",
            subject: "fra",
            status: "firing",
            firedAt: "2026-11-23T07:01:00.000Z",
            resolvedAt: null,
            evidence: {},
            resolveEvidence: null,
            link: "/m/abc",
            resolveLink: null,
            delivery: null,
          },
        ]}
      />,
    );
    expectEscaped(html);
    expect(html).not.toContain("javascript:");
    expect(html).toContain('href="/m/abc"');
    expect(html).toContain("1 firing");
    expect(html.match(/<polyline class="avg"/g)).toHaveLength(2);
  });
});
