import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, type Stack, startStack } from "./harness";

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: unknown; definition?: string }[] };
}

/** The metric names a PromQL text names (`lg_…`). */
const metricNames = (text: string) => [...text.matchAll(/\blg_[a-z0-9_]+/g)].map((m) => m[0]);

/**
 * Every series name the text exposition offers, from its `# TYPE` lines: a histogram's
 * `_bucket`, `_sum` and `_count`, every other type its own name.
 */
function exposedSeries(metricsText: string): Map<string, string> {
  const series = new Map<string, string>();
  for (const [, name, type] of metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const family = name as string;
    if (type === "histogram")
      for (const s of ["_bucket", "_sum", "_count"]) series.set(`${family}${s}`, family);
    else series.set(family, family);
  }
  return series;
}

/**
 * The Grafana dashboard in deploy/grafana against a real coordinator's /metrics (PGlite, a real
 * nats-server): it names no metric the coordinator does not expose, and leaves none out.
 */
describe("the Grafana dashboard (deploy/grafana/lg-coordinator.json)", () => {
  let stack: Stack;
  let dashboard: Dashboard;
  let exposed: Map<string, string>;

  beforeAll(async () => {
    dashboard = JSON.parse(
      await readFile(join(repoRoot, "deploy/grafana/lg-coordinator.json"), "utf8"),
    ) as Dashboard;
    stack = await startStack("pglite");
    const res = await fetch(`${stack.coordinator.url}/metrics`);
    expect(res.status).toBe(200);
    exposed = exposedSeries(await res.text());
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const queries = () => [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list.map((v) => JSON.stringify(v.query ?? "") + (v.definition ?? "")),
  ];

  it("every metric it names is one /metrics exposes", () => {
    expect(exposed.size).toBeGreaterThan(20);
    const named = [...new Set(queries().flatMap(metricNames))].sort();
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((n) => !exposed.has(n))).toEqual([]);
  });

  it("every metric family /metrics exposes is on the dashboard", () => {
    const families = new Set(
      queries()
        .flatMap(metricNames)
        .map((n) => exposed.get(n)),
    );
    const missing = [...new Set(exposed.values())].filter((f) => f.startsWith("lg_") && !families.has(f));
    expect(missing).toEqual([]);
  });

  it("is an importable dashboard: a uid, unique panel ids, panels within 24 columns, every query on the chosen Prometheus", () => {
    expect(dashboard.uid).toBe("lg-coordinator");
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === "row") continue;
      expect(p.datasource?.uid, p.title).toBe("${datasource}");
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["datasource", "agent"]);
  });
});
