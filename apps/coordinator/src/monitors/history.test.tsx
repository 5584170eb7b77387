/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type DbHandle, type MonitorSampleRow } from "@lg/db";
import type { MonitorView } from "@lg/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HistoryPage, lossClass } from "../web/components/history";
import { bucketSeconds, readHistory } from "./history";
import { createMonitorStore, type MonitorStore } from "./store";

/** 2026-11-23 10:00:00 UTC: the history is read at 10:00 + 1 h. */
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const min = 60_000;

/**
 * A sample of one run at one hop. `stdev` spreads the run's probes around `avg`; `best`/`worst` are
 * avg ∓ 2 ms unless given.
 */
function sample(
  at: number,
  subject: string,
  traceId: string,
  ttl: number,
  avg: number,
  opts: { lossPct?: number; stdev?: number; best?: number; worst?: number } = {},
): MonitorSampleRow {
  const lost = opts.lossPct === 100;
  return {
    monitorId: "m1",
    at: new Date(at),
    subject,
    traceId,
    ttl,
    host: lost ? null : `198.18.0.${ttl}`,
    asn: null,
    lossPct: opts.lossPct ?? 0,
    avg: lost ? 0 : avg,
    best: lost ? 0 : (opts.best ?? avg - 2),
    worst: lost ? 0 : (opts.worst ?? avg + 2),
    stdev: lost ? 0 : (opts.stdev ?? 1),
    sent: 10,
  };
}

describe("a monitor's history from its stored series (PGlite)", () => {
  let dir: string;
  let db: DbHandle;
  let store: MonitorStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lg-history-"));
    db = await createDb({ dataDir: dir });
    store = createMonitorStore(db.db);
    const rows: MonitorSampleRow[] = [];
    // Three runs in the 10:00 minute (two hops each, the far end at TTL 2), then one at 10:05 whose far
    // end lost everything, then one at 10:10 losing 3 of 10 at the far end; sin has one run at 10:00.
    const run = (at: number, id: string, far: number, farOpts: Parameters<typeof sample>[5] = {}) =>
      rows.push(sample(at, "fra", id, 1, 1), sample(at, "fra", id, 2, far, farOpts));
    run(T0 + 5_000, "r1", 20, { stdev: 2 });
    run(T0 + 25_000, "r2", 30, { stdev: 4, worst: 80 });
    run(T0 + 45_000, "r3", 24, { stdev: 1 });
    run(T0 + 5 * min, "r4", 0, { lossPct: 100 });
    run(T0 + 10 * min, "r5", 50, { lossPct: 30 });
    rows.push(sample(T0 + 10_000, "sin", "s1", 1, 5));
    // Outside the hour: never read.
    run(T0 - 2 * min, "r0", 500);
    await store.insertSamples(rows);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const monitor = { id: "m1", everySeconds: 20 };
  const now = new Date(T0 + 60 * min - 1_000);

  it("cuts a range into intervals no shorter than the monitor's period", () => {
    expect(bucketSeconds("1h", 20)).toBe(60);
    expect(bucketSeconds("1h", 300)).toBe(300);
    expect(bucketSeconds("1d", 60)).toBe(600);
    expect(bucketSeconds("7d", 60)).toBe(3_600);
    expect(bucketSeconds("30d", 60)).toBe(14_400);
  });

  it("per interval at the far end: runs, loss, the median of the runs' averages, the spread band and the extremes", async () => {
    const h = await readHistory(store, monitor, "1h", null, now);
    expect(h).toMatchObject({ monitorId: "m1", range: "1h", bucketSeconds: 60, hop: null });
    const fra = h.series.find((s) => s.subject === "fra");
    expect(fra?.hops).toEqual([1, 2]);
    expect(fra?.buckets).toEqual([
      // avg 20, 30, 24 -> median 24; avg - stdev 18, 26, 23 -> 25th pct 20.5; avg + stdev 22, 34, 25 -> 75th 29.5
      {
        at: new Date(T0).toISOString(),
        runs: 3,
        sent: 30,
        lossPct: 0,
        median: 24,
        band: [20.5, 29.5],
        range: [18, 80],
      },
      {
        at: new Date(T0 + 5 * min).toISOString(),
        runs: 1,
        sent: 10,
        lossPct: 100,
        median: null,
        band: null,
        range: null,
      },
      {
        at: new Date(T0 + 10 * min).toISOString(),
        runs: 1,
        sent: 10,
        lossPct: 30,
        median: 50,
        band: [49, 51],
        range: [48, 52],
      },
    ]);
    expect(h.series.map((s) => s.subject)).toEqual(["fra", "sin"]);
  });

  it("reads one hop on demand", async () => {
    const h = await readHistory(store, monitor, "1h", 1, now);
    const fra = h.series.find((s) => s.subject === "fra");
    expect(fra?.buckets.map((b) => [b.runs, b.median])).toEqual([
      [3, 1],
      [1, 1],
      [1, 1],
    ]);
  });

  it("the page draws one column per interval with its numbers as a hover, loss as the median's colour, and a table; no script", async () => {
    const history = await readHistory(store, monitor, "1h", null, now);
    const view = { id: "m1", name: "fra to tclean", kind: "trace", every: 20 } as MonitorView;
    const html = String(<HistoryPage monitor={view} history={history} />);
    expect(html).not.toContain("<script");
    const fra = html.slice(html.indexOf('data-subject="fra"'), html.indexOf('data-subject="sin"'));
    expect(fra.match(/<g class="interval">/g)).toHaveLength(3);
    expect(fra).toContain('<line class="median loss-0"');
    expect(fra).toContain('<rect class="all-lost loss-6"');
    expect(fra).toContain('<line class="median loss-5"');
    expect(fra).toContain(
      "<title>2026-11-23 10:00–10:01 UTC: 3 runs, median 24.0 ms, spread 20.5–29.5, extremes 18.0–80.0 ms, loss 0.0% (0 of 30)</title>",
    );
    // The median of the intervals' medians (24 and 50); the interval that lost everything counts for loss.
    expect(fra).toContain(
      "5 runs in 3 intervals, median 37.0 ms, loss 26.0% (13 of 50 probes), most loss 100.0% at 2026-11-23 10:05 UTC.",
    );
    expect(html).toContain('href="/monitors/m1/history?range=1d"');
    expect(html).toContain('href="/monitors/m1/history?range=1h&amp;hop=2"');
    expect(html).toContain('aria-current="page">1 h</a>');
    expect(html).toContain("<summary>The numbers, interval by interval</summary>");
  });

  it("loss classes follow SmokePing's steps", () => {
    expect([0, 1, 2, 4.9, 5, 19, 20, 49.9, 50, 100].map(lossClass)).toEqual([0, 1, 2, 2, 3, 4, 5, 5, 6, 6]);
  });
});
